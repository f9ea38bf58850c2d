"""Quick start's first command: `archiver demo` archives the bundled sample and exports it."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REFERENCE, normalise, run_cli_subprocess


def test_demo_archives_and_exports_the_sample(tmp_path: Path) -> None:
    env = {"ARCHIVER_DATA_DIR": str(tmp_path / "archive")}
    result = run_cli_subprocess("demo", env=env)
    assert result.code == 0, result.err
    assert "40 comments, 3 pages" in result.out
    exports = tmp_path / "archive" / "exports"
    assert f"Exports are in {exports}" in result.out
    (dump,) = exports.glob("*.txt")
    assert normalise(dump.read_text(encoding="utf-8")) == normalise(
        REFERENCE.read_text(encoding="utf-8"))
    assert (exports / "html" / "index.html").is_file()
    # a second run finds the same thread: nothing new, nothing duplicated
    again = run_cli_subprocess("demo", env=env)
    assert again.code == 0, again.err
    assert "0 new" in again.out


def test_demo_without_the_sample_is_a_clear_error(tmp_path: Path) -> None:
    env = {"ARCHIVER_DATA_DIR": str(tmp_path / "archive")}
    result = run_cli_subprocess("demo", "--sample", str(tmp_path / "nothing"), env=env)
    assert result.code == 2
    assert "routes.json" in result.err and "Traceback" not in result.err
