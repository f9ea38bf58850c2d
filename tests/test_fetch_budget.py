"""Issue 11, Found 5: one URL has a total time budget across its attempts and the waits between
them, so a slow server cannot hold a worker for attempts x the response limit.

Waits go through a FakeClock (nothing sleeps for real); the slow-drip case uses real time and
checks what was cut (attempts made, bytes received), never how long it took.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from archiver.config import load_settings
from archiver.errors import ConfigError, FetchError
from archiver.fetch import Fetcher, FetchSettings
from tests.faultserver import Drip, FakeClock, FaultServer, Reply

HTML = [("Content-Type", "text/html; charset=utf-8")]
PAGE = b"<html><body><p>fine</p></body></html>"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> Iterator[FaultServer]:
    with FaultServer(clock=clock) as srv:
        yield srv


def make(clock: FakeClock, **kw: object) -> Fetcher:
    settings = FetchSettings(clock=clock, sleep=clock.sleep, respect_robots=False, **kw)  # type: ignore[arg-type]
    return Fetcher(settings)


def spent_in(message: str) -> float:
    found = re.search(r"after (\d+\.\d) s \(budget", message)
    assert found, message
    return float(found.group(1))


def test_the_budget_stops_retries_before_a_wait_would_pass_it(
    server: FaultServer, clock: FakeClock
) -> None:
    """Backoff 4 s then 8 s (each plus up to 2 s of jitter): after the first wait (4-6 s) the
    next (8-10 s) would pass the 10 s budget, so there are 2 attempts, not 5."""
    server.route("/busy", Reply(503, b"busy"))
    url = server.url("/busy")
    with make(clock, backoff_base=4.0, url_budget=10.0) as fetcher:
        with pytest.raises(FetchError) as info:
            fetcher.fetch(url)
    message = str(info.value)
    assert re.fullmatch(
        rf"gave up on {re.escape(url)} after \d+\.\d s \(budget 10 s, 2 attempts\):"
        r" HTTP 503 Service Unavailable",
        message,
    ), message
    assert len(server.requests("/busy")) == 2
    (wait,) = [s for s in clock.sleeps if s >= 4.0]
    assert 4.0 <= wait <= 6.0
    assert spent_in(message) >= round(wait, 1) - 0.05  # the wait is counted in what was spent
    assert info.value.status == 503


def test_without_the_budget_in_the_way_all_attempts_are_made(
    server: FaultServer, clock: FakeClock
) -> None:
    server.route("/busy", Reply(503, b"busy"))
    with make(clock, backoff_base=4.0, url_budget=600.0) as fetcher:
        with pytest.raises(FetchError, match=r"after 5 attempts: HTTP 503"):
            fetcher.fetch(server.url("/busy"))
    assert len(server.requests("/busy")) == 5


def test_a_retry_after_past_the_budget_is_not_waited_for(
    server: FaultServer, clock: FakeClock
) -> None:
    server.route("/t", Reply(503, b"", [("Retry-After", "120")]), Reply(200, PAGE, HTML))
    with make(clock, url_budget=60.0) as fetcher:
        with pytest.raises(FetchError, match=r"\(budget 60 s, 1 attempt\): HTTP 503"):
            fetcher.fetch(server.url("/t"))
    assert len(server.requests("/t")) == 1
    assert [s for s in clock.sleeps if s >= 60] == []


def test_waiting_for_the_hosts_turn_is_not_counted() -> None:
    """The politeness delay (1.5 s between requests to the host, real time) is the host's pace,
    not the URL's slowness: a second URL that waited for its turn still has its 1 s budget."""
    with FaultServer() as server:
        server.route("/a", Reply(200, PAGE, HTML))
        server.route("/b", Reply(200, PAGE, HTML))
        settings = FetchSettings(delay=1.5, respect_robots=False, url_budget=1.0)
        with Fetcher(settings) as fetcher:
            assert fetcher.fetch(server.url("/a")).status == 200
            assert fetcher.fetch(server.url("/b")).status == 200
        first, second = server.requests()
    assert second.real_at - (first.real_done_at or 0) >= 1.5  # it did wait longer than 1 s


def test_a_slow_drip_is_cut_by_the_budget_and_not_retried() -> None:
    """Slowloris: 10 bytes every 0.05 s would take 5 s. With a 0.5 s budget (and 5 attempts of up
    to 300 s allowed) the first attempt is cut when the budget runs out and none follows."""
    with FaultServer() as server:
        server.route("/slow", Drip([b"x" * 10] * 100, interval=0.05, headers=HTML))
        settings = FetchSettings(delay=0, respect_robots=False, read_timeout=5,
                                 total_timeout=300, max_attempts=5, url_budget=0.5)
        with Fetcher(settings) as fetcher, pytest.raises(FetchError) as info:
            fetcher.fetch(server.url("/slow"))
        message = str(info.value)
        assert len(server.requests("/slow")) == 1
    found = re.fullmatch(
        rf"gave up on {re.escape(server.url('/slow'))} after \d+\.\d s \(budget 0\.5 s,"
        r" 1 attempt\): response cut when the URL's 0\.5 s budget ran out"
        r" \((\d+) body bytes so far\)",
        message,
    )
    assert found, message
    assert int(found.group(1)) < 1000  # cut before the whole body came
    assert spent_in(message) >= 0.5


def test_a_budget_spent_on_robots_txt_leaves_the_page_unasked(clock: FakeClock) -> None:
    """robots.txt read on the way counts against the fetch that needed it."""
    with FaultServer(clock=clock) as server:
        server.route("/robots.txt", Reply(503))
        server.route("/page", Reply(200, PAGE, HTML))
        settings = FetchSettings(clock=clock, sleep=clock.sleep, backoff_base=4.0,
                                 url_budget=10.0)
        with Fetcher(settings) as fetcher, pytest.raises(FetchError, match="budget 10 s"):
            fetcher.fetch(server.url("/page"))
        assert len(server.requests("/robots.txt")) == 2
        assert server.requests("/page") == []


def test_url_budget_is_a_setting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert FetchSettings().url_budget == 600.0
    config = tmp_path / "archiver.toml"
    config.write_text("[fetch]\nurl_budget = 120\n", encoding="utf-8")
    assert load_settings(config, {}).fetch.url_budget == 120.0
    env = {"ARCHIVER_FETCH_URL_BUDGET": "45.5"}
    assert load_settings(config, env).fetch.url_budget == 45.5
    with pytest.raises(ConfigError, match="must be at least 0.001"):
        load_settings(None, {"ARCHIVER_FETCH_URL_BUDGET": "0"})


# -- retries reported as they happen (issue 20, item 4) --------------------------------------


def test_on_retry_is_told_each_attempt_to_come(server: FaultServer, clock: FakeClock) -> None:
    server.route("/t", Reply(503, b"busy"), Reply(502, b"bad"), Reply(200, PAGE, HTML))
    calls: list[tuple[int, int, float, str]] = []
    settings = FetchSettings(clock=clock, sleep=clock.sleep, respect_robots=False)
    with Fetcher(settings, on_retry=lambda *call: calls.append(call)) as fetcher:
        assert fetcher.fetch(server.url("/t")).status == 200
    assert [(a, n, why) for a, n, _, why in calls] == [
        (2, 5, "HTTP 503 Service Unavailable"),
        (3, 5, "HTTP 502 Bad Gateway"),
    ]
    backoff = [s for s in clock.sleeps if s >= 2.0]
    assert [wait for _, _, wait, _ in calls] == backoff  # the waits that were then slept
