"""Issue 5 items 2 and 3: refreshes keep every version, removals are flagged (never deleted), and
the refresh backoff and the stop on "comments closed" follow a controlled clock (no sleeping)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archiver.config import RefreshPolicy, load_settings
from archiver.fetch import Fetcher
from archiver.schedule import Runner, plan_refresh
from archiver.store.db import Store
from tests.conftest import normalise
from tests.schedule_helpers import REFRESH, Clock, expected, paths, serve, set_file, site_config

THREAD = "/2024/03/open-thread.html"
PUBLISHED = datetime(2024, 3, 5, 8, 0, tzinfo=UTC)
T0 = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)


def make_runner(server, tmp_path: Path, clock: Clock, **kw: str) -> tuple[Runner, Path]:  # type: ignore[no-untyped-def]
    config = tmp_path / "archiver.toml"
    config.write_text(site_config(server, tmp_path / "data", **kw), encoding="utf-8")
    settings = load_settings(config, {})
    store = Store(settings.db_url)
    return Runner(settings, store, Fetcher(settings.fetch), clock=clock), config


def thread_row(db: Path) -> dict:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return dict(con.execute("select * from thread").fetchone())
    finally:
        con.close()


def parse_ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def test_refresh_keeps_versions_and_flags_removals(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Item 2: 20 comments, then 25 with #3 edited and #7 removed."""
    exp = expected(REFRESH)
    clock = Clock(T0)
    with serve(REFRESH) as server:
        runner, config = make_runner(server, tmp_path, clock)
        first = runner.run_once()
        assert (first.discovered, first.archived, first.new_comments) == (1, 1, 20)
        set_file(server, THREAD, REFRESH, "v2.html")
        clock.advance(minutes=15)
        second = runner.run_once(discover=False)
        assert (second.archived, second.new_comments, second.edited, second.removed) == (
            1, 6, 1, 1)
        url = server.url(THREAD)
        out = tmp_path / "thread.txt"
        result = cli("-c", str(config), "export", "text", url, "-o", str(out))
        assert result.code == 0, result.err
        jsonl = cli("-c", str(config), "export", "jsonl", url, "-o", "-")
        assert jsonl.code == 0, jsonl.err

    db = sqlite3.connect(tmp_path / "data" / "archiver.db")
    rows = db.execute(
        "select source_id, version, body_text, removed_at from comment order by position"
    ).fetchall()
    assert len(rows) == 26  # nothing deleted
    current = [r[0] for r in rows if r[3] is None]
    assert current == exp["v2"]["current"]  # the 25 current comments, in thread order
    assert len(current) == 25
    removed = [r for r in rows if r[3] is not None]
    assert [r[0] for r in removed] == [exp["removed"]["source_id"]]
    assert parse_ts(removed[0][3]) == T0 + timedelta(minutes=15)  # when it was first missed
    edited = next(r for r in rows if r[0] == exp["edited"]["source_id"])
    assert edited[1] == 2 and edited[2] == "\n\n".join(exp["edited"]["after"])
    versions = db.execute(
        "select v.version, v.body_text, v.first_seen_at, v.replaced_at from commentversion v"
        " join comment c on c.id = v.comment_id where c.source_id = ?",
        (exp["edited"]["source_id"],),
    ).fetchall()
    assert versions == [(1, "\n\n".join(exp["edited"]["before"]),
                         T0.replace(tzinfo=None).isoformat(sep=" ") + ".000000",
                         (T0 + timedelta(minutes=15)).replace(tzinfo=None).isoformat(sep=" ")
                         + ".000000")]
    assert db.execute("select count(*) from commentversion").fetchone() == (1,)
    assert db.execute("pragma integrity_check").fetchone() == ("ok",)
    # the text export shows the thread as it stands now
    want = (REFRESH / "expected-v2.txt").read_text(encoding="utf-8")
    assert normalise(out.read_text(encoding="utf-8")) == normalise(want)
    # the JSONL export carries the history: both versions of comment 3, comment 7 removed
    (line,) = jsonl.out.splitlines()
    comments = {c["source_id"]: c for c in json.loads(line)["comments"]}
    assert len(comments) == 26
    assert sum(not c["removed"] for c in comments.values()) == 25
    three = comments[exp["edited"]["source_id"]]
    assert three["version"] == 2 and three["body_text"] == "\n\n".join(exp["edited"]["after"])
    assert [(h["version"], h["body_text"]) for h in three["history"]] == [
        (1, "\n\n".join(exp["edited"]["before"]))]
    seven = comments[exp["removed"]["source_id"]]
    assert seven["removed"] is True and seven["body_text"] == "\n\n".join(exp["removed"]["text"])
    assert seven["removed_at"].startswith("2024-03-05T09:15:00")


