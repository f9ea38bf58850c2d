"""Store operations: upsert sites and threads, merge a thread's comments (captures: captures.py).

Merging keeps everything: new comments are inserted, an edited comment keeps its old version in
CommentVersion, a comment missing upstream gets ``removed_at`` and is never deleted.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import Connection, Table, insert, update
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
    ThreadUrl,
    ThreadVersion,
    UrlState,
)
from archiver.urls import normalise_url


def utcnow() -> datetime:
    return datetime.now(UTC)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def insert_ignore(session: Session, model: type, values: dict, key: str | list[str]) -> None:
    """INSERT a row unless one with the same unique key exists, even one another worker is
    committing at this moment (ON CONFLICT DO NOTHING on SQLite and PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    table: Table = model.__table__  # type: ignore[attr-defined]
    defaults = _scalar_defaults(table)
    if dialect == "sqlite" and defaults is not None:
        # sent as it is (see _sqlite_insert), with the columns' defaults as a Core insert fills
        # them in: its compilation cost more than SQLite's insert of a raw page
        session.flush()  # as session.execute would: rows this one may refer to go first
        connection = session.connection()
        quote = connection.dialect.identifier_preparer.quote
        keys = ", ".join(quote(k) for k in ([key] if isinstance(key, str) else key))
        _sqlite_insert(connection, table, [{**defaults, **values}],
                       f" ON CONFLICT ({keys}) DO NOTHING")
        return
    if dialect == "sqlite":  # a column whose default is computed: Core fills it in
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert  # type: ignore[assignment]
    else:
        session.add(model(**values))
        session.flush()
        return
    session.execute(dialect_insert(model).values(**values).on_conflict_do_nothing(
        index_elements=[key] if isinstance(key, str) else key))


@functools.cache
def _scalar_defaults(table: Table) -> dict[str, object] | None:
    """The table's columns' Python-side defaults (all plain values), or None when one of them is
    computed (only a Core insert can fill that in)."""
    columns = [column for column in table.c if column.default is not None]
    if not all(column.default.is_scalar for column in columns):  # type: ignore[union-attr]
        return None
    return {column.name: column.default.arg for column in columns}  # type: ignore[union-attr]


def lock_thread(session: Session, thread_id: int | None) -> None:
    """Begin a write transaction that owns the thread until the next commit: the row is locked
    on PostgreSQL, the database's write lock taken on SQLite (a writer waits for the other's
    commit). Everything read after this sees what the other writer committed, so two writers
    of one thread (two `archive`, or `archive` beside `run`) merge in turn and never insert or
    version the same comment twice."""
    if thread_id is None:
        return
    connection = session.connection()
    if connection.dialect.name == "sqlite":  # sent as it is (SQLAlchemy's ORM update: ~4x more)
        connection.exec_driver_sql("UPDATE thread SET id = id WHERE id = ?", (thread_id,))
        return
    session.execute(
        update(Thread).where(col(Thread.id) == thread_id).values(id=Thread.id)
        .execution_options(synchronize_session=False)
    )


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
    if state is None:  # another worker may be creating the same row: no duplicate key error
        insert_ignore(session, UrlState, dict(url=url, failures=0), "url")
        state = session.exec(select(UrlState).where(UrlState.url == url)).one()
    return state


def site_base_url(url: str, parsed: ParsedThread) -> str:
    """The base URL of the site a thread belongs to: the adapter's, when it lies on the thread's
    own host, else the thread's origin (always ending in /)."""
    origin = origin_of(url)
    base = normalise_url(parsed.site_url) if parsed.site_url else ""
    if not base or origin_of(base) != origin:
        return origin + "/"
    return base if base.endswith("/") else base + "/"


def get_or_create_site(session: Session, url: str, platform: str, parsed: ParsedThread) -> Site:
    base = site_base_url(url, parsed)
    site = session.exec(select(Site).where(Site.base_url == base)).first()
    if site is None:  # two workers may meet here on a site's first threads
        origin = origin_of(url)
        insert_ignore(session, Site, dict(base_url=base, origin=origin,
                                          name=parsed.site_name or base.rstrip("/"),
                                          platform=platform, created_at=utcnow()), "base_url")
        site = session.exec(select(Site).where(Site.base_url == base)).one()
    site.platform = platform
    if parsed.site_name:
        site.title = parsed.site_name
    tagline = parsed.extras.get("site_tagline", "")
    if tagline:
        site.tagline = tagline
    session.flush()
    return site


def find_thread(session: Session, url: str) -> Thread | None:
    """The thread archived under this URL (its canonical URL or any URL it was reached by), in
    any of the URL's forms (archiver.urls.normalise_url)."""
    normal = normalise_url(url)
    alias = session.exec(select(ThreadUrl).where(ThreadUrl.url == normal)).first()
    if alias is not None:
        found = session.get(Thread, alias.thread_id)
        if found is not None:
            return found
    thread = session.exec(select(Thread).where(col(Thread.url).in_({url, normal}))).first()
    if thread is None:
        capture = session.exec(
            select(Capture)
            .where(Capture.url == url, col(Capture.thread_id).is_not(None))
            .order_by(col(Capture.id).desc())
        ).first()
        if capture is not None:
            thread = session.get(Thread, capture.thread_id)
    return thread


def add_thread_urls(session: Session, thread_id: int, urls: Iterable[str], now: datetime) -> None:
    """Remember URLs the thread was reached by (normalised); a URL already known stays with the
    thread it found first."""
    for url in {normalise_url(u) for u in urls if u}:
        insert_ignore(session, ThreadUrl, dict(url=url, thread_id=thread_id, first_seen_at=now),
                      "url")


def upsert_thread(session: Session, site: Site, parsed: ParsedThread, now: datetime) -> Thread:
    """The thread with parsed.url, created if new, its post updated (an edit keeps the earlier
    version). Leaves the thread locked (lock_thread) until the caller commits."""
    thread = session.exec(select(Thread).where(Thread.url == parsed.url)).first()
    if thread is None:  # two writers may meet on a new thread: one row, no duplicate key error
        insert_ignore(session, Thread, dict(
            site_id=site.id or 0, url=parsed.url, first_seen_at=now, title="", author="",
            date_header="", published_text="", footer_text="", body_html="", body_text="",
            comments_closed=False, status="open", pages=0, complete=True,
        ), "url")
        thread = session.exec(select(Thread).where(Thread.url == parsed.url)).one()
    lock_thread(session, thread.id)
    session.refresh(thread)  # as the other writer may have left it
    if thread.title or thread.body_html or thread.footer_text:
        if _post_changed(thread, parsed):
            _keep_post_version(session, thread, now)
    thread.site_id = site.id or thread.site_id
    thread.title = parsed.title
    thread.author = parsed.author
    extras = parsed.extras
    thread.date_header = extras.get("date_header", "")
    thread.published_text = parsed.published_text
    thread.published_at = parsed.published_at
    thread.published_precision = parsed.published_precision
    thread.footer_text = extras.get("footer_text", "")
    thread.permalink = parsed.permalink
    thread.body_html = parsed.body_html
    thread.body_text = parsed.body_text
    session.flush()
    return thread


_POST_FIELDS = ("title", "author", "published_text", "body_html")


def _post_changed(thread: Thread, parsed: ParsedThread) -> bool:
    return thread.footer_text != parsed.extras.get("footer_text", "") or any(
        getattr(thread, name) != getattr(parsed, name) for name in _POST_FIELDS)


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
    """What an edit changes: author, link, date text, body, and (when not the defaults, so
    that hashes stored before replies existed stay valid) the parent and the kind."""
    parts = [c.author_name, c.author_url or "", c.published_text, c.body_html]
    if c.parent_source_id is not None or c.kind != "comment":
        parts += ["\x1ereply", c.parent_source_id or "", c.kind]
    return sha256("\x1f".join(parts).encode("utf-8"))


@dataclass(slots=True)
class MergeResult:
    """What merging changed, and what it has seen so far in this run."""

    new: int = 0
    edited: int = 0
    removed: int = 0
    restored: int = 0
    restored_ids: list[int] = field(default_factory=list)  # the comments restored (pictures)
    held_back: int = 0  # removals not applied: more than half the thread at once, unconfirmed
    position: int = 0  # position of the last comment placed
    seen: set[str] = field(default_factory=set)
    by_page: dict[str, list[Comment]] | None = None  # stored comments by page (first 304 builds it)
    # a platform whose exports order comments by their reply tree (TREE_ORDER: Reddit): a stored
    # comment's place (position, answer read from) is not rewritten when only it moved (a new
    # reply earlier in the read shifts every later one); new comments take their place in this
    # read, after their older siblings
    keep_places: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.new or self.edited or self.removed or self.restored)


