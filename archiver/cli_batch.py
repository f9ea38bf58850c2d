"""`archiver archive URL URL...` and `-i FILE`: read the URLs, run the batch (pipeline/batch.py)
with a progress line on a terminal, print each thread's summary and error, then the totals."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from archiver.config import Settings
from archiver.errors import ArchiverError, UsageError
from archiver.store.db import Store

if TYPE_CHECKING:
    from archiver.pipeline.batch import Item

console = Console(stderr=True)
DB_CONNECTIONS = 16  # the most database connections a batch opens, whatever its workers


class BatchFailed(ArchiverError):
    """Some URLs of a batch failed: each was reported on its own line; this is the worst code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = code


def gather(urls: list[str], input_file: str | None) -> list[Item]:
    """The items of the arguments, then of the input file (- is stdin)."""
    from archiver.pipeline.batch import Item, read_urls

    items = [Item(url, f"argument {n}") for n, url in enumerate(urls, 1)]
    if input_file is not None:
        if input_file == "-":
            items += read_urls(sys.stdin, "stdin")
        else:
            path = Path(input_file)
            try:
                with path.open(encoding="utf-8") as lines:
                    items += read_urls(lines, input_file)
            except (OSError, UnicodeDecodeError) as exc:
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                raise UsageError(f"cannot read {input_file}: {why}") from None
    if not items:
        raise UsageError(f"no URL in {input_file}" if input_file else "no URL given")
    return items


def archive_many(settings: Settings, urls: list[str], input_file: str | None, *,
                 workers: int | None, platform: str, ignore_robots: bool) -> None:
    """Archive every URL; raises BatchFailed with the worst exit code when any failed."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from archiver.fetch import Fetcher
    from archiver.pipeline import ThreadArchiver
    from archiver.pipeline.batch import BatchRunner, Outcome
    from archiver.pipeline.batch import Progress as Totals

    items = gather(urls, input_file)
    workers = workers or settings.workers
    # Each worker has one request in flight at most: the workers bound the connections, and
    # the global cap must not hold a wide batch to fewer hosts than it has workers.
    settings.fetch.max_concurrency = max(settings.fetch.max_concurrency, workers)
    if ignore_robots:
        settings.fetch.respect_robots = False
        logging.getLogger("archiver").warning("robots.txt ignored (--ignore-robots)")
        console.print("[yellow]warning:[/] robots.txt ignored for every URL (--ignore-robots)",
                      highlight=False, soft_wrap=True)
    store = Store(settings.db_url, connections=min(workers, DB_CONNECTIONS))
    try:
        with Fetcher(settings.fetch) as fetcher, Progress(
            SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True,
            disable=not console.is_interactive,
        ) as progress:
            task = progress.add_task("starting", total=None)

            def on_change(totals: Totals) -> None:
                progress.update(task, description=totals.line())

            def on_done(outcome: Outcome) -> None:
                report = outcome.report
                if report is not None:
                    print(f"{report.summary()} ({report.url})", flush=True)
                    for line in report.pictures_failed:
                        print(f"picture skipped: {line}", flush=True)
                if outcome.error:
                    progress.console.print(f"[red]error:[/] {escape(outcome.error)}",
                                           highlight=False, soft_wrap=True)

            runner = BatchRunner(
                ThreadArchiver(store, fetcher, pictures=settings.pictures_for), workers=workers,
                per_host=settings.fetch.per_host_concurrency, platform=platform,
                on_change=on_change, on_done=on_done)
            result = runner.run(items)
    finally:
        store.close()
    print(result.summary())
    if result.code:
        failed = sum(1 for o in result.outcomes if o.code)
        raise BatchFailed(result.code, f"{failed} of {len(result.outcomes)} URLs failed or were"
                          " read in part (each named above)")


def queue_many(settings: Settings, urls: list[str], input_file: str | None, *,
               platform: str) -> None:
    """Queue each URL for `archiver worker` (PostgreSQL); a thread already queued is not
    queued again."""
    from archiver.config import check_url
    from archiver.schedule.queue import queue_urls, require_postgres

    require_postgres(settings.db_url)
    items = gather(urls, input_file)
    good = []
    for item in items:
        try:
            good.append(check_url(item.url))
        except ValueError as exc:
            console.print(f"[red]error:[/] {escape(item.where)}: {escape(str(exc))}",
                          highlight=False, soft_wrap=True)
    queued = queue_urls(settings, good, platform)
    for url, outcome in zip(good, queued, strict=True):
        print(f"{'queued' if outcome.new else 'already queued'}: {url}")
    new = sum(outcome.new for outcome in queued)
    print(f"{new} queued, {len(queued) - new} already queued")
    if len(good) < len(items):
        raise UsageError(f"{len(items) - len(good)} line(s) are not URLs (each named above)")
