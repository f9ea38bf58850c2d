"""The runner: discovery and archiving against the database's due times, shared by both run
modes. It picks the due work (queued new URLs, then due refreshes), archives one item, records
the outcome and plans the next poll; `run_once` is all of `archiver run --once`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from archiver.config import Settings, SiteConfig
from archiver.discovery import Discoverer, DiscoveryReport
from archiver.errors import ArchiverError, FetchError, ParseError, UnsupportedSite, describe
from archiver.fetch import Fetcher
from archiver.pipeline import ThreadArchiver
from archiver.schedule.policy import next_discovery, plan_refresh, retry_delay
from archiver.store import repo, schedule_repo
from archiver.store.db import Store
from archiver.store.models import DiscoveredUrl, Thread
from archiver.store.schedule_repo import as_utc
from archiver.urls import normalise_url

log = logging.getLogger("archiver.schedule")  # one logger name for all the scheduler's lines

Clock = Callable[[], datetime]


def log_failure(what: str, exc: BaseException) -> None:
    """Log a failure as one line (describe: a database error without its SQL); the stack only
    when debug logging is on (`archiver --debug run`)."""
    log.error("%s: %s", what, describe(exc), exc_info=log.isEnabledFor(logging.DEBUG))


class Stopping(Exception):
    """Raised inside a worker when a shutdown was asked for: the page in hand is done."""


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
        self.archiver = ThreadArchiver(store, fetcher, pictures=settings.pictures_for)
        self.discoverer = Discoverer(store, fetcher, clock=clock)
        self._summary_lock = threading.Lock()

    # -- heartbeat --------------------------------------------------------------------------

    def beat(self, state: str = "running", *, in_flight: int = 0, note: str = "",
             started: bool = False) -> None:
        now = repo.utcnow()  # real time: health compares it with the wall clock
        with self.store.session() as session:
            schedule_repo.write_heartbeat(
                session, now, state=state, pid=os.getpid(), hostname=socket.gethostname(),
                in_flight=in_flight, note=note, started=started,
            )

    # -- discovery --------------------------------------------------------------------------

    def discover(self, site: SiteConfig, next_due: datetime | None = None) -> DiscoveryReport:
        report = self.discoverer.discover(site)
        with self.store.session() as session:
            schedule_repo.set_discovery_due(session, site.name, next_due or next_discovery(
                site, self.settings.scheduler.timezone, self.clock()))
        log.info("discovery %s", report.summary())
        return report

    def discovery_due(self, site: SiteConfig) -> datetime | None:
        """When the database says this site's discovery is next due (None: never ran)."""
        with self.store.session() as session:
            return schedule_repo.discovery_due(session, site.name)

    # -- what is due ------------------------------------------------------------------------

    def _site_enabled(self, url: str) -> bool:
        site = self.settings.site_for_url(url)
        return site is None or site.enabled

    def plan_unplanned(self, session: Session, now: datetime) -> None:
        """Threads never planned (archived by `archiver archive`, or interrupted on their first
        run) get a due time: one refresh interval after their last fetch, or now."""
        for thread in schedule_repo.unplanned_threads(session):
            if schedule_repo.is_queued(session, {thread.url, url_key(thread.url)}):
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
            for entry in schedule_repo.queued_due(session, now):
                site = self.settings.site_named(entry.site)
                if url_key(entry.url) in exclude or (site is not None and not site.enabled):
                    continue
                items.append(WorkItem("new", entry.url, site.platform if site else "auto",
                                      discovered_id=entry.id))
                if limit is not None and len(items) >= limit:
                    return items
            for thread, platform in schedule_repo.due_threads(session, now):
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
            return schedule_repo.next_due_time(session)

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
                schedule_repo.mark_queued_done(session, item.discovered_id, thread.id, now)
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

