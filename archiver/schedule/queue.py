"""Work shared by any number of `archiver worker` processes through procrastinate (a task queue
in PostgreSQL): `archive_thread` jobs (from `archive --queue`, discovery and refreshes), one
`discover_site` job per site when due, and a periodic `tick` that plans them; procrastinate's
queueing lock keeps a thread from being queued twice, its lock from being run twice at once,
and its periodic deferrer runs each tick once whatever the number of workers. A job whose
worker died (kill -9: no heartbeat) is put back by the next tick and done by another worker;
the store's merge is idempotent, so no comment is stored twice. Per-host politeness holds
across workers through the database (store/hosts.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.schema import SchemaManager
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from archiver.config import Settings
from archiver.errors import UsageError
from archiver.schedule.runner import Runner, WorkItem, url_key
from archiver.store.db import Store

log = logging.getLogger("archiver.schedule.queue")

QUEUE = "archive"
_SCHEMA_LOCK = 0x61726376  # pg_advisory_lock key for applying procrastinate's schema


def require_postgres(database_url: str) -> None:
    if not database_url.startswith(("postgresql", "postgres")):
        raise UsageError("workers and --queue need a PostgreSQL database: set "
                         "ARCHIVER_DATABASE_URL=postgresql+psycopg://USER@HOST/DATABASE")


def conninfo(database_url: str) -> str:
    """The libpq URL of a SQLAlchemy one (postgresql+psycopg://... -> postgresql://...)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


def ensure_queue_schema(engine: Engine) -> bool:
    """Apply procrastinate's schema once (under an advisory lock: workers start together);
    True when this call applied it."""
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        if inspect(conn).has_table("procrastinate_jobs"):
            return False
        schema = SchemaManager.get_schema()
        conn.exec_driver_sql(schema.replace("%", "%%"))
    return True


@dataclass
class WorkerContext:
    """What the tasks of one worker process share: its store, fetcher and runner."""

    settings: Settings
    store: Store
    runner: Runner
    stalled_after: float
    form_runner: Runner | None = None  # archives asked for through `archiver serve`'s form


_context: WorkerContext | None = None
_context_lock = threading.Lock()


def _worker() -> WorkerContext:
    if _context is None:
        raise RuntimeError("archiver tasks run in `archiver worker` only")
    return _context


def make_app(settings: Settings, *, sync: bool = False,
             tick_seconds: int = 10) -> procrastinate.App:
    """The procrastinate app on the settings' database, with archiver's tasks. sync: for
    deferring from plain code (`archive --queue`); else for running a worker."""
    require_postgres(settings.db_url)
    info = conninfo(settings.db_url)
    connector: Any = (procrastinate.SyncPsycopgConnector(conninfo=info) if sync
                      else procrastinate.PsycopgConnector(conninfo=info))
    app = procrastinate.App(connector=connector)

    # A job cut by the database going away (restarted, failed over) is tried again once it is
    # back; a thread's own failures are recorded by the runner and never raised.
    again = procrastinate.RetryStrategy(max_attempts=10, wait=2,
                                        retry_exceptions={SQLAlchemyError, OSError})

    @app.task(name="archiver.archive_thread", queue=QUEUE, retry=again)
    def archive_thread(url: str, platform: str = "auto", kind: str = "new",
                       discovered_id: int | None = None, thread_id: int | None = None,
                       form: bool = False) -> str:
        """form: asked for through the web form: fetched as the form's own archives are, on
        public addresses only (plus [serve] allow_networks) whatever the name resolves to now."""
        context = _worker()
        item = WorkItem(kind, url, platform, discovered_id=discovered_id, thread_id=thread_id)
        if not _still_due(context, item):  # queued again while it ran: done already
            return "not due"
        runner = context.form_runner if form and context.form_runner else context.runner
        outcome = runner.process(item)
        log.info("%s: %s", url, outcome)
        return outcome

    @app.task(name="archiver.discover_site", queue=QUEUE, retry=again)
    def discover_site(name: str) -> int:
        context = _worker()
        site = context.settings.site_named(name)
        if site is None or not site.enabled:
            return 0
        due = context.runner.discovery_due(site)
        if due is not None and due > context.runner.clock():  # planned again while it ran
            return 0
        return len(context.runner.discover(site).queued)

    cron = (f"* * * * * */{tick_seconds}" if tick_seconds < 60
            else f"*/{max(1, tick_seconds // 60)} * * * *")

    @app.periodic(cron=cron, periodic_id="tick")
    @app.task(name="archiver.tick", queue=QUEUE, queueing_lock="archiver.tick")
    async def tick(timestamp: int) -> int:
        """Put back the jobs of dead workers, then queue what is due (discovery, new threads,
        refreshes); each once, whatever else is queued."""
        context = _worker()
        for job in await app.job_manager.get_stalled_jobs(
                seconds_since_heartbeat=context.stalled_after):
            log.warning("job %s (%s) lost its worker: queued again", job.id, job.task_name)
            await app.job_manager.retry_job(job)
        plan = await asyncio.to_thread(_plan, context)
        running = await asyncio.to_thread(_running_locks, context, [p[2] for p in plan])
        queued = 0
        for task, kwargs, lock in plan:
            if lock in running:  # being done now: when it ends, it is planned again if still due
                continue
            target = archive_thread if task == "archive" else discover_site
            try:
                await target.configure(queueing_lock=lock, lock=lock).defer_async(**kwargs)
                queued += 1
            except AlreadyEnqueued:
                pass
        return queued

    return app


def _still_due(context: WorkerContext, item: WorkItem) -> bool:
    """Whether a planned item is still to do: a tick may plan a refresh again while a worker
    runs it (a job's queueing lock holds only while it waits); its lock makes the second wait
    for the first, which moves the thread's due time, and this check then skips it."""
    from archiver.store.models import DiscoveredUrl, Thread
    from archiver.store.schedule_repo import as_utc

    with context.store.session() as session:
        if item.kind == "refresh" and item.thread_id is not None:
            thread = session.get(Thread, item.thread_id)
            due = as_utc(thread.next_due_at) if thread is not None else None
            return due is not None and due <= context.runner.clock()
        if item.discovered_id is not None:
            entry = session.get(DiscoveredUrl, item.discovered_id)
            return entry is not None and entry.state == "queued"
    return True  # `archive --queue`: always done


def _running_locks(context: WorkerContext, locks: list[str]) -> set[str]:
    """Which of these locks a running job holds (a discovery or an archive still in hand: a
    job queued for it now would only wait for it, then find nothing due)."""
    if not locks:
        return set()
    with context.store.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT DISTINCT lock FROM procrastinate_jobs WHERE status = 'doing'"
            " AND lock = ANY(:locks)"), {"locks": locks}).all()
    return {str(row[0]) for row in rows}


