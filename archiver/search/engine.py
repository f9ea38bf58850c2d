"""Run a parsed query on the store's database: pick the hits (ids, scores) in one query over the
comments and the posts, then read the few chosen rows and their snippets."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlmodel import Session
from sqlmodel.sql.sqltypes import UTCDateTime

from archiver.errors import UsageError
from archiver.search import START, Hit, Order, postgres, shown, split_marks, sqlite
from archiver.search.dialect import PLAIN_CHARS, Dialect
from archiver.search.query import Query


def _dialect(session: Session, query: Query, order: Order) -> Dialect:
    name = session.get_bind().dialect.name
    if name == "sqlite":
        return sqlite.dialect(query)
    if name == "postgresql":
        return postgres.dialect(query, rum=order == "best" and postgres.has_rum(session))
    raise UsageError(f"search needs SQLite or PostgreSQL, not {name}")


def _site_ids(session: Session, query: Query) -> list[int] | None:
    """The sites the query's site:NAME terms name (every one must hold): by config name, title,
    origin or host as `export --site` knows them, else those whose name, title or host holds
    NAME (site:desert finds "Desert Dispatch"); UsageError when none does."""
    if not query.sites:
        return None
    from urllib.parse import urlsplit

    from sqlmodel import select

    from archiver.export.selection import matching_site_ids
    from archiver.store.models import Site

    wanted: set[int] | None = None
    for name in query.sites:
        try:
            ids = set(matching_site_ids(session, name))
        except UsageError:
            needle = name.strip().lower()
            ids = {site.id for site in session.exec(select(Site)).all() if site.id is not None
                   and needle in "\n".join((site.name, site.title,
                                             urlsplit(site.origin).netloc)).lower()}
            if not ids:
                raise
        wanted = ids if wanted is None else wanted & ids
    return sorted(wanted or ())


def run(
    session: Session, query: Query, *, since: datetime | None, until: datetime | None,
    order: Order, limit: int, offset: int, include_removed: bool,
) -> list[Hit]:
    d = _dialect(session, query, order)
    if d.name == "sqlite":  # a query over many matches reads rows all over the file: map it
        session.execute(text(f"PRAGMA mmap_size = {sqlite.MMAP_BYTES}"))
    sites = _site_ids(session, query)
    params: dict[str, Any] = dict(d.params, limit=limit, offset=offset)
    filters_c, filters_p = [d.comment_where], [d.post_where]
    if not include_removed:
        filters_c.append("c.removed_at IS NULL")
    if since is not None:
        params["since"] = since
        filters_c.append("coalesce(c.published_at, c.first_seen_at) >= :since")
        filters_p.append("coalesce(t.published_at, t.first_seen_at) >= :since")
    if until is not None:
        params["until"] = until
        filters_c.append("coalesce(c.published_at, c.first_seen_at) < :until")
        filters_p.append("coalesce(t.published_at, t.first_seen_at) < :until")
    if sites is not None:
        if not sites:
            return []
        in_sites = ", ".join(str(int(i)) for i in sites)
        filters_c.append(f"c.thread_id IN (SELECT id FROM thread WHERE site_id IN ({in_sites}))")
        filters_p.append(f"t.site_id IN ({in_sites})")
    ordering = ("score DESC, at DESC, kind, id DESC" if order == "best"
                else "at DESC, kind, id DESC")
    page = offset + limit
    ranked = order == "best" and bool(d.comment_ranked)
    if order == "best" and d.comment_order:
        rows = _select_in_index_order(session, d, params, filters_c, filters_p)
    else:
        rows = _select(session, d, params, filters_c, filters_p, ordering,
                       cap=max(4 * page, page + 200) if ranked else None)
    if ranked and len(rows) < limit:  # the filters may have left out most of the top: all of it
        rows = _select(session, d, params, filters_c, filters_p, ordering, cap=None)
    comment_ids = [int(r[1]) for r in rows if r[0] == 1]
    post_ids = [int(r[1]) for r in rows if r[0] == 0]
    comments = _comment_rows(session, d, comment_ids)
    posts = _post_rows(session, d, post_ids)
    threads = _threads(session, {c["thread_id"] for c in comments.values()} | set(post_ids))
    hits: list[Hit] = []
    for kind, row_id, score, _at in rows:
        if kind == 1:
            row = comments[int(row_id)]
            thread = threads[row["thread_id"]]
            parts = _parts(row["snippet"])
            hits.append(Hit(
                thread_id=row["thread_id"], thread_url=thread[0], thread_title=thread[1],
                comment_id=int(row_id), source_id=row["source_id"], author=row["author"],
                published_at=row["published_at"], snippet=shown(parts),
                score=float(score or 0.0), parts=parts, removed_at=row["removed_at"],
            ))
        else:
            row = posts[int(row_id)]
            parts = _parts(row["snippet"])
            hits.append(Hit(
                thread_id=int(row_id), thread_url=row["url"], thread_title=row["title"],
                comment_id=None, source_id=None, author=row["author"],
                published_at=row["published_at"], snippet=shown(parts),
                score=float(score or 0.0), parts=parts,
            ))
    return hits


def _in(ids: Sequence[int]) -> str:
    return ", ".join(str(int(i)) for i in ids)


def _snippets(session: Session, d: Dialect, template: str, ids: list[int]) -> dict[int, str]:
    # {lo} and {hi}: the ids' range (a template may walk it once instead of looking each up)
    sql = template.format(ids=_in(ids), lo=min(ids), hi=max(ids))
    rows = session.execute(text(sql), d.params)
    return {int(r[0]): r[1] for r in rows}


def _comment_rows(session: Session, d: Dialect, ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    statement = text(
        f"SELECT c.id, c.thread_id, c.source_id, c.author_name, c.published_at, c.removed_at"
        f" FROM comment c WHERE c.id IN ({_in(ids)})"
    ).columns(published_at=UTCDateTime(), removed_at=UTCDateTime())
    snippets = _snippets(session, d, d.comment_snippets, ids)
    return {
        int(r.id): dict(thread_id=int(r.thread_id), source_id=r.source_id, author=r.author_name,
                        published_at=r.published_at, removed_at=r.removed_at,
                        snippet=snippets.get(int(r.id), ""))
        for r in session.execute(statement)
    }


def _post_rows(session: Session, d: Dialect, ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    statement = text(
        f"SELECT t.id, t.url, t.title, t.author, t.published_at FROM thread t"
        f" WHERE t.id IN ({_in(ids)})"
    ).columns(published_at=UTCDateTime())
    snippets = _snippets(session, d, d.post_snippets, ids)
    return {
        int(r.id): dict(url=r.url, title=r.title, author=r.author, published_at=r.published_at,
                        snippet=snippets.get(int(r.id), ""))
        for r in session.execute(statement)
    }


def _select(
    session: Session, d: Dialect, params: dict[str, Any], filters_c: list[str],
    filters_p: list[str], ordering: str, *, cap: int | None,
) -> list[Any]:
    """(kind, id, score, date) of the page of hits: kind 1 a comment, 0 a post. With cap, the
    matches are ranked in the index alone first and only its best `cap` are read from the
    tables (the rest cannot reach the page unless the filters leave out most of them)."""
    if cap is None:
        comment_from, post_from = d.comment_from, d.post_from
        comment_score, post_score = d.comment_score, d.post_score
    else:
        comment_from = f"({d.comment_ranked}) AS r JOIN comment c ON c.id = r.rid"
        post_from = f"({d.post_ranked}) AS r JOIN thread t ON t.id = r.rid"
        comment_score = post_score = "r.score"
        filters_c = [f for f in filters_c if f != d.comment_where]
        filters_p = [f for f in filters_p if f != d.post_where]
        params = dict(params, cap=cap)
    arm_order = ("score DESC, at DESC, id DESC" if ordering.startswith("score")
                 else "at DESC, id DESC")
    # each side's own page first (exact: the page is made of them), so that a database can stop
    # early (PostgreSQL walks ix_comment_search_date backwards for a word most comments have)
    sql = (
        f"SELECT kind, id, score, at FROM ("
        f"SELECT * FROM (SELECT 1 AS kind, c.id AS id, {comment_score} AS score,"
        f" coalesce(c.published_at, c.first_seen_at) AS at"
        f" FROM {comment_from} WHERE {_all(filters_c)}"
        f" ORDER BY {arm_order} LIMIT :page) AS comment_hits"
        f" UNION ALL "
        f"SELECT * FROM (SELECT 0 AS kind, t.id AS id, {post_score} AS score,"
        f" coalesce(t.published_at, t.first_seen_at) AS at"
        f" FROM {post_from} WHERE {_all(filters_p)}"
        f" ORDER BY {arm_order} LIMIT :page) AS post_hits"
        f") AS hits ORDER BY {ordering} LIMIT :limit OFFSET :offset"
    )
    params = dict(params, page=params["limit"] + params["offset"])
    statement = text(sql)
    for key in ("since", "until"):
        if key in params:
            statement = statement.bindparams(bindparam(key, type_=UTCDateTime()))
    return list(session.execute(statement, params).all())


def _select_in_index_order(
    session: Session, d: Dialect, params: dict[str, Any], filters_c: list[str],
    filters_p: list[str],
) -> list[Any]:
    """The best-first page where an index returns the matches in rank order (d.comment_order):
    each side's first offset+limit matches in that order (the index stops there), merged by
    score keeping each side's order (so page n+1 starts where page n ended, ties included)."""
    page = params["limit"] + params["offset"]
    sides = []
    for kind, alias, source, score, filters, key in (
            (1, "c", d.comment_from, d.comment_score, filters_c, d.comment_order),
            (0, "t", d.post_from, d.post_score, filters_p, d.post_order)):
        statement = text(
            f"SELECT {kind} AS kind, {alias}.id AS id, {score} AS score,"
            f" coalesce({alias}.published_at, {alias}.first_seen_at) AS at"
            f" FROM {source} WHERE {_all(filters)} ORDER BY {key} LIMIT :page")
        for name in ("since", "until"):
            if name in params:
                statement = statement.bindparams(bindparam(name, type_=UTCDateTime()))
        sides.append(list(session.execute(statement, dict(params, page=page)).all()))
    comments, posts = sides
    # both sides are best first; heapq.merge keeps each side's order and, on equal scores,
    # takes the first iterable's first: a post before a comment of the same score
    merged = heapq.merge(posts, comments, key=lambda row: -float(row[2] or 0))
    return list(itertools.islice(merged, params["offset"], page))