def test_backoff_and_stop_on_comments_closed_with_a_controlled_clock(tmp_path: Path) -> None:
    """Item 3: 15 min after a change, doubling while quiet up to a day; closed: never again."""
    clock = Clock(T0)
    with serve(REFRESH) as server:
        runner, _ = make_runner(server, tmp_path, clock)
        db = tmp_path / "data" / "archiver.db"

        def due_in() -> float:
            row = thread_row(db)
            due = parse_ts(row["next_due_at"])
            assert due is not None
            return (due - clock.now).total_seconds()

        runner.run_once()
        assert due_in() == 15 * 60
        fetched = len(paths(server))

        # not due yet: nothing is fetched
        clock.advance(minutes=14)
        assert runner.run_once(discover=False).archived == 0
        assert len(paths(server)) == fetched
        clock.advance(minutes=1)

        # quiet polls double the wait until it reaches max_interval (1 day)
        waits = []
        for _ in range(8):
            assert runner.run_once(discover=False).archived == 1
            waits.append(due_in())
            clock.advance(seconds=due_in())
        assert waits == [1800, 3600, 7200, 14400, 28800, 57600, 86400, 86400]
        assert paths(server)[fetched:] == [THREAD] * 8  # one fetch per poll, no more

        # new comments: back to the shortest interval
        set_file(server, THREAD, REFRESH, "v2.html")
        runner.run_once(discover=False)
        assert due_in() == 15 * 60
        clock.advance(minutes=15)
        runner.run_once(discover=False)
        assert due_in() == 30 * 60
        set_file(server, THREAD, REFRESH, "v3.html")
        clock.advance(minutes=30)
        runner.run_once(discover=False)
        assert due_in() == 15 * 60

        # comments closed: the thread is not polled again, ever
        set_file(server, THREAD, REFRESH, "v4-closed.html")
        clock.advance(minutes=15)
        runner.run_once(discover=False)
        row = thread_row(db)
        assert row["status"] == "closed" and row["comments_closed"] == 1
        assert row["next_due_at"] is None
        before = len(paths(server))
        for days in (1, 10, 100):
            clock.advance(days=days)
            assert runner.run_once(discover=False).archived == 0
        assert len(paths(server)) == before


def test_polling_stops_at_max_age(tmp_path: Path) -> None:
    clock = Clock(T0)
    with serve(REFRESH) as server:
        runner, _ = make_runner(server, tmp_path, clock, max_age="2d")
        db = tmp_path / "data" / "archiver.db"
        runner.run_once()
        expires = PUBLISHED + timedelta(days=2)
        clock.set(expires - timedelta(minutes=5))
        runner.run_once(discover=False)
        assert parse_ts(thread_row(db)["next_due_at"]) == expires  # last poll at the boundary
        clock.set(expires)
        assert runner.run_once(discover=False).archived == 1
        row = thread_row(db)
        assert row["next_due_at"] is None and row["status"] == "open"
        clock.advance(days=3)
        assert runner.run_once(discover=False).archived == 0


def test_gone_thread_is_marked_and_kept(tmp_path: Path) -> None:
    clock = Clock(T0)
    with serve(REFRESH) as server:
        runner, _ = make_runner(server, tmp_path, clock)
        runner.run_once()
        server.set_page(THREAD, "<html><body>gone</body></html>", status=410)
        clock.advance(minutes=15)
        summary = runner.run_once(discover=False)
        assert summary.failed == 1 and "HTTP 410" in summary.errors[0]
        clock.advance(days=2)
        assert runner.run_once(discover=False).archived == 0  # not polled again
    db = sqlite3.connect(tmp_path / "data" / "archiver.db")
    status, gone_at, due, error = db.execute(
        "select status, gone_at, next_due_at, last_error from thread").fetchone()
    assert status == "gone" and gone_at is not None and due is None and "410" in error
    assert db.execute("select count(*) from comment where removed_at is null").fetchone() == (20,)


def test_failed_refresh_is_retried_later(tmp_path: Path) -> None:
    clock = Clock(T0)
    with serve(REFRESH) as server:
        runner, _ = make_runner(server, tmp_path, clock, fetch_extra="max_attempts = 1\n")
        runner.run_once()
        server.set_page(THREAD, "<html><body>oops</body></html>", status=500)
        clock.advance(minutes=15)
        summary = runner.run_once(discover=False)
        assert summary.failed == 1
        row = thread_row(tmp_path / "data" / "archiver.db")
        assert "HTTP 500" in row["last_error"] and row["status"] == "open"
        assert parse_ts(row["next_due_at"]) == clock.now + timedelta(minutes=30)
        set_file(server, THREAD, REFRESH, "v1.html")
        clock.advance(minutes=30)
        assert runner.run_once(discover=False).archived == 1
        assert thread_row(tmp_path / "data" / "archiver.db")["last_error"] is None


@pytest.mark.parametrize(
    ("changed", "closed", "interval", "expect"),
    [
        (True, False, None, 900),
        (False, False, 900, 1800),
        (False, False, 86400, 86400),
        (True, False, 86400, 900),
        (False, False, None, 900),
    ],
)
def test_plan_refresh(changed: bool, closed: bool, interval: float | None, expect: int) -> None:
    policy = RefreshPolicy()
    due, got = plan_refresh(policy, now=T0, changed=changed, closed=closed, interval_s=interval,
                            born=PUBLISHED)
    assert got == expect and due == T0 + timedelta(seconds=expect)
    assert plan_refresh(policy, now=T0, changed=changed, closed=True, interval_s=interval,
                        born=PUBLISHED)[0] is None
    assert plan_refresh(policy, now=T0 + timedelta(days=31), changed=changed, closed=False,
                        interval_s=interval, born=PUBLISHED)[0] is None
