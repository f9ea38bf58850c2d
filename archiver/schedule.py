"""The scheduler behind `archiver run`: discovery jobs from the config, thread refreshes from the
database's due times, bounded concurrency, a heartbeat, and a graceful stop on SIGTERM/SIGINT.

Every due time lives in the database (Thread.next_due_at, DiscoveredUrl.next_attempt_at,
SiteCheck.next_due_at), so a restart after a crash or a kill resumes where the last run stopped.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor as JobPool
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session, col, func, select

from archiver.config import (
    RefreshPolicy,
    ScheduleConfig,
    Settings,
    SiteConfig,
    format_duration,
)
from archiver.discovery import Discoverer, DiscoveryReport
from archiver.errors import ArchiverError, FetchError, ParseError, UnsupportedSite, describe
from archiver.fetch import Fetcher
from archiver.pipeline import ThreadArchiver
from archiver.store import repo
from archiver.store.db import Store
from archiver.store.models import DiscoveredUrl, Heartbeat, Site, SiteCheck, Thread
from archiver.urls import normalise_url

log = logging.getLogger("archiver.schedule")

Clock = Callable[[], datetime]


def log_failure(what: str, exc: BaseException) -> None:
    """Log a failure as one line (describe: a database error without its SQL); the stack only
    when debug logging is on (`archiver --debug run`)."""
    log.error("%s: %s", what, describe(exc), exc_info=log.isEnabledFor(logging.DEBUG))


class Stopping(Exception):
    """Raised inside a worker when a shutdown was asked for: the page in hand is done."""


def as_utc(value: datetime | None) -> datetime | None:
    """Datetimes read back from SQLite are naive; they are UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# -- the refresh policy ------------------------------------------------------------------------


def plan_refresh(
    policy: RefreshPolicy,
    *,
    now: datetime,
    changed: bool,
    closed: bool,
    gone: bool = False,
    interval_s: float | None,
    born: datetime | None,
) -> tuple[datetime | None, int]:
    """When to poll a thread next, and the interval that led there.

    After a change: min_interval. Each quiet poll: the last interval times factor, capped at
    max_interval. Never again (None) once its comments are closed, it is gone, or it is older
    than max_age; the last poll is placed at the max_age boundary so nothing in between is missed.
    """
    if changed or not interval_s:
        interval = policy.min_interval
    else:
        interval = min(interval_s * policy.factor, policy.max_interval)
    interval = max(policy.min_interval, min(interval, policy.max_interval))
    if gone or closed:
        return None, int(interval)
    if born is not None:
        expires = born + timedelta(seconds=policy.max_age)
        if now >= expires:
            return None, int(interval)
        return min(now + timedelta(seconds=interval), expires), int(interval)
    return now + timedelta(seconds=interval), int(interval)


def retry_delay(policy: RefreshPolicy, attempts: int) -> float:
    """How long to wait before trying a failed fetch again: min_interval doubling per attempt."""
    return min(policy.min_interval * (2 ** max(0, attempts - 1)), policy.max_interval)


def trigger_for(schedule: ScheduleConfig, timezone: str) -> CronTrigger | IntervalTrigger:
    if schedule.cron:
        return CronTrigger.from_crontab(schedule.cron, timezone=timezone)
    return IntervalTrigger(seconds=schedule.interval or 3600.0, timezone=timezone)


def next_discovery(site: SiteConfig, timezone: str, now: datetime) -> datetime | None:
    """The first time after now the site's discovery schedule fires."""
    trigger = trigger_for(site.schedule, timezone)
    if isinstance(trigger, IntervalTrigger):
        return now + timedelta(seconds=site.schedule.interval or 3600.0)
    fire = trigger.get_next_fire_time(None, now)
    return fire.astimezone(UTC) if fire is not None else None


# -- work --------------------------------------------------------------------------------------


def url_key(url: str) -> str:
    """A thread URL as work is told apart: its normalised form (the URL itself if it has none)."""
    try:
        return normalise_url(url)
    except ValueError:
        return url


@dataclass(slots=True)
class WorkItem:
    """One thread to archive: a new URL from the queue, or a refresh of a known thread."""

    kind: str  # new | refresh
    url: str
    platform: str = "auto"
    discovered_id: int | None = None
    thread_id: int | None = None

    @property
    def key(self) -> str:
        return url_key(self.url)


