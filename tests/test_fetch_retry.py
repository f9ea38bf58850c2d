"""Issue 3, items 2-4: retries with backoff, Retry-After, and network faults mid-response.

Waiting goes through a FakeClock shared by the fetcher and the server's request log, so the
spacing checked here is the spacing the server saw, without sleeping for real.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email.utils import formatdate, parsedate_to_datetime

import pytest

from archiver.errors import FetchError
from archiver.fetch import Fetcher, FetchResult, FetchSettings
from tests.faultserver import Drip, FakeClock, FaultServer, Reply, Reset, Short, Stall

PAGE = b"<html><body><p>" + b"comment " * 2000 + b"</p></body></html>"
HTML = [("Content-Type", "text/html; charset=utf-8")]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> Iterator[FaultServer]:
    with FaultServer(clock=clock) as srv:
        yield srv


def make(clock: FakeClock, **kw: object) -> Fetcher:
    return Fetcher(FetchSettings(clock=clock, sleep=clock.sleep, **kw))  # type: ignore[arg-type]


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:], strict=False)]


# -- item 2 ----------------------------------------------------------------------------------


def test_503_503_200_is_three_requests_spaced_by_backoff(
    server: FaultServer, clock: FakeClock
) -> None:
    server.route("/t", Reply(503, b"busy"), Reply(503, b"busy"), Reply(200, PAGE, HTML))
    seen: list[FetchResult] = []
    with make(clock) as fetcher:
        result = fetcher.fetch(server.url("/t"), record=seen.append)
    assert result.status == 200 and result.body == PAGE and result.attempt == 3
    hits = server.requests("/t")
    assert len(hits) == 3
    # every exchange reached the recorder, in order; only the last is final
    assert [(r.status, r.attempt, r.final) for r in seen] == [
        (503, 1, False),
        (503, 2, False),
        (200, 3, True),
    ]
    first, second = gaps([h.at for h in hits])
    # backoff: 2 s then 4 s (plus up to 1 s jitter); the 503s also doubled the host delay
    assert 2.0 <= first <= 3.0
    assert 4.0 <= second <= 5.0
    assert second > first


def test_retries_run_out_with_the_last_status(server: FaultServer, clock: FakeClock) -> None:
    server.route("/down", Reply(503, b"busy"))
    seen: list[FetchResult] = []
    with make(clock) as fetcher, pytest.raises(FetchError) as info:
        fetcher.fetch(server.url("/down"), record=seen.append)
    err = info.value
    assert str(err) == (
        f"gave up on {server.url('/down')} after 5 attempts: HTTP 503 Service Unavailable"
    )
    assert err.status == 503 and err.url == server.url("/down")
    assert len(server.requests("/down")) == 5
    assert [r.final for r in seen] == [False] * 5  # all kept, none passed off as final
    waits = gaps([h.at for h in server.requests("/down")])
    assert all(w >= 2.0 for w in waits) and waits == sorted(waits)


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
def test_retryable_statuses(server: FaultServer, clock: FakeClock, status: int) -> None:
    server.route("/r", Reply(status), Reply(200, PAGE, HTML))
    with make(clock) as fetcher:
        assert fetcher.fetch(server.url("/r")).status == 200
    assert len(server.requests("/r")) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 410, 451, 501])
def test_final_statuses_are_not_retried(server: FaultServer, clock: FakeClock, status: int) -> None:
    server.route("/f", Reply(status), Reply(200, PAGE, HTML))
    with make(clock) as fetcher:
        assert fetcher.fetch(server.url("/f")).status == status
    assert len(server.requests("/f")) == 1


def test_max_attempts_is_configurable(server: FaultServer, clock: FakeClock) -> None:
    server.route("/down", Reply(502))
    with make(clock, max_attempts=2) as fetcher, pytest.raises(FetchError, match="2 attempts"):
        fetcher.fetch(server.url("/down"))
    assert len(server.requests("/down")) == 2


# -- item 3 ----------------------------------------------------------------------------------


def test_429_retry_after_seconds_holds_the_next_request(
    server: FaultServer, clock: FakeClock
) -> None:
    server.route("/t", Reply(429, b"slow down", [("Retry-After", "2")]), Reply(200, PAGE, HTML))
    with make(clock, delay=0.1, backoff_base=0.1) as fetcher:
        assert fetcher.fetch(server.url("/t")).status == 200
    limited, ok = server.requests("/t")
    assert ok.at - limited.at >= 2.0


def test_retry_after_applies_to_the_whole_host(server: FaultServer, clock: FakeClock) -> None:
    server.route("/a", Reply(429, b"", [("Retry-After", "2")]))
    server.route("/b", Reply(200, PAGE, HTML))
    with make(clock, delay=0.1, backoff_base=0.1, max_attempts=1) as fetcher:
        with pytest.raises(FetchError, match="HTTP 429"):
            fetcher.fetch(server.url("/a"))
        assert fetcher.fetch(server.url("/b")).status == 200
    (limited,) = server.requests("/a")
    (other,) = server.requests("/b")
    assert other.at - limited.at >= 2.0


def test_retry_after_http_date(server: FaultServer, clock: FakeClock) -> None:
    """An HTTP-date is read against the wall clock at the moment the answer comes in: the wait
    lies between the date minus the wall time after the fetch and the date minus the wall time
    before it (bounds measured, so a slow machine moves them rather than failing)."""
    before = time.time()
    when = formatdate(before + 30, usegmt=True)
    due = parsedate_to_datetime(when).timestamp()  # whole seconds: up to 1 s before before+30
    server.route("/t", Reply(503, b"", [("Retry-After", when)]), Reply(200, PAGE, HTML))
    with make(clock, delay=0.1, backoff_base=0.1) as fetcher:
        assert fetcher.fetch(server.url("/t")).status == 200
    after = time.time()
    busy, ok = server.requests("/t")
    waited = ok.at - busy.at  # the fetcher's clock: only its own sleeps move it
    assert due - after <= waited <= due - before
    assert due - after > 1.0  # (so the lower bound above is no 0.1 s backoff)


def test_retry_after_beyond_the_cap_gives_up_without_waiting(
    server: FaultServer, clock: FakeClock
) -> None:
    server.route("/t", Reply(503, b"", [("Retry-After", "86400")]), Reply(200, PAGE, HTML))
    with make(clock, max_retry_wait=600) as fetcher:
        with pytest.raises(FetchError, match="Retry-After '86400' is beyond our 600 s limit"):
            fetcher.fetch(server.url("/t"))
        assert len(server.requests("/t")) == 1
        assert max(clock.sleeps, default=0) <= 600
        # The host stays deferred: another URL of it is refused rather than waited for a day.
        with pytest.raises(FetchError, match="asked us to wait"):
            fetcher.fetch(server.url("/other"))


def test_429_and_503_slow_the_host_for_the_rest_of_the_run(
    server: FaultServer, clock: FakeClock
) -> None:
    server.route("/busy", Reply(503), Reply(200, PAGE, HTML))
    for n in range(4):
        server.route(f"/p{n}", Reply(200, PAGE, HTML))
    with make(clock, delay=1.0) as fetcher:
        fetcher.fetch(server.url("/p0"))
        fetcher.fetch(server.url("/p1"))
        fetcher.fetch(server.url("/busy"))
        fetcher.fetch(server.url("/p2"))
        fetcher.fetch(server.url("/p3"))
        assert fetcher.politeness.delay(f"127.0.0.1:{server.port}") == 2.0
    times = {h.path: h.at for h in server.log if h.status == 200}
    assert times["/p1"] - times["/p0"] == pytest.approx(1.0)
    assert times["/p3"] - times["/p2"] == pytest.approx(2.0)  # doubled, and it stays so


# -- item 4 ----------------------------------------------------------------------------------


def test_connection_reset_mid_body_is_retried_and_never_recorded(
    server: FaultServer, clock: FakeClock
) -> None:
    server.route("/t", Reset(PAGE, after=5000, headers=HTML), Reply(200, PAGE, HTML))
    seen: list[FetchResult] = []
    with make(clock) as fetcher:
        result = fetcher.fetch(server.url("/t"), record=seen.append)
    assert result.body == PAGE
    assert [(r.status, len(r.raw_body)) for r in seen] == [(200, len(PAGE))]
    assert len(server.requests("/t")) == 2


def test_body_cut_short_of_content_length_is_retried_then_fails(
    server: FaultServer, clock: FakeClock
) -> None:
    server.route("/t", Short(PAGE[:3000], missing=1000, headers=HTML))
    seen: list[FetchResult] = []
    with make(clock, max_attempts=3) as fetcher, pytest.raises(FetchError) as info:
        fetcher.fetch(server.url("/t"), record=seen.append)
    assert seen == []  # no partial body ever reaches the store
    message = str(info.value)
    assert message.startswith(f"gave up on {server.url('/t')} after 3 attempts: body cut short")
    assert "received 3000 bytes, expected 4000" in message
    assert info.value.status is None
    assert len(server.requests("/t")) == 3


def test_reset_every_time_fails_clearly(server: FaultServer, clock: FakeClock) -> None:
    server.route("/t", Reset(PAGE, after=100, headers=HTML))
    seen: list[FetchResult] = []
    with make(clock, max_attempts=2) as fetcher, pytest.raises(FetchError) as info:
        fetcher.fetch(server.url("/t"), record=seen.append)
    assert seen == []
    assert "after 2 attempts" in str(info.value)
    assert re.search(r"connection lost after \d+ body bytes", str(info.value))
    assert "Connection reset by peer" in str(info.value)


def test_stalled_server_times_out_and_is_retried(server: FaultServer, clock: FakeClock) -> None:
    server.route("/t", Stall(PAGE, sent=1000, headers=HTML), Reply(200, PAGE, HTML))
    seen: list[FetchResult] = []
    with make(clock, read_timeout=0.3) as fetcher:
        result = fetcher.fetch(server.url("/t"), record=seen.append)
    assert result.status == 200 and result.attempt == 2
    assert [len(r.raw_body) for r in seen] == [len(PAGE)]


def test_stalled_server_fails_with_a_clear_error(server: FaultServer, clock: FakeClock) -> None:
    server.route("/t", Stall(PAGE, sent=0, headers=HTML))
    with make(clock, read_timeout=0.2, max_attempts=2) as fetcher:
        with pytest.raises(FetchError, match=r"after 2 attempts: read timed out"):
            fetcher.fetch(server.url("/t"))


def test_slow_drip_is_cut_by_the_total_time_limit(server: FaultServer, clock: FakeClock) -> None:
    server.route("/t", Drip([b"x" * 10] * 100, interval=0.05, headers=HTML))
    seen: list[FetchResult] = []
    with make(clock, read_timeout=5, total_timeout=0.3, max_attempts=1) as fetcher:
        with pytest.raises(FetchError, match=r"took longer than 0.3 s"):
            fetcher.fetch(server.url("/t"), record=seen.append)
    assert seen == []


def test_connection_refused_is_retried_then_fails(clock: FakeClock) -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with make(clock, max_attempts=3, respect_robots=False) as fetcher:
        with pytest.raises(
            FetchError, match=rf"after 3 attempts: cannot connect to 127.0.0.1:{port}"
        ):
            fetcher.fetch(f"http://127.0.0.1:{port}/x")
    assert len([s for s in clock.sleeps if s >= 2.0]) == 2  # backed off between the attempts


def test_headers_dripped_byte_by_byte_are_cut_by_the_total_time_limit(clock: FakeClock) -> None:
    """The total limit holds while headers arrive too: a header byte every 0.1 s never trips the
    read timeout (1 s), but we hang up at 0.5 s, long before the server's 60 bytes are out."""
    import socket
    import threading
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(30)  # the worker never waits forever for a client that does not come
    port = listener.getsockname()[1]
    sent: list[int] = []

    def drip_headers() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for count in range(1, 61):
                time.sleep(0.1)
                try:
                    conn.sendall(b"X")
                except OSError:  # the client hung up
                    break
                sent.append(count)

    worker = threading.Thread(target=drip_headers, daemon=True)
    worker.start()
    try:
        with make(clock, read_timeout=1, total_timeout=0.5, max_attempts=1,
                  respect_robots=False) as fetcher:
            with pytest.raises(FetchError, match=r"took longer than 0.5 s"):
                fetcher.fetch(f"http://127.0.0.1:{port}/slow")
            assert fetcher.total_timeout_enforced
    finally:
        worker.join()
        listener.close()
    assert len(sent) < 60  # we hung up while the server was still dripping
