"""Issue 16: `archiver archive --from-wayback URL` rebuilds a thread from the Wayback Machine: a
CDX answer in the API's documented JSON shape and the raw (`id_`) captures of the seed's paged
thread are served from 127.0.0.1 at the archive's own paths (fetch.origin_map stands in for
web.archive.org); the thread comes back whole, the text dump equal to the seed's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archiver.devserver import FixtureServer, Route
from archiver.importing.wayback import Snapshot, cdx_url, parse_cdx, thread_prefix
from tests.conftest import MOA, MOA_PATH, REFERENCE, normalise

ORIGIN = "https://www.moonofalabama.org"
FILES = {MOA_PATH: "syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan.html"}
for n in (2, 3):
    FILES[f"/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan/comments/page/{n}/"] \
        = f"syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan/comments/page/{n}/index.html"
STAMP = "20180610081500"


def wayback_routes(rows: list[list[str]]) -> dict[str, Route]:
    listing = [["timestamp", "original", "mimetype", "statuscode"], *rows]
    routes = {cdx_url(ORIGIN + MOA_PATH).removeprefix("https://web.archive.org"):
              Route(body=json.dumps(listing).encode(), content_type="application/json")}
    for path, name in FILES.items():
        snapshot = Snapshot(STAMP, ORIGIN + path, "text/html", "200")
        routes[snapshot.raw_url.removeprefix("https://web.archive.org")] = Route(
            body=(MOA / "paged" / name).read_bytes())  # as archived: original links, no toolbar
    return routes


def test_the_wayback_machine_rebuilds_the_paged_thread(data_dir: Path, cli, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [[STAMP, ORIGIN + path, "text/html", "200"] for path in FILES]
    rows.append([STAMP, ORIGIN + MOA_PATH.replace(".html", "/feed.xml"), "text/xml", "200"])
    with FixtureServer(wayback_routes(rows)) as wayback:
        monkeypatch.setenv("ARCHIVER_FETCH_ORIGIN_MAP",
                           f"https://web.archive.org={wayback.url('').rstrip('/')}")
        result = cli("archive", "--from-wayback", ORIGIN + MOA_PATH)
        asked = [path for _, path, _ in wayback.requests if path != "/robots.txt"]
    assert result.code == 0, result.err
    assert "Imported 1 threads (40 comments)" in result.out
    assert len(asked) == 4 and asked[0].startswith("/cdx/search/cdx?")  # the XML one not asked
    assert all(f"/web/{STAMP}id_/" in path for path in asked[1:])
    out = tmp_path / "dump.txt"
    assert cli("export", "text", ORIGIN + MOA_PATH, "-o", str(out)).code == 0
    expected = REFERENCE.read_text(encoding="utf-8")
    assert normalise(out.read_text(encoding="utf-8")).splitlines() == \
        normalise(expected).splitlines()
    thread = json.loads(cli("export", "jsonl", ORIGIN + MOA_PATH, "-o", "-").out)
    record = thread["comments"][0]["source"]["record"]
    assert record.startswith(f"https://web.archive.org/web/{STAMP}id_/{ORIGIN}{MOA_PATH}")
    assert thread["comments"][0]["source"]["captured_at"] == "2018-06-10T08:15:00Z"


def test_no_capture_is_one_line_and_exit_3(data_dir: Path, cli,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with FixtureServer(wayback_routes([])) as wayback:
        monkeypatch.setenv("ARCHIVER_FETCH_ORIGIN_MAP",
                           f"https://web.archive.org={wayback.url('').rstrip('/')}")
        result = cli("archive", "--from-wayback", ORIGIN + MOA_PATH)
    assert result.code == 3
    assert "holds no capture" in result.err and result.err.strip().count("\n") == 0


def test_the_prefix_covers_the_comment_pages_and_the_cdx_rows_are_read() -> None:
    assert thread_prefix(ORIGIN + MOA_PATH + "?cid=1") == \
        "www.moonofalabama.org/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan"
    rows = parse_cdx('[["timestamp","original","mimetype","statuscode"],'
                     '["20180610081500","https://a.example/p.html","text/html","200"]]')
    assert rows == [Snapshot("20180610081500", "https://a.example/p.html", "text/html", "200")]
    assert parse_cdx("") == []


def as_replayed(page: bytes, stamp: str) -> bytes:
    """The page as the Wayback Machine's replay serves it: scripts after <head>, the toolbar
    after <body>, absolute and site-relative links rewritten to /web/STAMP/ORIGINAL, the archive
    note at the end (the markers and URL forms of web.archive.org's replay)."""
    text = page.decode("utf-8")
    text = text.replace(f'"{ORIGIN}/', f'"https://web.archive.org/web/{stamp}/{ORIGIN}/')
    text = text.replace('href="/', f'href="/web/{stamp}/{ORIGIN}/')
    head = ('<script src="//archive.org/includes/athena.js" type="text/javascript"></script>\n'
            '<script type="text/javascript">window.__wm.init("https://web.archive.org/web");'
            '</script>\n<link rel="stylesheet" type="text/css" '
            'href="/_static/css/banner-styles.css?v=1B2M2Y8A" />\n'
            "<!-- End Wayback Rewrite JS Include -->\n")
    toolbar = ("<!-- BEGIN WAYBACK TOOLBAR INSERT -->\n<div id=\"wm-ipp-base\">"
               "<p>The Wayback Machine - https://web.archive.org/web/" + stamp + "/" + ORIGIN
               + MOA_PATH + "</p><div class=\"comment\" id=\"comment-wm\"><p>Posted by: "
               "toolbar</p></div></div>\n<!-- END WAYBACK TOOLBAR INSERT -->\n")
    text = text.replace("<head>", "<head>" + head, 1)
    body_at = text.index(">", text.index("<body")) + 1
    text = text[:body_at] + toolbar + text[body_at:]
    text += ("\n<!--\n     FILE ARCHIVED ON 08:15:00 Jun 10, 2018 AND RETRIEVED FROM THE\n"
             "     INTERNET ARCHIVE ON 12:00:00 Nov 30, 2026.\n-->")
    return text.encode("utf-8")


def test_pages_saved_from_the_wayback_replay_read_as_their_raw_form(
    data_dir: Path, cli, tmp_path: Path
) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    warc = tmp_path / "replayed.warc.gz"
    with warc.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for path, name in FILES.items():
            body = as_replayed((MOA / "paged" / name).read_bytes(), STAMP)
            assert b"BEGIN WAYBACK TOOLBAR INSERT" in body and b"/web/" + STAMP.encode() in body
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                               ("Content-Length", str(len(body)))],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                f"https://web.archive.org/web/{STAMP}/{ORIGIN}{path}", "response",
                payload=__import__("io").BytesIO(body), length=len(body), http_headers=http,
                warc_headers_dict={"WARC-Date": "2026-11-30T12:00:00Z"}))
    result = cli("import", str(warc))
    assert result.code == 0, result.err
    assert "Imported 1 threads (40 comments)" in result.out
    out = tmp_path / "dump.txt"
    assert cli("export", "text", ORIGIN + MOA_PATH, "-o", str(out)).code == 0
    expected = REFERENCE.read_text(encoding="utf-8")
    assert normalise(out.read_text(encoding="utf-8")).splitlines() == \
        normalise(expected).splitlines()
    thread = json.loads(cli("export", "jsonl", ORIGIN + MOA_PATH, "-o", "-").out)
    assert thread["url"] == ORIGIN + MOA_PATH  # the original, not the replay URL
    assert thread["comments"][0]["source"]["captured_at"] == "2018-06-10T08:15:00Z"
