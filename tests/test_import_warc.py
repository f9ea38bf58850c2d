"""Issue 16: threads rebuilt from web archives. WARCs written by wget (Debian's, against the seed's
paged thread served on 127.0.0.1) and by archiver itself are imported into empty stores and give
the seed's dump, the same comments and versions, and one thread from two captures of different
dates (an edit versioned, an addition present)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from archiver.devserver import Route
from tests.conftest import MOA_PATH, REFERENCE, normalise

PAGES = [MOA_PATH,
         "/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan/comments/page/2/",
         "/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan/comments/page/3/"]


def wget_warc(urls: list[str], into: Path) -> Path:
    """A WARC written by wget --warc-file, fetching the URLs given (as a user of wget would)."""
    wget = shutil.which("wget")
    if wget is None:
        pytest.fail("wget is required (Debian package wget; scripts/test.sh installs it)")
    listing = into.with_suffix(".txt")
    listing.write_text("\n".join(urls) + "\n", encoding="utf-8")
    subprocess.run([wget, "--quiet", "--no-config", f"--warc-file={into}", "--no-warc-keep-log",
                    "-O", "/dev/null", "-i", str(listing)], check=True, timeout=120)
    return into.with_name(into.name + ".warc.gz")


def edit_first_comment(page: bytes) -> bytes:
    """The page with its first comment's text edited (as its author might, upstream)."""
    at = page.index(b'-content"><p>', page.index(b'<div class="comment font-entrybody"'))
    at += len(b'-content"><p>')
    return page[:at] + b"(edited) " + page[at:]


def add_last_comment(page: bytes) -> bytes:
    """The page with one more comment after its last, in the template's markup."""
    last = page.rindex(b'<div class="comment font-entrybody" id="comment-')
    end = page.index(b"</p>\n</div>", page.index(b'class="comment-footer', last)) + 11
    cid = b"6a00d8341c640e53ef0000000000added"
    added = (b'\n<a id="c' + cid + b'"></a>\n<div class="comment font-entrybody" id="comment-'
             + cid + b'">\n<div class="comment-content font-entrybody" id="comment-' + cid
             + b'-content">\n<span id="comment-' + cid + b'-content"><p>Added later.</p></span>'
             b'\n</div>\n<p class="comment-footer font-entryfooter">\nPosted by:\nLate reader |'
             b'\n<a rel="nofollow" href="#comment-' + cid + b'">Jun 12 2018 1:00 utc</a> | 41'
             b"\n</p>\n</div>")
    return page[:end] + added + page[end:]


def dump(cli, url: str, out: Path) -> str:
    result = cli("export", "text", url, "-o", str(out))
    assert result.code == 0, result.err
    return out.read_text(encoding="utf-8")


def comments(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT c.source_id, c.author_name, c.body_html, c.version, "
                          "c.removed_at IS NOT NULL FROM comment c ORDER BY c.position").fetchall()


def test_a_wget_warc_of_the_paged_seed_imports_to_the_seed_dump(
    moa_paged, data_dir: Path, cli, tmp_path: Path
) -> None:
    warc = wget_warc([moa_paged.url(p) for p in PAGES], tmp_path / "crawl")
    moa_paged.stop()  # the site is gone: only the WARC is left
    result = cli("import", str(warc))
    assert result.code == 0, result.err
    assert "Imported 1 threads (40 comments)" in result.out
    text = dump(cli, moa_paged.url(MOA_PATH), tmp_path / "dump.txt")
    expected = REFERENCE.read_text(encoding="utf-8")
    assert normalise(text).splitlines() == normalise(expected).splitlines()
    with sqlite3.connect(data_dir / "archiver.db") as db:
        sources = db.execute("SELECT source, fetched_at FROM capture WHERE thread_id IS NOT NULL"
                             " ORDER BY id").fetchall()
    assert len(sources) == 3 and all(s and s.startswith("crawl.warc.gz#") for s, _ in sources)
    thread = json.loads(cli("export", "jsonl", moa_paged.url(MOA_PATH), "-o", "-").out)
    pages = {c["source"]["url"].split("/2018/06/")[1] for c in thread["comments"]}
    assert len(pages) == 3  # each comment names the page capture it was read from
    assert all(c["source"]["record"].startswith("crawl.warc.gz#") for c in thread["comments"])
    assert cli("export", "html", moa_paged.url(MOA_PATH), "--out", str(tmp_path / "m")).code == 0
    page = next(p for p in (tmp_path / "m").glob("*/*.html") if p.name != "index.html")
    assert page.read_text(encoding="utf-8").count("(web archive record crawl.warc.gz#") == 40


