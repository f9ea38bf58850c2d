"""Open the database: a SQLite file under the data dir by default, or any SQLAlchemy URL; its
schema is brought up to date on open (archiver/store/migrations)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session, create_engine

from archiver.errors import ArchiverError, ConfigError, UsageError
from archiver.store import models  # noqa: F401  (registers the tables)
from archiver.store.migrations import Upgrade, ensure_schema


def default_database_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'archiver.db').as_posix()}"


def _shown_url(database_url: str) -> str:
    """The URL as a user may see it: any password hidden."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return database_url


def _open_error(database_url: str, exc: BaseException) -> ConfigError:
    first_line = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
    hint = ""
    scheme = database_url.split(":", 1)[0].lower()
    if scheme.startswith("postgres") and (isinstance(exc, ImportError) or "psycopg" in first_line):
        hint = " (use postgresql+psycopg://, with its driver from pip install '.[postgres]')"
    elif scheme in ("postgres", "postgresql") or "dialects:postgres" in first_line:
        hint = " (write it as postgresql+psycopg://USER:PASSWORD@HOST/DATABASE)"
    elif not scheme.startswith(("sqlite", "postgres")):
        hint = " (archiver supports sqlite:/// and postgresql+psycopg:// URLs)"
    return ConfigError(
        f"cannot open database {_shown_url(database_url)}: "
        f"{type(exc).__name__}: {first_line}{hint}"
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    _wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _wal(cursor: Any) -> None:
    """Put the database in WAL mode (kept in the file: a no-op once set). Switching needs the
    database to itself and answers "database is locked" at once, without the busy timeout,
    while another process is creating the same new store: wait for it (up to ~30 s)."""
    for attempt in range(300):
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 299:
                raise
            time.sleep(0.1)


class Store:
    """The database behind one archive: an engine plus sessions. Opening it migrates its schema
    to the newest revision (a new database gets every table; one written by 0.1.0 is adopted)."""

    def __init__(self, database_url: str, *, connections: int | None = None) -> None:
        """connections: the most database connections open at once (threads beyond it wait
        their turn); None: SQLAlchemy's default pool (5, and 10 more when busy)."""
        self.url = database_url
        try:
            self.engine: Engine = self._create_engine(database_url, connections)
        except (SQLAlchemyError, ImportError, OSError, ValueError) as exc:
            raise _open_error(database_url, exc) from exc
        try:
            self.schema: Upgrade = ensure_schema(self.engine)
        except ArchiverError:
            self.engine.dispose()
            raise
        except (SQLAlchemyError, ImportError, OSError, ValueError) as exc:
            self.engine.dispose()
            raise _open_error(database_url, exc) from exc

    @staticmethod
    def _create_engine(database_url: str, connections: int | None = None) -> Engine:
        pool: dict[str, Any] = {} if connections is None else {
            "pool_size": max(1, connections), "max_overflow": 0, "pool_timeout": 3600}
        if database_url.startswith("sqlite:///"):
            Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                database_url, connect_args={"check_same_thread": False, "timeout": 30}, **pool
            )
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(database_url, pool_pre_ping=True, **pool)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def schema_state(database_url: str) -> tuple[str | None, bool]:
    """The revision a database records and whether it holds any table, read without changing
    anything (`archiver db current`)."""
    from sqlalchemy import inspect

    from archiver.store.migrations import read_revision

    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        if not path.is_file():
            raise UsageError(f"no database at {path} (any archiver command creates it)")
    try:
        engine = Store._create_engine(database_url)
    except (SQLAlchemyError, ImportError, OSError, ValueError) as exc:
        raise _open_error(database_url, exc) from exc
    try:
        revision = read_revision(engine)
        tables = revision is not None or bool(inspect(engine).get_table_names())
    except (SQLAlchemyError, OSError) as exc:
        raise _open_error(database_url, exc) from exc
    finally:
        engine.dispose()
    return revision, tables
