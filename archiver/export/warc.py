"""WARC/1.1 export with warcio: every stored exchange as request + response records made from the
bytes as received, revisits instead of repeated payloads, a metadata record per thread.

Choices (see docs/export-schema.md): a later capture whose raw body equals an earlier capture of
the same URL in the same export becomes an identical-payload-digest revisit; a 304 answer becomes a
server-not-modified revisit of the last full response for its URL. Transfer-Encoding is dropped
from the recorded headers (the body is stored de-chunked); Content-Encoding is kept with the body
still encoded. Files roll over at a size limit; a request/response pair never straddles files.
WARC-Target-URI is the URL as requested on the wire (lower-case scheme and host, no #fragment),
whatever form the capture was asked for in.
"""

from __future__ import annotations

import io
import os
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from sqlmodel import Session
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from archiver import __version__
from archiver.export import jsonl
from archiver.export.output import cannot_write
from archiver.export.selection import (
    Resolved,
    as_utc,
    iter_thread_captures,
    iter_threads,
    iter_unlinked_captures,
)
from archiver.fetch.oauth import REDACTED, SECRET_HEADERS, redact
from archiver.store import repo
from archiver.store.models import Capture, Thread
from archiver.urls import as_sent, normalise_url

DEFAULT_MAX_SIZE = 1_000_000_000  # bytes: start a new file once one reaches this size
WARC_VERSION = "1.1"
NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
METADATA_URI_PREFIX = "urn:archiver:thread:"
DROPPED_HEADERS = frozenset({"transfer-encoding"})
GZIP_LEVEL = 6


def warc_date(value: datetime | None) -> str:
    """WARC-Date with microseconds (WARC/1.1), from a stored UTC datetime."""
    aware = as_utc(value)
    assert aware is not None
    return datetime_to_iso_date(aware.replace(tzinfo=None), use_micros=True)


def parse_size(text: str) -> int:
    """'1G', '500M', '64k', '1000000' (bytes, powers of 1000; KiB/MiB/GiB for powers of 1024)."""
    raw = text.strip().lower().removesuffix("b").strip()
    units = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
             "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
    number, multiplier = raw, 1
    for suffix in sorted(units, key=len, reverse=True):
        if raw.endswith(suffix):
            number, multiplier = raw[: -len(suffix)], units[suffix]
            break
    try:
        value = float(number)
    except ValueError:
        value = -1
    if value <= 0:
        from archiver.errors import UsageError

        raise UsageError(f"--max-size {text!r} is not a size: use e.g. 1G, 500M or 1000000")
    return int(value * multiplier)


class _Gzip:
    """One gzip member per record, like warcio's own wrapper but at zlib's default level (warcio
    uses level 9: several times slower for a few percent)."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)

    def write(self, data: bytes) -> None:
        self.out.write(self.compressor.compress(data))

    def flush(self) -> None:
        self.out.write(self.compressor.flush())
        self.out.flush()


class Writer(WARCWriter):
    """warcio's WARCWriter (gzip per record), compressing at GZIP_LEVEL."""

    def _write_warc_record(self, out: BinaryIO, record: ArcWarcRecord) -> Any:
        if not self.gzip:
            return super()._write_warc_record(out, record)
        self.gzip = False
        try:
            return super()._write_warc_record(_Gzip(out), record)
        finally:
            self.gzip = True


@dataclass(slots=True)
class Original:
    """A response record already written, that later revisits refer to."""

    record_id: str
    date: str
    payload_digest: str


@dataclass(slots=True)
class WarcReport:
    """What an export wrote."""

    files: list[Path] = field(default_factory=list)
    threads: int = 0
    captures: int = 0
    responses: int = 0
    revisits: int = 0
    requests: int = 0
    metadata: int = 0


PageCallback = Callable[[Thread, Capture, str], None]


