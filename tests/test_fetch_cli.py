"""Issue 3 end to end: `archiver archive` and the pipeline against the fault-injecting server.

Item 1 (robots.txt refusal) and item 7 (a second archive is all 304s) through the CLI; items 2,
4 and 5 through the pipeline into a real SQLite file, with a FakeClock for the waits, to show
that what reaches the database is whole.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.errors import FetchError
from archiver.fetch import Fetcher, FetchSettings
from archiver.pipeline import ThreadArchiver
from archiver.store.db import Store, default_database_url
from tests.conftest import MOA, MOA_PATH, REFERENCE, normalise, run_cli_subprocess
from tests.faultserver import (
    FakeClock,
    FaultServer,
    Reply,
    Reset,
    Short,
    gzip_bomb,
    static_page,
    zeros,
)

PAGE2 = "/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan/comments/page/2/"
PAGE3 = "/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan/comments/page/3/"
ONE_PAGE_FILE = MOA / "one-page" / "syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan.html"
MB = 1024 * 1024

NOT_ROBOTS = "url not like '%/robots.txt'"  # robots.txt reads are captures too
PAGE_BLOBS = f"from blob where sha256 in (select body_sha256 from capture where {NOT_ROBOTS})"


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def dict_rows(db: Path, sql: str) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


# -- item 1: robots.txt through the CLI ------------------------------------------------------


def test_archive_refused_by_robots_txt(data_dir: Path, cli) -> None:  # type: ignore[no-untyped-def]
    with FaultServer() as server:
        server.serve_fixture(MOA / "one-page")
        server.robots("User-agent: *\nDisallow: /2018/\n")
        url = server.url(MOA_PATH)
        result = cli("archive", url)
        assert result.code == 4
        line = one_line_error(result.err)
        assert "robots.txt" in line and url in line
        assert server.requests(MOA_PATH) == []
        assert [r.path for r in server.log] == ["/robots.txt"]


def test_archive_refused_by_robots_txt_as_a_real_process(tmp_path: Path) -> None:
    with FaultServer() as server:
        server.serve_fixture(MOA / "one-page")
        server.robots("User-agent: archiver\nDisallow: /2018/06/\n")
        url = server.url(MOA_PATH)
        env = {"ARCHIVER_DATA_DIR": str(tmp_path / "a"), "ARCHIVER_DELAY": "0"}
        result = run_cli_subprocess("archive", url, env=env)
        assert result.code == 4
        assert re.fullmatch(
            rf"error: robots\.txt of 127\.0\.0\.1:{server.port} disallows {re.escape(url)}"
            r" for user-agent 'archiver'",
            one_line_error(result.err),
        )
        assert server.requests(MOA_PATH) == []
        # --ignore-robots is for a site's own owner: it archives, and says so when verbose
        result = run_cli_subprocess("-v", "archive", "--ignore-robots", url, env=env)
        assert result.code == 0, result.err
        assert "40 comments" in result.out
        assert "--ignore-robots" in result.err
        assert len(server.requests(MOA_PATH)) == 1


# -- item 7: a second archive of an unchanged thread is all 304 ------------------------------


@pytest.mark.parametrize("etag", [True, False], ids=["etag", "last-modified-only"])
def test_second_archive_is_all_304_and_stores_nothing_new(
    data_dir: Path,
    cli,  # type: ignore[no-untyped-def]
    etag: bool,
) -> None:
    with FaultServer() as server:
        server.serve_fixture(MOA / "paged", etag=etag)
        url = server.url(MOA_PATH)
        first = cli("archive", url)
        assert first.code == 0, first.err
        assert "40 comments" in first.out and "3 pages" in first.out
        db = data_dir / "archiver.db"
        before = {
            "comment": rows(db, "select * from comment order by id"),
            "commentversion": rows(db, "select * from commentversion"),
            "blob": rows(db, "select sha256, size from blob order by sha256"),
            "capture": rows(db, "select id from capture"),
            "site": rows(db, "select * from site order by id"),
            "thread": dict_rows(db, "select * from thread"),
            "urlstate": dict_rows(db, "select * from urlstate order by url"),
        }
        assert len(before["thread"]) == 1
        assert [r["url"] for r in before["urlstate"]] == sorted(
            server.url(p) for p in (MOA_PATH, PAGE2, PAGE3))
        log_before = len(server.log)

        second = cli("archive", url)
        assert second.code == 0, second.err
        assert "3 unchanged" in second.out and "0 new, 0 edited, 0 removed" in second.out
        again = [r for r in server.log[log_before:] if r.path != "/robots.txt"]
        assert [r.path for r in again] == [MOA_PATH, PAGE2, PAGE3]
        assert [r.status for r in again] == [304, 304, 304]
        for request in again:
            if etag:
                assert request.header("If-None-Match")
            assert request.header("If-Modified-Since") == "Fri, 08 Jun 2018 12:00:00 GMT"

        # nothing new parsed or stored: same comments, no new versions, no new bodies
        assert rows(db, "select * from comment order by id") == before["comment"]
        assert rows(db, "select * from commentversion") == before["commentversion"] == []
        assert rows(db, "select sha256, size from blob order by sha256") == before["blob"]
        new_captures = rows(
            db,
            "select status, body_sha256, body_size, parsed_ok from capture"
            f" where id > {max(i for (i,) in before['capture'])} and {NOT_ROBOTS} order by id",
        )
        assert new_captures == [(304, None, 0, None)] * 3  # the exchanges kept, nothing parsed

        # the thread is as it was: only the time it was last looked at moves (not the time of
        # its last change, which `export --since` selects on; not its page count or status)
        (thread,) = dict_rows(db, "select * from thread")
        (old,) = before["thread"]
        assert thread["last_fetched_at"] > old["last_fetched_at"]
        moved = {"last_fetched_at"}
        assert {k: v for k, v in thread.items() if k not in moved} == {
            k: v for k, v in old.items() if k not in moved}
        assert thread["last_change_at"] == old["first_seen_at"] and thread["pages"] == 3
        assert rows(db, "select * from site order by id") == before["site"]
        assert rows(db, "select count(*) from threadversion") == [(0,)]
        # each page's state keeps its validators, its next link and the capture its content was
        # parsed from (a 304 means "that content"); only the last status and fetch time move
        states = dict_rows(db, "select * from urlstate order by url")
        assert [s["url"] for s in states] == [s["url"] for s in before["urlstate"]]
        moved = {"last_status", "last_fetched_at"}
        for state, old in zip(states, before["urlstate"], strict=True):
            assert old["last_status"] == 200 and state["last_status"] == 304
            assert state["last_fetched_at"] > old["last_fetched_at"]
            assert {k: v for k, v in state.items() if k not in moved} == {
                k: v for k, v in old.items() if k not in moved}
            assert state["failures"] == 0 and state["last_error"] is None
            assert (state["etag"] is not None) == etag and state["last_modified"]


# -- items 2, 4, 5 through the pipeline into SQLite -------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = Store(default_database_url(tmp_path))
    yield st
    st.close()


def archiver_for(store: Store, clock: FakeClock, **kw: object) -> ThreadArchiver:
    settings = FetchSettings(clock=clock, sleep=clock.sleep, **kw)  # type: ignore[arg-type]
    return ThreadArchiver(store, Fetcher(settings))


def moa_bytes(server: FaultServer) -> bytes:
    return ONE_PAGE_FILE.read_bytes().replace(
        b"https://www.moonofalabama.org", server.base_url.encode()
    )


def db_of(store: Store) -> Path:
    return Path(store.url.removeprefix("sqlite:///"))


def test_503_503_200_archives_with_every_exchange_kept(store: Store, clock: FakeClock) -> None:
    with FaultServer(clock=clock) as server:
        page = moa_bytes(server)
        html = [("Content-Type", "text/html; charset=utf-8")]
        server.route(MOA_PATH, Reply(503, b"busy"), Reply(503, b"busy"), Reply(200, page, html))
        report = archiver_for(store, clock).archive(server.url(MOA_PATH))
        assert report.comments == 40
        hits = server.requests(MOA_PATH)
        assert len(hits) == 3
        assert hits[1].at - hits[0].at >= 2.0 and hits[2].at - hits[1].at >= 4.0
    captures = rows(db_of(store), "select status, body_size, parsed_ok from capture"
                                  f" where {NOT_ROBOTS} order by id")
    assert captures == [(503, 4, None), (503, 4, None), (200, len(page), 1)]
    # the robots.txt read before the first request is kept too, tied to no thread
    assert rows(db_of(store), "select status, thread_id from capture"
                              f" where not ({NOT_ROBOTS})") == [(404, None)]


@pytest.mark.parametrize("fault", ["reset", "short"])
def test_faults_mid_body_never_reach_the_database(
    store: Store, clock: FakeClock, fault: str
) -> None:
    with FaultServer(clock=clock) as server:
        page = moa_bytes(server)
        html = [("Content-Type", "text/html; charset=utf-8")]
        broken = (
            Reset(page, after=20_000, headers=html)
            if fault == "reset"
            else Short(page[:20_000], missing=len(page) - 20_000, headers=html)
        )
        server.route(MOA_PATH, broken, Reply(200, page, html))
        report = archiver_for(store, clock).archive(server.url(MOA_PATH))
        assert report.comments == 40
        assert len(server.requests(MOA_PATH)) == 2
    assert rows(db_of(store), f"select status, body_size from capture where {NOT_ROBOTS}") == [
        (200, len(page))]
    (stored,) = rows(db_of(store), f"select data {PAGE_BLOBS}")
    assert stored[0] == page


@pytest.mark.parametrize("case", ["loop", "60mb", "bomb", "always-reset"])
def test_refused_responses_leave_nothing_corrupt(store: Store, clock: FakeClock, case: str) -> None:
    with FaultServer(clock=clock) as server:
        if case == "loop":
            server.route(MOA_PATH, Reply(302, b"", [("Location", "/b")]))
            server.route("/b", Reply(302, b"", [("Location", MOA_PATH)]))
            expected = r"redirect loop"
        elif case == "60mb":
            server.route(MOA_PATH, Reply(200, zeros(60 * MB), [("Content-Type", "text/html")]))
            expected = r"body exceeds the 52428800 byte limit"
        elif case == "bomb":
            headers = [("Content-Type", "text/html"), ("Content-Encoding", "gzip")]
            server.route(MOA_PATH, Reply(200, gzip_bomb(256 * MB), headers))
            expected = r"decompression bomb"
        else:
            server.route(MOA_PATH, Reset(b"<html>" + b"x" * 50_000, after=1000))
            expected = r"gave up on .* after 2 attempts: connection lost"
        with pytest.raises(FetchError, match=expected):
            archiver_for(store, clock, max_attempts=2).archive(server.url(MOA_PATH))
    db = db_of(store)
    # only whole exchanges are stored: here, at most the redirect hops, each a complete 302,
    # and the bomb as received (compressed), marked as unreadable
    captures = rows(db, f"select status, parsed_ok, parse_error from capture where {NOT_ROBOTS}")
    if case == "bomb":
        ((status, parsed_ok, error),) = captures
        assert (status, parsed_ok) == (200, 0) and "decompression bomb" in error
        assert rows(db, f"select size {PAGE_BLOBS}") == [(len(gzip_bomb(256 * MB)),)]
    else:
        assert all(status == 302 for status, _, _ in captures)
    assert rows(db, "select count(*) from comment") == [(0,)]
    assert rows(db, "select count(*) from thread") == [(0,)]
    for size, data in rows(db, "select size, data from blob"):
        assert size == len(data)


def test_windows_1252_page_labelled_utf8_archives_readably(
    data_dir: Path,
    cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """The reference thread re-encoded as windows-1252 but still declaring UTF-8 (in the HTTP
    header and its <meta>): the text dump must still equal the reference."""
    with FaultServer() as server:
        text = moa_bytes(server).decode("utf-8")
        wire = text.encode("cp1252", errors="xmlcharrefreplace")
        with pytest.raises(UnicodeDecodeError):
            wire.decode("utf-8")
        server.route(MOA_PATH, static_page(wire, content_type="text/html; charset=UTF-8"))
        url = server.url(MOA_PATH)
        result = cli("archive", url)
        assert result.code == 0, result.err
        out = tmp_path / "dump.txt"
        assert cli("export", "text", url, "-o", str(out)).code == 0
    expected = REFERENCE.read_text(encoding="utf-8")
    assert (
        normalise(out.read_text(encoding="utf-8")).splitlines() == normalise(expected).splitlines()
    )
    # and the stored body is the bytes as sent, not a re-encoding
    (stored,) = rows(data_dir / "archiver.db", f"select data {PAGE_BLOBS}")
    assert stored[0] == wire


def test_utf8_page_with_one_stray_byte_stays_utf8(
    data_dir: Path,
    cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """A UTF-8 page with one byte that is not UTF-8 (a comment pasted from a cp1252 source):
    the byte becomes U+FFFD, and every other character is read as the UTF-8 it is."""
    with FaultServer() as server:
        page = moa_bytes(server)
        marker = "group’s largest".encode()
        assert page.count(marker) == 1
        wire = page.replace(marker, marker + b" \x96", 1)
        with pytest.raises(UnicodeDecodeError):
            wire.decode("utf-8")
        server.route(MOA_PATH, static_page(wire, content_type="text/html; charset=UTF-8"))
        url = server.url(MOA_PATH)
        assert cli("archive", url).code == 0
        out = tmp_path / "dump.txt"
        assert cli("export", "text", url, "-o", str(out)).code == 0
    dump = normalise(out.read_text(encoding="utf-8"))
    expected = normalise(REFERENCE.read_text(encoding="utf-8"))
    assert dump == expected.replace("group’s largest", "group’s largest \ufffd", 1)


def test_second_archive_through_a_redirect_is_304_too(
    data_dir: Path,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    """The fetcher sends the validators along the redirect; the pipeline has to ask with them."""
    with FaultServer() as server:
        server.serve_fixture(MOA / "one-page")
        server.route("/old-link.html", Reply(301, b"", [("Location", MOA_PATH)]))
        url = server.url("/old-link.html")
        first = cli("archive", url)
        assert first.code == 0, first.err
        assert "40 comments" in first.out
        mark = len(server.log)
        second = cli("archive", url)
        assert second.code == 0, second.err
        again = [(r.path, r.status) for r in server.log[mark:] if r.path != "/robots.txt"]
        assert again == [("/old-link.html", 301), (MOA_PATH, 304)]


# -- a page that cannot be parsed is recorded on its capture, never fatal to the run ----------


def _paged_server_with_broken_page_2(server: FaultServer) -> None:
    server.serve_fixture(MOA / "paged")
    server.route(PAGE2 + "", Reply(200, b"<html><body><p>maintenance</p></body></html>",
                                   [("Content-Type", "text/html; charset=utf-8")]))


def test_unreadable_later_page_is_recorded_and_reported(store: Store, clock: FakeClock) -> None:
    with FaultServer(clock=clock) as server:
        _paged_server_with_broken_page_2(server)
        report = archiver_for(store, clock).archive(server.url(MOA_PATH))
    assert report.comments == 15 and not report.complete  # page 1 kept, thread left open
    assert len(report.parse_errors) == 1 and PAGE2 in report.parse_errors[0]
    db = db_of(store)
    page2 = f"select parsed_ok, parse_error from capture where url like '%{PAGE2}'"
    ((ok, error),) = rows(db, page2)
    assert ok == 0 and error
    assert rows(db, f"select count(*) {PAGE_BLOBS}") == [(2,)]  # both pages' bytes kept


def test_adapter_crash_is_a_parse_failure_not_a_crash(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archiver.adapters import typepad

    real_parse = typepad.parse_page

    def crash_on_page_2(html: str, url: str):  # type: ignore[no-untyped-def]
        if url.endswith(PAGE2):
            raise KeyError("an adapter bug")
        return real_parse(html, url)

    monkeypatch.setattr(typepad, "parse_page", crash_on_page_2)
    with FaultServer(clock=clock) as server:
        server.serve_fixture(MOA / "paged")
        report = archiver_for(store, clock).archive(server.url(MOA_PATH))
    assert report.comments == 15
    assert report.parse_errors == [f"{server.url(PAGE2)}: KeyError: 'an adapter bug'"]
    ((ok, error),) = rows(db_of(store),
                          f"select parsed_ok, parse_error from capture where url like '%{PAGE2}'")
    assert (ok, error) == (0, "KeyError: 'an adapter bug'")
