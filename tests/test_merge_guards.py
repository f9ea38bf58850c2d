"""Issue 10, Found 5: the merge rules no other test guarded, each checked end to end.

A 304 refresh changes nothing a user can see (not `last_change_at`, not `export --since`); an
upstream change of a comment's author name, author link or date text is an edit (versioned, old
values kept); comments are flagged removed only after a complete read (never after a page that
failed, a page that did not parse or the page limit); a removed comment that comes back is
restored. Real servers on 127.0.0.1 serve the synthetic TypePad fixtures; the store is a real
SQLite file, read back with sqlite3.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archiver.devserver import FixtureServer
from archiver.fetch import Fetcher, FetchSettings
from archiver.pipeline import ArchiveReport, ThreadArchiver
from archiver.store.db import Store, default_database_url
from tests.conftest import normalise
from tests.schedule_helpers import PAGED, REFRESH, Clock, expected, serve, set_file

THREAD = "/2024/03/open-thread.html"
T0 = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def rows(db: Path, sql: str, *args: object) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def row(db: Path, sql: str, *args: object) -> dict:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        found = con.execute(sql, args).fetchone()
        assert found is not None, sql
        return dict(found)
    finally:
        con.close()


def stored(value: datetime) -> str:
    """How SQLite holds a datetime the store wrote (naive UTC, microseconds)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def without_comment(html: str, source_id: str) -> str:
    """The page with one TypePad comment cut out (its anchor and its block)."""
    start = html.index(f'<a id="c{source_id}"></a>')
    end = html.find('<a id="c', start + 1)
    if end < 0:
        end = html.index("</div>\n</div>", html.index(f'id="comment-{source_id}"'))
    cut = html[:start] + html[end:]
    assert source_id not in cut
    return cut


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    """The SQLite store the CLI of this test uses too (ARCHIVER_DATA_DIR)."""
    st = Store(default_database_url(data_dir))
    yield st
    st.close()


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(FetchSettings(delay=0, max_attempts=1)) as f:
        yield f


def archive(store: Store, fetcher: Fetcher, url: str, now: datetime) -> ArchiveReport:
    return ThreadArchiver(store, fetcher).archive(url, now=now)


# -- a. a 304 refresh moves nothing ----------------------------------------------------------


def test_a_304_refresh_moves_neither_last_change_nor_export_since(
    data_dir: Path, store: Store, fetcher: Fetcher, cli  # type: ignore[no-untyped-def]
) -> None:
    db = data_dir / "archiver.db"
    with serve(REFRESH, etags=True) as server:
        url = server.url(THREAD)
        first = archive(store, fetcher, url, T0)
        assert (first.new, first.comments) == (20, 20)
        assert row(db, "select last_change_at from thread")["last_change_at"] == stored(T0)

        again = archive(store, fetcher, url, T0 + DAY)
        assert again.pages_not_modified == 1  # the server answered 304
        assert (again.new, again.edited, again.removed, again.changed) == (0, 0, 0, False)
        thread = row(db, "select * from thread")
        assert thread["last_change_at"] == stored(T0)  # nothing changed upstream
        assert thread["last_fetched_at"] == stored(T0 + DAY)  # but it was looked at
        assert thread["first_seen_at"] == stored(T0)

        since = (T0 + timedelta(hours=1)).isoformat()
        result = cli("export", "jsonl", "--since", since, "-o", "-")
        assert result.code == 2 and result.out == ""
        assert "nothing to export: no archived thread matches new or changed since" in result.err

        # a real change afterwards is what --since picks up (the check above can fail)
        set_file(server, THREAD, REFRESH, "v2.html", etag=True)
        changed = archive(store, fetcher, url, T0 + 2 * DAY)
        assert changed.changed and changed.new == 6
        assert row(db, "select last_change_at from thread")["last_change_at"] == stored(
            T0 + 2 * DAY)
        result = cli("export", "jsonl", "--since", since, "-o", "-")
        assert result.code == 0, result.err
        assert len(result.out.splitlines()) == 1


