"""Issue 10, Found 2 and 3 ("What it must show" 2): one thread whatever URL it was reached by.
Export finds it by every form of its URL; the WARC holds URLs as requested on the wire (no
#fragment, no HTTP://); the WACZ lists the thread once; the scheduler tells the forms apart as one.
Real server (the MoA fixture on 127.0.0.1), real SQLite, warcio and `wacz validate`."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archiver.config import load_settings
from archiver.devserver import FixtureServer
from archiver.fetch import Fetcher
from archiver.schedule import Runner, WorkItem
from archiver.store.db import Store
from archiver.store.models import DiscoveredUrl
from tests.conftest import MOA, MOA_PATH
from tests.schedule_helpers import REFRESH, serve, site_config

WACZ = str(Path(sys.executable).with_name("wacz"))


def comment_id() -> str:
    """A real comment id of the fixture page (its first comment's permalink)."""
    html = (MOA / "one-page" / MOA_PATH.rsplit("/", 1)[1]).read_text(encoding="utf-8")
    match = re.search(r'\?cid=([0-9a-f]+)#comment-\1"', html)
    assert match is not None
    return match[1]


def url_forms(server: FixtureServer) -> list[str]:
    """The thread's URL as typed four ways: plain, upper-case scheme, tracking, permalink."""
    url = server.url(MOA_PATH)
    cid = comment_id()
    return [url, url.replace("http://", "HTTP://", 1), url + "?utm_source=x",
            url + f"?cid={cid}#comment-{cid}"]


def warc_uris(data: bytes) -> list[tuple[str, str]]:
    return [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI") or "")
            for r in ArchiveIterator(io.BytesIO(data))]


def test_export_finds_the_thread_by_every_form_of_its_url(moa_one_page: FixtureServer,
                                                          data_dir: Path, cli) -> None:
    """Archived once by its plain URL, exported by any form of it (Found 2)."""
    url, *others = url_forms(moa_one_page)
    assert cli("archive", url).code == 0
    reference = cli("export", "text", url, "-o", "-")
    assert reference.code == 0 and reference.out.count("\n") > 100
    both = url.replace("http://", "HTTP://") + f"?fbclid=1&cid={comment_id()}#comment-x"
    for form in [*others, both]:
        result = cli("export", "text", form, "-o", "-")
        assert result.code == 0, f"{form}: {result.err}"
        assert result.out == reference.out
    bad = cli("export", "text", "ftp://127.0.0.1/x.html", "-o", "-")
    assert bad.code == 2 and bad.err.strip().count("\n") == 0
    assert "not an http(s) URL" in bad.err and "Traceback" not in bad.err


def test_a_thread_reached_by_four_urls_is_one_page_in_warc_and_wacz(
    moa_one_page: FixtureServer, data_dir: Path, cli, tmp_path: Path,
) -> None:
    """Archived by four URLs (Found 3): every form exports the thread, every WARC-Target-URI is
    as sent (no #fragment, lower-case scheme), and pages.jsonl lists the thread once."""
    forms = url_forms(moa_one_page)
    canonical = forms[0]
    for form in [forms[2], forms[3], forms[1], forms[0]]:  # the plain URL last
        result = cli("archive", form)
        assert result.code == 0, f"{form}: {result.err}"
        assert "40 comments" in result.out and "0 removed" in result.out
    listing = cli("threads")  # piped: a header line, then one row per thread
    assert listing.code == 0 and listing.out.count("\n") == 2 and canonical in listing.out

    # the exchanges are recorded as requested on the wire
    con = sqlite3.connect(data_dir / "archiver.db")
    try:
        stored = [u for (u,) in con.execute("select url from capture where thread_id is not null")]
    finally:
        con.close()
    assert len(stored) == 4
    assert all("#" not in u and u.startswith("http://127.0.0.1:") for u in stored)

    for form in forms:
        assert cli("export", "text", form, "-o", "-").code == 0, form

    warc_path = tmp_path / "four.warc.gz"
    assert cli("export", "warc", forms[1], "-o", str(warc_path)).code == 0
    uris = warc_uris(warc_path.read_bytes())
    targets = [u for kind, u in uris if kind in ("response", "revisit", "request")]
    assert len(targets) == 8  # four exchanges: response (or revisit) + request each
    assert all("#" not in u and u.startswith("http://127.0.0.1:") for u in targets)
    assert {u for kind, u in uris if kind == "metadata"} == {f"urn:archiver:thread:{canonical}"}

    wacz_path = tmp_path / "four.wacz"
    result = cli("export", "wacz", forms[3], "-o", str(wacz_path))
    assert result.code == 0, result.err
    assert "1 page(s)" in result.out
    proc = subprocess.run([WACZ, "validate", "-f", str(wacz_path)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with zipfile.ZipFile(wacz_path) as zf:
        pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").splitlines()][1:]
        assert [p["url"] for p in pages] == [canonical]
        inside = warc_uris(zf.read("archive/data.warc.gz"))
        index = zf.read("indexes/index.cdx").decode()
    assert all("#" not in u for _, u in inside)
    assert ("response", canonical) in inside  # the page's URL leads to a response
    assert f'"url": "{canonical}"' in index


def test_a_store_holding_urls_as_typed_exports_them_as_sent(
    moa_one_page: FixtureServer, data_dir: Path, cli, tmp_path: Path,
) -> None:
    """Captures recorded before the fetcher kept the URL as sent (HTTP://, #comment-...) are
    written with their wire form, and the thread is still one WACZ page."""
    forms = url_forms(moa_one_page)
    for form in forms:
        assert cli("archive", form).code == 0
    db = data_dir / "archiver.db"
    con = sqlite3.connect(db)
    try:
        ids = [i for (i,) in con.execute(
            "select id from capture where thread_id is not null order by id")]
        for capture_id, form in zip(ids, forms, strict=True):  # as an older version stored them
            con.execute("update capture set url = ? where id = ?", (form, capture_id))
        con.commit()
    finally:
        con.close()
    warc_path = tmp_path / "old.warc.gz"
    assert cli("export", "warc", "-o", str(warc_path)).code == 0
    targets = [u for kind, u in warc_uris(warc_path.read_bytes()) if kind != "warcinfo"]
    assert targets and all("#" not in u and not u.startswith("HTTP") for u in targets)
    request_lines = [r.http_headers.protocol + " " + r.http_headers.statusline
                     for r in ArchiveIterator(io.BytesIO(warc_path.read_bytes()))
                     if r.rec_type == "request"]
    assert request_lines and all("#" not in line for line in request_lines)

    wacz_path = tmp_path / "old.wacz"
    assert cli("export", "wacz", forms[0], "-o", str(wacz_path)).code == 0
    with zipfile.ZipFile(wacz_path) as zf:
        pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").splitlines()][1:]
    assert [p["url"] for p in pages] == [forms[0]]


def test_the_scheduler_tells_the_forms_of_one_url_apart_as_one(tmp_path: Path) -> None:
    """A queued URL with tracking parameters is the thread already in flight under its plain URL
    (two workers never archive one thread at once)."""
    plain = "http://127.0.0.1:8/2024/03/open-thread.html"
    assert WorkItem("new", "HTTP://127.0.0.1:8/2024/03/open-thread.html?utm_source=rss#c").key \
        == WorkItem("refresh", plain).key == plain
    with serve(REFRESH) as server:
        config = tmp_path / "archiver.toml"
        config.write_text(site_config(server, tmp_path / "data"), encoding="utf-8")
        settings = load_settings(config, {})
        store = Store(settings.db_url)
        now = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
        with store.session() as session:
            session.add(DiscoveredUrl(url=plain + "?utm_source=rss", site=settings.sites[0].name,
                                      found_at=now, next_attempt_at=now))
            session.commit()
        runner = Runner(settings, store, Fetcher(settings.fetch), clock=lambda: now)
        assert [i.key for i in runner.due_work(now)] == [plain]
        assert runner.due_work(now, exclude={plain}) == []