class RollingWriter:
    """WARCWriter over a series of files: name.warc.gz, name-00001.warc.gz, ... Each file starts
    with a warcinfo record; a new file is started between record groups once the size limit is
    reached. Files are written as NAME.part and renamed when complete."""

    def __init__(self, first: Path, max_size: int, info: dict[str, str]) -> None:
        self.first = first
        self.max_size = max_size
        self.info = info
        self.paths: list[Path] = []
        self._handle: BinaryIO | None = None
        self._writer: WARCWriter | None = None
        self.warcinfo_id = ""

    def _name(self, index: int) -> Path:
        if index == 0:
            return self.first
        name = self.first.name
        stem, ext = (name[: -len(".warc.gz")], ".warc.gz") if name.endswith(".warc.gz") else (
            os.path.splitext(name)
        )
        return self.first.with_name(f"{stem}-{index:05d}{ext}")

    def _open(self) -> None:
        path = self._name(len(self.paths))
        try:
            self._handle = open(f"{path}.part", "wb")  # noqa: SIM115
        except OSError as exc:
            raise cannot_write(path, exc) from None
        self.paths.append(path)
        self._writer = Writer(self._handle, gzip=True, warc_version=WARC_VERSION)
        record = self._writer.create_warcinfo_record(path.name, self.info)
        self.warcinfo_id = record.rec_headers.get_header("WARC-Record-ID")
        self._writer.write_record(record)

    def _close_current(self) -> None:
        if self._handle is None:
            return
        self._handle.close()
        path = self.paths[-1]
        os.replace(f"{path}.part", path)
        self._handle = None
        self._writer = None

    def writer(self) -> WARCWriter:
        """The writer for the next group of records (rolling over first if the file is full)."""
        if self._handle is not None and self._handle.tell() >= self.max_size:
            self._close_current()
        if self._handle is None:
            self._open()
        assert self._writer is not None
        return self._writer

    def write(self, record: ArcWarcRecord) -> None:
        assert self._writer is not None
        record.rec_headers.add_header("WARC-Warcinfo-ID", self.warcinfo_id)
        try:
            self._writer.write_record(record)
        except OSError as exc:
            raise cannot_write(self.paths[-1], exc) from None

    def close(self) -> None:
        if self._handle is None and not self.paths:
            self._open()  # an export always yields at least one valid file
        self._close_current()

    def abort(self) -> None:
        if self._handle is not None:
            self._handle.close()
            Path(f"{self.paths[-1]}.part").unlink(missing_ok=True)
            self._handle = None


def _headers(date: str) -> dict[str, str]:
    """WARC headers in the usual order (WARC-Type is filled in by warcio, in place)."""
    return {"WARC-Type": "", "WARC-Record-ID": StatusAndHeadersParser.make_warc_id(),
            "WARC-Date": date}


def target_uri(url: str) -> str:
    """A capture's URL as it was requested on the wire (stores written before the fetcher
    recorded it so keep the URL as typed: HTTP://, #fragment)."""
    return as_sent(url)


