"""JSON Lines export: one JSON object per thread, its comments nested with their edit history.

The schema is versioned (SCHEMA_VERSION) and documented in docs/export-schema.md. A thread is
written a batch of comments at a time, so even a thread with a huge number of comments is never
held in memory whole.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from sqlmodel import Session

from archiver import __version__
from archiver.export.selection import (
    Resolved,
    Sources,
    capture_sources,
    count_current_comments,
    iso,
    iter_comments_with_history,
    iter_threads,
    post_history,
)
from archiver.store.models import Comment, CommentVersion, Site, Thread, ThreadVersion

SCHEMA = "archiver.thread"
SCHEMA_VERSION = 1


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def site_object(site: Site | None) -> dict[str, Any] | None:
    if site is None:
        return None
    return {
        "name": site.name,
        "origin": site.origin,
        "base_url": site.base_url,
        "platform": site.platform,
        "title": site.title,
        "tagline": site.tagline,
    }


def thread_head(session: Session, thread: Thread) -> dict[str, Any]:
    """Every field of the thread except its comments, in schema order."""
    site = session.get(Site, thread.site_id)
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "exported_by": f"archiver {__version__}",
        "url": thread.url,
        "site": site_object(site),
        "title": thread.title,
        "author": thread.author,
        "date_header": thread.date_header,
        "published_text": thread.published_text,
        "published_at": iso(thread.published_at),
        "published_precision": thread.published_precision if thread.published_at else None,
        "permalink": thread.permalink,
        "footer_text": thread.footer_text,
        "body_html": thread.body_html,
        "body_text": thread.body_text,
        "comments_closed": thread.comments_closed,
        "status": thread.status,
        "pages": thread.pages,
        "first_seen_at": iso(thread.first_seen_at),
        "last_fetched_at": iso(thread.last_fetched_at),
        "last_change_at": iso(thread.last_change_at),
        "gone_at": iso(thread.gone_at),
        "comment_count": count_current_comments(session, thread.id or 0),
        "ping_count": count_current_comments(session, thread.id or 0, pings=True),
        "post_history": [post_version_object(v) for v in post_history(session, thread.id or 0)],
    }


def post_version_object(version: ThreadVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "title": version.title,
        "author": version.author,
        "published_text": version.published_text,
        "footer_text": version.footer_text,
        "body_html": version.body_html,
        "body_text": version.body_text,
        "replaced_at": iso(version.replaced_at),
    }


def version_object(version: CommentVersion, sources: Sources | None = None) -> dict[str, Any]:
    return {
        "version": version.version,
        "author_name": version.author_name,
        "author_url": version.author_url,
        "published_text": version.published_text,
        "body_html": version.body_html,
        "body_text": version.body_text,
        "parent_source_id": version.parent_source_id,
        "kind": version.kind,
        "content_sha256": version.content_sha256,
        "first_seen_at": iso(version.first_seen_at),
        "replaced_at": iso(version.replaced_at),
        "source": source_object(version.capture_id, sources or {}),
    }


def source_object(capture_id: int | None, sources: Sources) -> dict[str, Any] | None:
    found = sources.get(capture_id) if capture_id is not None else None
    if found is None:
        return None
    url, captured_at, record = found
    return {"url": url, "captured_at": iso(captured_at), "record": record}


def comment_object(comment: Comment, history: Sequence[CommentVersion],
                   sources: Sources | None = None) -> dict[str, Any]:
    sources = sources or {}
    return {
        "source_id": comment.source_id,
        "position": comment.position,
        "number": comment.number,
        "author_name": comment.author_name,
        "author_url": comment.author_url,
        "published_text": comment.published_text,
        "published_at": iso(comment.published_at),
        "permalink": comment.permalink,
        "page_url": comment.page_url,
        "body_html": comment.body_html,
        "body_text": comment.body_text,
        "parent_source_id": comment.parent_source_id,
        "depth": comment.depth,
        "kind": comment.kind,
        "content_sha256": comment.content_sha256,
        "version": comment.version,
        "first_seen_at": iso(comment.first_seen_at),
        "changed_at": iso(comment.changed_at),
        "removed": comment.removed_at is not None,
        "removed_at": iso(comment.removed_at),
        "source": source_object(comment.capture_id, sources),
        "history": [version_object(v, sources) for v in history],
    }


def write_thread(session: Session, thread: Thread, out: TextIO) -> int:
    """Write one thread as one line of JSON (ending in a newline); returns its comment count.

    The object is streamed: the head, then each comment, then the closing brackets."""
    head = _dumps(thread_head(session, thread))
    out.write(head[:-1])  # drop the closing brace: "comments" comes last
    out.write(',"comments":[')
    count = 0
    sources = capture_sources(session, thread.id or 0)
    for comment, history in iter_comments_with_history(session, thread.id or 0):
        if count:
            out.write(",")
        out.write(_dumps(comment_object(comment, history, sources)))
        count += 1
    out.write("]}\n")
    return count


def write_selection(session: Session, resolved: Resolved, out: TextIO) -> tuple[int, int]:
    """Every selected thread, one line each; returns (threads, comments)."""
    threads = comments = 0
    for thread in iter_threads(session, resolved):
        comments += write_thread(session, thread, out)
        threads += 1
    return threads, comments