# -- b. author name, author link and date text are part of a comment's version ---------------


EDITS = {
    # field: (comment number, text in v1.html, the same text as edited upstream, old, new)
    "author_name": (1, "Cleo |", "Cleo Marchetti |", "Cleo", "Cleo Marchetti"),
    "author_url": (4, 'href="https://farid.example.net/"', 'href="https://farid.example.com/"',
                   "https://farid.example.net/", "https://farid.example.com/"),
    "published_text": (2, ">Mar 5 2024 8:14 utc<", ">Mar 5 2024 8:41 utc<",
                       "Mar 5 2024 8:14 utc", "Mar 5 2024 8:41 utc"),
}


@pytest.mark.parametrize("field", sorted(EDITS))
def test_a_changed_author_name_link_or_date_is_a_new_version(
    data_dir: Path, store: Store, fetcher: Fetcher, field: str
) -> None:
    number, before, after, old, new = EDITS[field]
    db = data_dir / "archiver.db"
    v1 = (REFRESH / "v1.html").read_text(encoding="utf-8")
    assert v1.count(before) == 1
    with serve(REFRESH) as server:
        url = server.url(THREAD)
        archive(store, fetcher, url, T0)
        server.set_page(THREAD, v1.replace(before, after))
        report = archive(store, fetcher, url, T0 + DAY)
    assert (report.new, report.edited, report.removed) == (0, 1, 0)
    comment = row(db, f"select id, version, body_text, changed_at, {field} from comment"
                      " where number = ?", number)
    assert comment["version"] == 2 and comment[field] == new
    assert comment["changed_at"] == stored(T0 + DAY)
    history = rows(db, f"select version, {field}, body_text, first_seen_at, replaced_at"
                       " from commentversion where comment_id = ?", comment["id"])
    assert history == [(1, old, comment["body_text"], stored(T0), stored(T0 + DAY))]
    assert rows(db, "select count(*) from commentversion") == [(1,)]  # no other comment moved
    assert rows(db, "select count(*) from comment where version = 1") == [(19,)]
    assert row(db, "select last_change_at from thread")["last_change_at"] == stored(T0 + DAY)


# -- c. no removal after an incomplete read ---------------------------------------------------


PAGED_THREAD = "/2024/03/long-thread.html"


def paged_ids() -> list[str]:
    return list(expected(PAGED)["comments"])


def removed_ids(db: Path) -> list[str]:
    return [r[0] for r in rows(db, "select source_id from comment where removed_at is not null"
                                   " order by position")]


def set_paged(server: FixtureServer, path: str, body: str, status: int = 200) -> None:
    server.set_page(path, body, status=status, headers={"ETag": f'"{hash(body)}"'})


def paged_page(path: str) -> str:
    """The fixture file served at path, as stored (the server rewrites its origin)."""
    routes = json.loads((PAGED / "routes.json").read_text(encoding="utf-8"))["routes"]
    return (PAGED / routes[path]).read_text(encoding="utf-8")


@pytest.fixture
def paged_archived(data_dir: Path, cli) -> Iterator[tuple[FixtureServer, Path]]:  # type: ignore[no-untyped-def]
    """The 8-page, 80-comment thread archived once (complete), its server still up."""
    with serve(PAGED, etags=True) as server:
        first = cli("archive", server.url(PAGED_THREAD))
        assert first.code == 0, first.err
        assert re.search(r"\b80 comments, 8 pages\b", first.out), first.out
        yield server, data_dir / "archiver.db"


