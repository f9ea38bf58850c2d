"""Issue 3, item 6: per-host politeness across threads, checked from the server's own log.

These tests use the real clock (the server has to see real spacing) with short delays, so each
takes about a second.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator

import pytest

from archiver.fetch import Fetcher, FetchSettings
from tests.faultserver import Drip, FakeClock, FaultServer, Reply, Request

HTML = [("Content-Type", "text/html; charset=utf-8")]
DELAY = 0.2


def slow_page(n: int) -> Drip:
    """A page that takes ~0.06 s to send, so overlapping requests would show in the log."""
    return Drip([f"<p>page {n} part {i}</p>".encode() for i in range(3)], 0.02, HTML)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        for thread in ("a", "b"):
            for page in range(1, 4):
                srv.route(f"/{thread}/{page}", slow_page(page))
        yield srv


def run_in_threads(jobs: list[Callable[[], object]]) -> None:
    """Run each job in its own thread at once; fail with any job's exception."""
    errors: list[BaseException] = []

    def work(job: Callable[[], object]) -> None:
        try:
            job()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(job,)) for job in jobs]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors


def archive_concurrently(fetcher: Fetcher, urls_per_worker: list[list[str]]) -> None:
    def fetch_all(urls: list[str]) -> None:
        for url in urls:
            assert fetcher.fetch(url).status == 200

    run_in_threads([functools.partial(fetch_all, urls) for urls in urls_per_worker])


def spacing(log: list[Request]) -> list[float]:
    """For consecutive requests: start of the next minus end of the previous (real seconds)."""
    ordered = sorted(log, key=lambda r: r.real_at)
    return [b.real_at - (a.real_done_at or 0) for a, b in zip(ordered, ordered[1:], strict=False)]


def test_two_threads_on_one_host_never_overlap_and_keep_the_delay(server: FaultServer) -> None:
    with Fetcher(FetchSettings(delay=DELAY)) as fetcher:
        archive_concurrently(
            fetcher,
            [
                [server.url(f"/a/{n}") for n in (1, 2, 3)],
                [server.url(f"/b/{n}") for n in (1, 2, 3)],
            ],
        )
    log = server.requests()
    pages = [r for r in log if r.path != "/robots.txt"]
    assert len(pages) == 6 and {r.path for r in pages} == {
        f"/{t}/{n}" for t in "ab" for n in (1, 2, 3)
    }
    assert server.max_in_flight == 1
    gaps = spacing(log)  # robots.txt counts too: it is a request to the host
    assert len(gaps) == 6
    assert min(gaps) >= DELAY, gaps
    # both threads really ran at once: their requests interleave
    order = [r.path[1] for r in sorted(pages, key=lambda r: r.real_at)]
    assert order != sorted(order)


def test_different_hosts_proceed_in_parallel() -> None:
    with FaultServer() as one, FaultServer() as two:
        for srv in (one, two):
            for n in (1, 2, 3):
                srv.route(f"/p/{n}", slow_page(n))
        with Fetcher(FetchSettings(delay=DELAY)) as fetcher:
            archive_concurrently(
                fetcher,
                [[one.url(f"/p/{n}") for n in (1, 2, 3)], [two.url(f"/p/{n}") for n in (1, 2, 3)]],
            )
        for srv in (one, two):
            assert min(spacing(srv.requests())) >= DELAY
        a = [(r.real_at, r.real_done_at) for r in one.requests("/p/2")][0]
        b = [(r.real_at, r.real_done_at) for r in two.requests("/p/2")][0]
        # host two did not wait for host one: their second pages were fetched at about the
        # same time (within one delay), not one after the other
        assert abs(a[0] - b[0]) < DELAY


def test_global_concurrency_limit() -> None:
    with FaultServer() as one, FaultServer() as two:
        for srv in (one, two):
            for n in (1, 2, 3):
                srv.route(f"/p/{n}", slow_page(n))
        with Fetcher(FetchSettings(delay=0.0, max_concurrency=1)) as fetcher:
            archive_concurrently(
                fetcher,
                [[one.url(f"/p/{n}") for n in (1, 2, 3)], [two.url(f"/p/{n}") for n in (1, 2, 3)]],
            )
        both = sorted(one.requests() + two.requests(), key=lambda r: r.real_at)
        for earlier, later in zip(both, both[1:], strict=False):
            assert later.real_at >= (earlier.real_done_at or 0)  # never two in flight at once


