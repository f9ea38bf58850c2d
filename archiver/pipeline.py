"""Archive one thread: fetch each comment page, store the capture, parse it, merge the comments.

Data flows one way: fetch -> capture stored -> adapter parses -> store merges. A parse failure is
recorded on its capture and reported; only a first page that cannot be read at all is fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType

from sqlmodel import Session

from archiver.adapters import adapter_for, adapter_named
from archiver.adapters.base import ParsedPage
from archiver.errors import FetchError, ParseError, UnsupportedSite
from archiver.fetch import Fetcher, FetchResult
from archiver.store import repo
from archiver.store.db import Store
from archiver.store.models import Capture, Comment, Thread, UrlState
from archiver.urls import normalise_url, same_host

log = logging.getLogger("archiver.pipeline")

HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(slots=True)
class ArchiveReport:
    """What one archive run of a thread did."""

    url: str
    thread_id: int | None = None
    title: str = ""
    comments: int = 0  # current (not removed) comments after the run
    pages: int = 0
    pages_not_modified: int = 0
    new: int = 0
    edited: int = 0
    removed: int = 0
    restored: int = 0  # comments flagged removed before, seen again
    held_back: int = 0  # removals waiting for a second complete read to confirm them
    complete: bool = False
    closed: bool = False
    parse_errors: list[str] = field(default_factory=list)
    failed_pages: list[str] = field(default_factory=list)  # pages that could not be fetched
    stopped: str = ""  # why the walk stopped short of the last page (page limit, a loop)

    @property
    def changed(self) -> bool:
        return bool(self.new or self.edited or self.removed or self.restored)

    @property
    def problems(self) -> list[str]:
        """Why the read is incomplete: failed pages, pages that could not be parsed."""
        return self.failed_pages + self.parse_errors

    def summary(self) -> str:
        parts = [f"{self.comments} comments", f"{self.pages} page{'s' * (self.pages != 1)}"]
        if self.pages_not_modified:
            parts.append(f"{self.pages_not_modified} unchanged")
        parts.append(f"{self.new} new, {self.edited} edited, {self.removed} removed")
        if self.restored:
            parts.append(f"{self.restored} restored")
        if self.held_back:
            parts.append(f"{self.held_back} removals held back until the next complete read "
                         "confirms them")
        if self.closed:
            parts.append("comments closed")
        if self.failed_pages:
            parts.append(f"{len(self.failed_pages)} page(s) could not be fetched")
        if self.parse_errors:
            parts.append(f"{len(self.parse_errors)} page(s) failed to parse")
        if not self.complete:
            parts.append("incomplete: nothing flagged removed")
        return f"Archived {self.title!r}: " + ", ".join(parts)


PageCallback = Callable[[int, str], None]


def _is_html(result: FetchResult) -> bool:
    ctype = (result.header("content-type") or "").split(";")[0].strip().lower()
    return not ctype or ctype in HTML_TYPES


def _http_error(result: FetchResult) -> FetchError:
    return FetchError(
        f"{result.url}: HTTP {result.status} {result.reason}".rstrip(),
        url=result.url,
        status=result.status,
    )


class ThreadArchiver:
    """Runs the pipeline for threads, with one fetcher and one store."""

    def __init__(self, store: Store, fetcher: Fetcher, *, max_pages: int = 1000) -> None:
        self.store = store
        self.fetcher = fetcher
        self.max_pages = max_pages

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

    def _fetch(
        self, session: Session, page_url: str, conditional: bool, state: UrlState | None = None
    ) -> tuple[FetchResult, list[Capture]]:
        """Fetch one page; every exchange (retries, redirect hops, the final one) is stored as a
        Capture before this returns. A fetch that fails is recorded on the URL's state (state:
        the URL's UrlState when the caller has it already)."""
        if state is None:
            state = repo.url_state(session, page_url)
        session.commit()  # hold no write transaction while the network is read (other workers)
        captures: list[Capture] = []
        try:
            result = self.fetcher.fetch(
                page_url,
                etag=state.etag if conditional else None,
                last_modified=state.last_modified if conditional else None,
                record=repo.capture_recorder(session, captures),
                record_robots=repo.capture_recorder(session),  # tied to no thread
            )
        except FetchError as exc:
            state.failures += 1
            state.last_status, state.last_error = exc.status, str(exc)
            state.last_fetched_at = repo.utcnow()
            session.commit()
            raise
        if not captures:  # the fetcher records every exchange; this is only a safety net
            captures.append(repo.save_capture(session, result))
            session.commit()
        return result, captures

    def _run(
        self,
        session: Session,
        url: str,
        platform: str,
        report: ArchiveReport,
        on_page: PageCallback | None,
        now: datetime | None = None,
    ) -> None:
        url = normalise_url(url)
        thread = repo.find_thread(session, url)
        walk = _Walk(
            session=session, url=url, report=report, now=now or repo.utcnow(), thread=thread,
            adapter=None if platform == "auto" else adapter_named(platform),
            existing=repo.existing_comments(session, thread.id) if thread and thread.id else {},
        )
        page_url: str | None = url
        visited: set[str] = set()
        while page_url is not None:
            if page_url in visited or len(visited) >= self.max_pages:
                report.stopped = (f"stopped at {page_url}: "
                                  + ("page seen already" if page_url in visited
                                     else f"page limit ({self.max_pages}) reached"))
                log.warning("%s", report.stopped)
                break
            first = not visited
            visited.add(page_url)
            report.pages += 1
            if on_page is not None:
                on_page(report.pages, page_url)
            page_url = self._page(walk, page_url, first)
        self._finish(walk, len(visited))

    def _page(self, walk: _Walk, page_url: str, first: bool) -> str | None:
        """Read one page of the thread into the store; returns the next page's URL (None: this
        was the last). A later page that cannot be fetched or parsed is noted on the report and
        the walk goes on by the way this page led last time, if it is known."""
        session, report = walk.session, walk.report
        state = repo.url_state(session, page_url)
        known_next = state.next_page_url  # from this page's last parse: a way past a failure
        conditional = walk.thread is not None and state.last_capture_id is not None
        try:
            result, captures = self._fetch(session, page_url, conditional, state)
        except FetchError as exc:
            if first or walk.thread is None:
                raise
            report.failed_pages.append(str(exc))
            return known_next
        if result.status == 304 and conditional:
            assert walk.thread is not None and walk.thread.id is not None
            report.pages_not_modified += 1
            for hop in captures:
                hop.thread_id = walk.thread.id
            state.last_status, state.last_fetched_at = 304, captures[-1].fetched_at
            held = state.page_comments
            if held is None or repo.held_as_stored(session, walk.thread.id, walk.existing,
                                                   page_url, held):
                repo.keep_unchanged_page(session, walk.existing, page_url, walk.merge, held)
                session.commit()
                walk.reached_end = state.next_page_url is None
                return state.next_page_url
            # the store has moved on since this page was read (through another URL of the
            # thread, or a page read since): what the page shows is in its last capture
            stored = repo.stored_result(session, state.last_capture_id)
            if stored is None:
                repo.keep_unchanged_page(session, walk.existing, page_url, walk.merge, held)
                session.commit()
                walk.reached_end = state.next_page_url is None
                return state.next_page_url
            result, captures = stored
        elif result.status >= 400 or result.status == 304:
            if walk.thread is not None and first and result.status in (404, 410):
                walk.thread.status = "gone"
                walk.thread.gone_at = walk.thread.gone_at or walk.now
                walk.thread.last_error = f"HTTP {result.status}"
            state.last_status, state.failures = result.status, state.failures + 1
            state.last_error = f"HTTP {result.status}"
            session.commit()
            if first or walk.thread is None:
                raise _http_error(result)
            report.failed_pages.append(str(_http_error(result)))
            return known_next
        parsed = self._parse(walk, result, captures[-1], first)
        if parsed is None:
            return known_next  # the pages after it are still read, if we know the way
        self._merge(walk, page_url, result, captures, state, parsed, first)
        walk.reached_end = parsed.next_page_url is None
        return parsed.next_page_url

    def _parse(
        self, walk: _Walk, result: FetchResult, capture: Capture, first: bool
    ) -> ParsedPage | None:
        """The adapter's reading of a page. A failure is recorded on the capture; on the first
        page (no thread to add to) it is raised, on a later page it is noted on the report."""
        try:
            if not _is_html(result):
                raise UnsupportedSite(
                    f"{result.url} is not an HTML page "
                    f"({result.header('content-type') or 'no content type'})"
                )
            html = result.text
            if walk.adapter is None:
                walk.adapter = adapter_for(html, result.url)
            return walk.adapter.parse_page(html, result.url)
        except Exception as exc:  # an adapter's bug is a parse failure too, never fatal
            why = str(exc) if isinstance(exc, ParseError | UnsupportedSite | ValueError) else (
                f"{type(exc).__name__}: {exc}")
            capture.parsed_ok, capture.parse_error = False, why
            walk.session.commit()
            if walk.thread is None or first:
                if isinstance(exc, UnsupportedSite | ParseError):
                    raise
                raise ParseError(f"{result.url}: cannot read the page: {why}") from exc
            walk.report.parse_errors.append(f"{result.url}: {why}")
            log.error("parse failed for %s: %s", result.url, why)
            return None

    def _merge(
        self, walk: _Walk, page_url: str, result: FetchResult, captures: list[Capture],
        state: UrlState, parsed: ParsedPage, first: bool,
    ) -> None:
        """Store what a page showed: the thread (from the first page), its comments, and what
        the next read of this URL needs (validators, next link, the comments it held)."""
        session, capture = walk.session, captures[-1]
        if first:
            assert walk.adapter is not None
            parsed.thread.url = _thread_url(parsed.thread.url, walk.url, result.url)
            site = repo.get_or_create_site(session, parsed.thread.url, walk.adapter.PLATFORM,
                                           parsed.thread)
            found = repo.upsert_thread(session, site, parsed.thread, walk.now)
            if walk.thread is None or found.id != walk.thread.id:  # new, or another canonical
                walk.existing = repo.existing_comments(session, found.id or 0)
            walk.thread = found
            repo.add_thread_urls(session, found.id or 0,
                                 (walk.url, result.url, parsed.thread.url), walk.now)
        thread = walk.thread
        assert thread is not None
        repo.merge_page(session, thread, walk.existing, page_url, parsed.comments, walk.merge,
                        walk.now)
        for hop in captures:  # redirect hops too: the thread is found by the URL asked for
            hop.thread_id = thread.id
        capture.page_number = parsed.page_number
        capture.parsed_ok, capture.parse_error = True, None
        if capture.id != state.last_capture_id:  # a fresh answer (not one read again)
            state.etag = result.header("etag")
            state.last_modified = result.header("last-modified")
            state.last_status, state.last_fetched_at = result.status, capture.fetched_at
            state.last_capture_id = capture.id
        state.next_page_url = parsed.next_page_url
        state.page_comments = repo.page_comments(parsed.comments)
        state.failures, state.last_error = 0, None
        session.commit()
        if parsed.next_page_url is None:  # the last page says whether comments are closed
            walk.closed = parsed.comments_closed

    def _finish(self, walk: _Walk, pages: int) -> None:
        """Settle the thread after the walk: removals (only after a complete read), status."""
        session, report, thread, merge = walk.session, walk.report, walk.thread, walk.merge
        if thread is None:
            raise FetchError(f"{walk.url}: nothing could be archived", url=walk.url)
        complete = walk.reached_end and not report.problems and not report.stopped
        repo.settle_comments(session, thread, walk.existing, merge, walk.now, complete=complete)
        if walk.closed is not None:  # else the last page was not read afresh: as it was
            thread.comments_closed = walk.closed
        if thread.status != "gone" or complete:
            thread.status = "closed" if thread.comments_closed else "open"
        thread.pages = pages
        thread.last_fetched_at = walk.now
        thread.complete = complete
        if merge.changed:
            thread.last_change_at = walk.now
        session.commit()
        report.thread_id, report.title = thread.id, thread.title
        report.new, report.edited, report.removed = merge.new, merge.edited, merge.removed
        report.restored, report.held_back = merge.restored, merge.held_back
        report.complete, report.closed = complete, thread.comments_closed
        report.comments = repo.count_current_comments(session, thread.id or 0)


@dataclass(slots=True)
class _Walk:
    """What one archive run carries from page to page."""

    session: Session
    url: str  # the URL asked for, normalised
    report: ArchiveReport
    now: datetime
    thread: Thread | None
    adapter: ModuleType | None
    existing: dict[str, Comment]
    merge: repo.MergeResult = field(default_factory=repo.MergeResult)
    closed: bool | None = None  # what the last page, read afresh, said of comments
    reached_end: bool = False  # the last page read had no next page


def _thread_url(canonical: str, asked: str, fetched: str) -> str:
    """The thread's URL: the page's canonical link when it stays on the host the page came from
    (www. aside), else the page's own URL. A page cannot take over a thread of another site by
    naming it as canonical."""
    canonical = normalise_url(canonical) if canonical else ""
    own = normalise_url(fetched or asked)
    if canonical and same_host(canonical, own):
        return canonical
    if canonical:
        log.warning("ignoring the canonical link %s of %s: another host", canonical, own)
    return own