def existing_comments(
    session: Session, thread_id: int, source_ids: Collection[str] | None = None
) -> dict[str, Comment]:
    """The thread's stored comments by source id (only those of source_ids, if given), read
    afresh (rows already loaded are refreshed: another writer may have changed them). The bodies
    (most of a row's bytes) are not loaded: merging compares hashes, and reads a body only to
    version an edited comment (the ORM then loads it for that comment alone)."""
    query = (
        select(Comment)
        .where(Comment.thread_id == thread_id)
        .options(defer(Comment.body_html), defer(Comment.body_text))  # type: ignore[arg-type]
        .execution_options(populate_existing=True)
    )
    if source_ids is None:
        return {c.source_id: c for c in session.exec(query).all()}
    found: dict[str, Comment] = {}
    ids = stored_source_ids(session, thread_id, source_ids)  # often none (new comments): no ORM
    for start in range(0, len(ids), 500):  # within every database's limit on bound parameters
        chunk = query.where(col(Comment.source_id).in_(ids[start:start + 500]))
        found.update((c.source_id, c) for c in session.exec(chunk).all())
    return found


def stored_source_ids(session: Session, thread_id: int, source_ids: Collection[str]) -> list[str]:
    """Which of source_ids the thread has stored (one plain query per 500: no ORM object)."""
    ids = list(source_ids)
    stored: list[str] = []
    column = Comment.__table__.c  # type: ignore[attr-defined]
    connection = session.connection()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        if connection.dialect.name == "sqlite":  # sent as it is: SQLAlchemy's expansion of an
            # IN list costs more than SQLite's whole query (as insert_comments does)
            sql = (f"SELECT source_id FROM comment WHERE thread_id = ? AND source_id IN"
                   f" ({', '.join('?' * len(chunk))})")
            rows = connection.exec_driver_sql(sql, (thread_id, *chunk)).all()
            stored += [row[0] for row in rows]
        else:
            stored += session.execute(
                select(column.source_id).where(column.thread_id == thread_id,
                                               column.source_id.in_(chunk))).scalars().all()
    return stored


