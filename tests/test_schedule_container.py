"""Issue 5 item 6: the Dockerfile's install and start commands, run in a fresh virtualenv.

No Docker engine is available here, so no image is built. Instead the build context is made the
way Docker makes it (the source tree filtered by .dockerignore), the Dockerfile's `pip install`
RUN line is run in a new virtualenv, and its CMD and HEALTHCHECK are run from that virtualenv with
the Dockerfile's ENV (its /data and /config pointed at temporary folders).
"""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import ROOT
from tests.schedule_helpers import BLOG, expected, serve, site_config


@dataclass
class Dockerfile:
    base: str = ""
    env: dict[str, str] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)
    copies: list[list[str]] = field(default_factory=list)
    user: str = ""
    workdir: str = ""
    volumes: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    stopsignal: str = ""


def _exec_form(text: str) -> list[str]:
    text = text.strip()
    return json.loads(text) if text.startswith("[") else ["/bin/sh", "-c", text]


def parse_dockerfile(path: Path) -> Dockerfile:
    """The instructions of a Dockerfile (continuations joined, comments dropped)."""
    lines: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.strip().startswith("#") or not raw.strip():
            continue
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        lines.append(pending + raw)
        pending = ""
    df = Dockerfile()
    for line in lines:
        word, _, rest = line.strip().partition(" ")
        word, rest = word.upper(), rest.strip()
        if word == "FROM":
            df.base = rest
        elif word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                df.env[key] = value
        elif word == "RUN":
            df.runs.append(rest)
        elif word == "COPY":
            df.copies.append(shlex.split(rest))
        elif word == "USER":
            df.user = rest
        elif word == "WORKDIR":
            df.workdir = rest
        elif word == "VOLUME":
            df.volumes += _exec_form(rest) if rest.startswith("[") else rest.split()
        elif word == "CMD":
            df.cmd = _exec_form(rest)
        elif word == "HEALTHCHECK":
            _, _, command = rest.partition("CMD ")
            df.healthcheck = _exec_form(command)
        elif word == "STOPSIGNAL":
            df.stopsignal = rest
    return df


def ignored(rel: str, patterns: list[str]) -> bool:
    parts = rel.split("/")
    for pattern in patterns:
        if pattern.startswith("**/"):
            tail = pattern[3:]
            if any(fnmatch.fnmatch(part, tail) for part in parts):
                return True
        elif any(fnmatch.fnmatch("/".join(parts[: i + 1]), pattern) for i in range(len(parts))):
            return True
    return False


