"""Bad input gets one clear line and a non-zero exit, never a traceback (real processes)."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest

from archiver.devserver import FixtureServer, load_fixture
from tests.conftest import run_cli_subprocess


def _env(tmp_path: Path) -> dict[str, str]:
    return {"ARCHIVER_DATA_DIR": str(tmp_path / "archive"), "ARCHIVER_DELAY": "0"}


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_page_that_is_not_typepad(tmp_path: Path) -> None:
    with FixtureServer() as server:
        server.set_page("/post.html", "<html><body><h1>Hello</h1><p>Not a blog.</p></body></html>")
        result = run_cli_subprocess("archive", server.url("/post.html"), env=_env(tmp_path))
    assert result.code == 5
    line = _one_line_error(result.err)
    assert "not a thread page of a supported platform" in line


def test_http_404(tmp_path: Path) -> None:
    with FixtureServer() as server:
        result = run_cli_subprocess("archive", server.url("/missing.html"), env=_env(tmp_path))
    assert result.code == 3
    assert "HTTP 404" in _one_line_error(result.err)


def test_unreachable_host(tmp_path: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens on this port now
    env = {**_env(tmp_path), "ARCHIVER_FETCH_MAX_ATTEMPTS": "2", "ARCHIVER_FETCH_BACKOFF_BASE": "0"}
    url = f"http://127.0.0.1:{port}/x.html"
    result = run_cli_subprocess("archive", url, env=env)
    assert result.code == 3
    line = _one_line_error(result.err)
    assert line.startswith(f"error: cannot reach 127.0.0.1:{port} ") and "after 2 attempts" in line
    # the failure is recorded against the URL, for `status` and the next run
    db = sqlite3.connect(tmp_path / "archive" / "archiver.db")
    failures, error = db.execute("select failures, last_error from urlstate where url = ?",
                                 (url,)).fetchone()
    assert failures == 1 and "127.0.0.1" in error


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://example.org/x", "not an http(s) URL"),
        ("notaurl", "not an http(s) URL"),
        ("http://", "not an http(s) URL"),
        ("http://exa mple.org/", "not an http(s) URL"),
        ("http://[::1", "not a valid URL"),
    ],
)
def test_not_a_url(tmp_path: Path, url: str, says: str) -> None:
    result = run_cli_subprocess("archive", url, env=_env(tmp_path))
    assert result.code == 2  # bad usage, refused before anything is fetched or stored
    assert says in _one_line_error(result.err)
    assert not (tmp_path / "archive" / "archiver.db").exists()


def test_database_that_cannot_be_opened(tmp_path: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # no PostgreSQL listens here
    cases = [
        (f"postgresql+psycopg://me:s3cret@127.0.0.1:{port}/db", "Connection refused"),
        ("postgresql+pg8000://me:s3cret@127.0.0.1/db", "pip install '.[postgres]'"),
        ("nosuchdb://x", "supports sqlite:/// and postgresql+psycopg://"),
        ("postgres://me:s3cret@127.0.0.1/db", "write it as postgresql+psycopg://"),
        (f"sqlite:///{tmp_path}/a-file/below/x.db", "cannot open database sqlite"),
    ]
    (tmp_path / "a-file").write_text("not a folder")
    for url, says in cases:
        env = {**_env(tmp_path), "ARCHIVER_DATABASE_URL": url}
        # a read-only command never creates a SQLite store: a writing one meets the error
        args = ("archive", "http://127.0.0.1:9/x.html") if url.startswith("sqlite") \
            else ("threads",)
        result = run_cli_subprocess(*args, env=env)
        assert result.code == 2, (url, result.err)
        line = _one_line_error(result.err)
        assert line.startswith("error: cannot open database") and says in line, line
        assert "s3cret" not in line
    nothing = run_cli_subprocess("threads", env={
        **_env(tmp_path), "ARCHIVER_DATABASE_URL": f"sqlite:///{tmp_path}/a-file/below/x.db"})
    assert nothing.code == 2 and _one_line_error(nothing.err).startswith("error: no archive at")


def test_non_html_response(tmp_path: Path) -> None:
    with FixtureServer() as server:
        server.set_page("/feed.json", '{"a": 1}', content_type="application/json")
        result = run_cli_subprocess("archive", server.url("/feed.json"), env=_env(tmp_path))
    assert result.code == 5
    assert "not an HTML page" in _one_line_error(result.err)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["archive"], "Missing argument 'URL'. (see 'archiver archive --help')"),
        (["--bogus"], "No such option: --bogus"),
        (["no-such-command"], "No such command 'no-such-command'"),
        (["export", "text", "--since"], "Option '--since' requires an argument"),
    ],
)
def test_command_line_mistakes_are_one_line(tmp_path: Path, args: list[str], says: str) -> None:
    result = run_cli_subprocess(*args, env=_env(tmp_path))
    assert result.code == 2
    line = _one_line_error(result.err)
    assert line.startswith("error: ") and says in line


def test_bare_command_prints_help(tmp_path: Path) -> None:
    result = run_cli_subprocess(env=_env(tmp_path))
    assert "Usage: archiver" in result.out and "archive" in result.out
    assert result.err == ""


def test_host_name_that_does_not_resolve(tmp_path: Path) -> None:
    env = {**_env(tmp_path), "ARCHIVER_FETCH_MAX_ATTEMPTS": "2", "ARCHIVER_FETCH_BACKOFF_BASE": "0"}
    result = run_cli_subprocess("archive", "http://no-such-host.invalid/x.html", env=env)
    assert result.code == 3
    line = _one_line_error(result.err)
    assert "cannot reach no-such-host.invalid" in line
    if "Name or service not known" in line or "nodename nor servname" in line:
        assert "attempts" not in line and "unknown host" in line  # failed at once, no retries


def test_a_name_that_does_not_resolve_is_not_retried() -> None:
    import httpx

    from archiver.fetch.client import _unknown_host

    def connect_error(cause: OSError) -> httpx.ConnectError:
        try:
            try:
                raise cause
            except OSError as exc:
                raise httpx.ConnectError(str(exc)) from exc
        except httpx.ConnectError as outer:
            return outer

    assert _unknown_host(connect_error(socket.gaierror(socket.EAI_NONAME, "Name not known")))
    assert not _unknown_host(connect_error(socket.gaierror(socket.EAI_AGAIN, "Try again")))
    assert not _unknown_host(connect_error(ConnectionRefusedError(111, "Connection refused")))


def test_reader_closing_the_pipe_early_is_not_an_error_message(tmp_path: Path) -> None:
    """`archiver export jsonl -o - | head -c 10`: exit 141 like a shell tool, nothing on stderr."""
    import os
    import subprocess
    import sys

    from tests.conftest import MOA, MOA_PATH, ROOT

    env = {**os.environ, **_env(tmp_path)}
    origin, routes = load_fixture(MOA / "paged")
    with FixtureServer(routes, origin=origin) as server:
        assert run_cli_subprocess("archive", server.url(MOA_PATH), env=env).code == 0
    proc = subprocess.Popen([sys.executable, "-m", "archiver.cli", "export", "jsonl", "-o", "-"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10) == b'{"schema":'
    proc.stdout.close()  # the export is far bigger than a pipe's buffer: the next write fails
    err = proc.stderr.read().decode()
    assert proc.wait() == 141 and err == ""
