"""search: RUM indexes on PostgreSQL, when the server has the extension (best match first fast)

- PostgreSQL only: `CREATE EXTENSION IF NOT EXISTS rum` inside a savepoint; when it works (the
  server has the rum package, e.g. Debian's postgresql-15-rum, and the user may create it), a
  RUM index on the search_vector of comment and thread (ix_comment_search_rum,
  ix_thread_search_rum). They return the matches in rank order (ORDER BY search_vector <=> q),
  so a best-first page reads a page of rows instead of ranking every match with ts_rank.
- Without it (no package, or no right to create it): nothing changes, a warning says so once;
  search keeps the GIN index and ts_rank. `archiver search --reindex` tries again later.
- SQLite: nothing.

Revision ID: 0009_search_rum
Revises: 0008_pictures_scanned
Create Date: 2026-11-30 16:10:00
"""

from __future__ import annotations

import logging

from alembic import op
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

revision: str = '0009_search_rum'
down_revision: str | None = '0008_pictures_scanned'
branch_labels: str | None = None
depends_on: str | None = None

log = logging.getLogger("archiver.search")
RUM_INDEXES = {"comment": "ix_comment_search_rum", "thread": "ix_thread_search_rum"}


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    available = connection.execute(text(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")).scalar()
    if not available:
        log.warning("PostgreSQL has no rum extension: best-match search ranks every match with"
                    " ts_rank (slow on large archives); install the server's rum package and"
                    " run `archiver search --reindex` to use it")
        return
    try:
        with connection.begin_nested():
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS rum"))
    except DBAPIError as exc:  # e.g. not a superuser: rum is not a trusted extension
        log.warning("cannot create the rum extension (%s): best-match search ranks every match"
                    " with ts_rank", str(exc.orig).strip().splitlines()[0])
        return
    for table, index in RUM_INDEXES.items():
        connection.execute(text(f"CREATE INDEX IF NOT EXISTS {index} ON {table}"
                                f" USING rum (search_vector rum_tsvector_ops)"))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in RUM_INDEXES.values():
        op.execute(f"DROP INDEX IF EXISTS {index}")
