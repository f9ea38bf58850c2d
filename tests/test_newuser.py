"""Issue 20: what a new user met. Skips said and explained (run --once, status), help without
type noise and --version, read-only commands that never create a store, -o under a file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archiver import __version__
from tests.conftest import MOA_PATH
from tests.schedule_helpers import BLOG, serve, site_config


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "archiver.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_run_once_says_what_it_skipped_and_status_says_why_threads_are_not_followed(
    tmp_path: Path, cli  # type: ignore[no-untyped-def]
) -> None:
    """Items 1 and 2: the example's since = "30d" against posts from 2024 queued nothing; now
    the summary says so, at the default level; then with an old since they are archived, past
    max_age, and status says that is why they are not followed."""
    with serve(BLOG) as server:
        config = _config(tmp_path, site_config(server, tmp_path / "data", max_age="30d",
                                               discovery_extra='since = "30d"\n'))
        first = cli("-c", str(config), "run", "--once")
        assert first.code == 0, first.err
        line = first.out.strip()
        assert line.startswith("0 new thread(s) found, 0 archived")
        assert re.search(r"; skipped \(harbour\): 3 older than since \(\d{4}-\d\d-\d\d\)$", line)

        config.write_text(config.read_text().replace('since = "30d"', 'since = "2024-01-01"'))
        second = cli("-c", str(config), "run", "--once")
        assert second.code == 0, second.err
        assert second.out.startswith("3 new thread(s) found, 3 archived")
        assert "3 past max_age (archived once, not followed)" in second.out

        again = cli("-c", str(config), "run", "--once")
        assert "; skipped (harbour): 3 already archived or queued" in again.out

        status = cli("-c", str(config), "status")
    assert status.code == 0, status.err
    assert ("Threads: 3 archived (3 open, 0 closed, 0 gone); 0 followed (3 open past max_age 30d:"
            " no longer refreshed), 0 due now") in status.out


def test_status_says_an_open_thread_archived_by_hand_is_not_planned_yet(
    tmp_path: Path, cli, data_dir: Path, moa_one_page  # type: ignore[no-untyped-def]
) -> None:
    """A thread within max_age that no run has planned yet is named as such, not as expired."""
    import sqlite3

    url = moa_one_page.url(MOA_PATH)
    assert cli("archive", url).code == 0
    con = sqlite3.connect(data_dir / "archiver.db")
    con.execute("update thread set status = 'open', comments_closed = 0,"
                " published_at = null, first_seen_at = current_timestamp")
    con.commit()
    con.close()
    status = cli("status")
    assert status.code == 0, status.err
    assert "0 followed (1 open not planned yet: the next run plans them)" in status.out


def test_help_reads_like_a_well_kept_cli(cli) -> None:  # type: ignore[no-untyped-def]
    """Item 6: metavars in capitals, no {url}/<bool>/<str> noise; --version."""
    version = cli("--version")
    assert version.code == 0 and version.out == f"archiver {__version__}\n"
    pages = {name: cli(*name.split(), "--help") for name in
             ("", "archive", "threads", "export", "run", "status", "health", "demo", "db",
              "db upgrade")}
    for name, page in pages.items():
        assert page.code == 0, (name, page.err)
        assert not re.search(r"<(bool|str|int|float|path)>|\{\w+\}", page.out), (name, page.out)
    assert "Usage: archiver export [OPTIONS] FORMAT [URL]" in pages["export"].out
    assert "Usage: archiver archive [OPTIONS] [URL...]" in pages["archive"].out  # or -i FILE
    for flag, metavar in (("--out", "PATH"), ("--site", "NAME"), ("--since", "DATE"),
                          ("--max-size", "SIZE")):
        assert re.search(rf"{flag}\s.*\b{metavar}\b", pages["export"].out), flag
    assert re.search(r"--config\s.*\bFILE\b", pages[""].out)
    assert "--version" in pages[""].out
    missing = cli("export")
    assert missing.code == 2 and "Missing argument 'FORMAT'" in missing.err


@pytest.mark.parametrize("args", [("status",), ("threads",), ("export", "jsonl", "-o", "-")])
def test_read_only_commands_never_create_a_store(
    args: tuple[str, ...], cli, data_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    """Item 9: on an empty data folder, one line and exit 2; nothing created."""
    result = cli(*args)
    assert result.code == 2
    if args == ("status",):  # what the config says (no sites here), then the error
        assert result.out.startswith("Database: sqlite:///")
        assert "Sites (0 configured)" in result.out
    lines = result.err.strip().splitlines()
    assert lines == [f"error: no archive at {data_dir / 'archiver.db'} yet: run archiver"
                     " archive URL first"]
    assert not data_dir.exists()
    health = cli("health")
    assert health.code == 1 and health.out.startswith("unhealthy: no database at")
    assert not data_dir.exists()


def test_output_under_a_file_says_the_file_is_not_a_folder(
    tmp_path: Path, cli, data_dir: Path, moa_one_page  # type: ignore[no-untyped-def]
) -> None:
    """Item 9: -o /etc/hostname/x.txt said "File exists"."""
    url = moa_one_page.url(MOA_PATH)
    assert cli("archive", url).code == 0
    blocker = tmp_path / "hostname"
    blocker.write_text("a file\n")
    for fmt, out in (("text", blocker / "x.txt"), ("jsonl", blocker / "sub" / "x.jsonl"),
                     ("html", blocker / "mirror")):
        result = cli("export", fmt, url, "-o", str(out))
        assert result.code == 2, (fmt, result.err)
        assert result.err.strip() == f"error: cannot write {out}: {blocker} is not a folder"
    assert blocker.read_text() == "a file\n"
