"""The "archive this URL" form's work: the URL checked (no loopback, private or link-local address
unless [serve] allow_networks names it), then archived in a background thread whose progress the
job page shows (the fetch itself connects only to addresses the check would allow), or, on
PostgreSQL with live `archiver worker` processes, queued for them and followed in the queue (the
workers fetch under their own [fetch] rules, which refuse private addresses too unless
fetch.public_networks names them)."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.exc import SQLAlchemyError

from archiver.config import Settings, check_url
from archiver.errors import ArchiverError, UsageError
from archiver.fetch.guard import (
    AddressPolicy,
    Resolver,
    allowed_resolver,
    form_fetch_settings,
    form_policy,
    system_resolver,
)
from archiver.store.db import Store
from archiver.store.repo import utcnow

log = logging.getLogger("archiver.web")
KEEP_JOBS = 200  # finished jobs remembered (the oldest are forgotten first)


class UrlRefused(UsageError):
    """A URL the form will not archive (not http(s), or on an address it may not reach)."""


def check_form_url(text: str, policy: AddressPolicy, resolver: Resolver = system_resolver) -> str:
    """The URL, normalised, if every address its host resolves to may be reached; else
    UrlRefused saying why in one line."""
    try:
        url = check_url(text.strip())
    except ValueError as exc:
        raise UrlRefused(str(exc)) from None
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [host] if policy.parse(host) is not None else resolver(host, port)
    except OSError as exc:
        raise UrlRefused(f"cannot resolve {host}: {exc}") from None
    if not addresses:
        raise UrlRefused(f"cannot resolve {host}: no address")
    for ip in addresses:
        kind = policy.kind(ip)
        if kind is not None:
            raise UrlRefused(
                f"refused: {host} resolves to {ip} ({kind}); the form archives public addresses"
                " only (name the network in [serve] allow_networks to allow it)")
    return url


@dataclass(slots=True)
class Job:
    """One archive started from the form, and how far it got."""

    id: int
    url: str
    state: str = "queued"  # queued | running | done | incomplete | failed
    pages: int = 0
    current: str = ""  # the page being read
    message: str = ""  # the run's summary, or the error
    thread_id: int | None = None
    worker_job: int | None = None  # the procrastinate job, when queued for the workers
    created_at: datetime = dataclasses.field(default_factory=utcnow)
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "incomplete", "failed")


class Jobs:
    """Archives run one at a time in a background thread (each site's politeness holds across
    them); jobs are kept in memory, the newest KEEP_JOBS."""

    def __init__(self, settings: Settings, store: Store,
                 resolver: Resolver = system_resolver) -> None:
        self.settings = settings
        self.store = store
        self.policy = form_policy(settings)
        self.resolver = resolver
        self._jobs: OrderedDict[int, Job] = OrderedDict()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archiver-web-job")

    def check(self, text: str) -> str:
        return check_form_url(text, self.policy, self.resolver)

    def live_workers(self) -> int:
        """Workers whose heartbeat is recent, on PostgreSQL (0 on SQLite or if it cannot say)."""
        if self.store.engine.dialect.name != "postgresql":
            return 0
        from archiver.schedule.queue import live_workers

        try:
            return live_workers(self.store.engine, self.settings.scheduler.worker_stalled_after)
        except SQLAlchemyError as exc:
            log.warning("cannot see the workers: %s", exc)
            return 0

    def submit(self, url: str) -> Job:
        """Archive url (checked by check() first): queued for the workers when any is alive,
        else run here in the background."""
        workers = self.live_workers()
        if workers:
            from archiver.schedule.queue import queue_urls

            queued = queue_urls(self.settings, [url], form=True)[0]
            job = self._add(Job(id=0, url=url, worker_job=queued.job_id, message=(
                f"queued for the workers ({workers} alive)" if queued.new
                else "queued for the workers already (not queued twice)")))
            return job
        job = self._add(Job(id=0, url=url))
        self._pool.submit(self._run, job)
        return job

    def _add(self, job: Job) -> Job:
        with self._lock:
            job.id = next(self._ids)
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP_JOBS:
                oldest = next(iter(self._jobs.values()))
                if not oldest.finished:
                    break
                self._jobs.popitem(last=False)
        return job

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            self._follow([job])
        return job

    def recent(self, limit: int = 20) -> list[Job]:
        with self._lock:
            jobs = list(reversed(self._jobs.values()))[:limit]
        self._follow(jobs)
        return jobs

    def _follow(self, jobs: list[Job]) -> None:
        """Bring queued jobs up to date from the workers' queue and, once done, the store."""
        waiting = [job for job in jobs if job.worker_job is not None and not job.finished]
        if not waiting:
            return
        from archiver.schedule.queue import job_states

        try:
            states = job_states(self.store.engine, [job.worker_job for job in waiting
                                                    if job.worker_job is not None])
        except SQLAlchemyError as exc:
            log.warning("cannot read the workers' queue: %s", exc)
            return
        for job in waiting:
            status = states.get(job.worker_job or 0, "succeeded")  # gone: done and cleaned up
            if status == "todo":
                continue
            if status in ("doing", "aborting"):
                self._update(job, state="running", message="a worker is archiving it")
            elif status == "succeeded":
                self._finish_from_store(job)
            else:
                self._update(job, state="failed", finished_at=utcnow(),
                             message=f"the workers' job ended {status} (their log says why)")

    def _finish_from_store(self, job: Job) -> None:
        """A worker's job is done: what it archived is in the store (a failure the runner
        recorded leaves no thread, or the thread with its last error)."""
        from archiver.store.repo import count_current_comments, find_thread

        with self.store.session() as session:
            thread = find_thread(session, job.url)
            if thread is None:
                self._update(job, state="failed", finished_at=utcnow(), message=(
                    "the worker could not archive it (archiver status and its log say why)"))
                return
            comments = count_current_comments(session, thread.id or 0)
            error = thread.last_error
            self._update(job, state="incomplete" if error else "done", thread_id=thread.id,
                         finished_at=utcnow(), message=(
                             f"archived by a worker: {comments} comments"
                             + (f"; {error}" if error else "")))

    def _update(self, job: Job, **changes: object) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(job, key, value)

    def _run(self, job: Job) -> None:
        from archiver.fetch import Fetcher
        from archiver.pipeline import ThreadArchiver

        self._update(job, state="running")
        fetch = form_fetch_settings(self.settings)
        on_page: Callable[[int, str], None] = \
            lambda number, url: self._update(job, pages=number, current=url)  # noqa: E731
        try:
            with Fetcher(fetch, resolver=allowed_resolver(self.policy, self.resolver),
                         public_only=True) as fetcher:
                report = ThreadArchiver(self.store, fetcher, pictures=self.settings.pictures_for
                                        ).archive(job.url, on_page=on_page)
        except ArchiverError as exc:
            self._update(job, state="failed", message=str(exc), finished_at=utcnow())
            return
        except Exception as exc:  # never lost silently: the job page says it
            log.exception("archive of %s failed", job.url)
            self._update(job, state="failed", message=f"unexpected {type(exc).__name__}: {exc}",
                         finished_at=utcnow())
            return
        self._update(job, state="incomplete" if report.problems else "done",
                     message=report.summary()
                     + (f"; {report.problems[0]}" if report.problems else ""),
                     thread_id=report.thread_id, current="", finished_at=utcnow())

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
