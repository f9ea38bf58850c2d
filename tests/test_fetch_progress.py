"""Issue 20, item 4: `archiver archive` on a closed port says each retry as it happens on a
terminal (without -v), and keeps stderr to the one error line when it is not a terminal."""

from __future__ import annotations

import os
import pty
import re
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, run_cli_subprocess

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    return port


def env_for(tmp_path: Path) -> dict[str, str]:
    return {
        "ARCHIVER_DATA_DIR": str(tmp_path / "archive"),
        "ARCHIVER_DELAY": "0",
        "ARCHIVER_FETCH_MAX_ATTEMPTS": "3",
        "ARCHIVER_FETCH_BACKOFF_BASE": "0.1",
    }


def run_on_a_terminal(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal; return its exit code and what it wrote
    there, control sequences removed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "archiver.cli", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, cwd=ROOT,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "200", **env},
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = proc.wait()
    text = b"".join(chunks).decode("utf-8", errors="replace").replace("\r\n", "\n")
    text = ANSI.sub("", text).replace("\r", "\n")
    return code, text


def test_retries_show_on_a_terminal(tmp_path: Path) -> None:
    port = closed_port()
    code, err = run_on_a_terminal("archive", f"http://127.0.0.1:{port}/x.html",
                                  env=env_for(tmp_path))
    assert code == 3, err
    lines = [line.strip() for line in err.splitlines() if line.strip().startswith("attempt ")]
    why = rf"cannot connect to 127\.0\.0\.1:{port}: \[Errno \d+\] Connection refused"
    assert len(lines) == 2, err
    assert re.fullmatch(rf"attempt 2 of 3 in 0\.\d s: {why}", lines[0]), lines
    assert re.fullmatch(rf"attempt 3 of 3 in 0\.\d s: {why}", lines[1]), lines
    assert f"error: cannot reach 127.0.0.1:{port}" in err
    assert "Traceback" not in err


def test_piped_the_retries_are_in_the_verbose_log(tmp_path: Path) -> None:
    """Piped, stderr keeps to the one error line (tests/test_cli_errors.py, unreachable host);
    with -v the retries are logged, with their waits."""
    port = closed_port()
    result = run_cli_subprocess("-v", "archive", f"http://127.0.0.1:{port}/x.html",
                                env=env_for(tmp_path))
    assert result.code == 3
    found = re.findall(r"archiver\.fetch: (attempt \d of 3) in 0\.\d s: cannot connect", result.err)
    assert found == ["attempt 2 of 3", "attempt 3 of 3"], result.err
