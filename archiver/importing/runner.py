"""`archiver import`: threads rebuilt from WARC/WACZ files. The files are scanned once into an
index; every readable response is offered to the adapters, and those that show a thread are
grouped by the thread's URL; each thread is then read by the usual engine from a ReplayFetcher,
once per capture of its first page, oldest first, so edits between captures become versions."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from archiver.adapters import ADAPTERS, adapter_for, adapter_for_url
from archiver.adapters.base import PageFacts, ParsedThread
from archiver.adapters.contract import HTML, Adapter, Response
from archiver.errors import ArchiverError, describe
from archiver.importing.records import Entry, Index, load, scan
from archiver.importing.replay import ReplayFetcher
from archiver.importing.unwrap import unwrap
from archiver.pipeline import ThreadArchiver
from archiver.pipeline.report import ArchiveReport
from archiver.store.db import Store
from archiver.urls import normalise_url

log = logging.getLogger("archiver.importing")


@dataclass(slots=True)
class FoundThread:
    """A thread some records show: its URL, the adapter, the page to start from."""

    url: str
    adapter: Adapter
    start: Entry  # the capture of its first page (lowest page number) seen
    page: int


@dataclass(slots=True)
class ImportReport:
    files: int = 0
    records: int = 0
    responses: int = 0
    skipped: int = 0  # records that cannot be threads (not responses, not HTML/JSON)
    not_threads: int = 0  # readable responses no adapter reads as a thread
    unresolved: int = 0  # revisits whose original is in none of the files
    threads: list[ArchiveReport] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # threads that could not be read at all

    def summary(self) -> str:
        comments = sum(r.comments for r in self.threads)
        incomplete = sum(1 for r in self.threads if not r.complete)
        parts = [f"{len({r.thread_id for r in self.threads})} threads ({comments} comments) "
                 f"from {self.records} records in {self.files} files",
                 f"{self.skipped + self.not_threads} records skipped (not thread pages)"]
        if self.unresolved:
            parts.append(f"{self.unresolved} revisits without their original")
        if incomplete:
            parts.append(f"{incomplete} reads incomplete (pages missing from the files)")
        if self.failed:
            parts.append(f"{len(self.failed)} threads could not be read")
        return "Imported " + ", ".join(parts)


def _response(entry: Entry) -> Response:
    loaded = load(entry)
    from archiver.fetch.charset import choose_encoding, decode_text

    content_type = next((v for k, v in loaded.headers if k.lower() == "content-type"), None)
    text = decode_text(loaded.body, choose_encoding(loaded.body, content_type))
    return Response(url=entry.url, status=loaded.status, headers=tuple(loaded.headers),
                    content=loaded.body, text=text)


def probe(entry: Entry, adapters: Sequence[Adapter], index: Index) -> FoundThread | None:
    """The thread a captured page (or API answer) shows, if any adapter reads one from it."""
    if entry.status != 200:
        return None
    html = entry.content_type in ("text/html", "application/xhtml+xml")
    if not html and adapter_for_url(entry.url, tuple(adapters)) is None:
        return None  # JSON no adapter claims by its URL
    response = _response(entry)
    if entry.rewritten:
        response = Response(url=response.url, status=response.status, headers=response.headers,
                            content=response.content, text=unwrap(response.text))
    try:
        adapter = adapter_for_url(entry.url, tuple(adapters)) or adapter_for(
            response.text, entry.url, tuple(adapters))
        begin = adapter.start(entry.url)
        if begin.accept != HTML:  # read through an API: its first answer, if the files hold it
            first = index.lookup(begin.url)
            if not first:
                return None
            entry = first[-1]
            response = _response(entry)
        thread, page = None, 1
        for found in begin.then(response):
            if isinstance(found, ParsedThread) and thread is None:
                thread = found
            elif isinstance(found, PageFacts):
                page = found.number
    except (ArchiverError, ValueError) as exc:
        log.debug("%s: not a thread page (%s)", entry.url, exc)
        return None
    except Exception as exc:  # an adapter failing on a page it does not know: not a thread
        log.debug("%s: not a thread page (%s)", entry.url, describe(exc))
        return None
    if thread is None:
        return None
    return FoundThread(url=normalise_url(thread.url or entry.url), adapter=adapter,
                       start=entry, page=page)


def find_threads(index: Index, adapters: Sequence[Adapter]) -> tuple[list[FoundThread], int]:
    """Every thread the index's pages show, each once (its first page's capture kept), and how
    many readable responses showed none."""
    threads: dict[str, FoundThread] = {}
    not_threads = 0
    for entries in index.entries.values():
        found = probe(entries[-1], adapters, index)  # the newest capture tells what it is
        if found is None:
            not_threads += len(entries)
            continue
        known = threads.get(found.url)
        if known is None or found.page < known.page or (
                found.page == known.page and normalise_url(found.start.url) == found.url):
            threads[found.url] = found
    return list(threads.values()), not_threads


def import_files(
    store: Store, paths: list[Path], *, adapters: Sequence[Adapter] = ADAPTERS,
    on_thread: Callable[[ArchiveReport], None] | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import every thread the files hold into the store."""
    index = scan(paths, on_bytes=on_bytes)
    report = ImportReport(files=len(paths), records=index.records, responses=index.responses,
                          skipped=index.skipped, unresolved=index.unresolved)
    threads, report.not_threads = find_threads(index, adapters)
    fetcher = ReplayFetcher(index)
    archiver = ThreadArchiver(store, fetcher, adapters=adapters)  # type: ignore[arg-type]
    for thread in sorted(threads, key=lambda t: t.url):
        start = thread.start.url
        for capture in index.lookup(start):  # oldest first: edits between them are versions
            fetcher.moment, fetcher.pinned = capture.date, capture
            moment = capture.date
            try:
                result = archiver.archive(start, platform=thread.adapter.PLATFORM, now=moment)
            except ArchiverError as exc:
                report.failed.append(f"{start} (captured {moment:%Y-%m-%d %H:%M}): {exc}")
                log.warning("import of %s failed: %s", start, exc)
                continue
            report.threads.append(result)
            if on_thread is not None:
                on_thread(result)
    return report
