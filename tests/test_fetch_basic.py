"""The fetcher against a real local server: bytes as received, headers in order, charsets,
conditional GET, logging, and URL checks."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

import pytest

from archiver.errors import FetchError
from archiver.fetch import Fetcher, FetchResult, FetchSettings
from archiver.fetch.charset import choose_encoding
from tests.faultserver import FakeClock, FaultServer, Reply, gzipped, static_page


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


def test_raw_bytes_and_headers_kept_as_received(server: FaultServer, fetcher: Fetcher) -> None:
    html = "<html><body><p>Grüße — “hello”</p></body></html>".encode()
    wire = gzipped(html)
    server.route(
        "/p",
        Reply(
            200,
            wire,
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Encoding", "gzip"),
                ("X-Zeta", "1"),
                ("X-Alpha", "2"),
                ("Set-Cookie", "a=1"),
                ("Set-Cookie", "b=2"),
            ],
        ),
    )
    seen: list[FetchResult] = []
    result = fetcher.fetch(server.url("/p"), record=seen.append)
    assert seen == [result]
    assert result.status == 200 and result.reason == "OK" and result.http_version == "HTTP/1.1"
    assert result.raw_body == wire  # still compressed, as on the wire
    assert result.body == html
    assert result.text == html.decode()
    names = [k for k, _ in result.headers]
    assert names[names.index("X-Zeta") :] == [
        "X-Zeta",
        "X-Alpha",
        "Set-Cookie",
        "Set-Cookie",
        "Content-Length",
    ]
    assert [v for k, v in result.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert result.final and result.attempt == 1 and result.requested_url == server.url("/p")
    sent = dict((k.lower(), v) for k, v in result.request_headers)
    assert sent["user-agent"].startswith("archiver/")
    assert sent["accept-encoding"] == "gzip, deflate"
    assert result.fetched_at.tzinfo is None


def test_chunked_body_is_dechunked(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/c", Reply(200, b"x" * 5000, [("Content-Type", "text/plain")], chunked=True))
    result = fetcher.fetch(server.url("/c"))
    assert result.raw_body == b"x" * 5000
    assert ("Transfer-Encoding", "chunked") in result.headers  # the recorder drops it


def test_conditional_get_sends_validators_and_304_has_no_body(
    server: FaultServer, fetcher: Fetcher
) -> None:
    server.route("/t", static_page(b"<p>same</p>"))
    first = fetcher.fetch(server.url("/t"))
    etag, lm = first.header("ETag"), first.header("Last-Modified")
    assert first.status == 200 and etag and lm
    second = fetcher.fetch(server.url("/t"), etag=etag, last_modified=lm)
    assert second.not_modified and second.raw_body == b"" and second.final
    req = server.requests("/t")[-1]
    assert req.header("If-None-Match") == etag
    assert req.header("If-Modified-Since") == lm


def test_final_statuses_are_returned_not_raised(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/gone", Reply(410, b"gone"))
    server.route("/forbidden", Reply(403, b"no"))
    seen: list[FetchResult] = []
    assert fetcher.fetch(server.url("/gone"), record=seen.append).status == 410
    assert fetcher.fetch(server.url("/forbidden"), record=seen.append).status == 403
    assert fetcher.fetch(server.url("/missing"), record=seen.append).status == 404
    assert [r.status for r in seen] == [410, 403, 404]
    assert len(server.requests("/forbidden")) == 1  # other 4xx are final: no retry


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd", "javascript:1"])
def test_only_http_urls(fetcher: Fetcher, url: str) -> None:
    with pytest.raises(FetchError, match="not an http"):
        fetcher.fetch(url)


def test_one_log_line_per_request(
    server: FaultServer, fetcher: Fetcher, caplog: pytest.LogCaptureFixture
) -> None:
    server.route("/l", Reply(503), Reply(200, b"hello"))
    with caplog.at_level(logging.INFO, logger="archiver.fetch"):
        fetcher.fetch(server.url("/l"))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("GET ")]
    page_lines = [line for line in lines if "/l " in line]
    assert page_lines == [
        f"GET {server.url('/l')} 503 0 B {_ms(page_lines[0])} ms attempt 1",
        f"GET {server.url('/l')} 200 5 B {_ms(page_lines[1])} ms attempt 2",
    ]


def _ms(line: str) -> str:
    return line.split(" B ")[1].split(" ms")[0]


# -- charsets ------------------------------------------------------------------------------

CAFE = (
    "<html><head><title>Le café</title></head><body><p>Le café était “très” chaud – "
    "déjà 5 €. Naïve façade, œuvre, señor, the author’s remark.</p></body></html>"
)


def test_windows_1252_labelled_utf8_comes_out_readable(
    server: FaultServer, fetcher: Fetcher
) -> None:
    wire = CAFE.replace("<head>", '<head><meta charset="utf-8">').encode("cp1252")
    server.route("/w", Reply(200, wire, [("Content-Type", "text/html; charset=UTF-8")]))
    result = fetcher.fetch(server.url("/w"))
    assert result.raw_body == wire  # the bytes are untouched
    assert result.encoding == "cp1252"
    assert "Le café était “très” chaud – déjà 5 €" in result.text
    assert "\ufffd" not in result.text


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/html; charset=iso-8859-2", "zażółć".encode("iso-8859-2"), "iso8859-2"),
        ("text/html", b'<meta charset="windows-1251">' + "Привет".encode("cp1251"), "cp1251"),
        (
            "text/html",
            b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'
            + "Привет мир".encode("koi8_r"),
            "koi8-r",
        ),
        ("text/html; charset=latin1", "café".encode("latin-1"), "cp1252"),
        ("text/html; charset=no-such-charset", b"plain ascii", "utf-8"),
        (None, "ünïcode".encode(), "utf-8"),
        (None, b"\xef\xbb\xbfbom", "utf-8-sig"),
    ],
)
def test_choose_encoding(content_type: str | None, body: bytes, expected: str) -> None:
    assert choose_encoding(body, content_type) == expected


def test_text_never_raises() -> None:
    junk = bytes(range(256)) * 4
    enc = choose_encoding(junk, "text/html; charset=utf-8")
    result = FetchResult(
        url="http://x/",
        method="GET",
        status=200,
        reason="OK",
        http_version="HTTP/1.1",
        request_headers=[],
        headers=[],
        raw_body=junk,
        body=junk,
        fetched_at=datetime(2020, 1, 1),
        elapsed_ms=0,
        encoding=enc,
    )
    # the utf-8 label is refused (the bytes are not UTF-8): read as windows-1252, one character
    # per byte, the five bytes it leaves undefined (81 8D 8F 90 9D) replaced
    assert enc == "cp1252"
    text = result.text
    assert len(text) == len(junk) and text.count("\ufffd") == 5 * 4
    assert text[:128] == bytes(range(128)).decode("ascii")
    assert (text[0x80], text[0x9F], text[0xA0], text[0xE9], text[0xFF]) == (
        "\u20ac", "\u0178", "\xa0", "\xe9", "\xff")
    assert text[0x81] == text[0x8D] == text[0x8F] == text[0x90] == text[0x9D] == "\ufffd"
    assert text[256:] == text[:256] * 3
    # a codec Python does not know: read as UTF-8, every byte that is not valid replaced
    result.encoding = "no-such-codec"
    text = result.text
    assert text[:128] == bytes(range(128)).decode("ascii")
    assert text[128:256] == "\ufffd" * 128  # 80-FF alone are never valid UTF-8
    assert len(text) == 4 * 256 and text.count("\ufffd") == 4 * 128


def test_proxy_from_the_environment_is_used_with_the_time_limit_in_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HTTP_PROXY is honoured (a fetch goes through the proxy, here our own server), and the
    total time limit is installed on the proxy's connections too."""
    with FaultServer() as proxy:
        target = "http://archive-target.invalid/page"
        proxy.route(target, Reply(200, b"<p>via proxy</p>", [("Content-Type", "text/html")]))
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with Fetcher(FetchSettings(delay=0, respect_robots=False)) as fetcher:
            result = fetcher.fetch(target)
            assert fetcher.total_timeout_enforced
        assert result.status == 200 and result.body == b"<p>via proxy</p>"
        assert [r.path for r in proxy.requests()] == [target]