def _plan(context: WorkerContext) -> list[tuple[str, dict[str, Any], str]]:
    """What is due now: each site's discovery, then new threads and refreshes."""
    runner = context.runner
    now = runner.clock()
    plan: list[tuple[str, dict[str, Any], str]] = []
    for site in context.settings.sites:
        if site.enabled:
            due = runner.discovery_due(site)
            if due is None or due <= now:
                plan.append(("discover", {"name": site.name}, f"discover:{site.name}"))
    for item in runner.due_work(now):
        plan.append(("archive", {"url": item.url, "platform": item.platform, "kind": item.kind,
                                 "discovered_id": item.discovered_id,
                                 "thread_id": item.thread_id}, item.key))
    return plan


@dataclass(frozen=True, slots=True)
class Queued:
    """One URL handed to the workers: its procrastinate job, and whether this call queued it
    (False: that thread was waiting in the queue already, job_id is the waiting job's)."""

    job_id: int | None
    new: bool


def queue_urls(settings: Settings, urls: list[str], platform: str = "auto", *,
               form: bool = False) -> list[Queued]:
    """Queue an archive of each URL for the workers (a thread waiting already is not queued
    twice); form: asked for through the web form (fetched on allowed addresses only)."""
    store = Store(settings.db_url)
    try:
        ensure_queue_schema(store.engine)
        app = make_app(settings, sync=True)
        task = app.tasks["archiver.archive_thread"]
        done = []
        with app.open():
            for url in urls:
                key = url_key(url)
                try:
                    extra = {"form": True} if form else {}
                    job_id = task.configure(queueing_lock=key, lock=key).defer(
                        url=url, platform=platform, **extra)
                    done.append(Queued(job_id, True))
                except AlreadyEnqueued:
                    done.append(Queued(_waiting_job(store.engine, key), False))
        return done
    finally:
        store.close()


