"""The scheduler's due times, backoff, versions and removals on a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from archiver.config import load_settings
from archiver.fetch import Fetcher
from archiver.schedule import Runner, Scheduler
from archiver.store.db import Store
from tests.pgserver import PostgresServer
from tests.schedule_helpers import REFRESH, Clock, expected, serve, set_file, site_config

THREAD = "/2024/03/open-thread.html"
T0 = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("timezone", ["UTC", "America/Los_Angeles"])
def test_refresh_cycle_on_postgresql(postgres: PostgresServer, tmp_path: Path,
                                     timezone: str) -> None:
    """Due times must not move with the server's time zone; history is kept as on SQLite."""
    url = postgres.create_database(f"sched_{timezone.replace('/', '_').lower()}")
    with Store(url).engine.connect() as conn:  # the server's default zone for new sessions
        conn.execute(text(f"ALTER DATABASE {url.rsplit('/', 1)[1]} SET timezone = '{timezone}'"))
        conn.commit()
    exp = expected(REFRESH)
    clock = Clock(T0)
    with serve(REFRESH) as server:
        config = tmp_path / "archiver.toml"
        config.write_text(site_config(server, tmp_path / "data"), encoding="utf-8")
        settings = load_settings(config, {"ARCHIVER_DATABASE_URL": url})
        store = Store(settings.db_url)
        with store.engine.connect() as conn:
            assert conn.execute(text("show timezone")).scalar() == timezone
        runner = Runner(settings, store, Fetcher(settings.fetch), clock=clock)

        def due() -> datetime:
            with store.engine.connect() as conn:
                value = conn.execute(text("select next_due_at from thread")).scalar()
            return value if value.tzinfo else value.replace(tzinfo=UTC)

        assert runner.run_once().archived == 1
        assert due() == T0 + timedelta(minutes=15)
        clock.advance(minutes=14)
        assert runner.run_once(discover=False).archived == 0
        clock.advance(minutes=1)
        assert runner.run_once(discover=False).archived == 1
        assert due() == T0 + timedelta(minutes=45)
        set_file(server, THREAD, REFRESH, "v2.html")
        clock.set(T0 + timedelta(minutes=45))
        summary = runner.run_once(discover=False)
        assert (summary.new_comments, summary.edited, summary.removed) == (6, 1, 1)
        assert due() == T0 + timedelta(minutes=60)
        set_file(server, THREAD, REFRESH, "v4-closed.html")
        clock.advance(minutes=15)
        assert runner.run_once(discover=False).archived == 1
        clock.advance(days=5)
        assert runner.run_once(discover=False).archived == 0
    with store.engine.connect() as conn:
        assert conn.execute(text("select status, next_due_at from thread")).one() == (
            "closed", None)
        assert conn.execute(text("select count(*) from comment")).scalar() == 27
        assert conn.execute(text("select count(*) from comment where removed_at is null")
                            ).scalar() == 26
        assert conn.execute(text(
            "select v.version from commentversion v join comment c on c.id = v.comment_id"
            " where c.source_id = :s"), {"s": exp["edited"]["source_id"]}).scalars().all() == [1]
    store.close()


def test_concurrent_first_threads_of_a_site_on_postgresql(postgres: PostgresServer,
                                                          tmp_path: Path) -> None:
    """Workers archiving a new site's threads at once create its Site row once."""
    url = postgres.create_database("sched_concurrent")
    servers = [serve(REFRESH) for _ in range(3)]
    for server in servers:
        server.start()
    try:
        text_config = "[fetch]\ndelay = 0\n[scheduler]\nworkers = 3\n"
        for i, server in enumerate(servers):
            text_config += (f'[[sites]]\nname = "s{i}"\nurl = "{server.url("/")}"\n'
                            f'[sites.discovery]\nfeed = "{server.url("/atom.xml")}"\n')
        config = tmp_path / "archiver.toml"
        config.write_text(text_config, encoding="utf-8")
        settings = load_settings(config, {"ARCHIVER_DATABASE_URL": url,
                                          "ARCHIVER_DATA_DIR": str(tmp_path / "d")})
        summary = Scheduler(settings).run_once()
    finally:
        for server in servers:
            server.stop()
    assert summary.archived == 3 and summary.failed == 0
    store = Store(url)
    with store.engine.connect() as conn:
        assert conn.execute(text("select count(*) from thread")).scalar() == 3
        assert conn.execute(text("select count(*) from comment")).scalar() == 60
    store.close()
