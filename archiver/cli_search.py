"""`archiver search QUERY`: the posts and comments of every archived thread that match a query
(archiver/search/), as lines for a reader or JSON for scripts; `--reindex` rebuilds the index."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer

from archiver.errors import UsageError
from archiver.search import Hit

QUERY_HELP = ('Words (all must appear), "a phrase", prefix*, a OR b, -word, author:NAME, '
              "site:NAME.")


def _date(option: str, text: str, *, end: bool) -> datetime:
    """--since/--until: a day (YYYY-MM-DD; --until counts the whole day) or an ISO 8601 time
    (UTC unless it says otherwise)."""
    from archiver.export.selection import parse_since

    try:
        when = parse_since(text)
    except UsageError as exc:
        raise UsageError(str(exc).replace("--since", option)) from None
    whole_day = re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()) is not None
    return when + timedelta(days=1) if end and whole_day else when


def _iso(value: datetime | None) -> str | None:
    from archiver.cli_listing import iso_seconds

    return iso_seconds(value)


def hit_object(hit: Hit) -> dict[str, Any]:
    """One hit as --json writes it."""
    return {
        "kind": "post" if hit.comment_id is None else "comment",
        "thread_id": hit.thread_id, "thread_url": hit.thread_url,
        "thread_title": hit.thread_title, "comment_id": hit.comment_id,
        "source_id": hit.source_id, "author": hit.author,
        "published_at": _iso(hit.published_at), "snippet": hit.snippet,
        "score": round(hit.score, 6), "removed_at": _iso(hit.removed_at),
    }


def hit_lines(hit: Hit) -> list[str]:
    """One hit for a reader: the thread, who and when, the snippet."""
    when = f"{hit.published_at:%Y-%m-%d %H:%M} UTC" if hit.published_at else "no date"
    what = "post" if hit.comment_id is None else f"comment {hit.source_id}"
    if hit.removed_at is not None:
        what += f", removed {_iso(hit.removed_at)}"
    return [
        f"{hit.thread_title or '(untitled)'} <{hit.thread_url}>",
        f"  {hit.author or '(anonymous)'}, {when}"
        f" ({what})",
        "  " + " ".join(hit.snippet.split()),
    ]


def search_command(
    query: Annotated[str | None, typer.Argument(metavar="QUERY", help=QUERY_HELP)] = None,
    since: Annotated[str | None, typer.Option(
        "--since", metavar="DATE", help="Only what was published on or after DATE (UTC).")] = None,
    until: Annotated[str | None, typer.Option(
        "--until", metavar="DATE",
        help="Only what was published before DATE (a day: up to its end).")] = None,
    newest: Annotated[bool, typer.Option(
        "--newest", help="Newest first (default: best match first).")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N",
                                       help="At most N hits.")] = 20,
    offset: Annotated[int, typer.Option("--offset", metavar="N",
                                        help="Skip the first N hits.")] = 0,
    removed: Annotated[bool, typer.Option(
        "--removed", help="Also removed comments (marked removed).")] = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="A JSON array (one object per hit) instead.")] = False,
    reindex: Annotated[bool, typer.Option(
        "--reindex", help="Rebuild the search index first (QUERY then optional).")] = False,
) -> None:
    """Search the posts and comments of every archived thread.

    Each hit shows its thread, author, date and the text around the match, marked «like this»."""
    from archiver.cli import State, require_archive
    from archiver.search import reindex as rebuild
    from archiver.search import search
    from archiver.store.db import Store

    if query is None and not reindex:
        raise UsageError("give a QUERY to search for (or --reindex to rebuild the index)")
    bounds = (_date("--since", since, end=False) if since else None,
              _date("--until", until, end=True) if until else None)
    settings = State.settings()
    require_archive(settings)
    store = Store(settings.db_url)
    try:
        with store.session() as session:
            if reindex:
                count = rebuild(session)
                print(f"Reindexed {count} posts and comments", flush=True)
            if query is None:
                return
            hits = search(session, query, since=bounds[0], until=bounds[1],
                          order="newest" if newest else "best", limit=limit, offset=offset,
                          include_removed=removed)
    finally:
        store.close()
    if as_json:
        print(json.dumps([hit_object(h) for h in hits], ensure_ascii=False, indent=1))
        return
    if not hits:
        print("No matches.")
        return
    print("\n\n".join("\n".join(hit_lines(h)) for h in hits))
