"""Quick start's first command: `archiver demo` archives the bundled sample and exports it."""

from __future__ import annotations

import re
import socket
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import REFERENCE, normalise, run_cli_subprocess


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_demo_archives_and_exports_the_sample(tmp_path: Path) -> None:
    """Into its own data folder: the user's archive (ARCHIVER_DATA_DIR) is never touched."""
    env = {"ARCHIVER_DATA_DIR": str(tmp_path / "archive")}
    demo = tmp_path / "demo"
    day = datetime.now(UTC).date()
    port = free_port()  # not the default 8642: two suites (or a demo) may run side by side
    result = run_cli_subprocess("demo", "--data-dir", str(demo), "--port", str(port), env=env)
    assert result.code == 0, result.err
    assert counts(result.out) == (40, 3, 40, 0, 0)
    assert f"its own store and exports in {demo}" in result.out
    assert not (tmp_path / "archive").exists()
    assert (demo / "archiver.db").is_file()
    exports = demo / "exports"
    assert f"Exports are in {exports}" in result.out
    (dump,) = exports.glob("*.txt")
    assert normalise(dump.read_text(encoding="utf-8")) == normalise(
        REFERENCE.read_text(encoding="utf-8"))
    assert (exports / "html" / "index.html").is_file()
    # a second run finds the same thread: nothing new, nothing duplicated
    again = run_cli_subprocess("demo", "--data-dir", str(demo), "--port", str(port), env=env)
    assert again.code == 0, again.err
    assert counts(again.out) == (40, 3, 0, 0, 0)  # numbers parsed: "40 new" is not "0 new"
    db = sqlite3.connect(demo / "archiver.db")
    try:
        assert db.execute("select count(*) from thread").fetchone() == (1,)
        assert db.execute("select count(*), count(removed_at) from comment").fetchone() == (40, 0)
    finally:
        db.close()
    # nothing new: the mirror says so rather than counting rewritten files (pages carry the
    # day of the last check only, so this holds unless the runs straddle midnight UTC)
    if day == datetime.now(UTC).date():
        assert "nothing changed (4 files already up to date)" in again.out
    assert not (tmp_path / "archive").exists()


SUMMARY = re.compile(
    r"\b(\d+) comments, (\d+) pages?\b.*?\b(\d+) new, (\d+) edited, (\d+) removed\b")


def counts(out: str) -> tuple[int, ...]:
    """(comments, pages, new, edited, removed) from the one archive summary line in out."""
    found = SUMMARY.findall(out)
    assert len(found) == 1, out
    return tuple(int(n) for n in found[0])


def test_demo_without_the_sample_is_a_clear_error(tmp_path: Path) -> None:
    env = {"ARCHIVER_DATA_DIR": str(tmp_path / "archive")}
    result = run_cli_subprocess("demo", "--sample", str(tmp_path / "nothing"),
                                "--data-dir", str(tmp_path / "demo"), env=env)
    assert result.code == 2
    assert "routes.json" in result.err and "Traceback" not in result.err


def test_devserver_serves_a_fixture_folder_until_stopped() -> None:
    """`python -m archiver.devserver FOLDER --port 0`, as the README shows for trying things."""
    import signal
    import subprocess
    import sys

    import httpx

    from tests.conftest import FIXTURES, ROOT

    proc = subprocess.Popen(
        [sys.executable, "-m", "archiver.devserver", str(FIXTURES / "typepad" / "synthetic-blog"),
         "--port", "0"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("Serving ") and "http://127.0.0.1:" in first
        base = first.split(" at ", 1)[1].split(" ", 1)[0]
        page = httpx.get(base + "/2024/03/tide-tables.html")
        assert page.status_code == 200 and base in page.text  # origin rewritten to the server
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait() == 0
