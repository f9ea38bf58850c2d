"""Many threads in one run (`archiver archive URL URL...`, `-i FILE`): a pool of worker threads
archives them side by side, at most per_host_concurrency of them on one host at a time (the
Fetcher spaces each host's requests), each URL's outcome kept apart: one failing stops no other.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from archiver.config import check_url
from archiver.errors import ArchiverError, UsageError, describe
from archiver.fetch.politeness import host_key
from archiver.pipeline.engine import ThreadArchiver
from archiver.pipeline.report import ArchiveReport, incomplete_error
from archiver.urls import normalise_url

log = logging.getLogger("archiver.pipeline.batch")

# The exit code of a run is the worst of its URLs', worst last: a read in part (6 parse, 3 fetch)
# is better than a thread not archived at all (4 robots.txt, 5 unsupported), then a bad line of
# input (2), then an unexpected or database error (1).
SEVERITY = (0, 6, 3, 4, 5, 2, 1)


def worst_code(codes: Iterable[int]) -> int:
    """The worst exit code of codes by SEVERITY (0 for none); an unknown code counts as 1."""
    rank = {code: i for i, code in enumerate(SEVERITY)}
    return max(codes, key=lambda c: rank.get(c, len(SEVERITY)), default=0)


@dataclass(slots=True)
class Item:
    """One URL of the input: where it came from (a line of a file, or an argument)."""

    url: str
    where: str = ""  # "FILE:LINE" or "argument N", for messages about a bad line


def read_urls(lines: Iterable[str], source: str) -> list[Item]:
    """The URLs of a file's lines: one a line; blank lines and lines starting with # skipped."""
    items = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if text and not text.startswith("#"):
            items.append(Item(text, f"{source}:{number}"))
    return items


@dataclass(slots=True)
class Outcome:
    """What became of one URL: its exit code, its report (when the engine ran) and the error."""

    item: Item
    code: int = 0
    report: ArchiveReport | None = None
    error: str = ""


@dataclass(slots=True)
class Progress:
    """Running totals, read by the progress display (updated under the runner's lock)."""

    total: int = 0
    done: int = 0
    running: int = 0
    pages: int = 0
    comments: int = 0
    new: int = 0
    errors: int = 0
    hosts_busy: int = 0

    def line(self) -> str:
        return (f"threads {self.done}/{self.total} done ({self.running} running on "
                f"{self.hosts_busy} hosts), {self.pages} pages, {self.comments} comments, "
                f"{self.errors} error{'s' * (self.errors != 1)}")


@dataclass(slots=True)
class BatchResult:
    """Every URL's outcome, in input order, and the totals."""

    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    duplicates: int = 0  # URLs given again (the same thread by the same normalised URL)

    @property
    def code(self) -> int:
        return worst_code(o.code for o in self.outcomes)

    def summary(self) -> str:
        reports = [o.report for o in self.outcomes if o.report is not None]
        ok = sum(1 for o in self.outcomes if o.code == 0)
        partial = sum(1 for o in self.outcomes if o.code and o.report is not None)
        failed = sum(1 for o in self.outcomes if o.report is None)
        parts = [f"{ok} archived", f"{partial} incomplete", f"{failed} failed"]
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicate URL{'s' * (self.duplicates != 1)} skipped")
        pages = sum(r.pages for r in reports)
        comments = sum(r.comments for r in reports)
        new = sum(r.new for r in reports)
        n = len(self.outcomes)
        return (f"{n} thread{'s' * (n != 1)}: " + ", ".join(parts)
                + f"; {pages} pages, {comments} comments ({new} new) in {self.seconds:.1f} s")


OnDone = Callable[[Outcome], None]