def check_nothing_removed_then_complete(server: FixtureServer, db: Path, cli,  # type: ignore[no-untyped-def]
                                        broken: str | None) -> None:
    """After the incomplete read: all 80 kept, none flagged. Then the broken page is served
    again: the next run reads it and every page after it, and still flags nothing."""
    ids = paged_ids()
    assert sorted(r[0] for r in rows(db, "select source_id from comment")) == sorted(ids)
    assert removed_ids(db) == []
    before = len(server.requests)
    if broken is not None:
        set_paged(server, broken, paged_page(broken))
    done = cli("archive", server.url(PAGED_THREAD))
    assert done.code == 0, done.err
    assert re.search(r"\b80 comments, 8 pages\b.*\b0 removed\b", done.out), done.out
    asked = [p for _, p, _ in server.requests[before:] if p != "/robots.txt"]
    assert asked == expected(PAGED)["pages"]
    assert removed_ids(db) == []


def test_no_removal_when_a_later_page_fails_until_retries_run_out(
    paged_archived: tuple[FixtureServer, Path], cli, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    server, db = paged_archived
    monkeypatch.setenv("ARCHIVER_FETCH_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("ARCHIVER_FETCH_BACKOFF_BASE", "0")
    broken = expected(PAGED)["pages"][4]
    set_paged(server, broken, "<html><body>oops</body></html>", status=500)
    before = len(server.requests)
    result = cli("archive", server.url(PAGED_THREAD))
    assert result.code == 3, (result.out, result.err)
    assert server.url(broken) in result.err
    asked = [p for _, p, _ in server.requests[before:] if p != "/robots.txt"]
    assert asked.count(broken) == 3  # retried until the attempts ran out
    # the walk goes on past the failed page by the way the last complete read knew
    assert all(p in asked for p in expected(PAGED)["pages"][5:])
    check_nothing_removed_then_complete(server, db, cli, broken)


def test_no_removal_when_a_later_page_does_not_parse(
    paged_archived: tuple[FixtureServer, Path], cli  # type: ignore[no-untyped-def]
) -> None:
    server, db = paged_archived
    broken = expected(PAGED)["pages"][4]
    set_paged(server, broken, "<html><body><p>Under maintenance</p></body></html>")
    result = cli("archive", server.url(PAGED_THREAD))
    assert server.url(broken) in result.out + result.err  # the failed page is named
    assert not re.search(r"\b[1-9]\d* removed\b", result.out), result.out
    failed = rows(db, "select parsed_ok, parse_error from capture where url = ?",
                  server.url(broken))
    assert failed[-1][0] == 0 and failed[-1][1]  # the failure is recorded on its capture
    check_nothing_removed_then_complete(server, db, cli, broken)


def test_no_removal_when_the_page_limit_stops_the_read(
    paged_archived: tuple[FixtureServer, Path], cli  # type: ignore[no-untyped-def]
) -> None:
    server, db = paged_archived
    store = Store(default_database_url(db.parent))
    try:
        with Fetcher(FetchSettings(delay=0)) as fetcher:
            report = ThreadArchiver(store, fetcher, max_pages=4).archive(
                server.url(PAGED_THREAD))
    finally:
        store.close()
    assert report.pages == 4 and not report.complete
    assert report.removed == 0
    check_nothing_removed_then_complete(server, db, cli, None)


def test_a_comment_deleted_during_an_incomplete_read_is_flagged_by_the_next_complete_one(
    paged_archived: tuple[FixtureServer, Path], cli  # type: ignore[no-untyped-def]
) -> None:
    """Comment 3 is deleted upstream (page 1 changes) while page 5 fails: nothing is flagged
    then. The next run reads every page, page 1 answering 304 for the page as last parsed
    (without comment 3): comment 3 is missing from a complete read and must be flagged."""
    server, db = paged_archived
    ids = paged_ids()
    set_paged(server, PAGED_THREAD, without_comment(paged_page(PAGED_THREAD), ids[2]))
    broken = expected(PAGED)["pages"][4]
    set_paged(server, broken, "<html><body><p>Under maintenance</p></body></html>")
    cli("archive", server.url(PAGED_THREAD))
    assert removed_ids(db) == []  # incomplete: nothing flagged
    set_paged(server, broken, paged_page(broken))
    done = cli("archive", server.url(PAGED_THREAD))
    assert done.code == 0, done.err
    assert re.search(r"\b79 comments\b.*\b1 removed\b", done.out), done.out
    assert removed_ids(db) == [ids[2]]


# -- d. a removed comment that comes back is restored -----------------------------------------


def test_a_removed_comment_that_reappears_is_restored(
    data_dir: Path, store: Store, fetcher: Fetcher, cli, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    db = data_dir / "archiver.db"
    seven = expected(REFRESH)["removed"]["source_id"]
    v1 = (REFRESH / "v1.html").read_text(encoding="utf-8")
    with serve(REFRESH) as server:
        url = server.url(THREAD)
        archive(store, fetcher, url, T0)
        server.set_page(THREAD, without_comment(v1, seven))
        gone = archive(store, fetcher, url, T0 + DAY)
        assert (gone.removed, gone.comments) == (1, 19)
        assert removed_ids(db) == [seven]

        server.set_page(THREAD, v1)  # the comment is back upstream (moderation undone)
        back = archive(store, fetcher, url, T0 + 2 * DAY)
        assert (back.new, back.removed, back.comments) == (0, 0, 20)
        out = tmp_path / "thread.txt"
        assert cli("export", "text", url, "-o", str(out)).code == 0
        since = cli("export", "jsonl", "--since", (T0 + 2 * DAY).isoformat(), "-o", "-")
    assert removed_ids(db) == []
    assert rows(db, "select count(*) from comment") == [(20,)]  # the same row, not a new one
    seven_row = row(db, "select * from comment where source_id = ?", seven)
    assert seven_row["removed_at"] is None and seven_row["version"] == 1
    assert seven_row["first_seen_at"] == stored(T0)
    # the export shows the thread as upstream does again, comment 7 in its place
    want = (REFRESH / "expected-v1.txt").read_text(encoding="utf-8")
    assert normalise(out.read_text(encoding="utf-8")) == normalise(want)
    # a restore is a change: the thread counts as changed when it happened
    assert row(db, "select last_change_at from thread")["last_change_at"] == stored(T0 + 2 * DAY)
    assert since.code == 0 and len(since.out.splitlines()) == 1


def test_a_restore_is_counted_in_the_report_and_the_refresh_plan(
    tmp_path: Path, cli  # type: ignore[no-untyped-def]
) -> None:
    """The restore is reported (the summary line says so, the run counts as a change), so the
    scheduler polls again at the shortest interval, as after any other change."""
    from tests.test_schedule_refresh import make_runner, parse_ts, thread_row

    seven = expected(REFRESH)["removed"]["source_id"]
    v1 = (REFRESH / "v1.html").read_text(encoding="utf-8")
    clock = Clock(T0)
    db = tmp_path / "data" / "archiver.db"
    with serve(REFRESH) as server:
        runner, config = make_runner(server, tmp_path, clock)
        runner.run_once()
        server.set_page(THREAD, without_comment(v1, seven))
        clock.advance(minutes=15)
        assert runner.run_once(discover=False).removed == 1
        clock.advance(minutes=15)
        runner.run_once(discover=False)  # quiet: the wait doubles
        assert parse_ts(thread_row(db)["next_due_at"]) == clock.now + timedelta(minutes=30)
        server.set_page(THREAD, v1)
        clock.advance(minutes=30)
        runner.run_once(discover=False)
        assert removed_ids(db) == []
        # changed again: back to the shortest interval (15 min), not doubled to an hour
        assert parse_ts(thread_row(db)["next_due_at"]) == clock.now + timedelta(minutes=15)
        # and the CLI says what happened (another restore, done by hand)
        server.set_page(THREAD, without_comment(v1, seven))
        assert cli("-c", str(config), "archive", server.url(THREAD)).code == 0
        server.set_page(THREAD, v1)
        result = cli("-c", str(config), "archive", server.url(THREAD))
    assert result.code == 0, result.err
    assert re.search(r"\b20 comments\b", result.out), result.out
    assert re.search(r"\b1 restored\b", result.out), result.out