def _request_target(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return target, parts.netloc


def request_headers(capture: Capture) -> StatusAndHeaders:
    """The request as sent: method, target, HTTP version, headers in order."""
    target, host = _request_target(target_uri(capture.url))
    # credentials never leave the store: redacted there already, and again here for captures
    # stored before that was done (warcinfo says so)
    headers = redact((str(k), str(v)) for k, v in (capture.request_headers or []))
    if not any(k.lower() == "host" for k, _ in headers):
        headers.insert(0, ("Host", host))
    protocol = capture.http_version or "HTTP/1.1"
    return StatusAndHeaders(f"{capture.method} {target} {protocol}", headers, is_http_request=True)


def response_headers(capture: Capture) -> StatusAndHeaders:
    """The response status line and headers as received, minus Transfer-Encoding."""
    headers = [
        (str(k), str(v)) for k, v in (capture.response_headers or [])
        if str(k).lower() not in DROPPED_HEADERS
    ]
    statusline = f"{capture.status} {capture.reason}".rstrip()
    return StatusAndHeaders(statusline, headers, protocol=capture.http_version or "HTTP/1.1")


def _normalised(url: str) -> str:
    try:
        return normalise_url(url)
    except ValueError:
        return url


_PAGE_TYPES = ("", "text/html", "application/xhtml+xml")


def _is_page(capture: Capture) -> bool:
    """Whether a replay tool lists the capture as a page: a comment page (it has a number), or
    an HTML answer; never one of the thread's pictures (an image, or bytes refused as one)."""
    if capture.page_number is not None:
        return True
    ctype = next((str(v) for k, v in capture.response_headers or []
                  if str(k).lower() == "content-type"), "")
    return ctype.split(";")[0].strip().lower() in _PAGE_TYPES


class _Pages:
    """The pages of one thread a replay tool lists (WACZ pages.jsonl): one per comment page
    however many URLs reached it. The first page is the thread's canonical URL when a response
    to it was written (else the latest URL that reached it); each page's latest full response."""

    def __init__(self, thread: Thread) -> None:
        self.canonical = target_uri(thread.url)
        self.pages: dict[object, tuple[Capture, str, bool]] = {}  # in first-seen order

    def add(self, capture: Capture, date: str) -> None:
        number = capture.page_number
        key: object = number
        if number is None:  # a page never parsed: known by its URL alone
            key = _normalised(capture.url)
            if key == _normalised(self.canonical):
                key = number = 1
        preferred = number in (None, 1) and target_uri(capture.url) == self.canonical
        held = self.pages.get(key)
        if held is None or preferred or not held[2]:
            self.pages[key] = (capture, date, preferred)

    def chosen(self) -> list[tuple[Capture, str]]:
        order = list(self.pages)
        ranked = sorted(order, key=lambda k: (
            (0, k, 0) if isinstance(k, int) else (1, 0, order.index(k))))
        return [self.pages[k][:2] for k in ranked]


class WarcExporter:
    """Writes the selected threads' captures (and metadata) through a RollingWriter."""

    def __init__(self, session: Session, out: RollingWriter, report: WarcReport,
                 on_page: PageCallback | None = None) -> None:
        self.session = session
        self.out = out
        self.report = report
        self.on_page = on_page

    def _pair(self, capture: Capture, originals: dict[tuple[str, str], Original],
              latest: dict[str, Original]) -> Original | None:
        """Write one capture as response (or revisit) + request. Returns the response written,
        if it was a full response."""
        writer = self.out.writer()
        url = target_uri(capture.url)
        date = warc_date(capture.fetched_at)
        digest = capture.body_sha256 or ""
        http = response_headers(capture)
        written: Original | None = None
        if capture.status == 304 and url in latest:
            original = latest[url]
            record = writer.create_warc_record(
                url, "revisit", http_headers=http, warc_headers_dict=_headers(date)
            )
            record.rec_headers.add_header("WARC-Profile", NOT_MODIFIED_PROFILE)
            record.rec_headers.add_header("WARC-Refers-To", original.record_id)
            record.rec_headers.add_header("WARC-Refers-To-Target-URI", url)
            record.rec_headers.add_header("WARC-Refers-To-Date", original.date)
            record.rec_headers.add_header("WARC-Payload-Digest", original.payload_digest)
            self.report.revisits += 1
        elif digest and (url, digest) in originals:
            original = originals[(url, digest)]
            record = writer.create_revisit_record(
                url, original.payload_digest, url, original.date,
                http_headers=http, warc_headers_dict=_headers(date),
            )
            record.rec_headers.add_header("WARC-Refers-To", original.record_id)
            self.report.revisits += 1
        else:
            body = repo.blob_bytes(self.session, capture.body_sha256)
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), length=len(body),
                http_headers=http, warc_headers_dict=_headers(date),
            )
            del body
            self.report.responses += 1
        response_id = record.rec_headers.get_header("WARC-Record-ID")
        self.out.write(record)
        if record.rec_type == "response":
            payload_digest = record.rec_headers.get_header("WARC-Payload-Digest")
            written = Original(response_id, date, payload_digest)
            if digest:
                originals.setdefault((url, digest), written)
            latest[url] = written
        request = writer.create_warc_record(
            url, "request", http_headers=request_headers(capture),
            warc_headers_dict={**_headers(date), "WARC-Concurrent-To": response_id},
        )
        self.out.write(request)
        self.report.requests += 1
        self.report.captures += 1
        return written

    def thread(self, thread: Thread) -> None:
        originals: dict[tuple[str, str], Original] = {}
        latest: dict[str, Original] = {}
        pages = _Pages(thread)
        for capture in iter_thread_captures(self.session, thread.id or 0):
            written = self._pair(capture, originals, latest)
            if written is not None and capture.status == 200 and _is_page(capture):
                pages.add(capture, written.date)
        if self.on_page is not None:
            for capture, date in pages.chosen():
                self.on_page(thread, capture, date)
        self._metadata(thread, latest.get(target_uri(thread.url)))
        self.report.threads += 1

    def _metadata(self, thread: Thread, page: Original | None) -> None:
        """The thread as the store has it now (the JSON Lines object), as a metadata record."""
        writer = self.out.writer()
        with tempfile.SpooledTemporaryFile(max_size=1 << 20) as spool:
            text = io.TextIOWrapper(spool, encoding="utf-8", newline="\n")
            jsonl.write_thread(self.session, thread, text)
            text.flush()
            text.detach()
            length = spool.tell()
            spool.seek(0)
            headers = _headers(warc_date(thread.last_fetched_at or thread.first_seen_at))
            if page is not None:
                headers["WARC-Refers-To"] = page.record_id
            record = writer.create_warc_record(
                METADATA_URI_PREFIX + thread.url, "metadata", payload=spool, length=length,
                warc_content_type="application/json", warc_headers_dict=headers,
            )
            self.out.write(record)
        self.report.metadata += 1

    def unlinked(self) -> None:
        """Exchanges tied to no thread (robots.txt, failures), grouped by URL."""
        originals: dict[tuple[str, str], Original] = {}
        latest: dict[str, Original] = {}
        current_url = None
        for capture in iter_unlinked_captures(self.session):
            if target_uri(capture.url) != current_url:
                originals.clear()
                latest.clear()
                current_url = target_uri(capture.url)
            self._pair(capture, originals, latest)


