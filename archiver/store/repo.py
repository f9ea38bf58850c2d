"""Store operations: save captures, upsert sites and threads, merge a thread's comments.

Merging keeps everything: new comments are inserted, an edited comment keeps its old version in
CommentVersion, a comment missing upstream gets ``removed_at`` and is never deleted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import insert
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from archiver.adapters.base import ParsedComment, ParsedThread
from archiver.store.models import (
    Blob,
    Capture,
    Comment,
    CommentVersion,
    Site,
    Thread,
    ThreadVersion,
    UrlState,
)

if TYPE_CHECKING:
    from archiver.fetch.result import FetchResult


def utcnow() -> datetime:
    return datetime.now(UTC)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def insert_ignore(session: Session, model: type, values: dict, key: str) -> None:
    """INSERT a row unless one with the same unique key exists, even one another worker is
    committing at this moment (ON CONFLICT DO NOTHING on SQLite and PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert  # type: ignore[assignment]
    else:
        session.add(model(**values))
        session.flush()
        return
    session.execute(dialect_insert(model).values(**values).on_conflict_do_nothing(
        index_elements=[key]))


def put_blob(session: Session, data: bytes) -> str:
    """Store bytes once, addressed by their sha256; return the digest."""
    digest = sha256(data)
    if session.get_bind().dialect.name in ("sqlite", "postgresql"):
        # ON CONFLICT DO NOTHING already skips a stored blob: no SELECT (of its data) first
        insert_ignore(session, Blob, dict(sha256=digest, size=len(data), data=data), "sha256")
    elif session.get(Blob, digest) is None:
        insert_ignore(session, Blob, dict(sha256=digest, size=len(data), data=data), "sha256")
    return digest


def blob_bytes(session: Session, digest: str | None) -> bytes:
    if digest is None:
        return b""
    blob = session.get(Blob, digest)
    return blob.data if blob is not None else b""


def url_state(session: Session, url: str) -> UrlState:
    state = session.exec(select(UrlState).where(UrlState.url == url)).first()
    if state is None:
        state = UrlState(url=url)
        session.add(state)
    return state


def get_or_create_site(session: Session, url: str, platform: str, parsed: ParsedThread) -> Site:
    origin = origin_of(url)
    site = session.exec(select(Site).where(Site.origin == origin)).first()
    if site is None:  # two workers may meet here on a site's first threads
        insert_ignore(session, Site, dict(origin=origin, name=parsed.site_name or origin,
                                          platform=platform, created_at=utcnow()), "origin")
        site = session.exec(select(Site).where(Site.origin == origin)).one()
    site.platform = platform
    if parsed.site_name:
        site.title = parsed.site_name
    if parsed.site_tagline:
        site.tagline = parsed.site_tagline
    session.flush()
    return site


def find_thread(session: Session, url: str) -> Thread | None:
    """The thread archived under this URL (its canonical URL or any URL it was asked by)."""
    thread = session.exec(select(Thread).where(Thread.url == url)).first()
    if thread is None:
        capture = session.exec(
            select(Capture)
            .where(Capture.url == url, col(Capture.thread_id).is_not(None))
            .order_by(col(Capture.id).desc())
        ).first()
        if capture is not None:
            thread = session.get(Thread, capture.thread_id)
    return thread


def upsert_thread(session: Session, site: Site, parsed: ParsedThread, now: datetime) -> Thread:
    thread = session.exec(select(Thread).where(Thread.url == parsed.url)).first()
    if thread is None:
        thread = Thread(site_id=site.id or 0, url=parsed.url, first_seen_at=now)
        session.add(thread)
    elif _post_changed(thread, parsed):
        _keep_post_version(session, thread, now)
    thread.title = parsed.title
    thread.author = parsed.author
    thread.date_header = parsed.date_header
    thread.published_text = parsed.published_text
    thread.published_at = parsed.published_at
    thread.footer_text = parsed.footer_text
    thread.permalink = parsed.permalink
    thread.body_html = parsed.body_html
    thread.body_text = parsed.body_text
    session.flush()
    return thread


_POST_FIELDS = ("title", "author", "published_text", "footer_text", "body_html")


def _post_changed(thread: Thread, parsed: ParsedThread) -> bool:
    return any(getattr(thread, name) != getattr(parsed, name) for name in _POST_FIELDS)


def _keep_post_version(session: Session, thread: Thread, now: datetime) -> None:
    """The post was edited upstream: keep what we had as a ThreadVersion before overwriting."""
    from sqlalchemy import func

    count = session.exec(
        select(func.count()).select_from(ThreadVersion).where(ThreadVersion.thread_id == thread.id)
    ).one()
    session.add(ThreadVersion(
        thread_id=thread.id or 0, version=int(count) + 1, title=thread.title,
        author=thread.author, published_text=thread.published_text,
        footer_text=thread.footer_text, body_html=thread.body_html, body_text=thread.body_text,
        replaced_at=now,
    ))
    thread.last_change_at = now


def content_hash(c: ParsedComment) -> str:
    joined = "\x1f".join((c.author_name, c.author_url or "", c.published_text, c.body_html))
    return sha256(joined.encode("utf-8"))


@dataclass(slots=True)
class MergeResult:
    """What merging changed, and what it has seen so far in this run."""

    new: int = 0
    edited: int = 0
    removed: int = 0
    restored: int = 0
    position: int = 0  # position of the last comment placed
    seen: set[str] = field(default_factory=set)
    by_page: dict[str, list[Comment]] | None = None  # stored comments by page (first 304 builds it)

    @property
    def changed(self) -> bool:
        return bool(self.new or self.edited or self.removed or self.restored)


def existing_comments(session: Session, thread_id: int) -> dict[str, Comment]:
    """The thread's stored comments by source id. The bodies (most of a row's bytes) are not
    loaded: merging compares hashes, and reads a body only to version an edited comment (the
    ORM then loads it for that comment alone)."""
    query = (
        select(Comment)
        .where(Comment.thread_id == thread_id)
        .options(defer(Comment.body_html), defer(Comment.body_text))  # type: ignore[arg-type]
    )
    return {c.source_id: c for c in session.exec(query).all()}


def keep_unchanged_page(existing: dict[str, Comment], page_url: str, merge: MergeResult) -> None:
    """A page answered 304: its stored comments count as seen, in their stored order.

    The stored comments are grouped by page once per run (not scanned again for every page):
    a comment can only leave a page's group by being merged from another page, and is then
    already seen.
    """
    if merge.by_page is None:
        merge.by_page = {}
        for c in existing.values():
            if c.removed_at is None:
                merge.by_page.setdefault(c.page_url, []).append(c)
        for group in merge.by_page.values():
            group.sort(key=lambda c: c.position)
    for comment in merge.by_page.get(page_url, ()):
        if comment.source_id not in merge.seen:
            merge.seen.add(comment.source_id)
            merge.position += 1


def merge_page(
    session: Session,
    thread: Thread,
    existing: dict[str, Comment],
    page_url: str,
    comments: Iterable[ParsedComment],
    merge: MergeResult,
    now: datetime,
) -> None:
    """Merge one page's comments (in thread order) into the store."""
    inserts: list[dict] = []
    for parsed in comments:
        if parsed.source_id in merge.seen:
            continue  # the same comment twice (pages shifted while we read): keep the first
        merge.seen.add(parsed.source_id)
        merge.position += 1
        position = merge.position
        digest = content_hash(parsed)
        current = existing.get(parsed.source_id)
        if current is None:
            inserts.append(
                dict(
                    thread_id=thread.id, source_id=parsed.source_id, position=position,
                    number=parsed.number, author_name=parsed.author_name,
                    author_url=parsed.author_url, published_text=parsed.published_text,
                    published_at=parsed.published_at, permalink=parsed.permalink,
                    body_html=parsed.body_html, body_text=parsed.body_text,
                    content_sha256=digest, version=1, page_url=page_url,
                    first_seen_at=now, changed_at=now, removed_at=None,
                )
            )
            merge.new += 1
            continue
        touched = False
        if current.removed_at is not None:
            current.removed_at = None
            merge.restored += 1
            touched = True
        if current.content_sha256 != digest:
            session.add(
                CommentVersion(
                    comment_id=current.id or 0, version=current.version,
                    author_name=current.author_name, author_url=current.author_url,
                    published_text=current.published_text, body_html=current.body_html,
                    body_text=current.body_text, content_sha256=current.content_sha256,
                    first_seen_at=current.changed_at, replaced_at=now,
                )
            )
            current.version += 1
            current.author_name = parsed.author_name
            current.author_url = parsed.author_url
            current.published_text = parsed.published_text
            current.published_at = parsed.published_at
            current.body_html = parsed.body_html
            current.body_text = parsed.body_text
            current.content_sha256 = digest
            current.changed_at = now
            merge.edited += 1
            touched = True
        if (current.position, current.number, current.page_url, current.permalink) != (
            position, parsed.number, page_url, parsed.permalink
        ):
            current.position, current.number = position, parsed.number
            current.page_url, current.permalink = page_url, parsed.permalink
            touched = True
        if touched:
            session.add(current)
    if inserts:  # a Core insert: the ORM bulk path costs ~1.5x more per row and adds nothing
        session.execute(insert(Comment.__table__), inserts)


def mark_removed(
    session: Session, existing: dict[str, Comment], merge: MergeResult, now: datetime
) -> None:
    """After a complete read of every page: flag stored comments that were not seen."""
    for comment in existing.values():
        if comment.source_id not in merge.seen and comment.removed_at is None:
            comment.removed_at = now
            session.add(comment)
            merge.removed += 1


def current_comments(session: Session, thread_id: int) -> Sequence[Comment]:
    """The thread's comments as they stand now (not removed), in thread order."""
    return session.exec(
        select(Comment)
        .where(Comment.thread_id == thread_id, col(Comment.removed_at).is_(None))
        .order_by(col(Comment.position), col(Comment.id))
    ).all()


def count_current_comments(session: Session, thread_id: int) -> int:
    """How many comments the thread has now (not removed), without loading them."""
    from sqlalchemy import func

    return session.exec(
        select(func.count())
        .select_from(Comment)
        .where(Comment.thread_id == thread_id, col(Comment.removed_at).is_(None))
    ).one()


def capture_recorder(
    session: Session, into: list[Capture] | None = None
) -> Callable[[FetchResult], None]:
    """A fetcher's record callback: stores each exchange as a Capture and commits at once (the
    raw exchange is safe before anything parses it); appends the rows to into, if given."""

    def record(result: FetchResult) -> None:
        capture = save_capture(session, result)
        session.commit()
        if into is not None:
            into.append(capture)

    return record


def save_capture(
    session: Session, result: FetchResult, *, thread_id: int | None = None
) -> Capture:
    """Store one HTTP exchange (a FetchResult) with its raw body; returns the Capture row."""
    digest = put_blob(session, result.raw_body) if result.raw_body else None
    fetched_at = result.fetched_at
    if fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=UTC)
    capture = Capture(
        url=result.url, method=result.method,
        request_headers=[list(pair) for pair in result.request_headers],
        status=result.status, reason=result.reason, http_version=result.http_version,
        response_headers=[list(pair) for pair in result.headers],
        body_sha256=digest,
        payload_sha256=sha256(result.body) if result.body else None,
        body_size=len(result.raw_body), fetched_at=fetched_at,
        elapsed_ms=result.elapsed_ms, thread_id=thread_id,
    )
    if result.decode_error:  # kept as received; nothing could parse it
        capture.parsed_ok, capture.parse_error = False, result.decode_error
    session.add(capture)
    session.flush()
    return capture


def thread_summaries(session: Session) -> list[tuple[Thread, int]]:
    """Every thread with its number of current comments, newest fetch first."""
    from sqlalchemy import func

    counts = (
        select(Comment.thread_id, func.count().label("n"))
        .where(col(Comment.removed_at).is_(None))
        .group_by(Comment.thread_id)
        .subquery()
    )
    rows = session.exec(
        select(Thread, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.thread_id == Thread.id)
        .order_by(col(Thread.last_fetched_at).desc())
    ).all()
    return [(thread, int(n)) for thread, n in rows]
