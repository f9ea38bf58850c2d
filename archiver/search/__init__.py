"""Full-text search over the posts and comments of every archived thread: `search()` runs a query
(syntax: query.py) on SQLite (FTS5) or PostgreSQL (tsvector + GIN), `reindex()` rebuilds the index.

The index holds the current version of every post and comment (triggers on SQLite, generated
columns on PostgreSQL keep it current as the store merges; migration 0006_search made it).
Removed comments stay indexed but are left out of results unless include_removed=True (their
Hit then has removed_at set). Earlier versions of edited comments are not searched.

Snippets: `Hit.snippet` is plain text with each match between « and » (for a terminal or JSON);
`Hit.parts` holds the same text as (text, matched) pieces, and `Hit.snippet_html()` gives it
HTML-escaped with <mark>...</mark> around the matches (the pieces say where a match is even when
the text itself holds « or »).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import Session

from archiver.errors import UsageError
from archiver.search.query import Query, parse

__all__ = ["Hit", "Order", "Query", "parse", "reindex", "search"]

Order = Literal["newest", "best"]
MAX_LIMIT = 1000

# how a database marks a match in a snippet (sqlite.py, postgres.py): control characters no
# archived text holds (render strips them), turned into «» and the parts below
START, STOP = "\x02", "\x03"


@dataclass(frozen=True, slots=True)
class Hit:
    """One post (comment_id None) or comment that matches a query."""

    thread_id: int
    thread_url: str
    thread_title: str
    comment_id: int | None  # None: the post itself
    source_id: str | None  # the platform's id of the comment (None for the post)
    author: str
    published_at: datetime | None  # UTC; None when the page gave no readable date
    snippet: str  # the text around the match, each match «like this»
    score: float  # higher is better (0 for a query with no words, e.g. site:NAME alone)
    parts: tuple[tuple[str, bool], ...] = ()  # the snippet as (text, is a match) pieces
    removed_at: datetime | None = None  # a removed comment (only with include_removed=True)

    def snippet_html(self) -> str:
        """The snippet as HTML: escaped, each match in <mark>."""
        return "".join(f"<mark>{html.escape(text)}</mark>" if hit else html.escape(text)
                       for text, hit in self.parts)


def split_marks(marked: str) -> tuple[tuple[str, bool], ...]:
    """Pieces of a snippet whose matches the database put between START and STOP; two matches
    with only spaces or punctuation between them («Abu» «Kamal») become one piece."""
    parts: list[tuple[str, bool]] = []
    rest = marked.replace(START + STOP, "")
    while rest:
        start = rest.find(START)
        if start < 0:
            parts.append((rest, False))
            break
        if start:
            parts.append((rest[:start], False))
        stop = rest.find(STOP, start + 1)
        stop = len(rest) if stop < 0 else stop
        parts.append((rest[start + 1:stop], True))
        rest = rest[stop + 1:]
    merged: list[tuple[str, bool]] = []
    for text, hit in ((t.replace(STOP, ""), h) for t, h in parts):
        if not text:
            continue
        if (hit and len(merged) >= 2 and merged[-2][1] and not merged[-1][1]
                and len(merged[-1][0]) <= 3 and not any(c.isalnum() for c in merged[-1][0])):
            gap = merged.pop()[0]
            merged[-1] = (merged[-1][0] + gap + text, True)
        else:
            merged.append((text, hit))
    return tuple(merged)


def shown(parts: tuple[tuple[str, bool], ...]) -> str:
    return "".join(f"«{text}»" if hit else text for text, hit in parts)


def search(
    session: Session,
    query: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    order: Order = "best",
    limit: int = 20,
    offset: int = 0,
    include_removed: bool = False,
) -> list[Hit]:
    """The posts and comments matching query (syntax: archiver.search.query), best match or
    newest first. since/until bound the date (the published date, or when first seen where the
    page gave none): since <= date < until. UsageError for a query that cannot be read, an
    unknown site:NAME or a bad limit."""
    parsed = parse(query)
    if order not in ("newest", "best"):
        raise UsageError(f"order must be 'newest' or 'best', not {order!r}")
    if not 0 < limit <= MAX_LIMIT:
        raise UsageError(f"limit must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise UsageError("offset cannot be negative")
    from archiver.search import engine

    return engine.run(session, parsed, since=since, until=until, order=order, limit=limit,
                      offset=offset, include_removed=include_removed)


def reindex(session: Session) -> int:
    """Rebuild the search index from the posts and comments stored (commits); returns how many
    posts and comments it holds."""
    from archiver.search import engine

    return engine.reindex(session)


