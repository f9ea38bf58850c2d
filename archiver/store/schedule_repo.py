"""The scheduler's queries: the heartbeat, each site's discovery state, what is due and when,
and the counts `archiver status` shows. The scheduler (archiver/schedule/) calls these; the
store never imports the scheduler.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import Session, col, func, select

from archiver.store.models import DiscoveredUrl, Heartbeat, Site, SiteCheck, Thread

SCHEDULER = "scheduler"  # the one heartbeat row `archiver run` writes


def as_utc(value: datetime | None) -> datetime | None:
    """Datetimes read back from SQLite are naive; they are UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def ping(session: Session) -> None:
    """Ask the database something trivial (raises SQLAlchemyError when it cannot answer)."""
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]


# -- the heartbeat ------------------------------------------------------------------------------


def heartbeat(session: Session) -> Heartbeat | None:
    """The scheduler's heartbeat row (None: it has never run against this store)."""
    return session.exec(select(Heartbeat).where(Heartbeat.name == SCHEDULER)).first()


def write_heartbeat(
    session: Session, now: datetime, *, state: str, pid: int, hostname: str,
    in_flight: int = 0, note: str = "", started: bool = False,
) -> None:
    """Record a beat (creating the row on the first one); `started` also resets the start
    time and the note; a note is otherwise kept until a new one is given. Commits."""
    row = heartbeat(session)
    if row is None:
        row = Heartbeat(name=SCHEDULER, started_at=now, beat_at=now)
        session.add(row)
    if started:
        row.started_at = now
    row.pid, row.hostname = pid, hostname
    row.state, row.beat_at, row.in_flight = state, now, in_flight
    if note or started:
        row.note = note
    session.commit()


# -- each site's discovery state ----------------------------------------------------------------


def site_check(session: Session, name: str) -> SiteCheck | None:
    """The discovery state of the configured site with this name (None: never discovered)."""
    return session.exec(select(SiteCheck).where(SiteCheck.name == name)).first()


def get_or_create_site_check(session: Session, name: str) -> SiteCheck:
    """The site's discovery state, added to the session (not committed) if it has none yet."""
    check = site_check(session, name)
    if check is None:
        check = SiteCheck(name=name)
        session.add(check)
    return check


def discovery_due(session: Session, name: str) -> datetime | None:
    """When the site's discovery is next due (None: it never ran)."""
    check = site_check(session, name)
    return as_utc(check.next_due_at) if check is not None else None


def set_discovery_due(session: Session, name: str, when: datetime | None) -> None:
    """Store when the site's discovery is next due; commits. Nothing for a site that never
    ran (discovery creates its row)."""
    check = site_check(session, name)
    if check is not None:
        check.next_due_at = when
        session.commit()


# -- what is due --------------------------------------------------------------------------------


def unplanned_threads(session: Session) -> Sequence[Thread]:
    """Threads never planned: no due time and no refresh interval, and not gone."""
    return session.exec(
        select(Thread).where(
            col(Thread.next_due_at).is_(None),
            col(Thread.refresh_interval_s).is_(None),
            Thread.status != "gone",
        )
    ).all()


def is_queued(session: Session, urls: Iterable[str]) -> bool:
    """Whether any of these URLs waits in the discovery queue."""
    return session.exec(
        select(DiscoveredUrl.id).where(
            col(DiscoveredUrl.url).in_(set(urls)), DiscoveredUrl.state == "queued"
        )
    ).first() is not None


def queued_due(session: Session, now: datetime) -> Sequence[DiscoveredUrl]:
    """Queued new URLs whose next attempt is due, oldest found first."""
    return session.exec(
        select(DiscoveredUrl)
        .where(DiscoveredUrl.state == "queued", col(DiscoveredUrl.next_attempt_at) <= now)
        .order_by(col(DiscoveredUrl.id))
    ).all()


