"""One answer read: the content type checked against the request, the adapter's callback run,
what it yielded sorted into a Reading. A failure is recorded on the answer's capture."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import ACCEPTED_TYPES, JSON, Adapter, Found, Request, Response
from archiver.errors import ParseError, UnsupportedSite
from archiver.fetch import FetchResult
from archiver.pipeline.report import ArchiveReport
from archiver.store import repo
from archiver.store.models import Capture, Comment, Thread

log = logging.getLogger("archiver.pipeline")


@dataclass(slots=True)
class Walk:
    """What one archive run carries from request to request."""

    session: Session
    url: str  # the URL asked for, normalised
    report: ArchiveReport
    now: datetime
    thread: Thread | None
    adapter: Adapter | None  # None until the first page's markup names it (platform "auto")
    existing: dict[str, Comment]
    merge: repo.MergeResult = field(default_factory=repo.MergeResult)
    closed: bool | None = None  # what the last answer, read afresh, said of comments
    thread_read: bool = False  # an answer of this run showed the thread (stored)
    pending: list[Capture] = field(default_factory=list)  # read before the thread was known


@dataclass(slots=True)
class Reading:
    """What one answer yielded: the thread (if it shows it), comments, facts, further requests."""

    thread: ParsedThread | None = None
    comments: list[ParsedComment] = field(default_factory=list)
    facts: PageFacts = field(default_factory=PageFacts)
    requests: list[Request] = field(default_factory=list)

    @property
    def next_url(self) -> str | None:
        """The follow-up kept on the URL's state: the way past this answer when it fails later."""
        return self.requests[0].url if self.requests else None


def response_of(result: FetchResult) -> Response:
    return Response(url=result.url, status=result.status, headers=tuple(result.headers),
                    content=result.body, text=result.text)


def _check_type(request: Request, result: FetchResult) -> None:
    ctype = (result.header("content-type") or "").split(";")[0].strip().lower()
    if ctype and ctype not in ACCEPTED_TYPES.get(request.accept, (request.accept,)):
        kind = "a JSON answer" if request.accept == JSON else "an HTML page"
        raise UnsupportedSite(f"{result.url} is not {kind} "
                              f"({result.header('content-type') or 'no content type'})")


def collect_found(found_items: Iterable[Found]) -> Reading:
    """What a callback (or a fallback) yielded, sorted into a Reading."""
    reading = Reading()
    for found in found_items:
        if isinstance(found, ParsedComment):
            reading.comments.append(found)
        elif isinstance(found, Request):
            reading.requests.append(found)
        elif isinstance(found, PageFacts):
            reading.facts = found
        elif reading.thread is None:
            reading.thread = found
    return reading


def _collect(request: Request, result: FetchResult) -> Reading:
    _check_type(request, result)
    return collect_found(request.then(response_of(result)))


def read_answer(
    walk: Walk, request: Request, result: FetchResult, capture: Capture, first: bool,
    *, optional: bool = False,
) -> Reading | None:
    """The adapter's reading of an answer. A failure is recorded on the capture; on the first
    answer (no thread to add to) it is raised, on a later one it is noted on the report. An
    optional request's failure (one with a fallback) is only recorded: the caller falls back."""
    try:
        reading = _collect(request, result)
        if first and reading.thread is None and (reading.comments or not reading.requests):
            raise ParseError(f"{result.url}: the answer shows no thread")
        return reading
    except Exception as exc:  # an adapter's bug is a parse failure too, never fatal
        why = str(exc) if isinstance(exc, ParseError | UnsupportedSite | ValueError) else (
            f"{type(exc).__name__}: {exc}")
        capture.parsed_ok, capture.parse_error = False, why
        walk.session.commit()
        if optional:
            return None
        if walk.thread is None or first:
            if isinstance(exc, UnsupportedSite | ParseError):
                raise
            raise ParseError(f"{result.url}: cannot read the page: {why}") from exc
        walk.report.parse_errors.append(f"{result.url}: {why}")
        log.error("parse failed for %s: %s", result.url, why)
        return None