def test_per_host_delay_override_and_crawl_delay() -> None:
    clock = FakeClock()
    with FaultServer(clock=clock) as srv, FaultServer(clock=clock) as slow:
        srv.route("/robots.txt", Reply(200, b"User-agent: *\nCrawl-delay: 7\n"))
        slow.route("/robots.txt", Reply(404))
        for n in (1, 2):
            srv.route(f"/p/{n}", Reply(200, b"x", HTML))
            slow.route(f"/p/{n}", Reply(200, b"x", HTML))
        settings = FetchSettings(
            delay=1.0, clock=clock, sleep=clock.sleep, host_delays={f"127.0.0.1:{slow.port}": 3.0}
        )
        with Fetcher(settings) as fetcher:
            for n in (1, 2):
                fetcher.fetch(srv.url(f"/p/{n}"))
                fetcher.fetch(slow.url(f"/p/{n}"))
        p1, p2 = srv.requests("/p/1")[0].at, srv.requests("/p/2")[0].at
        s1, s2 = slow.requests("/p/1")[0].at, slow.requests("/p/2")[0].at
        assert p2 - p1 >= 7.0  # robots.txt Crawl-delay, longer than our 1 s
        assert s2 - s1 >= 3.0  # the site's own delay


def test_crawl_delay_shorter_than_ours_changes_nothing() -> None:
    clock = FakeClock()
    with FaultServer(clock=clock) as srv:
        srv.route("/robots.txt", Reply(200, b"User-agent: *\nCrawl-delay: 0.2\n"))
        for n in (1, 2):
            srv.route(f"/p/{n}", Reply(200, b"x", HTML))
        with Fetcher(FetchSettings(delay=2.0, clock=clock, sleep=clock.sleep)) as fetcher:
            fetcher.fetch(srv.url("/p/1"))
            fetcher.fetch(srv.url("/p/2"))
        assert srv.requests("/p/2")[0].at - srv.requests("/p/1")[0].at == pytest.approx(2.0)


def test_request_rate_is_honoured_and_forgotten_when_robots_changes() -> None:
    clock = FakeClock()
    with FaultServer(clock=clock) as srv:
        srv.route("/robots.txt", Reply(200, b"User-agent: *\nRequest-rate: 1/5s\n"))
        for n in range(4):
            srv.route(f"/p/{n}", Reply(200, b"x", HTML))
        with Fetcher(FetchSettings(delay=1.0, clock=clock, sleep=clock.sleep)) as fetcher:
            fetcher.fetch(srv.url("/p/0"))
            fetcher.fetch(srv.url("/p/1"))
            srv.route("/robots.txt", Reply(404))
            clock.sleep(24 * 3600)  # robots.txt is read again: no rate any more
            fetcher.fetch(srv.url("/p/2"))
            fetcher.fetch(srv.url("/p/3"))
        at = [srv.requests(f"/p/{n}")[0].at for n in range(4)]
        assert at[1] - at[0] == pytest.approx(5.0)
        assert at[3] - at[2] == pytest.approx(1.0)


def test_per_host_concurrency_can_be_raised(server: FaultServer) -> None:
    with Fetcher(FetchSettings(delay=0.0, per_host_concurrency=2)) as fetcher:
        archive_concurrently(
            fetcher,
            [
                [server.url(f"/a/{n}") for n in (1, 2, 3)],
                [server.url(f"/b/{n}") for n in (1, 2, 3)],
            ],
        )
    assert server.max_in_flight == 2


def test_settings_helpers() -> None:
    s = FetchSettings(delay=1.5, host_delays={"Example.ORG": 4.0, "127.0.0.1:8080": 0.5})
    assert s.delay_for("example.org") == 4.0
    assert s.delay_for("example.org:8443") == 4.0  # a name without a port covers every port
    assert s.delay_for("127.0.0.1:8080") == 0.5
    assert s.delay_for("127.0.0.1:9090") == 1.5
    assert s.robots_token == "archiver"
    assert FetchSettings(user_agent="Mozilla/5.0 (compatible; Foo)").robots_token == "Mozilla"


def test_two_thread_archives_sharing_a_fetcher_keep_one_request_at_a_time(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The same rule end to end: two ThreadArchivers (as the scheduler's workers run them) on two
    threads of one host, each with its own database session, through one shared Fetcher."""
    from pathlib import Path

    from archiver.pipeline import ThreadArchiver
    from archiver.store.db import Store, default_database_url
    from tests.conftest import MOA, MOA_PATH

    variant = Path(__file__).parent.parent / "fixtures" / "typepad" / "variant-standard-template"
    store = Store(default_database_url(tmp_path))
    with FaultServer() as srv:
        srv.serve_fixture(MOA / "paged")
        srv.serve_fixture(variant)
        urls = [srv.url(MOA_PATH), srv.url("/blog/2019/01/winter-pruning.html")]
        with Fetcher(FetchSettings(delay=DELAY)) as fetcher:
            run_in_threads([
                functools.partial(ThreadArchiver(store, fetcher).archive, url) for url in urls
            ])
        log = srv.requests()
        assert srv.max_in_flight == 1
    pages = [r.path for r in log if r.path != "/robots.txt"]
    assert len(pages) == 5  # 3 pages of the MOA thread, 2 of the variant
    gaps = spacing(log)
    assert min(gaps) >= DELAY, gaps
    store.close()
