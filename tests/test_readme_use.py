"""Issue 20 item 10: the README's Use section agrees with the commands. Each documented command
is run (its options must exist in its --help, what its comment promises must hold), and the
documented session is replayed on a real terminal (a pty) and compared line by line."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shlex
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_demo import free_port

STAMP = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d)?Z?")
DOC_PORT = "8700"


def use_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text[text.index("\n## Use\n"):text.index("\n### Export\n")]


def code_block(section: str, lang: str) -> str:
    match = re.search(rf"```{lang}\n(.*?)```", section, re.S)
    assert match is not None, f"no ```{lang} block in the Use section"
    return match.group(1)


def documented_commands() -> list[tuple[str, str]]:
    """(command, its comment) for each line of the Use section's command list."""
    rows = []
    for line in code_block(use_section(), "sh").splitlines():
        command, _, comment = line.partition("#")
        if command.strip():
            rows.append((command.strip(), comment.strip()))
    return rows


@pytest.fixture
def sample_blog() -> Iterator[str]:
    """The devserver exactly as the README starts it, on the first free port from 8700 on (four
    digits, as documented: the tables' widths depend on it)."""
    (line,) = [c for c, _ in documented_commands() if c.startswith("python -m")]
    args = shlex.split(line)
    where = args.index("--port") + 1
    for port in range(int(DOC_PORT), int(DOC_PORT) + 100):
        args[where] = str(port)
        proc = subprocess.Popen([sys.executable, *args[1:]], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None
        first = proc.stdout.readline()
        if first.startswith("Serving ") and f"127.0.0.1:{port} " in first:
            break
        proc.terminate()  # the port is taken (the server took any free one): the next one
        proc.wait()
    else:
        raise AssertionError("no free port from 8700 to 8799")
    try:
        yield first.split(" at ", 1)[1].split(" ", 1)[0]
    finally:
        proc.terminate()
        proc.wait()


def test_each_documented_command_runs_and_does_what_its_comment_says(
    sample_blog: str, data_dir: Path, tmp_path: Path, cli, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARCHIVER_DEMO_PORT", str(free_port()))  # 8642 may be in use
    url = f"{sample_blog}/2024/03/tide-tables.html"
    commands = [(c, comment) for c, comment in documented_commands() if c.startswith("archiver ")]
    assert [c.split()[1] for c, _ in commands] == [
        "archive", "threads", "threads", "export", "status", "search", "demo", "--version"]
    for command, comment in commands:
        args = shlex.split(command.replace("URL", url))[1:]
        result = cli(*args)
        assert result.code == 0, f"{command}: {result.err}"
        if not args[0].startswith("-"):  # its options are the ones its --help documents
            helped = cli(args[0], "--help")
            for option in (a for a in args[1:] if a.startswith("-")):
                assert re.search(rf"(^|\s){re.escape(option)}\s", helped.out), (command, option)
        if args == ["threads"]:  # "what is archived: title, comments, last fetched, ..."
            header = result.out.splitlines()[0].replace("_", " ").split("\t")
            promised = comment.split(":", 1)[1].split(",")
            assert sorted(p.strip().lower() for p in promised) == sorted(header)
            assert "tab-separated with a header" in dict(commands)["archiver threads --json"]
        elif args == ["threads", "--json"]:
            import json

            (row,) = json.loads(result.out)
            assert row["url"] == url and row["status"] == "open"
        elif args[0] == "export":
            assert (tmp_path / "thread.txt").read_text(encoding="utf-8").startswith(
                "The Quiet Harbour")
            assert "-o - for stdout" in comment
            stdout = cli(*args[:-1], "-")
            assert stdout.out.startswith("The Quiet Harbour")
        elif args == ["status"]:
            for part in ("scheduler", "sites", "threads due", "last errors"):
                assert part in comment
            helped = cli("status", "--help").out
            assert "Show the scheduler, the sites, the threads due and the last errors." in helped
        elif args[0] == "search":
            for part in ("thread", "author", "date", "«marked»"):
                assert part in comment
            assert f"<{url}>" in result.out
            assert re.search(r"«[^»]*tide[^»]*»", result.out.lower())
            assert re.search(r"«[^»]*storm oar[^»]*»", result.out.lower())
        elif args == ["demo"]:
            assert "./archive-demo" in comment
            assert (tmp_path / "archive-demo" / "archiver.db").is_file()
            assert f"in {tmp_path / 'archive-demo'}" in result.out
        elif args == ["--version"]:
            assert re.fullmatch(r"archiver \d+\.\d+\.\d+\n", result.out)


def run_in_terminal(command: str, *, cwd: Path, env: dict[str, str], columns: int = 120,
                    lines: int = 100) -> list[str]:
    """Run a shell command line on a real pseudo-terminal; the screen a person then sees (pyte
    plays the terminal: a spinner drawn and erased leaves nothing, as on a real one)."""
    import pyte

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    proc = subprocess.Popen(["bash", "-c", command], cwd=cwd, env=env, stdin=slave,
                            stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    screen = pyte.Screen(columns, lines)
    stream = pyte.ByteStream(screen)
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not chunk:
            break
        stream.feed(chunk)
    os.close(master)
    shown = [line.rstrip() for line in screen.display]
    while shown and not shown[-1]:
        shown.pop()
    assert proc.wait() == 0, "\n".join(shown)
    return shown


def _normal(lines: list[str], port: str) -> list[str]:
    """Our port shown as the README's, times masked, tabs at the terminal's stops."""
    return [STAMP.sub("<when>", line.expandtabs().replace(port, DOC_PORT).rstrip())
            for line in lines]


def test_the_documented_session_prints_what_the_readme_shows(
    sample_blog: str, tmp_path: Path
) -> None:
    port = sample_blog.rsplit(":", 1)[1]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ARCHIVER_") and k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env.update(ARCHIVER_DATA_DIR=str(tmp_path / "archive"), ARCHIVER_DELAY="0", TERM="xterm",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    session = code_block(use_section(), "console")
    steps: list[tuple[str, list[str]]] = []
    for line in session.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    assert len(steps) >= 4
    for command, shown in steps:
        assert f"127.0.0.1:{DOC_PORT}" in command or "archiver threads" in command \
            or "--version" in command
        printed = run_in_terminal(command.replace(DOC_PORT, port), cwd=tmp_path, env=env)
        assert _normal(printed, port) == _normal(shown, port), "\n".join([command, *printed])