class BatchRunner:
    """Archives many URLs with a pool of `workers` threads sharing one Fetcher and one Store:
    each host gets at most `per_host` of them at a time (its requests are spaced by the
    Fetcher's politeness in any case), so the pool stays on as many hosts as it has workers."""

    def __init__(
        self, archiver: ThreadArchiver, *, workers: int, per_host: int = 1,
        platform: str = "auto", on_change: Callable[[Progress], None] | None = None,
        on_done: OnDone | None = None,
    ) -> None:
        self.archiver = archiver
        self.workers = max(1, workers)
        self.per_host = max(1, per_host)
        self.platform = platform
        self.on_change = on_change
        self.on_done = on_done
        self.progress = Progress()
        self._cond = threading.Condition()
        self._waiting: dict[str, deque[int]] = {}  # host -> indexes of its URLs not yet started
        self._ready: deque[str] = deque()  # hosts with URLs waiting and a free place
        self._busy: dict[str, int] = {}  # host -> workers on it now
        self._stop = False
        self._items: dict[int, Item] = {}
        self._outcomes: list[Outcome | None] = []

    def run(self, items: list[Item]) -> BatchResult:
        """Archive every item; returns when all are done (or raises KeyboardInterrupt)."""
        started = time.monotonic()
        result = BatchResult()
        seen: set[str] = set()
        outcomes: list[Outcome | None] = []
        for item in items:
            try:
                url = check_url(item.url)
            except ValueError as exc:
                where = f"{item.where}: " if item.where else ""
                outcomes.append(Outcome(item, UsageError.exit_code, error=f"{where}{exc}"))
                continue
            key = normalise_url(url)
            if key in seen:
                result.duplicates += 1
                continue
            seen.add(key)
            outcomes.append(None)
            index = len(outcomes) - 1
            item.url = url
            self._waiting.setdefault(host_key(key), deque()).append(index)
            self._items[index] = item
        self._ready.extend(self._waiting)
        self.progress.total = len(outcomes)
        self.progress.done = self.progress.errors = sum(1 for o in outcomes if o is not None)
        self._outcomes = outcomes
        for outcome in outcomes:  # lines that are not URLs: reported at once, never run
            if outcome is not None and self.on_done is not None:
                self.on_done(outcome)
        threads = [threading.Thread(target=self._work, name=f"batch-{n}", daemon=True)
                   for n in range(min(self.workers, max(1, len(self._waiting))))]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)  # a Ctrl-C reaches the main thread between joins
        except BaseException:
            with self._cond:
                self._stop = True
                self._cond.notify_all()
            raise
        result.outcomes = [o for o in outcomes if o is not None]
        result.seconds = time.monotonic() - started
        return result

    def _take(self) -> tuple[str, int] | None:
        """The next URL to archive, on a host with a free place; None when all are taken."""
        with self._cond:
            while True:
                if self._stop:
                    return None
                if self._ready:
                    host = self._ready.popleft()
                    index = self._waiting[host].popleft()
                    self._busy[host] = self._busy.get(host, 0) + 1
                    if self._waiting[host] and self._busy[host] < self.per_host:
                        self._ready.append(host)
                    self.progress.running += 1
                    self.progress.hosts_busy = len(self._busy)
                    return host, index
                if not self._busy:  # nothing waiting for a place and nothing running
                    return None
                self._cond.wait()

    def _release(self, host: str, outcome: Outcome, index: int) -> None:
        with self._cond:
            self._busy[host] -= 1
            free = self._busy[host] < self.per_host
            if not self._busy[host]:
                del self._busy[host]
            if self._waiting[host] and free and host not in self._ready:
                self._ready.append(host)
            self._outcomes[index] = outcome
            p = self.progress
            p.running -= 1
            p.done += 1
            p.hosts_busy = len(self._busy)
            p.errors += bool(outcome.code)
            if outcome.report is not None:
                p.comments += outcome.report.comments
            self._cond.notify_all()
        if self.on_done is not None:
            self.on_done(outcome)
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.progress)

    def _work(self) -> None:
        while (taken := self._take()) is not None:
            host, index = taken
            outcome = self._archive(self._items[index])
            self._release(host, outcome, index)

    def _archive(self, item: Item) -> Outcome:
        """One URL, every error caught and turned into its exit code and one line."""

        def on_page(number: int, page_url: str) -> None:
            with self._cond:
                self.progress.pages += 1
            self._changed()

        report: ArchiveReport | None = None
        try:
            report = self.archiver.archive(item.url, platform=self.platform, on_page=on_page)
        except ArchiverError as exc:
            log.debug("%s failed", item.url, exc_info=True)
            return Outcome(item, exc.exit_code, error=f"{item.url}: {exc}"
                           if item.url not in str(exc) else str(exc))
        except SQLAlchemyError as exc:
            log.debug("%s failed", item.url, exc_info=True)
            return Outcome(item, 1, error=f"{item.url}: {describe(exc)}")
        except Exception as exc:  # one URL's bug must not stop the others
            log.error("%s failed", item.url, exc_info=True)
            return Outcome(item, 1, error=f"{item.url}: unexpected {describe(exc)}"
                                          " (run with --debug for details)")
        if report.problems:
            error = incomplete_error(report)
            return Outcome(item, error.exit_code, report, str(error))
        return Outcome(item, 0, report)
