"""Captures: every HTTP exchange stored as it came (before anything parses it), and a stored
one read back as the fetcher returned it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import TYPE_CHECKING

from sqlmodel import Session

from archiver.store.models import Capture
from archiver.store.repo import blob_bytes, put_blob, sha256

if TYPE_CHECKING:
    from archiver.fetch.result import FetchResult


def capture_recorder(
    session: Session, into: list[Capture] | None = None
) -> Callable[[FetchResult], None]:
    """A fetcher's record callback: stores each exchange as a Capture and commits at once (the
    raw exchange is safe before anything parses it); appends the rows to into, if given."""

    def record(result: FetchResult) -> None:
        capture = save_capture(session, result)
        session.commit()
        if into is not None:
            into.append(capture)

    return record


def save_capture(
    session: Session, result: FetchResult, *, thread_id: int | None = None
) -> Capture:
    """Store one HTTP exchange (a FetchResult) with its raw body; returns the Capture row."""
    digest = put_blob(session, result.raw_body) if result.raw_body else None
    fetched_at = result.fetched_at
    if fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=UTC)
    capture = Capture(
        url=result.url, method=result.method,
        request_headers=[list(pair) for pair in result.request_headers],
        status=result.status, reason=result.reason, http_version=result.http_version,
        response_headers=[list(pair) for pair in result.headers],
        body_sha256=digest,
        payload_sha256=sha256(result.body) if result.body else None,
        body_size=len(result.raw_body), fetched_at=fetched_at,
        elapsed_ms=result.elapsed_ms, thread_id=thread_id, source=result.source,
    )
    if result.decode_error:  # kept as received; nothing could parse it
        capture.parsed_ok, capture.parse_error = False, result.decode_error
    session.add(capture)
    session.flush()
    return capture


def stored_result(
    session: Session, capture_id: int | None
) -> tuple[FetchResult, list[Capture]] | None:
    """A stored exchange as the fetcher returned it (body decoded as it was then), to be read
    again without asking the network; None if it is gone or cannot be decoded."""
    from archiver.fetch.charset import choose_encoding
    from archiver.fetch.limits import LimitExceeded, decode_body
    from archiver.fetch.result import FetchResult

    capture = session.get(Capture, capture_id) if capture_id is not None else None
    if capture is None or capture.body_sha256 is None:
        return None
    headers = [(str(k), str(v)) for k, v in capture.response_headers]
    lookup = {k.lower(): v for k, v in reversed(headers)}
    raw = blob_bytes(session, capture.body_sha256)
    try:
        body = decode_body(raw, lookup.get("content-encoding"), url=capture.url)
    except LimitExceeded:
        return None
    result = FetchResult(
        url=capture.url, method=capture.method, status=capture.status, reason=capture.reason,
        http_version=capture.http_version,
        request_headers=[(str(k), str(v)) for k, v in capture.request_headers],
        headers=headers, raw_body=raw, body=body, fetched_at=capture.fetched_at,
        elapsed_ms=capture.elapsed_ms,
        encoding=choose_encoding(body, lookup.get("content-type")),
    )
    return result, [capture]
