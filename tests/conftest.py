"""Shared test fixtures: fixture-site servers on 127.0.0.1, a fresh data dir, a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import Phase, settings

from archiver.cli import main
from archiver.devserver import FixtureServer, serve_fixture
from tests.pgserver import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
MOA = FIXTURES / "typepad" / "moa-2018-06-08-abu-kamal"
MOA_PATH = "/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan.html"
REFERENCE = MOA / "expected.txt"


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ARCHIVER_DATA_DIR (SQLite file inside), no delay between requests, no pictures
    (the fixtures' images are not served: their 404s would add requests and WARC records to
    every count; tests/test_pictures.py turns them on)."""
    folder = tmp_path / "archive"
    monkeypatch.setenv("ARCHIVER_DATA_DIR", str(folder))
    monkeypatch.setenv("ARCHIVER_DELAY", "0")
    monkeypatch.setenv("ARCHIVER_PICTURES_ENABLED", "false")
    monkeypatch.delenv("ARCHIVER_DATABASE_URL", raising=False)
    monkeypatch.delenv("ARCHIVER_CONFIG", raising=False)
    return folder


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run the archiver CLI in-process: cli("archive", url) -> CliResult."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def run_cli_subprocess(*args: str, env: dict[str, str] | None = None) -> CliResult:
    """Run `python -m archiver.cli ...` as a real process (for exit codes and stderr)."""
    proc = subprocess.run(
        [sys.executable, "-m", "archiver.cli", *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=ROOT,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def moa_one_page() -> Iterator[FixtureServer]:
    server = serve_fixture(MOA / "one-page")
    yield server
    server.stop()


@pytest.fixture
def moa_paged() -> Iterator[FixtureServer]:
    server = serve_fixture(MOA / "paged")
    yield server
    server.stop()


def normalise(text: str) -> str:
    """Whitespace folding of ../shared/tools/compare_text.py: NBSP as space, trailing spaces
    cut, runs of blank lines folded to one."""
    import re

    text = text.replace("\xa0", " ").replace("\r\n", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n") + "\n"


# `pytest --hypothesis-profile=no-shrink`: a failing generated test reports its first failing
# example at once (used to check that planting a bug makes the invariant tests fail)
settings.register_profile("no-shrink", phases=[Phase.explicit, Phase.reuse, Phase.generate])
# under CI (CI=true) every generated test runs the same examples each time: a red run is then
# a change's doing, not a new random draw (run the suite locally to explore further)
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the whole run (each test makes its own database);
    ARCHIVER_SKIP_POSTGRES=1 skips the tests that need it."""
    if os.environ.get("ARCHIVER_SKIP_POSTGRES") == "1":
        pytest.skip("ARCHIVER_SKIP_POSTGRES=1")
    server = PostgresServer().start()
    yield server
    server.stop()
