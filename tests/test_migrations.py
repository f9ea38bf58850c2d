"""Issue 10 "upgrades keep archives" and issue 11's new-store race: a store written by release
0.1.0 opens with today's code with every row intact; the migrated schema is the models' schema
(SQLite and PostgreSQL); N processes opening one new store at once all succeed."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from archiver.search.schema import include_name
from archiver.store.db import Store
from archiver.store.migrations import HEAD, read_revision
from archiver.store.migrations import run as migrations_run
from tests.conftest import MOA_PATH, REFERENCE, ROOT, normalise
from tests.pgserver import PostgresServer

RELEASE_DB = ROOT / "fixtures" / "store" / "release-0.1.0.db"
MOA_URL = "http://127.0.0.1:8711" + MOA_PATH  # where make-release-0.1.0.sh served it
TABLES = ("site", "thread", "threadversion", "comment", "commentversion", "capture", "blob",
          "urlstate", "discoveredurl", "sitecheck", "heartbeat")
WRITERS = 6


def columns_of(db: Path) -> dict[str, list[str]]:
    con = sqlite3.connect(db)
    try:
        return {t: [r[1] for r in con.execute(f"pragma table_info({t})")] for t in TABLES}
    finally:
        con.close()


RELEASE_COLUMNS = columns_of(RELEASE_DB)


def dump(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table, in 0.1.0's columns (later revisions may add columns), read
    with plain sqlite3 (no archiver code involved)."""
    con = sqlite3.connect(db)
    try:
        return {t: con.execute(f"select {', '.join(RELEASE_COLUMNS[t])} from {t} order by rowid"
                               ).fetchall() for t in TABLES}
    finally:
        con.close()


