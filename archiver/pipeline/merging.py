"""Storing what an answer showed (the thread, its comments, the URL's state for the next read)
and settling the thread once no request is outstanding: removals only after a complete read."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from archiver.errors import FetchError
from archiver.fetch import FetchResult
from archiver.pipeline.reading import Reading, Walk
from archiver.store import captures as captures_store
from archiver.store import repo
from archiver.store.models import Capture, Thread, UrlState
from archiver.urls import normalise_url, same_host

log = logging.getLogger("archiver.pipeline")


def merge_answer(
    walk: Walk, page_url: str, result: FetchResult, captures: list[Capture], state: UrlState,
    reading: Reading, first: bool,
) -> None:
    """Store what an answer showed: the thread (from the first answer), its comments, and what
    the next read of this URL needs (validators, the follow-up, the comments it held)."""
    session, capture = walk.session, captures[-1]
    if first:
        captures = [*walk.pending, *captures]
        store_thread(walk, reading, result.url)
    thread = walk.thread
    assert thread is not None
    hashes = repo.merge_page(session, thread, walk.existing, page_url, reading.comments,
                             walk.merge, walk.now, capture.id)
    for hop in captures:  # redirect hops too: the thread is found by the URL asked for
        hop.thread_id = thread.id
    capture.page_number = reading.facts.number
    capture.parsed_ok, capture.parse_error = True, None
    if capture.id != state.last_capture_id:  # a fresh answer (not one read again)
        state.etag = result.header("etag")
        state.last_modified = result.header("last-modified")
        state.last_status, state.last_fetched_at = result.status, capture.fetched_at
        state.last_capture_id = capture.id
    state.next_page_url = reading.next_url
    state.page_comments = repo.page_comments(reading.comments, hashes)
    state.failures, state.last_error = 0, None
    session.commit()
    if not reading.requests:  # the last answer says whether comments are closed
        walk.closed = reading.facts.comments_closed


def store_thread(walk: Walk, reading: Reading, fetched_url: str) -> Thread:
    """The thread the run's first answer (or its fallback) showed, stored (its site, its URLs:
    the one asked for, the one answered, its canonical); the walk then merges into it."""
    assert walk.adapter is not None and reading.thread is not None
    session, parsed = walk.session, reading.thread
    parsed.url = thread_url(parsed.url, walk.url, fetched_url, vouched_hosts(walk))
    site = repo.get_or_create_site(session, parsed.url, walk.adapter.PLATFORM, parsed)
    found = repo.upsert_thread(session, site, parsed, walk.now)
    if walk.thread is None or found.id != walk.thread.id:  # new, or another canonical
        walk.existing = repo.existing_comments(session, found.id or 0)
    walk.thread = found
    repo.add_thread_urls(session, found.id or 0, (walk.url, fetched_url, parsed.url), walk.now)
    walk.thread_read = True
    walk.pending.clear()
    return found


def merge_fallback(walk: Walk, page_url: str, reading: Reading, first: bool) -> None:
    """Store what an optional request's fallback yielded, as what page_url showed. No
    validators are kept: the next read asks for the URL afresh."""
    session = walk.session
    if first:
        pending = list(walk.pending)
        found = store_thread(walk, reading, walk.url)
        for capture in pending:
            capture.thread_id = found.id
    thread = walk.thread
    assert thread is not None
    hashes = repo.merge_page(session, thread, walk.existing, page_url, reading.comments,
                             walk.merge, walk.now)
    state = repo.url_state(session, page_url)
    state.etag = state.last_modified = None
    state.last_capture_id = None
    state.next_page_url = reading.next_url
    state.page_comments = repo.page_comments(reading.comments, hashes)
    session.commit()
    if not reading.requests:
        walk.closed = reading.facts.comments_closed


def keep_not_modified(
    walk: Walk, page_url: str, state: UrlState, captures: list[Capture]
) -> tuple[FetchResult, list[Capture]] | None:
    """An answer of 304 to a conditional request. When the store still holds what the page held
    at its last parse, its comments count as seen (None: nothing to read). Else the store has
    moved on since (through another URL of the thread, or a page read since): what the page
    shows is in its last capture, returned to be read again."""
    session, thread = walk.session, walk.thread
    assert thread is not None and thread.id is not None
    walk.report.pages_not_modified += 1
    walk.thread_read = True  # the thread is as stored
    for hop in captures:
        hop.thread_id = thread.id
    state.last_status, state.last_fetched_at = 304, captures[-1].fetched_at
    held = state.page_comments
    if held is not None and not repo.held_as_stored(session, thread.id, walk.existing,
                                                    page_url, held):
        stored = captures_store.stored_result(session, state.last_capture_id)
        if stored is not None:
            return stored
    repo.keep_unchanged_page(session, walk.existing, page_url, walk.merge, held)
    session.commit()
    return None


def note_http_error(walk: Walk, state: UrlState, result: FetchResult, first: bool) -> None:
    """An answer of 4xx/5xx (or an unasked 304): noted on the URL's state; a first page that is
    404/410 marks a known thread gone."""
    if walk.thread is not None and first and result.status in (404, 410):
        walk.thread.status = "gone"
        walk.thread.gone_at = walk.thread.gone_at or walk.now
        walk.thread.last_error = f"HTTP {result.status}"
    state.last_status, state.failures = result.status, state.failures + 1
    state.last_error = f"HTTP {result.status}"
    walk.session.commit()


def finish(walk: Walk, requests: int, complete: bool) -> None:
    """Settle the thread after the read: removals (only after a complete read), status, the
    report's figures. complete: no request outstanding, none failed, none unread."""
    session, report, thread, merge = walk.session, walk.report, walk.thread, walk.merge
    if thread is None:
        raise FetchError(f"{walk.url}: nothing could be archived", url=walk.url)
    repo.settle_comments(session, thread, walk.existing, merge, walk.now, complete=complete)
    if walk.closed is not None:  # else the last page was not read afresh: as it was
        thread.comments_closed = walk.closed
    if thread.status != "gone" or complete:
        thread.status = "closed" if thread.comments_closed else "open"
    thread.pages = requests
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
    report.pings = repo.count_current_comments(session, thread.id or 0, pings=True)


def vouched_hosts(walk: Walk) -> tuple[str, ...]:
    """Hosts the walk's adapter vouches for as its threads' canonical URLs (an API on one host
    speaking for pages on another: Reddit's oauth.reddit.com for www.reddit.com)."""
    return tuple(getattr(walk.adapter, "CANONICAL_HOSTS", ()))


def thread_url(canonical: str, asked: str, fetched: str, vouched: tuple[str, ...] = ()) -> str:
    """The thread's URL: the page's canonical link when it stays on the host the page came from
    (www. aside) or on a host the adapter vouches for (its own API's answers), else the page's
    own URL. A page cannot take over a thread of another site by naming it as canonical."""
    canonical = normalise_url(canonical) if canonical else ""
    own = normalise_url(fetched or asked)
    if canonical and (same_host(canonical, own)
                      or (urlsplit(canonical).hostname or "").lower() in vouched):
        return canonical
    if canonical:
        log.warning("ignoring the canonical link %s of %s: another host", canonical, own)
    return own
