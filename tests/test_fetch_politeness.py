"""Issue 3, item 6: per-host politeness across threads, checked from the server's own log.

The threaded tests use the real clock (the server has to see real spacing) with short delays.
Every check holds on a loaded machine: a gap is measured from the moment the server began its
last write of a response (the client cannot have finished reading before then) to the moment the
next request had arrived, so load can only lengthen it; and where a test needs two workers to
meet, the server holds a response until the other worker is seen waiting (or has arrived),
never for a guessed time.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from archiver.fetch import Fetcher, FetchSettings
from tests.faultserver import Drip, FakeClock, FaultServer, Reply, Request, Response

HTML = [("Content-Type", "text/html; charset=utf-8")]
DELAY = 0.2
PATIENCE = 10.0  # real seconds a held response waits for what it waits for, at most


def slow_page(n: int) -> Drip:
    """A page that takes ~0.06 s to send, so overlapping requests would show in the log."""
    return Drip([f"<p>page {n} part {i}</p>".encode() for i in range(3)], 0.02, HTML)


def wait_until(condition: Callable[[], bool], patience: float = PATIENCE) -> bool:
    """Poll condition until it holds (True) or patience runs out (False)."""
    give_up = time.monotonic() + patience
    while not condition():
        if time.monotonic() > give_up:
            return False
        time.sleep(0.005)
    return True


class held:  # noqa: N801 - used as a route handler, like a function
    """A route that answers only once until() holds, or after patience, whichever first;
    .met records, for each request, whether until() had held."""

    def __init__(self, response: Response, until: Callable[[], bool],
                 patience: float = PATIENCE) -> None:
        self.response, self.until, self.patience = response, until, patience
        self.met: list[bool] = []

    def __call__(self, request: Request) -> Response:
        self.met.append(wait_until(self.until, self.patience))
        return self.response


def waiting_on_a_lock(thread: threading.Thread | None) -> bool:
    """Whether thread is blocked in a threading wait (a Condition, Semaphore or Event)."""
    if thread is None or thread.ident is None:
        return False
    frame = sys._current_frames().get(thread.ident)
    return frame is not None and frame.f_code.co_name == "wait" and (
        frame.f_code.co_filename == threading.__file__)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        for thread in ("a", "b"):
            for page in range(1, 4):
                srv.route(f"/{thread}/{page}", slow_page(page))
        yield srv


def run_in_threads(jobs: list[Callable[[], object]]) -> list[threading.Thread]:
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
    return workers


def archive_concurrently(
    fetcher: Fetcher, urls_per_worker: list[list[str]],
    threads: dict[int, threading.Thread] | None = None,
) -> None:
    """Each worker fetches its URLs in turn; threads (if given) gets each worker's thread by its
    index in urls_per_worker."""

    def fetch_all(index: int, urls: list[str]) -> None:
        if threads is not None:
            threads[index] = threading.current_thread()
        for url in urls:
            assert fetcher.fetch(url).status == 200

    run_in_threads([functools.partial(fetch_all, i, urls)
                    for i, urls in enumerate(urls_per_worker)])


def spacing(log: list[Request]) -> list[float]:
    """For consecutive requests: the next one's arrival minus the moment the server began the
    previous one's last write (real seconds). Never shorter than the client's own gap; negative
    if two were in flight at once."""
    ordered = sorted(log, key=lambda r: r.real_at)
    for r in ordered:
        assert r.real_last_write_at is not None, r
    return [b.real_at - (a.real_last_write_at or 0.0)
            for a, b in zip(ordered, ordered[1:], strict=False)]


def test_two_threads_on_one_host_never_overlap_and_keep_the_delay(server: FaultServer) -> None:
    threads: dict[int, threading.Thread] = {}
    # each worker's first page is answered once the other worker waits for its turn, so the two
    # really compete for the host (whichever the scheduler lets in first)
    holds = [held(slow_page(1), lambda other=other: waiting_on_a_lock(threads.get(other)))
             for other in (1, 0)]
    server.route("/a/1", holds[0])
    server.route("/b/1", holds[1])
    with Fetcher(FetchSettings(delay=DELAY)) as fetcher:
        archive_concurrently(
            fetcher,
            [
                [server.url(f"/a/{n}") for n in (1, 2, 3)],
                [server.url(f"/b/{n}") for n in (1, 2, 3)],
            ],
            threads,
        )
    log = server.requests()
    pages = [r for r in log if r.path != "/robots.txt"]
    assert len(pages) == 6 and {r.path for r in pages} == {
        f"/{t}/{n}" for t in "ab" for n in (1, 2, 3)
    }
    gaps = spacing(log)  # robots.txt counts too: it is a request to the host
    assert len(gaps) == 6
    assert min(gaps) >= DELAY, gaps  # never two at once, and the delay between them
    # both workers really ran at once, first come first served: their requests alternate
    order = [r.path[1] for r in sorted(pages, key=lambda r: r.real_at)]
    assert order in (list("ababab"), list("bababa")), order
    assert holds[0].met == holds[1].met == [True]  # each first page did meet a waiting rival


def test_different_hosts_proceed_in_parallel() -> None:
    with FaultServer() as one, FaultServer() as two:
        two_done = threading.Event()
        for n in (1, 2, 3):
            one.route(f"/p/{n}", slow_page(n))
            two.route(f"/p/{n}", slow_page(n))
        # host one's first page is held until host two has been asked for its last page
        hold = held(slow_page(1), two_done.is_set)
        one.route("/p/1", hold)
        original = two.respond

        def respond(request: Request) -> Response:
            if request.path == "/p/3":
                two_done.set()
            return original(request)

        two.respond = respond  # type: ignore[method-assign]
        with Fetcher(FetchSettings(delay=DELAY)) as fetcher:
            archive_concurrently(
                fetcher,
                [[one.url(f"/p/{n}") for n in (1, 2, 3)], [two.url(f"/p/{n}") for n in (1, 2, 3)]],
            )
        for srv in (one, two):
            assert min(spacing(srv.requests())) >= DELAY
        (held_page,) = one.requests("/p/1")
        (last_of_two,) = two.requests("/p/3")
        # host two did not wait for host one: all its pages, spaced by the delay, came in while
        # host one's first page was still being answered
        assert held_page.real_last_write_at is not None
        assert last_of_two.real_at < held_page.real_last_write_at
        assert hold.met == [True]


def test_global_concurrency_limit() -> None:
    with FaultServer() as one, FaultServer() as two:
        arrived = {"one": threading.Event(), "two": threading.Event()}
        for name, srv, other in (("one", one, "two"), ("two", two, "one")):
            for n in (1, 2, 3):
                srv.route(f"/p/{n}", slow_page(n))
            # a first page is held a while for the other host's first page request: with one
            # request allowed in flight it cannot come, and if it could, it would show as an
            # overlap
            srv.route("/p/1", held(slow_page(1), arrived[other].is_set, 0.5))
            original = srv.respond

            def respond(request: Request, name: str = name,
                        original: Callable[[Request], Response] = original) -> Response:
                if request.path.startswith("/p/"):
                    arrived[name].set()
                return original(request)

            srv.respond = respond  # type: ignore[method-assign]
        with Fetcher(FetchSettings(delay=0.0, max_concurrency=1)) as fetcher:
            archive_concurrently(
                fetcher,
                [[one.url(f"/p/{n}") for n in (1, 2, 3)], [two.url(f"/p/{n}") for n in (1, 2, 3)]],
            )
        both = one.requests() + two.requests()
        assert len([r for r in both if r.path != "/robots.txt"]) == 6
        assert min(spacing(both)) >= 0  # never two in flight at once, across both hosts


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
    # each first page is held until the other worker's first request has arrived: with two
    # allowed in flight it arrives, and the server sees two at once
    holds = {}
    for mine, other in (("a", "b"), ("b", "a")):
        holds[mine] = held(slow_page(1), lambda other=other: bool(
            server.requests(f"/{other}/1")))
        server.route(f"/{mine}/1", holds[mine])
    with Fetcher(FetchSettings(delay=0.0, per_host_concurrency=2)) as fetcher:
        archive_concurrently(
            fetcher,
            [
                [server.url(f"/a/{n}") for n in (1, 2, 3)],
                [server.url(f"/b/{n}") for n in (1, 2, 3)],
            ],
        )
    assert server.max_in_flight == 2
    a1, b1 = server.requests("/a/1")[0], server.requests("/b/1")[0]
    first, second = sorted((a1, b1), key=lambda r: r.real_at)
    assert second.real_at < (first.real_last_write_at or 0.0)  # in flight together
    assert holds["a"].met + holds["b"].met == [True, True]


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
    pages = [r.path for r in log if r.path != "/robots.txt"]
    assert len(pages) == 5  # 3 pages of the MOA thread, 2 of the variant
    gaps = spacing(log)
    assert min(gaps) >= DELAY, gaps
    store.close()