def due_threads(session: Session, now: datetime) -> Sequence[tuple[Thread, str | None]]:
    """Threads due for a refresh with their site's platform, most overdue first."""
    return session.exec(
        select(Thread, Site.platform)
        .join(Site, col(Site.id) == Thread.site_id)
        .where(col(Thread.next_due_at) <= now, Thread.status != "gone")
        .order_by(col(Thread.next_due_at))
    ).all()


def next_due_time(session: Session) -> datetime | None:
    """The earliest time a queued URL or a followed thread becomes due (None: nothing will)."""
    a = session.exec(
        select(func.min(DiscoveredUrl.next_attempt_at)).where(DiscoveredUrl.state == "queued")
    ).one()
    b = session.exec(select(func.min(Thread.next_due_at)).where(Thread.status != "gone")).one()
    times = [as_utc(t) for t in (a, b) if t is not None]
    return min(times) if times else None  # type: ignore[type-var]


def mark_queued_done(
    session: Session, discovered_id: int, thread_id: int | None, now: datetime
) -> None:
    """A queued URL was archived as this thread (not committed)."""
    entry = session.get(DiscoveredUrl, discovered_id)
    if entry is not None:
        entry.state, entry.thread_id, entry.done_at = "done", thread_id, now
        entry.last_error = None


# -- what `archiver status` counts and lists ----------------------------------------------------


@dataclass(slots=True)
class StatusCounts:
    """Threads by status, how many are followed and due, the queue's waiting and given up."""

    by_status: dict[str, int] = field(default_factory=dict)
    followed: int = 0
    due_now: int = 0
    queued: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def count_discovered(session: Session, state: str, site: str | None = None) -> int:
    """How many discovered URLs are in this state (queued, failed...), of one site or all."""
    query = select(func.count()).select_from(DiscoveredUrl).where(DiscoveredUrl.state == state)
    if site is not None:
        query = query.where(DiscoveredUrl.site == site)
    return session.exec(query).one()


def status_counts(session: Session, now: datetime) -> StatusCounts:
    """The figures of status's Threads line."""
    by_status = dict(
        session.exec(select(Thread.status, func.count()).group_by(Thread.status)).all()
    )
    due_now = session.exec(
        select(func.count()).select_from(Thread).where(
            col(Thread.next_due_at) <= now, Thread.status != "gone")
    ).one()
    followed = session.exec(
        select(func.count()).select_from(Thread).where(
            col(Thread.next_due_at).is_not(None), Thread.status != "gone")
    ).one()
    return StatusCounts(
        by_status=by_status, followed=followed, due_now=due_now,
        queued=count_discovered(session, "queued"), failed=count_discovered(session, "failed"),
    )


def open_unfollowed(session: Session) -> Sequence[tuple[str, datetime | None, datetime | None]]:
    """Open threads with no due time: (url, published_at, first_seen_at)."""
    return session.exec(
        select(Thread.url, Thread.published_at, Thread.first_seen_at).where(
            Thread.status == "open", col(Thread.next_due_at).is_(None))
    ).all()


def next_due_threads(session: Session, limit: int = 10) -> Sequence[Thread]:
    """The followed threads due soonest."""
    return session.exec(
        select(Thread).where(col(Thread.next_due_at).is_not(None), Thread.status != "gone")
        .order_by(col(Thread.next_due_at)).limit(limit)
    ).all()


def threads_with_errors(session: Session, limit: int = 10) -> Sequence[Thread]:
    """Threads whose last fetch recorded an error, most recently fetched first."""
    return session.exec(
        select(Thread).where(col(Thread.last_error).is_not(None))
        .order_by(col(Thread.last_fetched_at).desc()).limit(limit)
    ).all()


def queue_errors(session: Session, limit: int = 10) -> Sequence[DiscoveredUrl]:
    """Discovered URLs not archived yet whose last attempt failed, newest first."""
    return session.exec(
        select(DiscoveredUrl).where(col(DiscoveredUrl.last_error).is_not(None),
                                    DiscoveredUrl.state != "done")
        .order_by(col(DiscoveredUrl.id).desc()).limit(limit)
    ).all()
