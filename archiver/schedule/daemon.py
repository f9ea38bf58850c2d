"""The daemon behind `archiver run`: APScheduler jobs for discovery, dispatch and the heartbeat,
a pool of worker threads, and a graceful stop on SIGTERM/SIGINT.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from datetime import datetime
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor as JobPool
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from archiver.config import Settings, SiteConfig
from archiver.fetch import Fetcher
from archiver.schedule.policy import trigger_for
from archiver.schedule.runner import Clock, Runner, RunSummary, Stopping, WorkItem, log_failure
from archiver.store import repo
from archiver.store.db import Store

log = logging.getLogger("archiver.schedule")  # one logger name for all the scheduler's lines

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
        previous: dict[int, object] = {}
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