@dataclass(slots=True)
class RunSummary:
    """What `archiver run --once` did."""

    discovered: int = 0
    archived: int = 0
    new_comments: int = 0
    edited: int = 0
    removed: int = 0
    failed: int = 0
    interrupted: int = 0
    past_max_age: int = 0  # archived once, not followed: older than max_age
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # per site: listed but not queued, and why

    def line(self) -> str:
        text = (
            f"{self.discovered} new thread(s) found, {self.archived} archived "
            f"({self.new_comments} new, {self.edited} edited, {self.removed} removed comments)"
        )
        if self.failed:
            text += f", {self.failed} failed"
        if self.interrupted:
            text += f", {self.interrupted} interrupted (resumed next run)"
        if self.past_max_age:
            text += f", {self.past_max_age} past max_age (archived once, not followed)"
        for skipped in self.skipped:
            text += f"; skipped {skipped}"
        return text


class Runner:
    """Discovery and archiving against the database's due times; used by both run modes."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        fetcher: Fetcher,
        *,
        clock: Clock = repo.utcnow,
        stop: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.fetcher = fetcher
        self.clock = clock
        self.stop = stop or threading.Event()
        self.archiver = ThreadArchiver(store, fetcher)
        self.discoverer = Discoverer(store, fetcher, clock=clock)
        self._summary_lock = threading.Lock()

    # -- heartbeat --------------------------------------------------------------------------

    def beat(self, state: str = "running", *, in_flight: int = 0, note: str = "",
             started: bool = False) -> None:
        now = repo.utcnow()  # real time: health compares it with the wall clock
        with self.store.session() as session:
            row = session.exec(select(Heartbeat).where(Heartbeat.name == "scheduler")).first()
            if row is None:
                row = Heartbeat(name="scheduler", started_at=now, beat_at=now)
                session.add(row)
            if started:
                row.started_at = now
            row.pid, row.hostname = os.getpid(), socket.gethostname()
            row.state, row.beat_at, row.in_flight = state, now, in_flight
            if note or started:
                row.note = note
            session.commit()

    # -- discovery --------------------------------------------------------------------------

    def discover(self, site: SiteConfig, next_due: datetime | None = None) -> DiscoveryReport:
        report = self.discoverer.discover(site)
        with self.store.session() as session:
            check = session.exec(select(SiteCheck).where(SiteCheck.name == site.name)).first()
            if check is not None:
                check.next_due_at = next_due or next_discovery(
                    site, self.settings.scheduler.timezone, self.clock()
                )
                session.commit()
        log.info("discovery %s", report.summary())
        return report

    def discovery_due(self, site: SiteConfig) -> datetime | None:
        """When the database says this site's discovery is next due (None: never ran)."""
        with self.store.session() as session:
            check = session.exec(select(SiteCheck).where(SiteCheck.name == site.name)).first()
            return as_utc(check.next_due_at) if check is not None else None

    # -- what is due ------------------------------------------------------------------------

    def _site_enabled(self, url: str) -> bool:
        site = self.settings.site_for_url(url)
        return site is None or site.enabled

    def plan_unplanned(self, session: Session, now: datetime) -> None:
        """Threads never planned (archived by `archiver archive`, or interrupted on their first
        run) get a due time: one refresh interval after their last fetch, or now."""
        rows = session.exec(
            select(Thread).where(
                col(Thread.next_due_at).is_(None),
                col(Thread.refresh_interval_s).is_(None),
                Thread.status != "gone",
            )
        ).all()
        for thread in rows:
            queued = session.exec(
                select(DiscoveredUrl.id).where(
                    col(DiscoveredUrl.url).in_({thread.url, url_key(thread.url)}),
                    DiscoveredUrl.state == "queued",
                )
            ).first()
            if queued is not None:
                continue  # its queue entry will archive it
            policy = self.settings.refresh_for(thread.url)
            fetched = as_utc(thread.last_fetched_at)
            if fetched is None:
                thread.next_due_at = now
                continue
            due, interval = plan_refresh(
                policy, now=fetched, changed=True, closed=thread.comments_closed,
                interval_s=None, born=as_utc(thread.published_at or thread.first_seen_at),
            )
            thread.next_due_at, thread.refresh_interval_s = due, interval
        session.commit()

    def due_work(
        self, now: datetime | None = None, *, limit: int | None = None,
        exclude: set[str] | frozenset[str] = frozenset(),
    ) -> list[WorkItem]:
        """Queued new URLs first (oldest found first), then due refreshes (most overdue first)."""
        now = now or self.clock()
        items: list[WorkItem] = []
        with self.store.session() as session:
            self.plan_unplanned(session, now)
            queued = session.exec(
                select(DiscoveredUrl)
                .where(DiscoveredUrl.state == "queued", DiscoveredUrl.next_attempt_at <= now)
                .order_by(col(DiscoveredUrl.id))
            ).all()
            for entry in queued:
                site = self.settings.site_named(entry.site)
                if url_key(entry.url) in exclude or (site is not None and not site.enabled):
                    continue
                items.append(WorkItem("new", entry.url, site.platform if site else "auto",
                                      discovered_id=entry.id))
                if limit is not None and len(items) >= limit:
                    return items
            due = session.exec(
                select(Thread, Site.platform)
                .join(Site, Site.id == Thread.site_id)
                .where(Thread.next_due_at <= now, Thread.status != "gone")
                .order_by(col(Thread.next_due_at))
            ).all()
            for thread, platform in due:
                if url_key(thread.url) in exclude or not self._site_enabled(thread.url):
                    continue
                items.append(WorkItem("refresh", thread.url, platform or "auto",
                                      thread_id=thread.id))
                if limit is not None and len(items) >= limit:
                    break
        return items

    def next_due_time(self) -> datetime | None:
        """The earliest time anything in the database becomes due."""
        with self.store.session() as session:
            a = session.exec(
                select(func.min(DiscoveredUrl.next_attempt_at)).where(
                    DiscoveredUrl.state == "queued"
                )
            ).one()
            b = session.exec(
                select(func.min(Thread.next_due_at)).where(Thread.status != "gone")
            ).one()
        times = [as_utc(t) for t in (a, b) if t is not None]
        return min(times) if times else None  # type: ignore[type-var]

    # -- doing the work ---------------------------------------------------------------------

    def _check_stop(self, _page: int, _url: str) -> None:
        if self.stop.is_set():
            raise Stopping("shutting down")

    def process(self, item: WorkItem, summary: RunSummary | None = None) -> str:
        """Archive one item and plan what comes next; returns the outcome."""
        now = self.clock()
        try:
            report = self.archiver.archive(
                item.url, platform=item.platform, on_page=self._check_stop, now=now
            )
        except Exception as exc:  # every failure is recorded; the scheduler never dies of one
            if isinstance(exc, Stopping) or self.stop.is_set():
                log.info("stopped in the middle of %s; it stays due", item.url)
                self._count(summary, interrupted=1)
                return "interrupted"
            if not isinstance(exc, ArchiverError):
                log_failure(f"archiving {item.url} failed", exc)
            else:
                log.warning("archiving %s failed: %s", item.url, exc)
            self._failed(item, exc, now)
            self._count(summary, failed=1, error=f"{item.url}: {describe(exc)}")
            return "failed"
        with self.store.session() as session:
            thread = session.get(Thread, report.thread_id)
            assert thread is not None
            if item.discovered_id is not None:
                entry = session.get(DiscoveredUrl, item.discovered_id)
                if entry is not None:
                    entry.state, entry.thread_id, entry.done_at = "done", thread.id, now
                    entry.last_error = None
            self._plan(thread, now, changed=report.changed, closed=report.closed)
            expired = (thread.next_due_at is None and not report.closed
                       and thread.status == "open")
            if report.complete:
                thread.last_error = None
            else:
                thread.last_error = "; ".join(report.problems)[:2000] or (
                    report.stopped or "incomplete read")
            session.commit()
        self._count(summary, archived=1, new=report.new, edited=report.edited,
                    removed=report.removed, past_max_age=int(expired))
        log.info("%s", report.summary())
        return "archived"

    def _plan(self, thread: Thread, now: datetime, *, changed: bool, closed: bool) -> None:
        due, interval = plan_refresh(
            self.settings.refresh_for(thread.url),
            now=now, changed=changed, closed=closed, gone=thread.status == "gone",
            interval_s=thread.refresh_interval_s,
            born=as_utc(thread.published_at or thread.first_seen_at),
        )
        thread.next_due_at, thread.refresh_interval_s = due, interval

    def _failed(self, item: WorkItem, exc: Exception, now: datetime) -> None:
        status = exc.status if isinstance(exc, FetchError) else None
        message = describe(exc, 2000)  # one line: never SQL, parameters or a stack
        policy = self.settings.refresh_for(item.url)
        with self.store.session() as session:
            if item.discovered_id is not None:
                entry = session.get(DiscoveredUrl, item.discovered_id)
                if entry is None:
                    return
                entry.attempts += 1
                entry.last_error = message
                if status in (404, 410):
                    entry.state, entry.done_at = "gone", now
                elif isinstance(exc, UnsupportedSite | ParseError):
                    entry.state, entry.done_at = "failed", now
                elif entry.attempts >= self.settings.scheduler.max_attempts:
                    entry.state, entry.done_at = "failed", now
                else:
                    entry.next_attempt_at = now + timedelta(
                        seconds=retry_delay(policy, entry.attempts)
                    )
            else:
                thread = session.get(Thread, item.thread_id)
                if thread is None:
                    return
                thread.last_error = message
                if thread.status == "gone":  # the pipeline saw 404/410 on its first page
                    thread.next_due_at = None
                else:
                    # try again later, backing off as if the thread had been quiet
                    self._plan(thread, now, changed=False, closed=False)
            session.commit()

    def _count(self, summary: RunSummary | None, *, archived: int = 0, new: int = 0,
               edited: int = 0, removed: int = 0, failed: int = 0, interrupted: int = 0,
               past_max_age: int = 0, error: str | None = None) -> None:
        if summary is None:
            return
        with self._summary_lock:
            summary.archived += archived
            summary.new_comments += new
            summary.edited += edited
            summary.removed += removed
            summary.failed += failed
            summary.interrupted += interrupted
            summary.past_max_age += past_max_age
            if error:
                summary.errors.append(error)

    # -- run once ---------------------------------------------------------------------------

    def run_once(self, *, discover: bool = True) -> RunSummary:
        """Discovery for every enabled site, then every due thread, until nothing is due."""
        summary = RunSummary()
        self.beat("running", note="run --once", started=True)
        try:
            if discover:
                self._discover_all(summary)
            done: set[str] = set()
            workers = self.settings.scheduler.workers
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archive") as pool:
                while not self.stop.is_set():
                    items = self.due_work(exclude=done)
                    if not items:
                        break
                    done.update(item.key for item in items)
                    futures = [pool.submit(self.process, item, summary) for item in items]
                    wait_futures(futures)
                    for future in futures:
                        future.result()
        finally:  # `status` and `health` must not see a finished run as running
            self.beat("stopped", note=summary.line())
        return summary

    def _discover_all(self, summary: RunSummary) -> None:
        for site in self.settings.sites:
            if not site.enabled or self.stop.is_set():
                continue
            try:
                report = self.discover(site)
            except Stopping:
                break
            except Exception as exc:  # one site's failure is that site's error, not the run's
                log.debug("discovery of %s failed", site.name, exc_info=True)
                summary.errors.append(f"{site.name}: discovery failed: {describe(exc)}")
                continue
            summary.discovered += len(report.queued)
            summary.errors += [f"{site.name}: {e}" for e in report.errors]
            if report.skipped():
                summary.skipped.append(f"({site.name}): {', '.join(report.skipped())}")


