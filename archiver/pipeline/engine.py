"""The engine: archive one thread by working through a queue of requests.

Each request is fetched, every exchange stored as a Capture before anything reads it, its answer
handed to the adapter's callback (reading.py), what that found merged into the store and the
requests it yields queued (merging.py). A parse failure is recorded on its capture and reported;
only a first answer that cannot be read at all is fatal. The read is complete when the queue ran
dry with no request failed or left unread; only then are missing comments flagged removed.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from sqlmodel import Session

from archiver.adapters import ADAPTERS, adapter_for, adapter_for_url, adapter_named
from archiver.adapters.contract import HTML, Adapter, Found, Request, Response
from archiver.config import PicturesPolicy
from archiver.errors import FetchError, ParseError
from archiver.fetch import Fetcher, FetchResult
from archiver.pipeline.merging import (
    finish,
    keep_not_modified,
    merge_answer,
    merge_fallback,
    note_http_error,
)
from archiver.pipeline.pictures import fetch_pictures
from archiver.pipeline.reading import Walk, collect_found, read_answer, response_of
from archiver.pipeline.report import ArchiveReport
from archiver.store import captures as captures_store
from archiver.store import repo
from archiver.store.db import Store
from archiver.store.models import Capture, UrlState
from archiver.urls import normalise_url

log = logging.getLogger("archiver.pipeline")

PageCallback = Callable[[int, str], None]


def _http_error(result: FetchResult) -> FetchError:
    return FetchError(
        f"{result.url}: HTTP {result.status} {result.reason}".rstrip(),
        url=result.url,
        status=result.status,
    )


class ThreadArchiver:
    """Runs the engine for threads, with one fetcher, one store and the known adapters."""

    def __init__(
        self, store: Store, fetcher: Fetcher, *, max_pages: int = 1000,
        adapters: Sequence[Adapter] = ADAPTERS,
        pictures: Callable[[str], PicturesPolicy] | PicturesPolicy | None = None,
    ) -> None:
        """pictures: the pictures policy, or a function of the thread's URL giving it (the
        settings' pictures_for, per site, as the CLI and the scheduler pass); None: no
        pictures step (the pages alone)."""
        self.store = store
        self.fetcher = fetcher
        self.max_pages = max_pages  # the most requests one read makes
        self.adapters = tuple(adapters)
        self.pictures = pictures

    def archive(
        self,
        url: str,
        *,
        platform: str = "auto",
        on_page: PageCallback | None = None,
        now: datetime | None = None,
    ) -> ArchiveReport:
        """Archive the thread at url and every page of its comments (now: the run's time)."""
        report = ArchiveReport(url=url)
        with self.store.session() as session:
            self._run(session, url, platform, report, on_page, now)
        return report

    def _run(
        self, session: Session, url: str, platform: str, report: ArchiveReport,
        on_page: PageCallback | None, now: datetime | None = None,
    ) -> None:
        url = normalise_url(url)
        thread = repo.find_thread(session, url)
        adapter = (adapter_for_url(url, self.adapters) if platform == "auto"
                   else adapter_named(platform, self.adapters))
        walk = Walk(
            session=session, url=url, report=report, now=now or repo.utcnow(), thread=thread,
            adapter=adapter,
            existing=repo.existing_comments(session, thread.id) if thread and thread.id else {},
        )
        walk.merge.keep_places = bool(getattr(adapter, "TREE_ORDER", False))
        queue = deque([adapter.start(url) if adapter else Request(url, then=self._detect(walk))])
        visited: set[str] = set()
        while queue:
            request = queue.popleft()
            if request.url in visited:  # read already in this run (paging both ways, a loop)
                continue
            if len(visited) >= self.max_pages:
                report.stopped = (f"stopped at {request.url}: "
                                  f"page limit ({self.max_pages}) reached")
                log.warning("%s", report.stopped)
                break
            visited.add(request.url)
            report.pages += 1
            if on_page is not None:
                on_page(report.pages, request.url)
            queue.extend(self._answer(walk, request, not walk.thread_read))
        complete = not queue and not report.problems and not report.stopped
        finish(walk, len(visited), complete)
        if walk.thread is not None and self.pictures is not None:  # never fatal
            policy = self.pictures if isinstance(self.pictures, PicturesPolicy) \
                else self.pictures(walk.thread.url)
            fetch_pictures(session, self.fetcher, walk.thread, policy, report, walk.now,
                           walk.merge.restored_ids)

    def _detect(self, walk: Walk) -> Callable[[Response], Iterator[Found]]:
        """The callback for a first page whose platform only its markup can tell: it names the
        adapter, which then reads the page (or asks for what it reads instead)."""

        def detect(response: Response) -> Iterator[Found]:
            if walk.adapter is None:
                walk.adapter = adapter_for(response.text, response.url, self.adapters)
            begin = walk.adapter.start(response.url)
            if begin.accept == HTML:
                yield from begin.then(response)
            else:
                yield begin

        return detect

    def _fetch(
        self, session: Session, request: Request, conditional: bool, state: UrlState
    ) -> tuple[FetchResult, list[Capture]]:
        """Fetch one request; every exchange (retries, redirect hops, the final one) is stored
        as a Capture before this returns. A fetch that fails is recorded on the URL's state."""
        session.commit()  # hold no write transaction while the network is read (other workers)
        captures: list[Capture] = []
        try:
            result = self.fetcher.fetch(
                request.url,
                etag=state.etag if conditional else None,
                last_modified=state.last_modified if conditional else None,
                record=captures_store.capture_recorder(session, captures),
                record_robots=captures_store.capture_recorder(session),  # tied to no thread
                accept=None if request.accept == HTML else request.accept,  # HTML: as ever
            )
        except FetchError as exc:
            state.failures += 1
            state.last_status, state.last_error = exc.status, str(exc)
            state.last_fetched_at = repo.utcnow()
            session.commit()
            raise
        if not captures:  # the fetcher records every exchange; this is only a safety net
            captures.append(captures_store.save_capture(session, result))
            session.commit()
        return result, captures

    def _answer(self, walk: Walk, request: Request, first: bool) -> list[Request]:
        """Read one request's answer into the store; returns the requests it leads to. One that
        cannot be fetched or read is noted on the report, and the read goes on by the way this
        URL led last time, if it is known (a first one that fails is raised)."""
        session, report, url = walk.session, walk.report, request.url
        state = repo.url_state(session, url)
        known = state.next_page_url  # from this URL's last reading: a way past a failure
        onward = [Request(known, then=request.then, accept=request.accept)] if known else []
        conditional = walk.thread is not None and state.last_capture_id is not None
        try:
            result, captures = self._fetch(session, request, conditional, state)
        except FetchError as exc:
            if request.fallback is not None:
                return self._fall_back(walk, request, str(exc), first)
            if first or walk.thread is None:
                raise
            report.failed_pages.append(str(exc))
            return onward
        if result.status == 304 and conditional:
            stored = keep_not_modified(walk, url, state, captures)
            if stored is None:
                return self._follow_ups(walk, request, state) or onward
            result, captures = stored
        elif result.status >= 400 or result.status == 304:
            note_http_error(walk, state, result, first and request.fallback is None)
            if request.fallback is not None:
                return self._fall_back(walk, request, str(_http_error(result)), first)
            if first or walk.thread is None:
                raise _http_error(result)
            report.failed_pages.append(str(_http_error(result)))
            return onward
        has_fallback = request.fallback is not None
        reading = read_answer(walk, request, result, captures[-1], first, optional=has_fallback)
        if reading is None:
            if has_fallback:
                return self._fall_back(walk, request, captures[-1].parse_error or "", first)
            return onward  # the requests after it are still made, if the way is known
        if first and reading.thread is None:  # it leads to the answer that shows the thread
            walk.pending.extend(captures)
            return reading.requests
        merge_answer(walk, url, result, captures, state, reading, first)
        return reading.requests

    def _fall_back(self, walk: Walk, request: Request, why: str, first: bool) -> list[Request]:
        """An optional request that could not be had or read: what its fallback yields is
        taken instead (merged as what this URL showed); the read stays complete."""
        assert request.fallback is not None
        log.warning("%s: %s; reading the fallback instead", request.url, why)
        walk.report.fallbacks.append(f"{request.url}: {why}")
        if not request.optional:  # needed: what the fallback gives is kept, the read incomplete
            walk.report.failed_pages.append(f"{request.url}: {why}")
        reading = collect_found(request.fallback())
        if reading.thread is None and first:
            if reading.comments:
                raise ParseError(f"{request.url}: the fallback shows comments but no thread")
            return reading.requests  # the thread comes with a request it leads to
        merge_fallback(walk, request.url, reading, first)
        return reading.requests

    def _follow_ups(self, walk: Walk, request: Request, state: UrlState) -> list[Request]:
        """The requests an unchanged answer (304) leads to: its last capture read again (the
        callback that reads the next answer is not kept in the store, only the URL)."""
        stored = captures_store.stored_result(walk.session, state.last_capture_id)
        if stored is None:
            return []
        try:
            return collect_found(request.then(response_of(stored[0]))).requests
        except Exception as exc:  # read fine before: a failure now is no reason to stop
            log.warning("%s: reading the stored answer again failed: %s", request.url, exc)
            return []
