"""The "archive this URL" form's work: the URL checked (no loopback, private or link-local address
unless [serve] allow_networks names it), then archived in a background thread whose progress the
job page shows. The fetch itself connects only to addresses the check would allow."""

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

from archiver.config import Settings, check_url
from archiver.errors import ArchiverError, UsageError
from archiver.fetch.guard import AddressPolicy, Resolver, parse_networks, system_resolver
from archiver.store.db import Store
from archiver.store.repo import utcnow

log = logging.getLogger("archiver.web")
KEEP_JOBS = 200  # finished jobs remembered (the oldest are forgotten first)


class UrlRefused(UsageError):
    """A URL the form will not archive (not http(s), or on an address it may not reach)."""


def form_policy(settings: Settings) -> AddressPolicy:
    """Public addresses, plus the networks [serve] allow_networks (and [fetch] public_networks)
    name."""
    return AddressPolicy(parse_networks(f"{settings.fetch.public_networks} "
                                        f"{settings.serve.allow_networks}"))


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


def allowed_resolver(policy: AddressPolicy, inner: Resolver = system_resolver) -> Resolver:
    """A DNS lookup giving only addresses the policy allows: a name that answered public to the
    form's check and private when fetched (DNS rebinding) cannot be connected to."""

    def resolve(host: str, port: int) -> list[str]:
        addresses = [ip for ip in inner(host, port) if policy.is_public(ip)]
        if not addresses:
            raise OSError(f"{host} resolves to no address the archive form may reach")
        return addresses

    return resolve


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

    def submit(self, url: str) -> Job:
        """Queue an archive of url (checked by check() first)."""
        with self._lock:
            job = Job(id=next(self._ids), url=url)
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP_JOBS:
                oldest = next(iter(self._jobs.values()))
                if not oldest.finished:
                    break
                self._jobs.popitem(last=False)
        self._pool.submit(self._run, job)
        return job

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def recent(self, limit: int = 20) -> list[Job]:
        with self._lock:
            return list(reversed(self._jobs.values()))[:limit]

    def _update(self, job: Job, **changes: object) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(job, key, value)

    def _run(self, job: Job) -> None:
        from archiver.fetch import Fetcher
        from archiver.pipeline import ThreadArchiver

        self._update(job, state="running")
        fetch = dataclasses.replace(
            self.settings.fetch,
            public_networks=f"{self.settings.fetch.public_networks} "
                            f"{self.settings.serve.allow_networks}".strip())
        on_page: Callable[[int, str], None] = \
            lambda number, url: self._update(job, pages=number, current=url)  # noqa: E731
        try:
            with Fetcher(fetch, resolver=allowed_resolver(self.policy, self.resolver)) as fetcher:
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
