"""Issue 11, Found 1 / must-show 1: two writers on one thread, as real processes on a real store.

Two `archiver archive URL` of the same new thread started together into one brand-new store,
20 times (a fresh store each time), on SQLite and on PostgreSQL; and `archiver archive` while
`archiver run` archives the same thread. A Gate on the server holds the thread's first page until
both processes have asked for it, so both parse and write at the same moment every time (the
store was created by both at their start, which is the other race of the issue).

The 20 rounds fork their CLI processes from tests/cli_forker.py (the CLI imported once: 40 fresh
interpreters cost minutes on a busy machine); ARCHIVER_RACE_LAUNCHER=python-m starts each as
`python -m archiver.cli` instead, ARCHIVER_RACE_ROUNDS changes the number of rounds. The
archive-during-run test always uses `python -m archiver.cli` for both processes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

from archiver.store.db import default_database_url
from tests.conftest import MOA_PATH, ROOT
from tests.pgserver import PostgresServer
from tests.reliability_helpers import PAGED, Gate, error_lines, fixture_server, number_before
from tests.schedule_helpers import PAGED as SYNTHETIC_PAGED
from tests.schedule_helpers import expected, serve
from tests.test_schedule_run import clean_env, start_run, write_config

ROUNDS = int(os.environ.get("ARCHIVER_RACE_ROUNDS", "20"))
LAUNCHER = os.environ.get("ARCHIVER_RACE_LAUNCHER", "fork")
SQL_DUMP = re.compile(r"\[SQL:|\[parameters:|\b(INSERT INTO|CREATE TABLE|UPDATE \w+ SET)\b|"
                      r"\bSELECT\b.*\bFROM\b|IntegrityError|OperationalError")


class Forker:
    """tests/cli_forker.py in a subprocess: CLI processes forked from it, a batch at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.batches = 0
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.cli_forker"], cwd=ROOT, env=clean_env(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )

    def run(self, argvs: list[list[str]], env: dict[str, str], gate: Gate
            ) -> list[tuple[int, str, str]]:
        """Fork one process per argv at once and wait for all; the gate is opened as soon as
        one has ended (one that died before asking must not hold the other)."""
        self.batches += 1
        files = [(self.folder / f"{self.batches}-{i}.out", self.folder / f"{self.batches}-{i}.err")
                 for i in range(len(argvs))]
        runs = [{"argv": argv, "env": env, "out": str(out), "err": str(err)}
                for argv, (out, err) in zip(argvs, files, strict=True)]
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"runs": runs}) + "\n")
        self.proc.stdin.flush()
        codes: dict[int, int] = {}
        while len(codes) < len(argvs):
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"the forker died (exit {self.proc.wait()})")
            ended = json.loads(line)
            codes[ended["child"]] = ended["code"]
            gate.open()
        return [(codes[i], out.read_text(), err.read_text()) for i, (out, err) in enumerate(files)]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def run_python_m(argvs: list[list[str]], env: dict[str, str], gate: Gate
                 ) -> list[tuple[int, str, str]]:
    """The same with `python -m archiver.cli` processes."""
    procs = [subprocess.Popen([sys.executable, "-m", "archiver.cli", *argv], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for argv in argvs]
    while all(p.poll() is None for p in procs):
        time.sleep(0.02)
    gate.open()
    return [(p.wait(), *p.communicate()) for p in procs]


def problems_of(outcome: tuple[int, str, str], comments: int) -> list[str]:
    code, out, err = outcome
    found = []
    if code != 0:
        found.append(f"exit {code}: {err.strip()[:300]}")
    if "Traceback" in err or SQL_DUMP.search(err):
        found.append(f"traceback or SQL on stderr: {err.strip()[:300]}")
    elif error_lines(err) and code == 0:
        found.append(f"error line with exit 0: {err.strip()[:300]}")
    if code == 0 and number_before("comments", out) != comments:
        found.append(f"summary does not say {comments} comments: {out.strip()}")
    return found


def store_counts(database_url: str) -> tuple[int, int, int, int, int]:
    """(comments, distinct (thread, source id), flagged removed, threads, sites)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text(
                "select (select count(*) from comment),"
                " (select count(*) from (select distinct thread_id, source_id from comment) d),"
                " (select count(removed_at) from comment),"
                " (select count(*) from thread), (select count(*) from site)"
            )).one()
    finally:
        engine.dispose()
    return tuple(int(v) for v in row)  # type: ignore[return-value]


def race(tmp_path: Path, new_store: Callable[[int], tuple[str, dict[str, str]]]) -> None:
    """ROUNDS times: a new store, two `archive` of the paged MoA thread started together."""
    gate = Gate(MOA_PATH)
    server = fixture_server(PAGED, etags=True, gate=gate)
    forker = Forker(tmp_path) if LAUNCHER == "fork" else None
    failures: list[str] = []
    started = time.monotonic()
    try:
        url = server.url(MOA_PATH)
        for i in range(ROUNDS):
            gate.reset()
            database_url, env = new_store(i)
            argvs = [["archive", url], ["archive", url]]
            outcomes = (forker.run(argvs, env, gate) if forker is not None
                        else run_python_m(argvs, env, gate))
            problems = [p for o in outcomes for p in problems_of(o, 40)]
            try:
                counts = store_counts(database_url)
            except Exception as exc:  # a store the processes could not even create
                counts = (-1, -1, -1, -1, -1)
                problems.append(f"store unreadable: {type(exc).__name__}")
            if counts != (40, 40, 0, 1, 1):
                problems.append(f"store holds (comments, unique, removed, threads, sites) = "
                                f"{counts}, not (40, 40, 0, 1, 1)")
            failures += [f"round {i + 1}: {p}" for p in problems]
    finally:
        if forker is not None:
            forker.close()
        server.stop()
    elapsed = time.monotonic() - started
    bad_rounds = len({f.split(":")[0] for f in failures})
    note = (f"{ROUNDS} rounds of two concurrent archives ({LAUNCHER}): {elapsed:.1f} s; "
            f"both on the first page together in {gate.met} rounds; {bad_rounds} rounds failed")
    print(note)
    assert not failures, note + ":\n" + "\n".join(failures[:12])
    assert gate.met == ROUNDS  # every round really had both writers on the page at once


def env_for(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = clean_env(ARCHIVER_DATA_DIR=str(data_dir), ARCHIVER_DELAY="0")
    if database_url is not None:
        env["ARCHIVER_DATABASE_URL"] = database_url
    return env


def test_two_archives_of_one_new_thread_into_a_new_sqlite_store(tmp_path: Path) -> None:
    def new_store(i: int) -> tuple[str, dict[str, str]]:
        data = tmp_path / f"round-{i}"
        return default_database_url(data), env_for(data)

    race(tmp_path, new_store)


def test_two_archives_of_one_new_thread_into_a_new_postgres_database(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    def new_store(i: int) -> tuple[str, dict[str, str]]:
        database_url = postgres.create_database(f"race_{i}")
        return database_url, env_for(tmp_path / "data", database_url)

    race(tmp_path, new_store)


def test_archive_while_run_archives_the_same_thread(tmp_path: Path) -> None:
    """The container workflow: `archiver run` discovers the thread in the feed and archives it
    while someone runs `archiver archive` on it. Both succeed, nothing is logged as an error,
    `archiver status` is clean, every comment is stored once."""
    exp = expected(SYNTHETIC_PAGED)
    first_page = exp["pages"][0]
    gate = Gate(first_page)
    log = tmp_path / "run.log"
    db = tmp_path / "data" / "archiver.db"
    with serve(SYNTHETIC_PAGED, etags=True) as server:
        gate.install(server)
        config = write_config(tmp_path, server)
        url = server.url(first_page)
        run = start_run(config, log)
        try:
            archive = subprocess.Popen(
                [sys.executable, "-m", "archiver.cli", "-c", str(config), "archive", url],
                cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True,
            )
            ((code, out, err),) = _finish_archive(archive, run, gate)
            # the scheduler's own attempt at the thread has ended (done, or failed and counted)
            _wait_until_processed(db, run, log)
        finally:
            run.send_signal(signal.SIGTERM)
            run_code = run.wait()
        status = subprocess.run(
            [sys.executable, "-m", "archiver.cli", "-c", str(config), "status"],
            cwd=ROOT, env=clean_env(), capture_output=True, text=True,
        )
    run_log = log.read_text(encoding="utf-8")
    assert problems_of((code, out, err), 80) == []
    assert run_code == 0, run_log
    assert "Traceback" not in run_log and not SQL_DUMP.search(run_log), run_log
    assert not re.search(r"\bfailed\b|\berror\b", run_log, re.IGNORECASE), run_log
    assert gate.met == 1  # both were on the thread's first page at the same moment
    assert status.returncode == 0, status.stderr
    assert "Last errors:" not in status.stdout and "last error:" not in status.stdout, \
        status.stdout
    counts = store_counts(default_database_url(tmp_path / "data"))
    assert counts == (80, 80, 0, 1, 1), counts
    con_rows = _rows(db, "select state, attempts, last_error from discoveredurl")
    assert con_rows == [("done", 0, None)], con_rows


def _finish_archive(archive: subprocess.Popen[str], run: subprocess.Popen[bytes],
                    gate: Gate) -> list[tuple[int, str, str]]:
    while archive.poll() is None:
        if run.poll() is not None:  # the scheduler died: let the archive go on alone
            gate.open()
        time.sleep(0.02)
    gate.open()  # whatever happens next, nothing waits on the gate any more
    return [(archive.returncode, *archive.communicate())]


def _rows(db: Path, sql: str) -> list[tuple]:
    import sqlite3

    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _wait_until_processed(db: Path, run: subprocess.Popen[bytes], log: Path) -> None:
    """Until the run has archived the discovered thread or recorded a failure for it (the bound
    only keeps a broken run from hanging the suite; it is no condition the test checks)."""
    import sqlite3

    for _ in range(6000):
        try:
            rows = _rows(db, "select state, attempts from discoveredurl")
        except sqlite3.OperationalError:  # the run has not created its tables yet
            rows = []
        if rows and (rows[0][0] != "queued" or rows[0][1] > 0):
            return
        if run.poll() is not None:
            raise AssertionError(f"archiver run exited {run.returncode}:\n{log.read_text()}")
        time.sleep(0.05)
    raise AssertionError(f"archiver run never archived the thread:\n{log.read_text()}")
