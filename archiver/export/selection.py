"""Which threads an export covers (one URL, a site, new-or-changed since a date, or everything),
and streaming reads of the store for exporters: threads, comments with their history, captures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from archiver.errors import UsageError
from archiver.store import repo
from archiver.store.models import Capture, Comment, CommentVersion, Site, Thread, ThreadVersion
from archiver.urls import normalise_url, request_url

BATCH = 500  # rows fetched at a time by the streaming reads
T = TypeVar("T")


def as_utc(value: datetime | None) -> datetime | None:
    """A stored datetime as aware UTC (SQLite gives them back naive)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, e.g. 2018-06-08T18:39:00Z (microseconds only when non-zero)."""
    aware = as_utc(value)
    if aware is None:
        return None
    text = aware.replace(tzinfo=None).isoformat()
    return text + "Z"


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_since(text: str) -> datetime:
    """--since: a date (2024-05-01, midnight UTC) or an ISO 8601 time (zone optional, UTC if
    none). Raises UsageError on anything else."""
    raw = text.strip()
    try:
        if _DATE_ONLY.match(raw):
            day = date.fromisoformat(raw)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--since {text!r} is not a date: use YYYY-MM-DD or an ISO 8601 time "
            "like 2024-05-01T12:00 (UTC)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Selection:
    """What to export. Every filter given must hold; no filter at all means every thread."""

    url: str | None = None
    site: str | None = None
    since: datetime | None = None
    site_hosts: frozenset[str] = frozenset()  # hosts of the config site named `site`, if any

    @property
    def everything(self) -> bool:
        return self.url is None and self.site is None and self.since is None

    def describe(self) -> str:
        parts = []
        if self.url is not None:
            parts.append(f"thread {self.url}")
        if self.site is not None:
            parts.append(f"site {self.site!r}")
        if self.since is not None:
            parts.append(f"new or changed since {iso(self.since)}")
        return ", ".join(parts) if parts else "every archived thread"


def _site_matches(site: Site, name: str, config_hosts: frozenset[str]) -> bool:
    wanted = name.strip().lower()
    host = urlsplit(site.origin).netloc.lower()
    name = urlsplit(site.origin).hostname or host  # the host without its port
    return host in config_hosts or wanted in {
        site.name.lower(), site.title.lower(), site.origin.lower(), site.base_url.lower(),
        site.base_url.lower().rstrip("/"), host,
        host.removeprefix("www."), name, name.removeprefix("www."),
    }


def matching_site_ids(
    session: Session, name: str, config_hosts: frozenset[str] = frozenset()
) -> list[int]:
    """Sites known by this name: their config name (config_hosts: the hosts the config gives
    that site), their own title, origin or host."""
    sites = session.exec(select(Site)).all()  # sites are few: one row per website
    ids = [
        site.id for site in sites
        if site.id is not None and _site_matches(site, name, config_hosts)
    ]
    if not ids:
        known = ", ".join(sorted({site.name or site.origin for site in sites})) or "none"
        raise UsageError(f"no archived site is called {name!r} (known sites: {known})")
    return ids


def find_thread(session: Session, url: str) -> Thread | None:
    """The archived thread this URL leads to, whichever form it was typed in (upper-case scheme,
    tracking parameters, a comment permalink...): looked up by its normalised form first, then
    as sent on the wire and as typed (stores written before normalisation keep those).
    UsageError for anything but an http(s) URL."""
    try:
        candidates = [normalise_url(url), request_url(url), url.strip()]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for candidate in dict.fromkeys(candidates):
        thread = repo.find_thread(session, candidate)
        if thread is not None:
            return thread
    return None


@dataclass(slots=True)
class Resolved:
    """A selection checked against the store: the SQL condition on Thread it stands for."""

    selection: Selection
    condition: Any  # a SQL expression on Thread (or True)
    thread_count: int

    def describe(self) -> str:
        return self.selection.describe()


def resolve(session: Session, selection: Selection) -> Resolved:
    """Check the selection against the store. A selection that matches no thread is a UsageError
    with a readable message."""
    conditions: list[Any] = []
    if selection.url is not None:
        thread = find_thread(session, selection.url)
        if thread is None:
            raise UsageError(
                f"{selection.url} has not been archived (run: archiver archive {selection.url})"
            )
        conditions.append(Thread.id == thread.id)
    if selection.site is not None:
        ids = matching_site_ids(session, selection.site, selection.site_hosts)
        conditions.append(col(Thread.site_id).in_(ids))
    if selection.since is not None:
        since = as_utc(selection.since)
        conditions.append(
            or_(Thread.first_seen_at >= since, col(Thread.last_change_at) >= since)
        )
    condition = and_(*conditions) if conditions else True
    count = session.exec(select(func.count()).select_from(Thread).where(condition)).one()
    if not count:
        if selection.everything:
            raise UsageError("nothing to export: no thread has been archived yet")
        raise UsageError(f"nothing to export: no archived thread matches {selection.describe()}")
    return Resolved(selection, condition, int(count))


def stream(session: Session, statement: Any, size: int = BATCH) -> Iterator[Any]:
    """Run a select and yield its rows a batch at a time (memory stays flat)."""
    yield from session.exec(statement.execution_options(yield_per=size))


def chunks(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def thread_date_key() -> Any:
    """Sort key for reading order: the post's date, else when we first saw it."""
    return func.coalesce(Thread.published_at, Thread.first_seen_at)


