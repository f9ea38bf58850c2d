"""Run the Alembic revisions on a store, serialised between processes: an OS file lock beside
a SQLite file, a transaction-scoped advisory lock on PostgreSQL; the version is re-read under it."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from archiver.errors import ConfigError
from archiver.store.migrations import HEAD, Upgrade

HERE = Path(__file__).resolve().parent
# pg_advisory_xact_lock key for schema upgrades (any constant shared by every archiver)
PG_LOCK_KEY = 0x6172636869766572  # "archiver"


def alembic_config(
    *, url: str | None = None, connection: Connection | None = None, scripts: Path = HERE
) -> Config:
    """Alembic's configuration without an alembic.ini: the scripts shipped in this package."""
    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.set_main_option("file_template", "%%(rev)s")  # versions/0002_name.py from --rev-id
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def script_head() -> str | None:
    """The head revision of the scripts in versions/ (what HEAD must equal)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    """Hold an exclusive lock on DATABASE.migrate-lock (a file beside a SQLite database)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    lock_path = Path(database + ".migrate-lock")
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def upgrade(engine: Engine, *, scripts: Path = HERE, head: str = HEAD) -> Upgrade:
    """Bring the database to head, one process at a time; the others wait, then find it done.
    (scripts and head are for tests that add a revision of their own.)"""
    sqlite = engine.dialect.name == "sqlite"
    with _file_lock(engine), engine.connect() as connection:
        if sqlite:  # a batch revision copies tables: foreign keys are checked after, not during
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                       {"key": PG_LOCK_KEY})
                before = MigrationContext.configure(connection).get_current_revision()
                if before != head:
                    _check_known(before, scripts)
                    try:
                        command.upgrade(alembic_config(connection=connection, scripts=scripts),
                                        "head")
                    except CommandError as exc:
                        raise ConfigError(f"cannot upgrade the database schema: {exc}") from None
                    if sqlite:
                        _check_foreign_keys(connection)
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
    return Upgrade(before, head)


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise ConfigError(f"the schema upgrade left {len(broken)} row(s) whose foreign key"
                          f" points nowhere (first: {tuple(broken[0])})")


def known(revision: str, scripts: Path = HERE) -> bool:
    """Whether revision is one of ours (else a newer archiver wrote it)."""
    try:
        ScriptDirectory.from_config(alembic_config(scripts=scripts)).get_revision(revision)
    except CommandError:
        return False
    return True


def _check_known(revision: str | None, scripts: Path) -> None:
    """A revision this archiver does not know was written by a newer one: refuse, in a line."""
    if revision is not None and not known(revision, scripts):
        raise ConfigError(
            f"the database's schema is at revision {revision}, which this archiver does not know"
            f" (it knows up to {HEAD}): it was written by a newer archiver; upgrade archiver"
        )