def warcinfo(resolved: Resolved) -> dict[str, str]:
    return {
        "software": f"archiver/{__version__}",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
                      "warc-format/warc-1.1/",
        "description": f"archiver export: {resolved.describe()}",
        "selection": resolved.describe(),
        "redacted": "the values of request headers carrying credentials ("
                    + ", ".join(sorted(SECRET_HEADERS)) + f") are written as {REDACTED}",
    }


def output_path(out: Path, now: datetime) -> Path:
    """The first file's name: out itself, or a timestamped name inside out if it is a folder."""
    if out.is_dir():
        return out / f"archiver-{now:%Y%m%d%H%M%S}.warc.gz"
    return out


def export(session: Session, resolved: Resolved, out: Path, *,
           max_size: int = DEFAULT_MAX_SIZE, on_page: PageCallback | None = None) -> WarcReport:
    """Write the selection as WARC files starting at out; returns what was written."""
    report = WarcReport()
    writer = RollingWriter(out, max_size, warcinfo(resolved))
    exporter = WarcExporter(session, writer, report, on_page)
    try:
        for thread in iter_threads(session, resolved):
            exporter.thread(thread)
        if resolved.selection.everything:
            exporter.unlinked()
        writer.close()
    except BaseException:
        writer.abort()
        raise
    report.files = list(writer.paths)
    return report
