"""Alembic's environment for archiver: runs the revisions in versions/ on the store's connection
(or on sqlalchemy.url when Alembic is driven from `python -m archiver.store.migrations`)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

from archiver.search.schema import include_name
from archiver.store import models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config


def render_item(kind: str, item: Any, autogen_context: Any) -> str | bool:
    """Autogenerate writes SQLModel's column types as the plain SQLAlchemy types they stand for,
    so revisions do not depend on SQLModel's classes (as 0001_initial does not)."""
    if kind == "type" and isinstance(item, AutoString):
        return "sa.String()"
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=SQLModel.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: batch mode copies the table
        compare_type=True,
        render_item=render_item,
        include_name=include_name,  # the search index (0006) is not in the models
    )
    with context.begin_transaction():
        context.run_migrations()


shared = config.attributes.get("connection")
if shared is not None:
    run(shared)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as connection:
            run(connection)
    finally:
        engine.dispose()