def test_an_archiver_warc_round_trips_into_an_empty_store(
    moa_paged, data_dir: Path, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = moa_paged.url(MOA_PATH)
    assert cli("archive", url).code == 0
    page3 = PAGES[2]
    route = moa_paged.routes[page3]
    moa_paged.routes[page3] = Route(body=edit_first_comment(route.body),
                                    content_type=route.content_type)
    assert cli("archive", url).code == 0  # page 3 changed: an edit, kept as a version
    first = comments(data_dir / "archiver.db")
    assert any(version == 2 for *_, version, _ in first)
    assert cli("export", "warc", "--out", str(tmp_path / "export.warc.gz")).code == 0
    warcs = [tmp_path / "export.warc.gz"]
    moa_paged.stop()

    fresh = tmp_path / "fresh"
    monkeypatch.setenv("ARCHIVER_DATA_DIR", str(fresh))
    result = cli("import", *map(str, warcs))
    assert result.code == 0, result.err
    assert comments(fresh / "archiver.db") == first
    with sqlite3.connect(fresh / "archiver.db") as db:
        versions = db.execute("SELECT COUNT(*) FROM commentversion").fetchone()[0]
    assert versions == 1


def test_two_captures_of_different_dates_give_one_thread_with_the_edit_and_the_addition(
    moa_one_page, data_dir: Path, cli, tmp_path: Path
) -> None:
    url = moa_one_page.url(MOA_PATH)
    early = wget_warc([url], tmp_path / "early")
    route = moa_one_page.routes[MOA_PATH]
    body = add_last_comment(edit_first_comment(route.body))
    moa_one_page.routes[MOA_PATH] = Route(body=body, content_type=route.content_type)
    time.sleep(1.1)  # WARC-Date has whole seconds: the two captures must differ in date
    late = wget_warc([url], tmp_path / "late")
    moa_one_page.stop()
    result = cli("import", str(late), str(early))  # any order: captures are read oldest first
    assert result.code == 0, result.err
    exported = cli("export", "jsonl", url, "-o", "-")
    thread = json.loads(exported.out)

    assert thread["comment_count"] == 41
    assert thread["comments"][-1]["author_name"] == "Late reader"
    edited = [c for c in thread["comments"] if c["version"] == 2]
    assert len(edited) == 1 and edited[0]["body_text"].startswith("(edited) ")
    assert edited[0]["history"][0]["body_text"] == edited[0]["body_text"].removeprefix(
        "(edited) ")
    with sqlite3.connect(data_dir / "archiver.db") as db:
        assert db.execute("SELECT COUNT(*) FROM thread").fetchone()[0] == 1


def test_a_file_that_is_not_a_warc_is_one_line_and_exit_2(data_dir: Path, cli,
                                                          tmp_path: Path) -> None:
    bogus = tmp_path / "notes.warc"
    bogus.write_text("hello, not a WARC\n", encoding="utf-8")
    result = cli("import", str(bogus))
    assert result.code == 2
    assert result.err.strip().count("\n") == 0 and "not a WARC" in result.err


def test_a_wacz_imports_like_its_warcs(moa_paged, data_dir: Path, cli, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    url = moa_paged.url(MOA_PATH)
    assert cli("archive", url).code == 0
    assert cli("export", "wacz", "--out", str(tmp_path / "thread.wacz")).code == 0
    first = comments(data_dir / "archiver.db")
    moa_paged.stop()
    monkeypatch.setenv("ARCHIVER_DATA_DIR", str(tmp_path / "fresh"))
    result = cli("import", str(tmp_path / "thread.wacz"))
    assert result.code == 0, result.err
    assert "Imported 1 threads (40 comments)" in result.out
    assert comments(tmp_path / "fresh" / "archiver.db") == first


def test_a_thread_read_through_an_api_imports_from_its_answers(data_dir: Path, cli,
                                                               tmp_path: Path,
                                                               monkeypatch) -> None:
    """A Discourse topic (the topic's JSON and a batch of posts) exported as WARC and imported
    into an empty store: the same posts, parents and depths."""
    from archiver.devserver import serve_fixture
    from tests.conftest import FIXTURES

    server = serve_fixture(FIXTURES / "discourse" / "criticalfallibilism-t2144")
    try:
        url = server.url("/t/kpop-demon-hunters/2144/25")
        assert cli("archive", url).code == 0
        assert cli("export", "warc", "--out", str(tmp_path / "topic.warc.gz")).code == 0
    finally:
        server.stop()
    first = comments(data_dir / "archiver.db")
    monkeypatch.setenv("ARCHIVER_DATA_DIR", str(tmp_path / "fresh"))
    result = cli("import", str(tmp_path / "topic.warc.gz"))
    assert result.code == 0, result.err
    assert "Imported 1 threads" in result.out
    assert comments(tmp_path / "fresh" / "archiver.db") == first
    with sqlite3.connect(tmp_path / "fresh" / "archiver.db") as db:
        parents = db.execute("SELECT COUNT(*) FROM comment WHERE parent_source_id IS NOT NULL"
                             ).fetchone()[0]
    assert parents > 0
