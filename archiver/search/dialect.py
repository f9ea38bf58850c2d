"""What a database's search needs to say to the engine: where a query's matches come from, how
they are scored and snippeted (sqlite.py and postgres.py each make one from a parsed query)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SNIPPET_WORDS = 24  # about this many words around the first match
PLAIN_CHARS = 240  # the start of a text shown when nothing in it is marked


@dataclass(frozen=True, slots=True)
class Dialect:
    """SQL fragments over comment (alias c) and thread (alias t) for one query."""

    name: str
    comment_from: str  # FROM clause for comments
    comment_where: str  # the match's condition ("" for none)
    comment_score: str  # higher is better
    # SELECT id, snippet (matches between START and STOP) ... IN ({ids}) ({lo}, {hi}: their range)
    comment_snippets: str
    post_from: str
    post_where: str
    post_score: str
    post_snippets: str
    params: dict[str, Any] = field(default_factory=dict)
    # the best :cap matches ranked in the index alone (rid, score), when the database can
    comment_ranked: str = ""
    post_ranked: str = ""
    # an ascending key an index returns the matches in, best first (PostgreSQL's RUM <=>), when
    # the database has one: the best-first page is then read in that order (ties in the index's
    # order), each side's page merged by score
    comment_order: str = ""
    post_order: str = ""


def plain_snippet(column: str) -> str:
    """The start of a text, nothing marked (a query without words: site:NAME, author:NAME)."""
    return f"substr({column}, 1, {PLAIN_CHARS + 1})"


def plain_snippets(table: str) -> str:
    """Each row's text's start, by id ({ids}: the engine's list)."""
    return f"SELECT id, {plain_snippet('body_text')} FROM {table} WHERE id IN ({{ids}})"