# -- the long-running scheduler ----------------------------------------------------------------


class Scheduler:
    """`archiver run`: APScheduler jobs for discovery, dispatch and heartbeat; a worker pool."""

    def __init__(self, settings: Settings, *, clock: Clock = repo.utcnow) -> None:
        self.settings = settings
        self.stop = threading.Event()
        if hasattr(settings.fetch, "sleep"):
            settings.fetch.sleep = self._sleep  # politeness waits and retries end on shutdown
        self.store = Store(settings.db_url)
        self.fetcher = Fetcher(settings.fetch)
        self.runner = Runner(settings, self.store, self.fetcher, clock=clock, stop=self.stop)
        s = settings.scheduler
        self.pool = ThreadPoolExecutor(max_workers=s.workers, thread_name_prefix="archive")
        self.in_flight: dict[str, Future[str]] = {}
        self._lock = threading.Lock()
        self._dispatching = False
        self._dirty = False
        sites = [site for site in settings.sites if site.enabled]
        self.aps = BackgroundScheduler(
            timezone=s.timezone,
            executors={
                "default": JobPool(max(1, len(sites))),
                "control": JobPool(2),
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.sites = sites

    def _sleep(self, seconds: float) -> None:
        if self.stop.wait(max(0.0, seconds)):
            raise Stopping("shutting down")

    # -- jobs -------------------------------------------------------------------------------

    def start(self) -> None:
        now = repo.utcnow()
        s = self.settings.scheduler
        self.runner.beat("running", note="starting", started=True)
        for site in self.sites:
            due = self.runner.discovery_due(site)
            first = now if due is None or due <= now else due
            self.aps.add_job(
                self._discover, trigger_for(site.schedule, s.timezone), args=[site],
                id=f"discover:{site.name}", name=f"discover {site.name}", next_run_time=first,
            )
        self.aps.add_job(self._dispatch, IntervalTrigger(seconds=s.poll_interval),
                         id="dispatch", name="dispatch due threads", executor="control",
                         next_run_time=now)
        self.aps.add_job(self._heartbeat, IntervalTrigger(seconds=s.heartbeat_interval),
                         id="heartbeat", name="heartbeat", executor="control")
        self.aps.start()
        log.info("scheduler started: %d site(s), %d worker(s)", len(self.sites), s.workers)

    def _discover(self, site: SiteConfig) -> None:
        if self.stop.is_set():
            return
        try:
            self.runner.discover(site)  # stores the schedule's next time for the next start
        except Stopping:
            return
        except Exception as exc:
            log_failure(f"discovery of {site.name} failed", exc)
        self.wake()

    def _heartbeat(self) -> None:
        try:
            self.runner.beat("running", in_flight=len(self.in_flight))
        except Exception as exc:
            log_failure("could not write the heartbeat", exc)

    def wake(self) -> None:
        """Run the dispatcher now (or again right after the run in progress)."""
        with self._lock:
            if self._dispatching:
                self._dirty = True
                return
        self._reschedule_dispatch(repo.utcnow())

    def _reschedule_dispatch(self, when: datetime) -> None:
        if self.stop.is_set():
            return
        try:
            job = self.aps.get_job("dispatch")
            if job is not None and (job.next_run_time is None or when < job.next_run_time):
                job.modify(next_run_time=when)
        except (JobLookupError, SchedulerNotRunningError):
            pass

    def _dispatch(self) -> None:
        with self._lock:
            if self._dispatching:
                self._dirty = True
                return
            self._dispatching = True
        try:
            while not self.stop.is_set():
                with self._lock:
                    self._dirty = False
                    free = self.settings.scheduler.workers - len(self.in_flight)
                    busy = set(self.in_flight)
                if free > 0:
                    for item in self.runner.due_work(limit=free, exclude=busy):
                        self._submit(item)
                with self._lock:
                    if not self._dirty:
                        break
            # Wake up when the next thread falls due. What is due already waits for a free
            # worker: each finished item wakes the dispatcher.
            nxt = self.runner.next_due_time()
            if nxt is not None and nxt > repo.utcnow():
                self._reschedule_dispatch(nxt)
        except Exception as exc:
            log_failure("dispatch failed", exc)
        finally:
            with self._lock:
                self._dispatching = False

    def _submit(self, item: WorkItem) -> None:
        with self._lock:
            if item.key in self.in_flight or self.stop.is_set():
                return
            future = self.pool.submit(self._work, item)
            self.in_flight[item.key] = future
        future.add_done_callback(lambda _f, key=item.key: self._done(key))

    def _work(self, item: WorkItem) -> str:
        try:
            return self.runner.process(item)
        except Exception as exc:
            log_failure(f"worker failed on {item.url}", exc)
            return "failed"

    def _done(self, key: str) -> None:
        with self._lock:
            self.in_flight.pop(key, None)
        if not self.stop.is_set():
            self.wake()

    # -- running and stopping ---------------------------------------------------------------

    def request_stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        if signum is not None:
            log.warning("got %s: finishing the pages in hand, then exiting",
                        signal.Signals(signum).name)
        self.stop.set()

    def _install_signals(self) -> dict[int, object]:
        """Route SIGTERM/SIGINT to a graceful stop; returns the handlers to put back."""
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, self.request_stop)
        return previous

    @staticmethod
    def _restore_signals(previous: dict[int, object]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def run_once(self) -> RunSummary:
        """`archiver run --once`: discovery for every site, then everything due; SIGTERM-safe."""
        previous = self._install_signals()
        try:
            return self.runner.run_once()
        finally:
            self._restore_signals(previous)
            self.fetcher.close()
            self.store.close()

    def run_forever(self) -> bool:
        """Run until SIGTERM/SIGINT; True when every worker finished within the grace time."""
        previous = self._install_signals()
        try:
            self.start()
            while not self.stop.wait(1.0):
                pass
            return self.shutdown()
        finally:
            self._restore_signals(previous)

    def shutdown(self) -> bool:
        """Stop taking work, let the pages in hand finish and commit, record the stop."""
        started = time.monotonic()
        self.stop.set()
        try:
            self.aps.shutdown(wait=False)
        except SchedulerNotRunningError:
            pass
        self.pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            futures = list(self.in_flight.values())
        deadline = started + self.settings.scheduler.shutdown_grace
        _, pending = wait_futures(futures, timeout=self.settings.scheduler.shutdown_grace)
        me = threading.current_thread()
        for other in threading.enumerate():  # e.g. a discovery job reading a feed
            if other is not me and not other.daemon:
                other.join(max(0.0, deadline - time.monotonic()))
        stuck = [t for t in threading.enumerate() if t is not me and not t.daemon and t.is_alive()]
        clean = not pending and not stuck
        note = f"stopped (shutdown took {time.monotonic() - started:.1f} s)"
        if not clean:
            note += (f"; {len(pending) or len(stuck)} request(s) still in flight were abandoned"
                     " (their threads stay due)")
        try:
            self.runner.beat("stopped", note=note)
        except Exception as exc:
            log_failure("could not record the stop", exc)
        log.warning("%s", note)
        if clean:
            self.fetcher.close()
            self.store.close()
        return clean


# -- status and health -------------------------------------------------------------------------


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
    rows = session.exec(
        select(Thread.url, Thread.published_at, Thread.first_seen_at).where(
            Thread.status == "open", col(Thread.next_due_at).is_(None))
    ).all()
    expired, ages, unplanned = 0, set(), 0
    for url, published, first_seen in rows:
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
            beat = session.exec(select(Heartbeat).where(Heartbeat.name == "scheduler")).first()
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
                check = session.exec(select(SiteCheck).where(SiteCheck.name == site.name)).first()
                queued = session.exec(
                    select(func.count()).select_from(DiscoveredUrl).where(
                        DiscoveredUrl.site == site.name, DiscoveredUrl.state == "queued")
                ).one()
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
            counts = dict(
                session.exec(select(Thread.status, func.count()).group_by(Thread.status)).all()
            )
            total = sum(counts.values())
            due_now = session.exec(
                select(func.count()).select_from(Thread).where(
                    Thread.next_due_at <= now, Thread.status != "gone")
            ).one()
            following = session.exec(
                select(func.count()).select_from(Thread).where(
                    col(Thread.next_due_at).is_not(None), Thread.status != "gone")
            ).one()
            queued_all = session.exec(
                select(func.count()).select_from(DiscoveredUrl).where(
                    DiscoveredUrl.state == "queued")
            ).one()
            failed = session.exec(
                select(func.count()).select_from(DiscoveredUrl).where(
                    DiscoveredUrl.state == "failed")
            ).one()
            lines.append("")
            lines.append(
                f"Threads: {total} archived ({counts.get('open', 0)} open, "
                f"{counts.get('closed', 0)} closed, {counts.get('gone', 0)} gone); "
                f"{following} followed{_unfollowed(session, settings, now)}, {due_now} due now;"
                f" {queued_all} new URL(s) queued" + (f", {failed} given up" if failed else "")
            )
            upcoming = session.exec(
                select(Thread).where(col(Thread.next_due_at).is_not(None),
                                     Thread.status != "gone")
                .order_by(col(Thread.next_due_at)).limit(10)
            ).all()
            if upcoming:
                lines.append("Next due:")
                for thread in upcoming:
                    due = as_utc(thread.next_due_at)
                    mark = "due now" if due is not None and due <= now else _ago(due, now)
                    lines.append(f"  {_stamp(due)} ({mark})  {thread.url}")
            errors = session.exec(
                select(Thread).where(col(Thread.last_error).is_not(None))
                .order_by(col(Thread.last_fetched_at).desc()).limit(10)
            ).all()
            bad_new = session.exec(
                select(DiscoveredUrl).where(col(DiscoveredUrl.last_error).is_not(None),
                                            DiscoveredUrl.state != "done")
                .order_by(col(DiscoveredUrl.id).desc()).limit(10)
            ).all()
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
    from sqlalchemy import text
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
            session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            beat = session.exec(select(Heartbeat).where(Heartbeat.name == "scheduler")).first()
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
