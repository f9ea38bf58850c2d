"""Issue 3, item 5: redirect loops, oversize bodies, gzip bombs, scheme checks. Each is refused
with a clear error, not retried, and nothing partial reaches the recorder."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator

import pytest

from archiver.errors import FetchError
from archiver.fetch import Fetcher, FetchResult, FetchSettings
from tests.faultserver import (
    FakeClock,
    FaultServer,
    Reply,
    gzip_bomb,
    gzipped,
    static_page,
    zeros,
)

MB = 1024 * 1024
HTML = [("Content-Type", "text/html; charset=utf-8")]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> Iterator[FaultServer]:
    with FaultServer(clock=clock) as srv:
        yield srv


@pytest.fixture
def fetcher(clock: FakeClock) -> Iterator[Fetcher]:
    with Fetcher(FetchSettings(clock=clock, sleep=clock.sleep)) as f:
        yield f


def redirect(to: str, status: int = 302) -> Reply:
    return Reply(status, b"", [("Location", to)])


def test_redirects_are_followed_and_every_hop_recorded(
    server: FaultServer, fetcher: Fetcher
) -> None:
    server.route("/old", redirect("/middle", 301))
    server.route("/middle", redirect(server.url("/new#frag"), 307))
    server.route("/new", Reply(200, b"<p>here</p>", HTML))
    seen: list[FetchResult] = []
    result = fetcher.fetch(server.url("/old"), record=seen.append)
    assert result.status == 200 and result.url == server.url("/new")
    assert result.requested_url == server.url("/old")
    assert result.redirects == [server.url("/old"), server.url("/middle")]
    assert [(r.status, r.url, r.redirect_to, r.final) for r in seen] == [
        (301, server.url("/old"), server.url("/middle"), False),
        (307, server.url("/middle"), server.url("/new"), False),
        (200, server.url("/new"), None, True),
    ]


def test_validators_follow_redirects(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/old", redirect("/new", 301))
    server.route("/new", static_page(b"<p>moved here</p>"))
    first = fetcher.fetch(server.url("/old"))
    etag, lm = first.header("ETag"), first.header("Last-Modified")
    again = fetcher.fetch(server.url("/old"), etag=etag, last_modified=lm)
    assert again.status == 304 and again.url == server.url("/new")
    assert server.requests("/new")[-1].header("If-None-Match") == etag


def test_redirect_loop_is_detected(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/a", redirect("/b"))
    server.route("/b", redirect("/a"))
    seen: list[FetchResult] = []
    with pytest.raises(FetchError) as info:
        fetcher.fetch(server.url("/a"), record=seen.append)
    a, b = server.url("/a"), server.url("/b")
    assert str(info.value) == f"redirect loop: {a} -> {b} -> {a}"
    assert len(server.requests("/a")) == 1 and len(server.requests("/b")) == 1
    assert not any(r.final for r in seen)  # hops are kept as hops, nothing claims to be a page


def test_at_most_ten_redirects(server: FaultServer, fetcher: Fetcher) -> None:
    for n in range(20):
        server.route(f"/r{n}", redirect(f"/r{n + 1}"))
    with pytest.raises(FetchError, match=r"more than 10 redirects"):
        fetcher.fetch(server.url("/r0"))
    assert len([r for r in server.log if r.path.startswith("/r") and r.path[2:].isdigit()]) == 11


def test_redirect_to_another_scheme_is_refused(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/x", redirect("ftp://example.org/file"))
    with pytest.raises(FetchError, match=r"redirects to a non-http\(s\) URL: ftp://"):
        fetcher.fetch(server.url("/x"))


def test_60_mb_body_with_content_length_is_refused_before_reading(
    server: FaultServer, fetcher: Fetcher
) -> None:
    server.route("/big", Reply(200, zeros(60 * MB), HTML, length=60 * MB))
    seen: list[FetchResult] = []
    with pytest.raises(FetchError, match=r"Content-Length 62914560 exceeds the 52428800 byte"):
        fetcher.fetch(server.url("/big"), record=seen.append)
    assert seen == [] and len(server.requests("/big")) == 1  # final: not retried


def test_60_mb_chunked_body_is_cut_while_streaming(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/big", Reply(200, zeros(60 * MB), HTML))  # no length: chunked
    seen: list[FetchResult] = []
    with pytest.raises(FetchError, match=r"body exceeds the 52428800 byte limit"):
        fetcher.fetch(server.url("/big"), record=seen.append)
    assert seen == [] and len(server.requests("/big")) == 1


def test_body_at_the_limit_is_fine(server: FaultServer, clock: FakeClock) -> None:
    server.route("/edge", Reply(200, zeros(MB), HTML))
    with Fetcher(FetchSettings(clock=clock, sleep=clock.sleep, max_body=MB)) as f:
        assert len(f.fetch(server.url("/edge")).raw_body) == MB


def test_gzip_bomb_is_refused(server: FaultServer, fetcher: Fetcher) -> None:
    bomb = gzip_bomb(256 * MB)  # 256 MiB of zeros in about 250 KB
    assert len(bomb) < MB
    server.route("/bomb", Reply(200, bomb, [*HTML, ("Content-Encoding", "gzip")]))
    seen: list[FetchResult] = []
    with pytest.raises(FetchError, match=r"decompression bomb"):
        fetcher.fetch(server.url("/bomb"), record=seen.append)
    assert len(server.requests("/bomb")) == 1
    # the exchange is kept as received (the compressed bytes), marked as not decodable
    (kept,) = seen
    assert kept.raw_body == bomb and kept.body == b"" and kept.status == 200
    assert kept.decode_error is not None and "decompression bomb" in kept.decode_error


def test_small_bomb_is_stopped_by_the_decoded_size_limit(
    server: FaultServer, clock: FakeClock
) -> None:
    page = gzipped(b"<p>" + bytes(3 * MB) + b"</p>")
    server.route("/p", Reply(200, page, [*HTML, ("Content-Encoding", "gzip")]))
    settings = FetchSettings(clock=clock, sleep=clock.sleep, max_decoded_body=2 * MB)
    with Fetcher(settings) as f, pytest.raises(FetchError, match=r"more than 2097152 bytes"):
        f.fetch(server.url("/p"))


def test_large_ordinary_compressed_page_is_not_a_bomb(
    server: FaultServer, fetcher: Fetcher
) -> None:
    rng = random.Random(3)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))) for _ in range(3000)]
    comments = (
        f"<div class='comment'><p>{' '.join(rng.choices(words, k=60))}</p>"
        f"<p class='comment-footer'>Posted by: {rng.choice(words)} | June 08, 2018</p></div>"
        for _ in range(15_000)
    )
    html = ("<html><body>" + "".join(comments) + "</body></html>").encode()
    wire = gzipped(html)
    assert len(html) > 6 * MB and len(html) / len(wire) > 2  # past the ratio floor
    server.route("/p", Reply(200, wire, [*HTML, ("Content-Encoding", "gzip")]))
    result = fetcher.fetch(server.url("/p"))
    assert result.body == html and result.raw_body == wire


def test_corrupt_gzip_is_an_error_not_a_page(server: FaultServer, fetcher: Fetcher) -> None:
    wire = gzipped(b"<p>hello</p>" * 100)
    broken = wire[:20] + bytes(len(wire) - 20)
    server.route("/p", Reply(200, broken, [*HTML, ("Content-Encoding", "gzip")]))
    seen: list[FetchResult] = []
    with pytest.raises(FetchError, match=r"corrupt gzip body"):
        fetcher.fetch(server.url("/p"), record=seen.append)
    (kept,) = seen
    assert kept.raw_body == broken and kept.body == b""
    assert kept.decode_error is not None and "corrupt gzip body" in kept.decode_error


def test_deflate_both_flavours(server: FaultServer, fetcher: Fetcher) -> None:
    import zlib

    body = b"<p>deflated</p>" * 50
    raw = zlib.compressobj(wbits=-15)
    raw_deflate = raw.compress(body) + raw.flush()
    server.route("/z", Reply(200, zlib.compress(body), [("Content-Encoding", "deflate")]))
    server.route("/r", Reply(200, raw_deflate, [("Content-Encoding", "deflate")]))
    assert fetcher.fetch(server.url("/z")).body == body
    assert fetcher.fetch(server.url("/r")).body == body
