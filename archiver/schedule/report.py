"""What `archiver status` and `archiver health` say: the scheduler's heartbeat, each site's
discovery, the threads followed and due, the last errors; read from the store, never written.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlmodel import Session

from archiver.config import Settings, SiteConfig, format_duration
from archiver.errors import describe
from archiver.store import repo, schedule_repo
from archiver.store.db import Store
from archiver.store.models import Thread
from archiver.store.schedule_repo import as_utc


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    seconds = (now - when).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 90:
        text = f"{seconds:.0f} s"
    elif seconds < 5400:
        text = f"{seconds / 60:.0f} min"
    elif seconds < 172800:
        text = f"{seconds / 3600:.1f} h"
    else:
        text = f"{seconds / 86400:.1f} d"
    return f"in {text}" if future else f"{text} ago"


def _one_line(stored: str | None, limit: int = 500) -> str:
    """A stored error as one line (errors stored by older versions could hold SQL dumps)."""
    lines = [line.strip() for line in (stored or "").splitlines() if line.strip()]
    text = lines[0] if lines else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unfollowed(session: Session, settings: Settings, now: datetime) -> str:
    """Why open threads are not followed, e.g. " (3 open past max_age 30d: no longer
    refreshed)"; empty when every open thread is followed."""
    expired, ages, unplanned = 0, set(), 0
    for url, published, first_seen in schedule_repo.open_unfollowed(session):
        born = as_utc(published or first_seen)
        max_age = settings.refresh_for(url).max_age
        if born is not None and now >= born + timedelta(seconds=max_age):
            expired += 1
            ages.add(max_age)
        else:
            unplanned += 1
    notes = []
    if expired:
        age = f" {format_duration(ages.pop())}" if len(ages) == 1 else ""
        notes.append(f"{expired} open past max_age{age}: no longer refreshed")
    if unplanned:
        notes.append(f"{unplanned} open not planned yet: the next run plans them")
    return f" ({'; '.join(notes)})" if notes else ""


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (another user's counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _stamp(when: datetime | None) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC" if when is not None else "-"


def _posted(thread: Thread) -> str:
    """ " (posted 2006-01-12)", or " (posted 2018-06-08 18:39 UTC)" when the page showed the
    time too; empty when the post's date is unknown."""
    when = as_utc(thread.published_at)
    if when is None:
        return ""
    return f" (posted {when:%Y-%m-%d})" if thread.published_precision == "day" \
        else f" (posted {_stamp(when)})"


def _site_line(site: SiteConfig) -> str:
    how = "feed" if site.discovery.feed else "index pages"
    state = "" if site.enabled else " [disabled]"
    return (f"  {site.name}{state}  {site.url}  ({site.platform}, {how}, "
            f"{site.schedule.describe()})")


def _database_line(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    shown = make_url(settings.db_url).render_as_string(hide_password=True)
    return f"Database: {shown}   Config: {settings.source}"


def config_status_lines(settings: Settings) -> list[str]:
    """What `status` can say with no store yet (it creates none): the config's side only."""
    lines = [_database_line(settings), "Scheduler: has never run", "",
             f"Sites ({len(settings.sites)} configured):"]
    for site in settings.sites:
        lines += [_site_line(site), "    discovery: not run yet"]
    return lines


def status_lines(settings: Settings, now: datetime | None = None) -> list[str]:
    """What `archiver status` prints: the scheduler, the sites, the threads, the last errors."""
    now = now or repo.utcnow()
    store = Store(settings.db_url)
    lines: list[str] = [_database_line(settings)]
    try:
        with store.session() as session:
            beat = schedule_repo.heartbeat(session)
            if beat is None:
                lines.append("Scheduler: has never run")
            else:
                lines.append(
                    f"Scheduler: {beat.state} (pid {beat.pid} on {beat.hostname}), heartbeat "
                    f"{_ago(as_utc(beat.beat_at), now)}, started {_stamp(as_utc(beat.started_at))}"
                    + (f" - {beat.note}" if beat.note else "")
                )
            lines.append("")
            lines.append(f"Sites ({len(settings.sites)} configured):")
            if not settings.sites:
                lines.append("  none (add [[sites]] to the config to discover threads by itself)")
            for site in settings.sites:
                check = schedule_repo.site_check(session, site.name)
                queued = schedule_repo.count_discovered(session, "queued", site.name)
                lines.append(_site_line(site))
                if check is None:
                    lines.append("    discovery: not run yet")
                else:
                    lines.append(
                        f"    discovery: last {_ago(as_utc(check.last_run_at), now)} "
                        f"({check.last_found} new), next {_stamp(as_utc(check.next_due_at))}, "
                        f"{queued} queued"
                        + (", backfill done" if check.backfilled_at else "")
                    )
                    if check.last_error:
                        lines.append(f"    last error: {_one_line(check.last_error)}")
            counts = schedule_repo.status_counts(session, now)
            by, unfollowed = counts.by_status, _unfollowed(session, settings, now)
            lines.append("")
            lines.append(
                f"Threads: {counts.total} archived ({by.get('open', 0)} open, "
                f"{by.get('closed', 0)} closed, {by.get('gone', 0)} gone); "
                f"{counts.followed} followed{unfollowed}, {counts.due_now} due now;"
                f" {counts.queued} new URL(s) queued"
                + (f", {counts.failed} given up" if counts.failed else "")
            )
            upcoming = schedule_repo.next_due_threads(session, limit=10)
            if upcoming:
                lines.append("Next due:")
                for thread in upcoming:
                    due = as_utc(thread.next_due_at)
                    mark = "due now" if due is not None and due <= now else _ago(due, now)
                    lines.append(f"  {_stamp(due)} ({mark})  {thread.url}{_posted(thread)}")
            errors = schedule_repo.threads_with_errors(session, limit=10)
            bad_new = schedule_repo.queue_errors(session, limit=10)
            if errors or bad_new:
                lines.append("Last errors:")
                for thread in errors:
                    lines.append(f"  {thread.url} [{thread.status}]: "
                                 f"{_one_line(thread.last_error)}")
                for entry in bad_new:
                    lines.append(f"  {entry.url} [{entry.state}, {entry.attempts} attempt(s)]: "
                                 f"{_one_line(entry.last_error)}")
    finally:
        store.close()
    return lines


def health_check(settings: Settings, max_age: float | None = None) -> tuple[bool, str]:
    """Whether the database answers and the scheduler's heartbeat is recent; and why."""
    from sqlalchemy.exc import SQLAlchemyError

    url = settings.db_url
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not os.path.exists(path):
            return False, f"no database at {path} (has `archiver run` started?)"
    limit = settings.scheduler.health_max_age if max_age is None else max_age
    try:
        store = Store(url)
    except SQLAlchemyError as exc:
        return False, f"database unreachable: {describe(exc)}"
    try:
        with store.session() as session:
            schedule_repo.ping(session)
            beat = schedule_repo.heartbeat(session)
    except SQLAlchemyError as exc:
        return False, describe(exc)
    finally:
        store.close()
    if beat is None:
        return False, "database ok, but the scheduler has never written a heartbeat"
    now = repo.utcnow()
    beat_at = as_utc(beat.beat_at) or now
    age = (now - beat_at).total_seconds()
    who = f"pid {beat.pid} on {beat.hostname}"
    if (beat.state == "running" and beat.pid and beat.hostname == socket.gethostname()
            and not pid_alive(beat.pid)):
        return False, (f"database ok, but the scheduler ({who}) is gone without recording a "
                       f"stop (killed?); last heartbeat {age:.0f} s ago: start `archiver run` "
                       "again")
    if age > limit:
        return False, (f"database ok, but the scheduler's last heartbeat ({who}, {beat.state}) "
                       f"is {age:.0f} s old (limit {limit:.0f} s)")
    return True, f"database ok, scheduler {beat.state} ({who}), heartbeat {age:.0f} s ago"