def schema_sql(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return sorted(con.execute("select type, name, sql from sqlite_master"
                                  " where tbl_name != 'alembic_version'").fetchall())
    finally:
        con.close()


def versions(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("select version_num from alembic_version").fetchall()
    finally:
        con.close()


@pytest.fixture
def release_copy(tmp_path: Path) -> Path:
    """A copy of the store 0.1.0 wrote (the fixture itself is never opened by archiver)."""
    db = tmp_path / "release.db"
    shutil.copyfile(RELEASE_DB, db)
    return db


def test_head_constant_is_alembics_head() -> None:
    """A new revision must move HEAD too (stores at HEAD are opened without Alembic)."""
    assert migrations_run.script_head() == HEAD


def test_release_store_is_kept_whole(release_copy: Path) -> None:
    before = dump(release_copy)
    # the fixture holds what it says (SOURCE.txt): a vacuous comparison would prove nothing
    counts = {t: len(rows) for t, rows in before.items()}
    assert counts == {"site": 3, "thread": 5, "threadversion": 1, "comment": 75,
                      "commentversion": 1, "capture": 13, "blob": 10, "urlstate": 8,
                      "discoveredurl": 3, "sitecheck": 1, "heartbeat": 1}
    assert "alembic_version" not in sqlite3.connect(release_copy).execute(
        "select name from sqlite_master").fetchall()

    store = Store(f"sqlite:///{release_copy}")
    try:
        assert (store.schema.before, store.schema.after) == (None, HEAD)
        # the ORM reads every row back, and each blob still hashes to its key
        from sqlmodel import select

        from archiver.store.models import Blob, Capture, Comment, CommentVersion, Thread
        from archiver.store.models import ThreadVersion as TV

        with store.session() as session:
            for model, table in ((Thread, "thread"), (Comment, "comment"), (TV, "threadversion"),
                                 (CommentVersion, "commentversion"), (Capture, "capture")):
                assert len(session.exec(select(model)).all()) == counts[table]
            blobs = session.exec(select(Blob)).all()
            assert [hashlib.sha256(b.data).hexdigest() for b in blobs] == [b.sha256 for b in blobs]
            edited = session.exec(select(CommentVersion)).one()
            assert edited.body_text.startswith("Comment 3 of thread 1:")
            assert session.exec(select(TV)).one().title == "Open Thread 2024-10"
    finally:
        store.close()

    assert dump(release_copy) == before  # every row of every table, column for column
    assert versions(release_copy) == [(HEAD,)]
    con = sqlite3.connect(release_copy)
    assert con.execute("pragma integrity_check").fetchall() == [("ok",)]
    assert con.execute("pragma foreign_key_check").fetchall() == []
    con.close()


def test_release_schema_is_what_revision_0001_creates(release_copy: Path, tmp_path: Path) -> None:
    """0001_initial writes the very DDL 0.1.0's create_all wrote (so adopting a 0.1.0 store by
    recording 0001_initial is true to what it holds)."""
    fresh = tmp_path / "fresh.db"
    engine = Store._create_engine(f"sqlite:///{fresh}")
    try:
        from alembic import command

        with engine.begin() as conn:
            command.upgrade(migrations_run.alembic_config(connection=conn), "0001_initial")
    finally:
        engine.dispose()
    assert versions(fresh) == [("0001_initial",)]
    assert schema_sql(fresh) == schema_sql(release_copy)
    # and the two stay alike through every later revision
    Store(f"sqlite:///{fresh}").close()
    Store(f"sqlite:///{release_copy}").close()
    assert schema_sql(fresh) == schema_sql(release_copy)


def test_release_store_exports_as_before(release_copy: Path, tmp_path: Path, cli,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVER_DATABASE_URL", f"sqlite:///{release_copy}")
    monkeypatch.delenv("ARCHIVER_CONFIG", raising=False)
    out = tmp_path / "moa.txt"
    result = cli("export", "text", MOA_URL, "-o", str(out))
    assert result.code == 0, result.err
    want = normalise(REFERENCE.read_text(encoding="utf-8"))
    assert normalise(out.read_text(encoding="utf-8")) == want
    assert versions(release_copy) == [(HEAD,)]


def test_second_upgrade_is_a_no_op_without_alembic(release_copy: Path) -> None:
    url = f"sqlite:///{release_copy}"
    Store(url).close()
    rows, ddl = dump(release_copy), schema_sql(release_copy)
    store = Store(url)
    store.close()
    assert (store.schema.before, store.schema.after, store.schema.changed) == (HEAD, HEAD, False)
    assert (dump(release_copy), schema_sql(release_copy)) == (rows, ddl)
    assert versions(release_copy) == [(HEAD,)]
    # at head, opening a store reads one row and never loads Alembic (start-up time)
    probe = ("import sys; from archiver.store.db import Store; s = Store(sys.argv[1]);"
             " print(s.schema.changed, 'alembic' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", probe, url], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert proc.stdout.split() == ["False", "False"]


def open_store(url: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    """A child process: wait for the others, then open the store (exit 1 if that fails)."""
    barrier.wait()
    try:
        Store(url).close()
    except BaseException as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        os._exit(1)
    os._exit(0)


def open_at_once(url: str) -> list[int | None]:
    """WRITERS processes open one brand-new store at the same moment; their exit codes."""
    import alembic.command  # noqa: F401  loaded before the fork: no child is slowed by imports

    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(WRITERS)
    children = [ctx.Process(target=open_store, args=(url, barrier)) for _ in range(WRITERS)]
    for child in children:
        child.start()
    for child in children:
        child.join()
    return [child.exitcode for child in children]


def test_new_sqlite_store_opened_by_many_processes_at_once(tmp_path: Path) -> None:
    db = tmp_path / "new" / "archiver.db"
    assert open_at_once(f"sqlite:///{db}") == [0] * WRITERS
    assert versions(db) == [(HEAD,)]
    assert {t for t in TABLES} <= {r[1] for r in schema_sql(db)}


def test_new_postgres_database_opened_by_many_processes_at_once(
    postgres: PostgresServer,
) -> None:
    url = postgres.create_database("archiver_race")
    assert open_at_once(url) == [0] * WRITERS
    engine = create_engine(url)
    try:
        assert read_revision(engine) == HEAD
        with engine.connect() as conn:
            assert conn.execute(text("select count(*) from alembic_version")).scalar() == 1
        assert set(TABLES) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def model_diffs(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_name": include_name})
            return compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()


def test_migrated_schema_is_the_models_schema_on_sqlite(release_copy: Path,
                                                        tmp_path: Path) -> None:
    """A model change without a revision fails here (and on PostgreSQL below)."""
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    Store(fresh).close()
    assert model_diffs(fresh) == []
    Store(f"sqlite:///{release_copy}").close()
    assert model_diffs(f"sqlite:///{release_copy}") == []


def test_migrated_schema_is_the_models_schema_on_postgres(postgres: PostgresServer) -> None:
    url = postgres.create_database("archiver_schema")
    store = Store(url)
    store.close()
    assert store.schema.before is None and store.schema.after == HEAD
    assert model_diffs(url) == []
    again = Store(url)
    again.close()
    assert not again.schema.changed


# A later revision as the lead will write them: a column added to a table others point at, and
# a change SQLite can only make by copying that table (batch mode). Foreign keys are off during
# the copy, checked after.
def test_0002_fills_the_new_columns_of_a_release_store(release_copy: Path) -> None:
    """0002 rebuilds site (batch mode) on real data: every 0.1.0 row kept, each site's base URL
    its origin + "/", each thread found by its URL (threadurl), every thread complete."""
    before = dump(release_copy)
    store = Store(f"sqlite:///{release_copy}")
    store.close()
    assert dump(release_copy) == before
    con = sqlite3.connect(release_copy)
    try:
        assert con.execute("select base_url from site order by id").fetchall() == [
            (row[1] + "/",) for row in before["site"]]
        assert sorted(con.execute("select url, thread_id from threadurl").fetchall()) == sorted(
            (row[2], row[0]) for row in before["thread"])
        assert con.execute("select count(*) from thread where complete").fetchone() == (
            len(before["thread"]),)
        assert con.execute("pragma foreign_key_check").fetchall() == []
    finally:
        con.close()
    assert versions(release_copy) == [(HEAD,)]


def test_db_commands(release_copy: Path, tmp_path: Path, cli,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVER_DATABASE_URL", f"sqlite:///{release_copy}")
    monkeypatch.delenv("ARCHIVER_CONFIG", raising=False)
    first = cli("db", "current")
    assert (first.code, first.out) == (0, "no revision: tables of archiver 0.1.0;"
                                          " run: archiver db upgrade\n")
    assert versions_table_absent(release_copy)  # `db current` changes nothing
    up = cli("db", "upgrade")
    assert (up.code, up.out) == (0, f"Upgraded sqlite:///{release_copy} from no revision"
                                    f" to {HEAD}\n")
    assert cli("db", "current").out == f"{HEAD} (head)\n"
    again = cli("db", "upgrade")
    assert (again.code, again.out) == (0, f"sqlite:///{release_copy} is up to date ({HEAD})\n")

    con = sqlite3.connect(release_copy)
    con.execute("update alembic_version set version_num = '0099_future'")
    con.commit()
    con.close()
    newer = cli("db", "current")
    assert newer.code == 0 and "0099_future (unknown to this archiver" in newer.out
    for args in (("db", "upgrade"), ("threads",)):
        refused = cli(*args)
        assert refused.code == 2 and refused.out == ""
        assert refused.err.count("\n") == 1 and "written by a newer archiver" in refused.err
    assert versions(release_copy) == [("0099_future",)]

    monkeypatch.setenv("ARCHIVER_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    missing = cli("db", "current")
    assert missing.code == 2 and missing.err.count("\n") == 1 and "no database at" in missing.err
    assert not (tmp_path / "none.db").exists()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    monkeypatch.setenv("ARCHIVER_DATABASE_URL", f"sqlite:///{empty}")
    assert cli("db", "current").out == "no revision: an empty database; run: archiver db upgrade\n"


def versions_table_absent(db: Path) -> bool:
    con = sqlite3.connect(db)
    try:
        return con.execute("select count(*) from sqlite_master where name = 'alembic_version'"
                           ).fetchone() == (0,)
    finally:
        con.close()
