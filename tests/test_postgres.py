"""The same archive on a real PostgreSQL server: portable SQL, same dump, idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from archiver.store.db import Store
from tests.conftest import MOA_PATH, REFERENCE, normalise
from tests.pgserver import PostgresServer


def test_archive_into_postgresql(
    postgres: PostgresServer, moa_paged, data_dir: Path, cli, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    url_db = postgres.create_database("archiver_moa")
    monkeypatch.setenv("ARCHIVER_DATABASE_URL", url_db)
    url = moa_paged.url(MOA_PATH)
    for _ in range(2):
        result = cli("archive", url)
        assert result.code == 0, result.err
    out = tmp_path / "dump.txt"
    assert cli("export", "text", url, "-o", str(out)).code == 0
    expected = normalise(REFERENCE.read_text(encoding="utf-8"))
    assert normalise(out.read_text(encoding="utf-8")) == expected
    store = Store(url_db)
    with store.engine.connect() as conn:
        assert conn.execute(text("select count(*) from comment")).scalar() == 40
        assert conn.execute(text("select count(*) from thread")).scalar() == 1
        # 3 pages x 2 runs, and the robots.txt each run read first
        assert conn.execute(text("select count(*) from capture")).scalar() == 8
    store.close()
    assert not (data_dir / "archiver.db").exists()  # nothing went to the SQLite default
