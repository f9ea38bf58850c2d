"""Issue 2: archive the reference TypePad thread from a live local server; text dump = reference."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import MOA_PATH, REFERENCE, normalise


@pytest.mark.parametrize("server_name", ["moa_one_page", "moa_paged"])
def test_archive_and_text_dump_equals_reference(
    server_name: str, request: pytest.FixtureRequest, data_dir: Path, cli, tmp_path: Path
) -> None:
    server = request.getfixturevalue(server_name)
    url = server.url(MOA_PATH)
    result = cli("archive", url)
    assert result.code == 0, result.err
    assert "40 comments" in result.out
    out = tmp_path / "dump.txt"
    result = cli("export", "text", url, "-o", str(out))
    assert result.code == 0, result.err
    expected = REFERENCE.read_text(encoding="utf-8")
    actual = out.read_text(encoding="utf-8")
    assert normalise(actual).splitlines() == normalise(expected).splitlines()


def test_paged_thread_follows_the_pager(moa_paged, data_dir: Path, cli) -> None:
    result = cli("archive", moa_paged.url(MOA_PATH))
    assert result.code == 0, result.err
    assert "3 pages" in result.out
    paths = [path for _, path, _ in moa_paged.requests if path != "/robots.txt"]
    assert paths == [
        MOA_PATH,
        "/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan/comments/page/2/",
        "/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan/comments/page/3/",
    ]


@pytest.mark.parametrize("server_name", ["moa_one_page", "moa_paged"])
def test_archive_twice_keeps_exactly_40_comments(
    server_name: str, request: pytest.FixtureRequest, data_dir: Path, cli
) -> None:
    server = request.getfixturevalue(server_name)
    url = server.url(MOA_PATH)
    assert cli("archive", url).code == 0
    assert cli("archive", url).code == 0
    db = sqlite3.connect(data_dir / "archiver.db")
    assert db.execute("select count(*) from comment").fetchone()[0] == 40
    assert db.execute("select count(*) from thread").fetchone()[0] == 1
    assert db.execute("select count(distinct source_id) from comment").fetchone()[0] == 40
    assert db.execute("select count(*) from commentversion").fetchone()[0] == 0
    # every exchange was kept, with its raw body
    captures = db.execute("select count(*), count(body_sha256) from capture").fetchone()
    assert captures[0] >= 2 and captures[0] == captures[1]


def test_export_stdout_and_threads_listing(moa_one_page, data_dir: Path, cli) -> None:
    url = moa_one_page.url(MOA_PATH)
    assert cli("archive", url).code == 0
    result = cli("export", "text", url, "-o", "-")
    assert result.code == 0
    assert result.out.startswith("Moon of Alabama Brecht quote\nJune 08, 2018\n")
    assert result.out.rstrip().endswith("The comments to this entry are closed.")
    listing = cli("threads")  # piped: tab-separated, with a header
    assert listing.code == 0
    header, row = (line.split("\t") for line in listing.out.splitlines())
    assert dict(zip(header, row, strict=True)) | {"last_fetched": ""} == {
        "url": url, "title": "Syria - Is The ISIS Attack On Abu Kamal Part Of A U.S. Plan?",
        "comments": "40", "last_fetched": "",
        "status": "closed"}


def test_export_of_unarchived_url_is_a_clear_error(data_dir: Path, cli) -> None:
    from archiver.store.db import Store, default_database_url

    Store(default_database_url(data_dir)).close()  # a store, without that thread
    result = cli("export", "text", "http://127.0.0.1:9/never.html", "-o", "-")
    assert result.code == 2
    assert "has not been archived" in result.err
    assert "Traceback" not in result.err