def iter_threads(session: Session, resolved: Resolved, *, newest_first: bool = False,
                 site_id: int | None = None) -> Iterator[Thread]:
    """The selected threads, oldest archived first (or newest post first), streamed."""
    statement = select(Thread).where(resolved.condition)
    if site_id is not None:
        statement = statement.where(Thread.site_id == site_id)
    if newest_first:
        statement = statement.order_by(thread_date_key().desc(), col(Thread.id).desc())
    else:
        statement = statement.order_by(col(Thread.id))
    yield from stream(session, statement, 100)


PING_KINDS = ("pingback", "trackback")


def selected_sites(session: Session, resolved: Resolved) -> list[Site]:
    """The sites that have selected threads (sites are few), by name."""
    site_ids = select(Thread.site_id).where(resolved.condition).distinct()
    return list(session.exec(
        select(Site).where(col(Site.id).in_(site_ids)).order_by(col(Site.name), col(Site.id))
    ).all())


def count_current_comments(session: Session, thread_id: int, *, pings: bool = False) -> int:
    """The thread's current comments (not removed), or with pings=True its pingbacks and
    trackbacks: pings are never counted as comments."""
    kind = col(Comment.kind)
    return int(session.exec(
        select(func.count()).select_from(Comment)
        .where(Comment.thread_id == thread_id, col(Comment.removed_at).is_(None),
               kind.in_(PING_KINDS) if pings else kind.not_in(PING_KINDS))
    ).one())


def iter_comments(session: Session, thread_id: int, *, include_removed: bool = False
                  ) -> Iterator[Comment]:
    """A thread's comments in thread order, streamed; removed ones only if asked. For a platform
    whose answers come out of display order (its adapter's TREE_ORDER: Reddit's collapsed
    branches read later) thread order is the reply tree: each reply after its parent's earlier
    replies' subtrees, siblings in the order read."""
    if tree_ordered(session, thread_id):
        yield from _in_tree_order(session, thread_id, include_removed)
        return
    statement = select(Comment).where(Comment.thread_id == thread_id)
    if not include_removed:
        statement = statement.where(col(Comment.removed_at).is_(None))
    statement = statement.order_by(col(Comment.position), col(Comment.id))
    yield from stream(session, statement)


def tree_ordered(session: Session, thread_id: int) -> bool:
    """Whether the thread's platform shows its comments as their reply tree (TREE_ORDER)."""
    from archiver.adapters import ADAPTERS

    platform = session.exec(
        select(Site.platform).join(Thread, col(Thread.site_id) == col(Site.id))
        .where(Thread.id == thread_id)
    ).first()
    return any(a.PLATFORM == platform and getattr(a, "TREE_ORDER", False) for a in ADAPTERS)


