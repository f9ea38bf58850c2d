"""full-text search: the index of posts and comments (archiver/search/)

- SQLite: FTS5 external-content tables search_comment (body_text, author_name of comment) and
  search_post (title, body_text, author of thread), tokenizer unicode61 without diacritic
  removal, kept current by triggers on INSERT, UPDATE of the indexed columns and DELETE; filled
  from the rows already stored.
- PostgreSQL: a stored generated tsvector column search_vector on comment and thread ('simple'
  configuration: no stemming, no stop words, as FTS5; weights A author, B title, D body) with a
  GIN index; an index on comment's date (coalesce(published_at, first_seen_at), id) for
  newest-first searches of common words.

These objects are not in the models (archiver.search.schema.is_search_object tells Alembic's
comparisons to leave them alone). A later batch revision of comment or thread on SQLite copies
the table and so drops its triggers: such a revision must create them again (copy them from
here).

Revision ID: 0006_search
Revises: 0005_pictures_post_day
Create Date: 2026-11-30 13:30:00
"""

from __future__ import annotations

from alembic import op

revision: str = '0006_search'
down_revision: str | None = '0005_pictures_post_day'
branch_labels: str | None = None
depends_on: str | None = None

TOKENIZE = "unicode61 remove_diacritics 0"
# table -> (its FTS5 table, the columns indexed, in order)
SQLITE_INDEXES = {
    "comment": ("search_comment", ("body_text", "author_name")),
    "thread": ("search_post", ("title", "body_text", "author")),
}
PG_VECTORS = {
    "comment": "setweight(to_tsvector('simple'::regconfig, author_name), 'A')"
               " || setweight(to_tsvector('simple'::regconfig, body_text), 'D')",
    "thread": "setweight(to_tsvector('simple'::regconfig, author), 'A')"
              " || setweight(to_tsvector('simple'::regconfig, title), 'B')"
              " || setweight(to_tsvector('simple'::regconfig, body_text), 'D')",
}


def _sqlite_upgrade() -> None:
    for table, (fts, columns) in SQLITE_INDEXES.items():
        cols = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}',"
                   f" content_rowid='id', tokenize='{TOKENIZE}')")
        op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN"
                   f" INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END")
        op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN"
                   f" INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});"
                   f" END")
        op.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {cols} ON {table} BEGIN"
                   f" INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});"
                   f" INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END")
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _sqlite_downgrade() -> None:
    for fts, _columns in SQLITE_INDEXES.values():
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{trigger}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_upgrade()
    elif dialect == "postgresql":
        for table, vector in PG_VECTORS.items():
            op.execute(f"ALTER TABLE {table} ADD COLUMN search_vector tsvector"
                       f" GENERATED ALWAYS AS ({vector}) STORED")
            op.execute(f"CREATE INDEX ix_{table}_search_vector ON {table}"
                       f" USING GIN (search_vector)")
        # newest first: a word most comments hold is found walking the dates backwards
        op.execute("CREATE INDEX ix_comment_search_date ON comment"
                   " ((coalesce(published_at, first_seen_at)), id)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_downgrade()
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_comment_search_date")
        for table in PG_VECTORS:
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_vector")
            op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")
