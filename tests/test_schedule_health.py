"""Issue 11 Found 6 and 7: `health` notices a scheduler killed without a word (its pid is gone on
this machine); database errors are one line, never SQL, parameters or a stack, in the CLI and
under `status`'s "Last errors"."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from archiver.errors import describe
from archiver.schedule import pid_alive
from tests.conftest import ROOT, run_cli_subprocess
from tests.schedule_helpers import BLOG, serve
from tests.test_schedule_run import clean_env, query, rows_now, start_run, wait_for, write_config

SQL_NOISE = ("INSERT", "SELECT", "UPDATE ", "[parameters", "[SQL", "Traceback", "sqlalche.me")


def _health(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archiver.cli", "-c", str(config), "health"],
        cwd=ROOT, env=clean_env(), capture_output=True, text=True,
    )


def test_health_is_unhealthy_at_once_when_the_scheduler_was_killed(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    with serve(BLOG) as server:
        config = write_config(tmp_path, server)
        db = tmp_path / "data" / "archiver.db"
        proc = start_run(config, log)
        try:
            wait_for(lambda: bool(rows_now(db, "select 1 from heartbeat where state = 'running'"
                                               " and pid is not null")), proc, log)
            alive = _health(config)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()  # reaped: the pid no longer names a process
    assert alive.returncode == 0, alive.stdout + alive.stderr
    assert alive.stdout.startswith("healthy: database ok, scheduler running")
    ((state, pid),) = query(db, "select state, pid from heartbeat")
    assert state == "running" and pid == proc.pid  # killed: it could not record a stop
    assert not pid_alive(proc.pid)
    dead = _health(config)  # well within health_max_age (5 min): the heartbeat is still recent
    assert dead.returncode == 1, dead.stdout
    lines = dead.stdout.splitlines()
    assert len(lines) == 1 and dead.stderr == "", dead.stdout + dead.stderr
    assert lines[0].startswith("unhealthy: ") and f"pid {proc.pid}" in lines[0]
    assert "killed" in lines[0] and "archiver run" in lines[0]


def test_pid_alive_answers_for_this_process_and_a_reaped_one() -> None:
    assert pid_alive(os.getpid())
    assert pid_alive(1)  # init: another user's process (EPERM for non-root) still counts
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not pid_alive(child.pid)


def _plant_clash(db: Path) -> None:
    """Make the real store fail the way two writers did: from the second comment on, every
    insert violates a UNIQUE constraint (a trigger writes the same key into a unique column)."""
    con = sqlite3.connect(db)
    con.executescript(
        "create table clash (k integer unique);"
        "create trigger clash_on_comment before insert on comment"
        " begin insert into clash values (1); end;"
    )
    con.commit()
    con.close()


def test_a_database_error_is_one_line_in_the_cli(tmp_path: Path, moa_paged) -> None:  # type: ignore[no-untyped-def]
    """A real SQLite store refusing an insert: `archive` says it in one line, exit 1."""
    from tests.conftest import MOA_PATH

    env = {"ARCHIVER_DATA_DIR": str(tmp_path / "archive"), "ARCHIVER_DELAY": "0"}
    # an empty store first (an export of nothing creates nothing, so archive something else)
    assert run_cli_subprocess("archive", moa_paged.url("/nothing-here"), env=env).code == 3
    _plant_clash(tmp_path / "archive" / "archiver.db")
    result = run_cli_subprocess("archive", moa_paged.url(MOA_PATH), env=env)
    _assert_one_database_line(result.code, result.err)
    assert "UNIQUE constraint failed: clash.k" in result.err
    assert "another archiver may be writing the same thread; run again" in result.err


def _assert_one_database_line(code: int, err: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1, err
    assert len(lines) == 1, err
    assert lines[0].startswith("error: database error: "), err
    assert not any(noise in err for noise in SQL_NOISE), err
    assert "(" in lines[0] and lines[0].endswith(")")  # what to do, in brackets


def test_describe_reduces_a_real_integrity_error_to_its_first_line(tmp_path: Path) -> None:
    """The error of Found 1/7, provoked in a real SQLite store through SQLAlchemy."""
    from sqlalchemy.exc import IntegrityError
    from sqlmodel import Session

    from archiver.store.db import Store
    from archiver.store.models import UrlState

    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        with Session(store.engine) as session:
            session.add(UrlState(url="http://example.test/x" + "y" * 5000))
            session.commit()
            session.add(UrlState(url="http://example.test/x" + "y" * 5000))
            try:
                session.commit()
            except IntegrityError as exc:
                raw = str(exc)
                line = describe(exc)
            else:
                raise AssertionError("the second row should violate the unique url")
    finally:
        store.close()
    assert "INSERT" in raw and "[parameters" in raw  # what users saw before
    assert line == ("database error: UNIQUE constraint failed: urlstate.url (another archiver may"
                    " be writing the same thread; run again)")


def test_the_scheduler_stores_a_database_error_as_one_line(tmp_path: Path) -> None:
    """`run --once` meets the same refusal: the URL's last_error, the run's warnings and
    `status`'s "Last errors" are one line each."""
    with serve(BLOG) as server:
        config = write_config(tmp_path, server, extra='[scheduler]\nworkers = 1\n')
        db = tmp_path / "data" / "archiver.db"
        assert run_cli_subprocess("-c", str(config), "status", env=clean_env()).code == 2
        assert not db.exists()  # status created nothing
        assert run_cli_subprocess("-c", str(config), "health", env=clean_env()).code == 1
        # a store with its tables: an archive of a page that is no thread (nothing merged)
        run_cli_subprocess("-c", str(config), "archive", server.url("/none.html"), env=clean_env())
        _plant_clash(db)
        run = run_cli_subprocess("-c", str(config), "run", "--once", env=clean_env())
        status = run_cli_subprocess("-c", str(config), "status", env=clean_env())
    assert run.code == 0, run.err
    assert "3 failed" in run.out
    assert not any(noise in run.err + run.out for noise in SQL_NOISE), run.err
    warnings = [line for line in run.err.splitlines() if line.startswith("warning: http")]
    assert len(warnings) == 3 and all("UNIQUE constraint failed: clash.k" in w for w in warnings)
    stored = query(db, "select last_error from discoveredurl")
    assert len(stored) == 3
    for (error,) in stored:
        assert error.startswith("database error: UNIQUE constraint failed: clash.k (")
        assert "\n" not in error
    assert status.code == 0, status.err
    assert status.out.count("UNIQUE constraint failed: clash.k") == 3
    assert not any(noise in status.out for noise in SQL_NOISE), status.out


def test_status_shows_a_stored_database_error_as_one_line(tmp_path: Path) -> None:
    """The scheduler stores describe(exc) in last_error; a dump stored by an older version is
    still shown as its first line."""
    with serve(BLOG) as server:
        config = write_config(tmp_path, server)
        assert run_cli_subprocess("-c", str(config), "run", "--once", env=clean_env()).code == 0
    db = tmp_path / "data" / "archiver.db"
    dump = ("(sqlite3.IntegrityError) UNIQUE constraint failed: comment.thread_id, "
            "comment.source_id\n[SQL: INSERT INTO comment (thread_id) VALUES (?)]\n"
            "[parameters: (1,)]\n(Background on this error at: https://sqlalche.me/e/20/gkpj)")
    con = sqlite3.connect(db)
    con.execute("update thread set last_error = ? where id = (select min(id) from thread)",
                (dump,))
    con.commit()
    con.close()
    status = run_cli_subprocess("-c", str(config), "status", env=clean_env())
    assert status.code == 0, status.err
    assert "Last errors:" in status.out
    assert "UNIQUE constraint failed: comment.thread_id, comment.source_id" in status.out
    assert not any(noise in status.out for noise in SQL_NOISE), status.out
