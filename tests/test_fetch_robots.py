"""robots.txt (RFC 9309, Protego) at the Fetcher level: groups, caching, 4xx/5xx, --ignore-robots.
The CLI side (issue 3, item 1) is in test_fetch_cli.py."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from archiver.errors import FetchError, RobotsDisallowed
from archiver.fetch import Fetcher, FetchSettings
from tests.faultserver import FakeClock, FaultServer, Reply

HTML = [("Content-Type", "text/html; charset=utf-8")]
DAY = 24 * 3600.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> Iterator[FaultServer]:
    with FaultServer(clock=clock) as srv:
        for path in ("/", "/public/p", "/private/p", "/2018/06/post.html", "/p"):
            srv.route(path, Reply(200, b"<p>page</p>", HTML))
        yield srv


def make(clock: FakeClock, **kw: object) -> Fetcher:
    return Fetcher(FetchSettings(clock=clock, sleep=clock.sleep, **kw))  # type: ignore[arg-type]


def test_disallowed_url_is_refused_without_a_request(server: FaultServer, clock: FakeClock) -> None:
    server.robots("User-agent: *\nDisallow: /2018/\n")
    with make(clock) as fetcher:
        with pytest.raises(RobotsDisallowed) as info:
            fetcher.fetch(server.url("/2018/06/post.html"))
        assert fetcher.fetch(server.url("/p")).status == 200
    assert str(info.value) == (
        f"robots.txt of 127.0.0.1:{server.port} disallows {server.url('/2018/06/post.html')}"
        " for user-agent 'archiver'"
    )
    assert info.value.exit_code == 4
    assert server.requests("/2018/06/post.html") == []
    assert len(server.requests("/robots.txt")) == 1  # read once, then cached


def test_our_group_applies_not_the_star_group(server: FaultServer, clock: FakeClock) -> None:
    server.robots(
        "User-agent: *\nDisallow: /\n\n"
        "User-agent: archiver\nDisallow: /private/\n\n"
        "User-agent: example\nDisallow: /\n"  # our UA mentions example.org: must not match
    )
    with make(clock) as fetcher:
        assert fetcher.fetch(server.url("/public/p")).status == 200
        with pytest.raises(RobotsDisallowed):
            fetcher.fetch(server.url("/private/p"))


def test_another_user_agent_string_gets_its_own_group(
    server: FaultServer, clock: FakeClock
) -> None:
    server.robots("User-agent: archiver\nDisallow: /\n\nUser-agent: MyMirror\nAllow: /\n")
    with make(clock, user_agent="MyMirror/2.0 (+https://mirror.example)") as fetcher:
        assert fetcher.fetch(server.url("/p")).status == 200
    assert server.requests("/p")[0].header("User-Agent") == "MyMirror/2.0 (+https://mirror.example)"


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_robots_4xx_means_allow_all(server: FaultServer, clock: FakeClock, status: int) -> None:
    server.route("/robots.txt", Reply(status, b"Disallow: /"))
    with make(clock) as fetcher:
        assert fetcher.fetch(server.url("/private/p")).status == 200
    assert len(server.requests("/robots.txt")) == 1


def test_robots_5xx_pauses_the_host_and_is_retried_later(
    server: FaultServer, clock: FakeClock
) -> None:
    server.route("/robots.txt", Reply(503, b"down"))
    with make(clock, max_attempts=2, robots_retry=600.0) as fetcher:
        with pytest.raises(FetchError) as info:
            fetcher.fetch(server.url("/p"))
        assert not isinstance(info.value, RobotsDisallowed)
        message = str(info.value)
        assert message.startswith(f"robots.txt of 127.0.0.1:{server.port} could not be read")
        assert "HTTP 503" in message and "will retry later" in message
        assert server.requests("/p") == []  # nothing fetched while robots.txt is unknown
        assert len(server.requests("/robots.txt")) == 2  # its own retries
        # within robots_retry: fail fast, no new request
        with pytest.raises(FetchError, match="could not be read"):
            fetcher.fetch(server.url("/public/p"))
        assert len(server.requests("/robots.txt")) == 2
        # later, robots.txt is back: it is read again and the page fetched
        clock.sleep(601)
        server.robots("User-agent: *\nAllow: /\n")
        assert fetcher.fetch(server.url("/p")).status == 200
        assert len(server.requests("/robots.txt")) == 3


def test_robots_is_reread_after_24_hours(server: FaultServer, clock: FakeClock) -> None:
    server.robots("User-agent: *\nAllow: /\n")
    with make(clock) as fetcher:
        fetcher.fetch(server.url("/private/p"))
        clock.sleep(DAY - 10)
        fetcher.fetch(server.url("/private/p"))
        assert len(server.requests("/robots.txt")) == 1
        server.robots("User-agent: *\nDisallow: /private/\n")
        clock.sleep(20)
        with pytest.raises(RobotsDisallowed):
            fetcher.fetch(server.url("/private/p"))
        assert len(server.requests("/robots.txt")) == 2


def test_stale_copy_is_kept_while_robots_is_unreachable(
    server: FaultServer, clock: FakeClock
) -> None:
    server.robots("User-agent: *\nDisallow: /private/\n")
    with make(clock, max_attempts=1) as fetcher:
        fetcher.fetch(server.url("/p"))
        clock.sleep(DAY + 1)
        server.route("/robots.txt", Reply(500))
        assert fetcher.fetch(server.url("/p")).status == 200  # old rules still apply...
        with pytest.raises(RobotsDisallowed):
            fetcher.fetch(server.url("/private/p"))  # ...both ways


def test_robots_redirect_is_followed(server: FaultServer, clock: FakeClock) -> None:
    server.route("/robots.txt", Reply(301, b"", [("Location", "/real-robots.txt")]))
    server.route("/real-robots.txt", Reply(200, b"User-agent: *\nDisallow: /private/\n"))
    with make(clock) as fetcher, pytest.raises(RobotsDisallowed):
        fetcher.fetch(server.url("/private/p"))


def test_redirect_target_is_checked_against_robots(server: FaultServer, clock: FakeClock) -> None:
    server.robots("User-agent: *\nDisallow: /private/\n")
    server.route("/go", Reply(302, b"", [("Location", "/private/p")]))
    with make(clock) as fetcher, pytest.raises(RobotsDisallowed):
        fetcher.fetch(server.url("/go"))
    assert server.requests("/private/p") == []


def test_ignore_robots_is_logged_and_fetches(
    server: FaultServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    server.robots("User-agent: *\nDisallow: /\n")
    with caplog.at_level(logging.INFO, logger="archiver.fetch"):
        with make(clock, respect_robots=False) as fetcher:
            assert fetcher.fetch(server.url("/private/p")).status == 200
    assert server.requests("/robots.txt") == []
    assert any("--ignore-robots" in r.getMessage() for r in caplog.records)