def tree_order(rows: Iterable[tuple[int, str, str | None]]) -> list[int]:
    """Comment ids (rows: id, source id, parent's source id; in the order read) in tree order:
    depth first, siblings as read; a comment whose parent is not in the thread is a root."""
    rows = list(rows)
    known = {source_id for _, source_id, _ in rows}
    children: dict[str | None, list[tuple[int, str]]] = {}
    for row_id, source_id, parent in rows:
        key = parent if parent in known and parent != source_id else None
        children.setdefault(key, []).append((row_id, source_id))
    order: list[int] = []
    stack = list(reversed(children.get(None, [])))
    done: set[str] = set()
    while stack:
        row_id, source_id = stack.pop()
        if source_id in done:  # (a cycle of parents cannot loop)
            continue
        done.add(source_id)
        order.append(row_id)
        stack.extend(reversed(children.get(source_id, [])))
    if len(order) < len(rows):  # parents in a cycle: none of them is a root; kept as read
        order += [row_id for row_id, source_id, _ in rows if source_id not in done]
    return order


def _in_tree_order(session: Session, thread_id: int, include_removed: bool
                   ) -> Iterator[Comment]:
    """The comments in tree order: the order from the light columns of every comment (removed
    ones too: their replies stay under them), then the rows a batch at a time."""
    light = session.exec(
        select(Comment.id, Comment.source_id, Comment.parent_source_id,
               Comment.removed_at.is_not(None))  # type: ignore[union-attr]
        .where(Comment.thread_id == thread_id)
        .order_by(col(Comment.position), col(Comment.id))
    ).all()
    removed = {row[0] for row in light if row[3]}
    order = [i for i in tree_order((row[0], row[1], row[2]) for row in light)
             if include_removed or i not in removed]
    for batch in chunks(order):
        rows = {c.id: c for c in session.exec(select(Comment).where(col(Comment.id).in_(batch)))}
        yield from (rows[i] for i in batch)


def post_history(session: Session, thread_id: int) -> list[ThreadVersion]:
    """The post's earlier versions, oldest first."""
    return list(session.exec(
        select(ThreadVersion)
        .where(ThreadVersion.thread_id == thread_id)
        .order_by(col(ThreadVersion.version))
    ))


def iter_comments_with_history(
    session: Session, thread_id: int, *, include_removed: bool = True
) -> Iterator[tuple[Comment, Sequence[CommentVersion]]]:
    """Each comment with its earlier versions (oldest first), a batch of comments at a time."""
    for batch in chunks(iter_comments(session, thread_id, include_removed=include_removed)):
        ids = [c.id for c in batch if c.id is not None]
        history: dict[int, list[CommentVersion]] = {}
        for version in session.exec(
            select(CommentVersion)
            .where(col(CommentVersion.comment_id).in_(ids))
            .order_by(col(CommentVersion.comment_id), col(CommentVersion.version))
        ):
            history.setdefault(version.comment_id, []).append(version)
        for comment in batch:
            yield comment, history.get(comment.id or 0, [])


def iter_thread_captures(session: Session, thread_id: int) -> Iterator[Capture]:
    """Every exchange recorded for a thread, in the order it happened."""
    yield from stream(
        session,
        select(Capture).where(Capture.thread_id == thread_id)
        .order_by(col(Capture.fetched_at), col(Capture.id)),
        100,
    )


def iter_unlinked_captures(session: Session) -> Iterator[Capture]:
    """Exchanges tied to no thread (robots.txt, failed fetches), grouped by URL, in time order."""
    yield from stream(
        session,
        select(Capture).where(col(Capture.thread_id).is_(None))
        .order_by(col(Capture.url), col(Capture.fetched_at), col(Capture.id)),
        100,
    )


Sources = dict[int, tuple[str, datetime, str | None]]


def capture_sources(session: Session, thread_id: int) -> Sources:
    """Where a thread's comments came from: capture id -> (URL, when captured, the record of an
    imported capture), for every capture tied to the thread (pages x reads: few)."""
    rows = session.exec(
        select(Capture.id, Capture.url, Capture.fetched_at, Capture.source)
        .where(Capture.thread_id == thread_id)
    )
    return {row[0]: (row[1], row[2], row[3]) for row in rows}