def _waiting_job(engine: Engine, key: str) -> int | None:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT id FROM procrastinate_jobs WHERE queueing_lock = :key"
            " AND status IN ('todo', 'doing') ORDER BY id DESC LIMIT 1"), {"key": key}).scalar()


def live_workers(engine: Engine, stalled_after: float) -> int:
    """How many `archiver worker` processes beat their heartbeat within stalled_after seconds
    (0 on SQLite, or before any worker started on this database)."""
    if engine.dialect.name != "postgresql":
        return 0
    with engine.connect() as conn:
        if not inspect(conn).has_table("procrastinate_workers"):
            return 0
        return int(conn.execute(text(
            "SELECT count(*) FROM procrastinate_workers"
            " WHERE last_heartbeat > now() - make_interval(secs => :secs)"),
            {"secs": float(stalled_after)}).scalar_one())


def job_states(engine: Engine, job_ids: list[int]) -> dict[int, str]:
    """procrastinate's status of each job (todo, doing, succeeded, failed, cancelled, ...);
    a job no longer in the table is left out."""
    if not job_ids:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, status::text FROM procrastinate_jobs WHERE id = ANY(:ids)"),
            {"ids": list(job_ids)}).all()
    return {int(job_id): str(status) for job_id, status in rows}


def run_worker(settings: Settings, *, concurrency: int, heartbeat: float,
               stalled_after: float, tick_seconds: int, wait: bool = True) -> None:
    """Run one worker until SIGTERM/SIGINT: `concurrency` jobs at once, each in a thread."""
    global _context
    from contextlib import ExitStack

    from archiver.fetch import Fetcher
    from archiver.fetch.guard import allowed_resolver, form_fetch_settings, form_policy
    from archiver.store.hosts import HostTurns

    store = Store(settings.db_url, connections=2 * concurrency + 4)
    ensure_queue_schema(store.engine)
    fetch = settings.fetch
    turns = HostTurns(store.engine, sleep=fetch.sleep,
                      lease=fetch.connect_timeout + fetch.total_timeout + 1.0)
    settings.fetch.max_concurrency = max(settings.fetch.max_concurrency, concurrency)
    app = make_app(settings, tick_seconds=tick_seconds)
    with ExitStack() as stack:
        fetcher = stack.enter_context(Fetcher(settings.fetch, shared_turn=turns.turn))
        form_fetcher = stack.enter_context(Fetcher(
            form_fetch_settings(settings), resolver=allowed_resolver(form_policy(settings)),
            shared_turn=turns.turn, public_only=True))
        with _context_lock:
            _context = WorkerContext(settings, store, Runner(settings, store, fetcher),
                                     stalled_after, Runner(settings, store, form_fetcher))
        try:
            asyncio.run(_serve(app, {
                "queues": [QUEUE], "concurrency": concurrency, "wait": wait,
                "update_heartbeat_interval": heartbeat, "stalled_worker_timeout": stalled_after,
                "install_signal_handlers": False}))
        finally:
            _context = None
            store.close()


async def _serve(app: procrastinate.App, options: dict[str, Any]) -> None:
    """Run procrastinate's worker until SIGTERM/SIGINT; when it stops on its own (it does when
    it loses the database: its listener fails), start it again once the database answers."""
    import signal
    from contextlib import suppress

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    while not stop.is_set():
        try:
            async with app.open_async():
                work = asyncio.create_task(app.run_worker_async(**options))
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if not work.done():  # asked to stop: the jobs in hand finish first
                    work.cancel()
                    with suppress(asyncio.CancelledError):
                        await work
                elif work.exception() is not None:
                    log.warning("worker stopped: %s", work.exception())
                if not options.get("wait", True):
                    return
        except Exception as exc:  # the database is not there (yet): try again shortly
            log.warning("worker cannot reach the database: %s", exc)
        if not stop.is_set():
            log.warning("worker stopped on its own (database lost?): starting again")
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 2.0)