def _all(filters: list[str]) -> str:
    return " AND ".join(f for f in filters if f) or "1 = 1"


def _parts(snippet: str | None) -> tuple[tuple[str, bool], ...]:
    """The snippet's pieces; a text's start (nothing marked) cut at a word, with an ellipsis."""
    snippet = (snippet or "").replace("\x01", "<")  # postgres.py's stand-in for '<'
    if START not in snippet and len(snippet) > PLAIN_CHARS:
        snippet = snippet[:PLAIN_CHARS].rsplit(None, 1)[0] + "…"
    return split_marks(snippet)


def _threads(session: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    rows = session.execute(text(f"SELECT id, url, title FROM thread WHERE id IN ({_in(list(ids))})"
                                ))
    return {int(r.id): (r.url, r.title) for r in rows}


def reindex(session: Session) -> int:
    name = session.get_bind().dialect.name
    if name == "sqlite":
        sqlite.reindex(session)
    elif name == "postgresql":
        postgres.reindex(session)
    else:
        raise UsageError(f"search needs SQLite or PostgreSQL, not {name}")
    session.commit()
    comments = session.execute(text("SELECT count(*) FROM comment")).scalar_one()
    posts = session.execute(text("SELECT count(*) FROM thread")).scalar_one()
    return int(comments) + int(posts)