def page_comments(parsed: Iterable[ParsedComment], hashes: Sequence[str]) -> list[list[str]]:
    """What a page held, as kept on its UrlState: [source id, content hash] per comment
    (hashes: their content hashes in the same order, as merge_page returns them)."""
    return [[c.source_id, digest] for c, digest in zip(parsed, hashes, strict=True)]


def held_as_stored(
    session: Session, thread_id: int, existing: dict[str, Comment], page_url: str,
    held: Sequence[Sequence[str]],
) -> bool:
    """Whether each comment a page held when last parsed is stored as it was then: not removed,
    the same content, last read from this page. A 304 for that page then needs no parse (else
    another URL of the thread, or another page read since, changed what the store holds: the
    page's own bytes decide again)."""
    ids = {pair[0] for pair in held}
    existing.update(existing_comments(session, thread_id, ids))
    for source_id, digest in held:
        comment = existing.get(source_id)
        if (comment is None or comment.removed_at is not None
                or comment.content_sha256 != digest or comment.page_url != page_url):
            return False
    return True


def keep_unchanged_page(
    session: Session, existing: dict[str, Comment], page_url: str, merge: MergeResult,
    held: Sequence[Sequence[str]] | None = None,
) -> None:
    """A page answered 304: the comments it held when last parsed (held: kept on its UrlState)
    count as seen, in that order, each at its place in this read (the pages before it may have
    grown or shrunk). For a page parsed before the store kept what it held, the stored comments
    last read from that page stand in (grouped by page once per run: a comment can only leave a
    page's group by being merged from another page, and is then already seen)."""
    if held is not None:
        ids: Iterable[str] = (pair[0] for pair in held)
    else:
        if merge.by_page is None:
            merge.by_page = {}
            for c in existing.values():
                if c.removed_at is None:
                    merge.by_page.setdefault(c.page_url, []).append(c)
            for group in merge.by_page.values():
                group.sort(key=lambda c: c.position)
        ids = [c.source_id for c in merge.by_page.get(page_url, ())]
    for source_id in ids:
        if source_id not in merge.seen:
            merge.seen.add(source_id)
            merge.position += 1
            comment = existing.get(source_id)
            if comment is not None and comment.position != merge.position:
                comment.position = merge.position
                session.add(comment)


def _moved(current: Comment, position: int, parsed: ParsedComment, page_url: str,
           keep_places: bool) -> bool:
    """Whether a stored comment's place or numbering differs from this read's (its position
    and the answer it was read from not counted when keep_places)."""
    if keep_places:
        return (current.number, current.permalink, current.depth) != (
            parsed.number, parsed.permalink, parsed.depth)
    return (current.position, current.number, current.page_url, current.permalink,
            current.depth) != (position, parsed.number, page_url, parsed.permalink, parsed.depth)


