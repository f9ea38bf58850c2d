"""Exports stream from PostgreSQL too (server-side cursors while other queries run): the same
WARC, JSON Lines and mirror as from SQLite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MOA_PATH
from tests.pgserver import PostgresServer


def test_exports_from_postgresql(postgres: PostgresServer, moa_paged, data_dir: Path, cli,
                                 monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ARCHIVER_DATABASE_URL", postgres.create_database("archiver_export"))
    url = moa_paged.url(MOA_PATH)
    for _ in range(2):
        assert cli("archive", url).code == 0

    jsonl = cli("export", "jsonl", "-o", "-")
    assert jsonl.code == 0, jsonl.err
    thread = json.loads(jsonl.out)
    assert thread["url"] == url and len(thread["comments"]) == 40
    assert thread["published_at"] == "2018-06-08T18:39:00Z"

    warc = tmp_path / "pg.warc.gz"
    result = cli("export", "warc", "--site", "Moon of Alabama", "--since", "2000-01-01",
                 "-o", str(warc))
    assert result.code == 0, result.err
    assert "6 capture(s): 3 response(s), 3 revisit(s), 1 metadata record(s)" in result.out
    warcio = str(Path(sys.executable).with_name("warcio"))
    check = subprocess.run([warcio, "check", str(warc)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    mirror = tmp_path / "mirror"
    result = cli("export", "html", url, "-o", str(mirror))
    assert result.code == 0, result.err
    assert "1 thread, 40 comments" in result.out