def build_context(root: Path, target: Path) -> list[str]:
    """Copy the source tree as Docker sends it (.dockerignore applied); the files copied."""
    patterns = [
        line.strip().rstrip("/") for line in (root / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = []
    for folder, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(folder, root)
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirs[:] = [d for d in dirs if not ignored(rel_dir + d, patterns)]
        for name in files:
            rel = rel_dir + name
            if not ignored(rel, patterns):
                (target / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(root / rel, target / rel)
                copied.append(rel)
    return copied


def env_for_image(df: Dockerfile, data: Path, config: Path) -> dict[str, str]:
    """The environment of the container: the Dockerfile's ENV, /data and /config mapped."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ARCHIVER_", "PYTHON", "VIRTUAL_ENV"))}
    for key, value in df.env.items():
        if key.startswith("PIP_"):
            continue  # build-time only
        env[key] = value.replace("/data", str(data)).replace("/config", str(config))
    return env


def test_dockerfile_shape() -> None:
    df = parse_dockerfile(ROOT / "Dockerfile")
    assert df.base.startswith("python:3.11-slim")
    assert df.user and df.user not in ("root", "0")
    assert df.volumes == ["/data"]
    assert df.env["ARCHIVER_DATA_DIR"] == "/data"
    assert df.env["ARCHIVER_CONFIG"] == "/config/archiver.toml"
    assert ["config/archiver.toml", "/config/archiver.toml"] in df.copies
    assert df.cmd == ["archiver", "run"]
    assert df.healthcheck == ["archiver", "health"]
    assert df.stopsignal == "SIGTERM"
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert "build: ." in compose and ":/data" in compose and ":/config" in compose


def wait_for(check, proc: subprocess.Popen[bytes], log: Path) -> None:  # type: ignore[no-untyped-def]
    while not check():
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode}:\n{log.read_text()}")
        time.sleep(0.1)


def done_count(db: Path) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(db)
    try:
        return con.execute("select count(*) from discoveredurl where state = 'done'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def test_dockerfile_install_and_start_commands_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    df = parse_dockerfile(ROOT / "Dockerfile")

    # the build context, as `docker build .` sends it
    context = tmp_path / "src"
    copied = build_context(ROOT, context)
    assert "pyproject.toml" in copied and "archiver/cli.py" in copied
    assert not any(p.startswith(("tests/", ".venv/", "bench/", ".git/")) for p in copied)

    # the install command: the Dockerfile's pip RUN line, in a new virtualenv
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installs = [shlex.split(r) for r in df.runs if shlex.split(r)[0] == "pip"]
    assert len(installs) == 1 and installs[0][1] == "install"
    command = [str(venv / "bin" / "pip")] + [
        a.replace("/src", str(context)) for a in installs[0][1:]
    ]
    started = time.monotonic()
    subprocess.run(command, check=True, cwd=tmp_path, capture_output=True)
    print(f"pip install took {time.monotonic() - started:.1f} s")
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import archiver; print(archiver.__file__)"],
        check=True, capture_output=True, text=True, cwd=tmp_path,
    ).stdout
    assert where.startswith(str(venv))  # the installed copy, not the source tree

    # /config holds the image's example config; it must be valid for the installed package
    data, config_dir = tmp_path / "data", tmp_path / "config"
    data.mkdir()
    config_dir.mkdir()
    shutil.copy(context / "config" / "archiver.toml", config_dir / "archiver.toml")
    env = env_for_image(df, data, config_dir)

    def archiver(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(venv / "bin" / "archiver"), *args], env=env, cwd=data,
                              capture_output=True, text=True, **kw)  # type: ignore[call-overload]

    health = archiver(*df.healthcheck[1:])
    assert health.returncode == 1 and "no database" in health.stdout  # not started yet
    status = archiver("status")  # the config's sites, and no store created (issue 20 item 9)
    assert status.returncode == 2 and status.stderr.startswith("error: no archive at"), \
        status.stderr
    assert "moa" in status.stdout and "https://www.moonofalabama.org/" in status.stdout
    assert not (data / "archiver.db").exists()

    exp = expected(BLOG)
    log = tmp_path / "run.log"
    with serve(BLOG) as server:
        # a config for the local test site mounted at /config, as a user would
        (config_dir / "archiver.toml").write_text(site_config(server, data), encoding="utf-8")
        start = [str(venv / "bin" / df.cmd[0]), *df.cmd[1:]]
        proc = subprocess.Popen(start, env=env, cwd=data, stdout=log.open("wb"),
                                stderr=subprocess.STDOUT)
        db = data / "archiver.db"
        wait_for(lambda: done_count(db) == 3, proc, log)
        health = archiver(*df.healthcheck[1:])
        # archive one URL with it, while the scheduler runs
        one = server.url(exp["posts"][3]["path"])
        archived = archiver("archive", one)
        exported = archiver("export", "text", one, "-o", "-")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait() == 0, log.read_text()
        once = archiver("run", "--once")

    assert health.returncode == 0, health.stdout + health.stderr
    assert health.stdout.startswith("healthy: database ok, scheduler running")
    assert archived.returncode == 0 and "5 comments" in archived.stdout, archived.stderr
    assert exported.returncode == 0, exported.stderr
    assert exp["posts"][3]["title"] in exported.stdout
    assert once.returncode == 0, once.stderr
    assert once.stdout.startswith("0 new thread(s) found")  # nothing new, nothing due