def _page_changes(
    existing: dict[str, Comment], page: list[ParsedComment], digests: dict[str, str],
    page_url: str, merge: MergeResult,
) -> bool:
    """Whether merging the page would write anything, judged by the stored comments as loaded
    (a comment another writer stored meanwhile looks new here, so the page is then merged under
    the lock, from a fresh read)."""
    position, seen = merge.position, set()
    for parsed in page:
        if parsed.source_id in merge.seen or parsed.source_id in seen:
            continue
        seen.add(parsed.source_id)
        position += 1
        current = existing.get(parsed.source_id)
        if (current is None or current.removed_at is not None
                or current.content_sha256 != digests[parsed.source_id]
                or _moved(current, position, parsed, page_url, merge.keep_places)):
            return True
    return False


def merge_page(
    session: Session,
    thread: Thread,
    existing: dict[str, Comment],
    page_url: str,
    comments: Iterable[ParsedComment],
    merge: MergeResult,
    now: datetime,
    capture_id: int | None = None,
) -> list[str]:
    """Merge one page's comments (in thread order) into the store (capture_id: the capture they
    were read from, kept on new comments and new versions). A page that would change
    nothing (as the store stood when read) writes nothing; otherwise it takes the thread's lock
    (lock_thread) and reads the page's stored comments afresh first: the caller commits.
    Returns the comments' content hashes, in order (for page_comments)."""
    page = [c for c in comments]
    hashes = [content_hash(c) for c in page]
    digests = {c.source_id: digest for c, digest in zip(page, hashes, strict=True)}
    if not _page_changes(existing, page, digests, page_url, merge):
        for parsed in page:  # as the merge below would count them, with nothing to write
            if parsed.source_id not in merge.seen:
                merge.seen.add(parsed.source_id)
                merge.position += 1
        return hashes
    lock_thread(session, thread.id)
    if thread.id is not None and page:
        existing.update(existing_comments(session, thread.id, digests.keys()))
    inserts: list[dict] = []
    for parsed in page:
        if parsed.source_id in merge.seen:
            continue  # the same comment twice (pages shifted while we read): keep the first
        merge.seen.add(parsed.source_id)
        merge.position += 1
        position = merge.position
        digest = digests[parsed.source_id]
        current = existing.get(parsed.source_id)
        if current is None:
            inserts.append(
                dict(
                    thread_id=thread.id, source_id=parsed.source_id, position=position,
                    number=parsed.number, author_name=parsed.author_name,
                    author_url=parsed.author_url, published_text=parsed.published_text,
                    published_at=parsed.published_at, permalink=parsed.permalink,
                    body_html=parsed.body_html, body_text=parsed.body_text,
                    parent_source_id=parsed.parent_source_id, depth=parsed.depth,
                    kind=parsed.kind, content_sha256=digest, version=1, page_url=page_url,
                    capture_id=capture_id,
                    first_seen_at=now, changed_at=now, removed_at=None, missed_at=None,
                )
            )
            merge.new += 1
            continue
        touched = False
        if current.removed_at is not None:
            current.removed_at = None
            merge.restored += 1
            if current.id is not None:
                merge.restored_ids.append(current.id)
            touched = True
        if current.content_sha256 != digest:
            session.add(
                CommentVersion(
                    comment_id=current.id or 0, version=current.version,
                    author_name=current.author_name, author_url=current.author_url,
                    published_text=current.published_text, body_html=current.body_html,
                    body_text=current.body_text, content_sha256=current.content_sha256,
                    parent_source_id=current.parent_source_id, kind=current.kind,
                    capture_id=current.capture_id,
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
            current.parent_source_id, current.kind = parsed.parent_source_id, parsed.kind
            current.content_sha256 = digest
            current.changed_at = now
            current.capture_id = capture_id
            merge.edited += 1
            touched = True
        if _moved(current, position, parsed, page_url, merge.keep_places):
            current.position, current.number = position, parsed.number
            current.page_url, current.permalink = page_url, parsed.permalink
            current.depth = parsed.depth
            touched = True
        if touched:
            session.add(current)
    if inserts:  # no ON CONFLICT needed (and it costs ~20%): under the lock, after the fresh
        # read, no other writer can have stored these
        insert_comments(session, inserts)
    return hashes


def insert_comments(session: Session, rows: list[dict]) -> None:
    """INSERT new comments (rows: column -> value, the same columns in each) as multi-row
    statements, not one statement a row: on SQLite the search index's trigger (FTS5) flushes
    its pending terms at the end of each statement, so one a row costs ~3x more in SQLite.

    On SQLite the statements are sent as they are (each value through its column type's own
    bind processor, as SQLAlchemy would): SQLAlchemy's per-parameter work was a third of the
    insert's CPU. Elsewhere a Core insert with RETURNING (SQLAlchemy's "insertmanyvalues" sends
    it as multi-row statements); the ORM bulk path costs ~1.5x more per row and adds nothing."""
    table = Comment.__table__
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        session.execute(insert(table).returning(table.c.id), rows)
        return
    _sqlite_insert(connection, table, rows)


def _sqlite_insert(connection: Connection, table: Table, rows: list[dict], tail: str = "") -> None:
    """INSERT rows (column -> value, the same columns in each) into table on SQLite as plain
    multi-row statements (tail: e.g. an ON CONFLICT clause), each value through its column
    type's own bind processor, as SQLAlchemy would."""
    dialect = connection.dialect
    names = list(rows[0])
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                  for name in names]
    quote = dialect.identifier_preparer.quote
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES "
    one = "(" + ", ".join("?" * len(names)) + ")"
    per = max(1, 30000 // len(names))  # within SQLite's 32,766 bound parameters a statement
    done: dict[tuple[int, datetime], object] = {}  # a date processed once: most rows share `now`
    for start in range(0, len(rows), per):
        chunk = rows[start:start + per]
        params: list[object] = []
        for row in chunk:
            for index, (name, process) in enumerate(zip(names, processors, strict=True)):
                value = row[name]
                if process is None or value is None:
                    params.append(value)
                elif isinstance(value, datetime):
                    key = (index, value)
                    if key not in done:
                        done[key] = process(value)
                    params.append(done[key])
                else:
                    params.append(process(value))
        connection.exec_driver_sql(head + ", ".join([one] * len(chunk)) + tail, tuple(params))


def settle_comments(
    session: Session, thread: Thread, existing: dict[str, Comment], merge: MergeResult,
    now: datetime, *, complete: bool,
) -> None:
    """At the end of a read: comments seen lose their missed mark; after a complete read of
    every page, stored comments that were not seen are flagged removed.

    Reads the thread's comments afresh under its lock. A complete read that would flag more than
    half of the thread's current comments at once is held back: those comments are marked missed
    and flagged removed only when a later complete read misses them again, without a read in
    between seeing them (merge.held_back counts the comments held back).

    Reads three columns of each current comment (not whole rows: a thread of thousands would
    load thousands of ORM objects to change a few) and writes only the rows that change; the
    comments already loaded (existing) are kept in step."""
    lock_thread(session, thread.id)
    if thread.id is None:
        return
    session.flush()  # what this read changed (a comment restored) is what is read below
    table = Comment.__table__
    current = session.execute(
        select(table.c.id, table.c.source_id, table.c.missed_at)
        .where(table.c.thread_id == thread.id, table.c.removed_at.is_(None))
    ).all()
    seen = merge.seen
    found_again = [row.id for row in current if row.missed_at is not None and row.source_id in seen]
    _set_rows(session, found_again, missed_at=None)
    if not complete:
        return
    missing = [row for row in current if row.source_id not in seen]
    confirmed = missing
    if 2 * len(missing) > len(current):
        confirmed = [row for row in missing if row.missed_at is not None]
        held = [row.id for row in missing if row.missed_at is None]
        _set_rows(session, held, missed_at=now)
        merge.held_back += len(held)
    _set_rows(session, [row.id for row in confirmed], removed_at=now, missed_at=None)
    merge.removed += len(confirmed)


def _set_rows(session: Session, ids: Sequence[int], **values: object) -> None:
    """UPDATE these comments (by id) to values; comments loaded in the session follow."""
    for start in range(0, len(ids), 500):  # within every database's limit on bound parameters
        session.execute(
            update(Comment).where(col(Comment.id).in_(ids[start:start + 500])).values(**values)
            .execution_options(synchronize_session="evaluate")
        )


def count_current_comments(session: Session, thread_id: int, *, pings: bool = False) -> int:
    """How many comments the thread has now (not removed; pings not counted), or with
    pings=True how many pingbacks and trackbacks, without loading them."""
    from sqlalchemy import func

    kind = col(Comment.kind)
    ping_kinds = ("pingback", "trackback")
    return session.exec(
        select(func.count())
        .select_from(Comment)
        .where(Comment.thread_id == thread_id, col(Comment.removed_at).is_(None),
               kind.in_(ping_kinds) if pings else kind.not_in(ping_kinds))
    ).one()


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
