"""Issue 4, WARC: archive the reference thread from a live local server, export WARC/1.1, and check
it with warcio's own tools: `warcio check`, `warcio index`, and reading the records back."""

from __future__ import annotations

import gzip
import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.devserver import FixtureServer, Route, load_fixture
from tests.conftest import MOA, MOA_PATH

PAGE2 = "/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan/comments/page/2/"
PAGE3 = "/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan/comments/page/3/"
WARCIO = str(Path(sys.executable).with_name("warcio"))


def served(server: FixtureServer, path: str) -> bytes:
    """The exact body the fixture server sends for path."""
    return server.routes[path].body.replace(server.origin.encode(), server.base_url.encode())


def records(path: Path) -> list[dict]:
    """Every record of a WARC file: type, headers, HTTP headers, raw and decoded payloads."""
    out = []
    with path.open("rb") as handle:
        for record in ArchiveIterator(handle):
            entry = {
                "type": record.rec_type,
                "headers": record.rec_headers,
                "http": record.http_headers,
                "uri": record.rec_headers.get_header("WARC-Target-URI"),
                "id": record.rec_headers.get_header("WARC-Record-ID"),
                "raw": record.raw_stream.read(),  # the payload after any HTTP headers
            }
            out.append(entry)
    return out


def warcio_check(path: Path) -> str:
    proc = subprocess.run([WARCIO, "check", "-v", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "digest pass" in proc.stdout
    assert "fail" not in proc.stdout.lower()
    return proc.stdout


def warcio_index(path: Path) -> list[dict]:
    proc = subprocess.run(
        [WARCIO, "index", "-f", "warc-type,warc-target-uri,http:status,warc-profile", str(path)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def test_reference_thread_as_warc(moa_paged: FixtureServer, data_dir: Path, cli,
                                  tmp_path: Path) -> None:
    url = moa_paged.url(MOA_PATH)
    assert cli("archive", url).code == 0
    out = tmp_path / "moa.warc.gz"
    result = cli("export", "warc", url, "-o", str(out))
    assert result.code == 0, result.err
    assert f"Wrote {out}" in result.out

    warcio_check(out)
    index = warcio_index(out)
    assert index[0]["warc-type"] == "warcinfo"
    pages = [MOA_PATH, PAGE2, PAGE3]
    for path in pages:
        page_url = moa_paged.url(path)
        kinds = [e["warc-type"] for e in index if e.get("warc-target-uri") == page_url]
        assert kinds == ["response", "request"], (path, kinds)

    recs = records(out)
    info = recs[0]
    assert info["type"] == "warcinfo"
    info_text = info["raw"].decode()
    assert "software: archiver/" in info_text and "format: WARC File Format 1.1" in info_text
    assert f"thread {url}" in info_text
    by_id = {r["id"]: r for r in recs}
    responses = [r for r in recs if r["type"] == "response"]
    assert len(responses) == 3
    for response in responses:
        headers = response["headers"]
        assert headers.protocol == "WARC/1.1"
        path = response["uri"].removeprefix(moa_paged.base_url)
        # the body exactly as the server sent it, byte for byte
        assert response["raw"] == served(moa_paged, path)
        assert response["http"].get_statuscode() == "200"
        assert response["http"].get_header("Content-Length") == str(len(response["raw"]))
        assert headers.get_header("WARC-Payload-Digest").startswith("sha1:")
        assert headers.get_header("WARC-Block-Digest").startswith("sha1:")
        assert headers.get_header("WARC-Warcinfo-ID") == info["id"]
        date = headers.get_header("WARC-Date")
        assert date.endswith("Z") and "." in date  # fetch time, WARC/1.1 microseconds
    requests = [r for r in recs if r["type"] == "request"]
    assert len(requests) == 3
    for request in requests:
        partner = by_id[request["headers"].get_header("WARC-Concurrent-To")]
        assert partner["type"] == "response" and partner["uri"] == request["uri"]
        assert partner["headers"].get_header("WARC-Date") == \
            request["headers"].get_header("WARC-Date")
        path = request["uri"].removeprefix(moa_paged.base_url)
        assert request["http"].protocol == "GET"
        assert request["http"].statusline == f"{path} HTTP/1.1"
        assert request["http"].get_header("Host") == moa_paged.base_url.removeprefix("http://")
        assert request["http"].get_header("User-Agent").startswith("archiver/")
    metadata = [r for r in recs if r["type"] == "metadata"]
    assert len(metadata) == 1
    assert metadata[0]["uri"] == f"urn:archiver:thread:{url}"
    assert metadata[0]["headers"].get_header("Content-Type") == "application/json"
    thread = json.loads(metadata[0]["raw"])
    assert thread["url"] == url and thread["schema_version"] == 1
    assert len(thread["comments"]) == 40
    refers = metadata[0]["headers"].get_header("WARC-Refers-To")
    assert by_id[refers]["uri"] == url


def test_archived_twice_writes_revisits_not_payloads(moa_paged: FixtureServer, data_dir: Path,
                                                     cli, tmp_path: Path) -> None:
    url = moa_paged.url(MOA_PATH)
    assert cli("archive", url).code == 0
    once = tmp_path / "once.warc.gz"
    assert cli("export", "warc", url, "-o", str(once)).code == 0
    assert cli("archive", url).code == 0
    twice = tmp_path / "twice.warc.gz"
    result = cli("export", "warc", url, "-o", str(twice))
    assert result.code == 0, result.err
    assert "3 response(s), 3 revisit(s)" in result.out
    warcio_check(twice)

    recs = records(twice)
    by_id = {r["id"]: r for r in recs}
    assert [r["type"] for r in recs].count("response") == 3
    revisits = [r for r in recs if r["type"] == "revisit"]
    assert len(revisits) == 3
    for revisit in revisits:
        headers = revisit["headers"]
        assert headers.get_header("WARC-Profile") == \
            "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
        original = by_id[headers.get_header("WARC-Refers-To")]
        assert original["type"] == "response" and original["uri"] == revisit["uri"]
        assert headers.get_header("WARC-Refers-To-Target-URI") == original["uri"]
        assert headers.get_header("WARC-Refers-To-Date") == \
            original["headers"].get_header("WARC-Date")
        assert headers.get_header("WARC-Payload-Digest") == \
            original["headers"].get_header("WARC-Payload-Digest")
        assert revisit["raw"] == b""  # HTTP headers only, no second copy of the payload
        assert revisit["http"].get_statuscode() == "200"
    # every capture still has its request, linked to its response or revisit
    requests = [r for r in recs if r["type"] == "request"]
    assert len(requests) == 6
    assert {by_id[r["headers"].get_header("WARC-Concurrent-To")]["type"] for r in requests} == {
        "response", "revisit"}
    # the second export grew by headers only, not by the ~75 KB of pages
    assert twice.stat().st_size - once.stat().st_size < 8_000


def test_not_modified_is_a_server_not_modified_revisit(data_dir: Path, cli,
                                                       tmp_path: Path) -> None:
    origin, routes = load_fixture(MOA / "one-page")
    routes[MOA_PATH].headers["ETag"] = '"v1"'
    with FixtureServer(routes, origin=origin) as server:
        url = server.url(MOA_PATH)
        assert cli("archive", url).code == 0
        result = cli("archive", url)
        assert result.code == 0 and "1 unchanged" in result.out
    out = tmp_path / "etag.warc.gz"
    assert cli("export", "warc", url, "-o", str(out)).code == 0
    warcio_check(out)
    recs = records(out)
    by_id = {r["id"]: r for r in recs}
    revisit = next(r for r in recs if r["type"] == "revisit")
    headers = revisit["headers"]
    assert headers.get_header("WARC-Profile") == \
        "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
    assert revisit["http"].get_statuscode() == "304"
    assert revisit["http"].get_header("ETag") == '"v1"'
    original = by_id[headers.get_header("WARC-Refers-To")]
    assert original["type"] == "response" and original["http"].get_statuscode() == "200"
    assert headers.get_header("WARC-Refers-To-Target-URI") == url
    assert headers.get_header("WARC-Payload-Digest") == \
        original["headers"].get_header("WARC-Payload-Digest")
    request = next(r for r in recs if r["type"] == "request"
                   and r["headers"].get_header("WARC-Concurrent-To") == revisit["id"])
    assert request["http"].get_header("If-None-Match") == '"v1"'


def test_gzip_body_kept_as_received(data_dir: Path, cli, tmp_path: Path) -> None:
    origin, routes = load_fixture(MOA / "one-page")
    with FixtureServer(routes, origin=origin) as server:
        page = served(server, MOA_PATH)
        packed = gzip.compress(page, mtime=0)
        server.routes[MOA_PATH] = Route(body=packed, headers={"Content-Encoding": "gzip"})
        server.origin = ""  # serve the compressed bytes as they are
        url = server.url(MOA_PATH)
        result = cli("archive", url)
        assert result.code == 0, result.err
    out = tmp_path / "gz.warc.gz"
    assert cli("export", "warc", "-o", str(out)).code == 0
    warcio_check(out)
    with out.open("rb") as handle:
        response = next(r for r in ArchiveIterator(handle) if r.rec_type == "response")
        assert response.http_headers.get_header("Content-Encoding") == "gzip"
        assert response.http_headers.get_header("Content-Length") == str(len(packed))
        assert response.content_stream().read() == page  # decoded by warcio
    with out.open("rb") as handle:
        response = next(r for r in ArchiveIterator(handle) if r.rec_type == "response")
        assert response.raw_stream.read() == packed  # stored still compressed


class _ChunkedHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = b""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Order-Check", "after-te")
        self.end_headers()
        for start in range(0, len(self.body), 4096):
            piece = self.body[start:start + 4096]
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")


@pytest.fixture
def chunked_server() -> Iterator[http.server.ThreadingHTTPServer]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ChunkedHandler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_chunked_response_recorded_without_transfer_encoding(
    chunked_server: http.server.ThreadingHTTPServer, data_dir: Path, cli, tmp_path: Path
) -> None:
    host, port = chunked_server.server_address[:2]
    base = f"http://{host}:{port}"
    origin, routes = load_fixture(MOA / "one-page")
    body = routes[MOA_PATH].body.replace(origin.encode(), base.encode())
    _ChunkedHandler.body = body
    url = base + MOA_PATH
    result = cli("archive", url)
    assert result.code == 0, result.err
    out = tmp_path / "chunked.warc.gz"
    assert cli("export", "warc", url, "-o", str(out)).code == 0
    warcio_check(out)
    with out.open("rb") as handle:
        response = next(r for r in ArchiveIterator(handle) if r.rec_type == "response")
        names = [name.lower() for name, _ in response.http_headers.headers]
        assert "transfer-encoding" not in names
        assert names[-1] == "x-order-check"  # the other headers kept, in order
        assert response.raw_stream.read() == body  # de-chunked, as httpx gave it


def test_rollover_at_size_limit(moa_paged: FixtureServer, data_dir: Path, cli,
                                tmp_path: Path) -> None:
    url = moa_paged.url(MOA_PATH)
    assert cli("archive", url).code == 0
    assert cli("archive", url).code == 0
    out = tmp_path / "roll" / "moa.warc.gz"
    result = cli("export", "warc", "-o", str(out), "--max-size", "5k")
    assert result.code == 0, result.err
    files = sorted((tmp_path / "roll").iterdir())
    names = [f.name for f in files]
    assert names[0] == "moa-00001.warc.gz" and "moa.warc.gz" in names
    assert len(files) >= 4, names
    assert not [n for n in names if n.endswith(".part")]
    seen_types: list[str] = []
    robots_types: list[str] = []
    for file in files:
        warcio_check(file)
        recs = records(file)
        assert recs[0]["type"] == "warcinfo"
        ids = {r["id"] for r in recs}
        for rec in recs:
            if rec["type"] == "request":  # a pair never straddles two files
                assert rec["headers"].get_header("WARC-Concurrent-To") in ids
        # robots.txt read by each run is in an everything export too; counted apart
        seen_types += [r["type"] for r in recs[1:] if not (r["uri"] or "").endswith("/robots.txt")]
        robots_types += [r["type"] for r in recs if (r["uri"] or "").endswith("/robots.txt")]
    assert seen_types.count("response") == 3 and seen_types.count("revisit") == 3
    assert seen_types.count("request") == 6 and seen_types.count("metadata") == 1
    assert sorted(robots_types) == ["request", "request", "response", "revisit"]
    assert cli("export", "warc", "-o", str(out), "--max-size", "lots").code == 2


def test_warc_errors_are_one_line(moa_one_page: FixtureServer, data_dir: Path, cli,
                                  tmp_path: Path) -> None:
    url = moa_one_page.url(MOA_PATH)
    assert cli("archive", url).code == 0
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = cli("export", "warc", url, "-o", str(blocker / "out.warc.gz"))
    assert result.code == 2
    assert result.err.strip().startswith("error: cannot write")
    assert len(result.err.strip().splitlines()) == 1
    result = cli("export", "warc", "--site", "no-such-site", "-o", str(tmp_path / "x.warc.gz"))
    assert result.code == 2 and "no archived site is called 'no-such-site'" in result.err
    result = cli("export", "warc", "--since", "2999-01-01", "-o", str(tmp_path / "x.warc.gz"))
    assert result.code == 2 and "nothing to export" in result.err
    result = cli("export", "warc", url)
    assert result.code == 2 and "needs --out" in result.err
    assert not (tmp_path / "x.warc.gz").exists()
    assert "Traceback" not in result.err


def test_everything_includes_exchanges_of_no_thread(moa_one_page: FixtureServer, data_dir: Path,
                                                    cli, tmp_path: Path) -> None:
    url = moa_one_page.url(MOA_PATH)
    missing = moa_one_page.url("/2018/06/missing.html")
    assert cli("archive", url).code == 0
    assert cli("archive", missing).code == 3  # a 404: recorded, tied to no thread
    everything = tmp_path / "all.warc.gz"
    assert cli("export", "warc", "-o", str(everything)).code == 0
    warcio_check(everything)
    statuses = {e["warc-target-uri"]: e.get("http:status") for e in warcio_index(everything)
                if e["warc-type"] == "response"}
    robots = moa_one_page.url("/robots.txt")  # read before the first page, tied to no thread
    assert statuses == {url: "200", missing: "404", robots: "404"}
    one = tmp_path / "one.warc.gz"
    assert cli("export", "warc", url, "-o", str(one)).code == 0
    uris = {e.get("warc-target-uri") for e in warcio_index(one)}
    assert missing not in uris and url in uris
