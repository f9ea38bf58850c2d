"""The search index's database objects, which the models do not describe (migrations
0006_search and 0009_search_rum make them): Alembic's comparisons leave them alone through
include_name below."""

from __future__ import annotations

from typing import Any

SEARCH_TABLES = ("search_comment", "search_post")  # FTS5 tables on SQLite (and their shadows)
SEARCH_COLUMN = "search_vector"  # the generated tsvector column on PostgreSQL
SEARCH_INDEXES = ("ix_comment_search_vector", "ix_thread_search_vector",
                  "ix_comment_search_date",
                  # RUM (migration 0009_search_rum), when the server has the extension
                  "ix_comment_search_rum", "ix_thread_search_rum")


def is_search_object(name: str | None, type_: str) -> bool:
    """Whether a reflected table, column or index belongs to the search index."""
    if name is None:
        return False
    if type_ == "table":
        return any(name == t or name.startswith(t + "_") for t in SEARCH_TABLES)
    if type_ == "column":
        return name == SEARCH_COLUMN
    if type_ == "index":
        return name in SEARCH_INDEXES
    return False


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's include_name hook: everything but the search index's objects."""
    return not is_search_object(name, type_)
