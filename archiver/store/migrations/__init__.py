"""Schema migrations: every Store brings its database to HEAD on open (Alembic revisions in
versions/; README.md here says how to add one). At HEAD, one query and no Alembic import."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

# The newest revision in versions/. A new revision must update it (a test checks it is
# Alembic's head): a store already here is opened without loading Alembic at all.
HEAD = "0009_search_rum"


@dataclass(frozen=True)
class Upgrade:
    """What opening a store did to its schema: before is None for a store with no revision
    (a new database, or one written by 0.1.0, which had no migrations)."""

    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def read_revision(engine: Engine) -> str | None:
    """The revision the database records, in one query; None when it records none."""
    with engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except (OperationalError, ProgrammingError):  # no alembic_version table (yet)
            return None


def ensure_schema(engine: Engine) -> Upgrade:
    """Bring the database to HEAD: nothing but one query when it is there already; else run
    the migrations, one process at a time (see run.upgrade)."""
    current = read_revision(engine)
    if current == HEAD:
        return Upgrade(current, current)
    from archiver.store.migrations.run import upgrade

    return upgrade(engine)
