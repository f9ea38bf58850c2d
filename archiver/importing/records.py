"""The records of WARC and WACZ files: scanned once, streaming, into a small index of the HTTP
responses an adapter may read (HTML and JSON, revisits resolved to their originals), and read back
one at a time by their place in the file."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.exceptions import ArchiveLoadFailed

from archiver.errors import UsageError
from archiver.fetch.limits import decode_body
from archiver.importing.unwrap import replayed
from archiver.urls import normalise_url

READABLE_TYPES = ("text/html", "application/xhtml+xml", "application/json")


@dataclass(frozen=True, slots=True)
class Place:
    """Where a record lies: a WARC file, or a WARC inside a WACZ (member), and its offset."""

    path: Path
    member: str | None
    offset: int
    source: str | None = None  # the record's WARC-Source-URI: where that copy was read from

    def describe(self) -> str:
        inner = f"!{self.member}" if self.member else ""
        where = f"{self.path.name}{inner}#{self.offset}"
        return f"{self.source} ({where})" if self.source else where


@dataclass(frozen=True, slots=True)
class Entry:
    """One HTTP response an adapter may read (a revisit stands for its original's payload)."""

    url: str  # as recorded (no fragment)
    key: str  # normalised, for lookups
    date: datetime  # WARC-Date, UTC
    status: int
    content_type: str
    place: Place  # the record whose HTTP headers are used
    payload: Place  # the record whose payload is used (the original, for a revisit)
    rewritten: bool = False  # a Wayback Machine replay (toolbar, rewritten links): unwrapped


@dataclass(slots=True)
class Index:
    """Every readable response of the files scanned, by normalised URL, oldest first."""

    entries: dict[str, list[Entry]] = field(default_factory=dict)
    records: int = 0  # every WARC record seen
    responses: int = 0  # HTTP responses seen (readable or not)
    skipped: int = 0  # records that cannot be threads (not a response, not HTML or JSON...)
    unresolved: int = 0  # revisits whose original is in none of the files

    by_place: dict[Place, Entry] = field(default_factory=dict)  # responses, by their record

    def add(self, entry: Entry) -> None:
        self.entries.setdefault(entry.key, []).append(entry)
        if entry.place == entry.payload:
            self.by_place[entry.place] = entry

    def lookup(self, url: str) -> list[Entry]:
        """The captures of url (any form of it: scheme, case, tracking parameters)."""
        key = normalise_url(url)
        found = self.entries.get(key)
        if found is None and key.startswith("http://"):
            found = self.entries.get("https://" + key.removeprefix("http://"))
        elif found is None and key.startswith("https://"):
            found = self.entries.get("http://" + key.removeprefix("https://"))
        return found or []

    def sort(self) -> None:
        for entries in self.entries.values():
            entries.sort(key=lambda e: e.date)


def _date(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def warc_members(path: Path) -> list[str | None]:
    """The WARCs a file holds: itself, or a WACZ's archive/*.warc(.gz) members."""
    if not zipfile.is_zipfile(path):
        return [None]
    with zipfile.ZipFile(path) as archive:
        members = [n for n in archive.namelist()
                   if n.startswith("archive/") and (n.endswith(".warc") or n.endswith(".warc.gz"))]
    if not members:
        raise UsageError(f"{path}: a zip file with no archive/*.warc in it (not a WACZ)")
    return list(members)


@contextmanager
def open_member(path: Path, member: str | None) -> Iterator[IO[bytes]]:
    if member is None:
        with path.open("rb") as stream:
            yield stream
    else:
        with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
            yield stream


def scan(paths: list[Path], *, on_bytes: Callable[[int], None] | None = None) -> Index:
    """Index every file's readable responses, streaming (memory holds the index, not bodies)."""
    index = Index()
    by_digest: dict[str, Place] = {}
    by_uri_date: dict[tuple[str, str], Place] = {}
    pending: list[tuple[Any, Place]] = []  # revisits met before their original
    for path in paths:
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
        for member in warc_members(path):
            with open_member(path, member) as stream:
                _scan_one(stream, path, member, index, by_digest, by_uri_date, pending, on_bytes)
    for headers, place in pending:  # the originals are all known now
        _add_revisit(index, headers, place, by_digest, by_uri_date)
    index.sort()
    return index


def _scan_one(
    stream: IO[bytes], path: Path, member: str | None, index: Index,
    by_digest: dict[str, Place], by_uri_date: dict[tuple[str, str], Place],
    pending: list[tuple[Any, Place]], on_bytes: Callable[[int], None] | None,
) -> None:
    records = ArchiveIterator(stream, no_record_parse=False)
    last = 0
    try:
        for record in records:
            index.records += 1
            offset = records.get_record_offset()
            if on_bytes is not None:
                on_bytes(offset - last)
                last = offset
            kind = record.rec_type
            if kind not in ("response", "revisit") or record.http_headers is None:
                index.skipped += 1
                continue
            index.responses += 1
            place = Place(path, member, offset, record.rec_headers.get_header("WARC-Source-URI"))
            uri = (record.rec_headers.get_header("WARC-Target-URI") or "").split("#", 1)[0]
            date = record.rec_headers.get_header("WARC-Date") or ""
            if kind == "response":
                digest = record.rec_headers.get_header("WARC-Payload-Digest")
                if digest:
                    by_digest.setdefault(digest, place)
                by_uri_date[(uri, date)] = place
                entry = _entry(record.http_headers, uri, date, place, place)
                if entry is None:
                    index.skipped += 1
                else:
                    index.add(entry)
            else:
                pending.append(((uri, date, record.rec_headers, record.http_headers), place))
    except ArchiveLoadFailed as exc:
        raise UsageError(f"{path}: not a WARC file ({str(exc).splitlines()[0]})") from None


def _entry(http: Any, uri: str, date: str, place: Place,  # noqa: ANN401 - warcio's headers
           payload: Place) -> Entry | None:
    content_type = (http.get_header("Content-Type") or "").split(";")[0].strip().lower()
    status = int((http.get_statuscode() or "0")[:3] or 0)
    readable = content_type in READABLE_TYPES or 300 <= status < 400 or status == 304
    if not uri.startswith(("http://", "https://")) or not readable:
        return None
    replay = replayed(uri)  # a page saved from the Wayback Machine's replay: what it stands for
    if replay is not None:
        original, captured = replay
        return Entry(url=original, key=normalise_url(original), date=captured, status=status,
                     content_type=content_type, place=place, payload=payload, rewritten=True)
    return Entry(url=uri, key=normalise_url(uri), date=_date(date), status=status,
                 content_type=content_type, place=place, payload=payload)


def _add_revisit(index: Index, pending: Any, place: Place,  # noqa: ANN401
                 by_digest: dict[str, Place], by_uri_date: dict[tuple[str, str], Place]) -> None:
    uri, date, rec, http = pending
    original = None
    refers = (rec.get_header("WARC-Refers-To-Target-URI"), rec.get_header("WARC-Refers-To-Date"))
    if refers[0] and refers[1]:
        original = by_uri_date.get((refers[0].split("#", 1)[0], refers[1]))
    digest = rec.get_header("WARC-Payload-Digest")
    if original is None and digest:
        original = by_digest.get(digest)
    if original is None:
        index.unresolved += 1
        index.skipped += 1
        return
    entry = _entry(http, uri, date, place, original)
    if entry is None or entry.status == 304:  # a 304 revisit: the original's answer, its date
        entry = _original_entry(index, original, uri, date)
    if entry is None:
        index.skipped += 1
    else:
        index.add(entry)


def _original_entry(index: Index, original: Place, uri: str, date: str) -> Entry | None:
    entry = index.by_place.get(original)
    if entry is None:
        return None
    return Entry(url=uri, key=normalise_url(uri), date=_date(date), status=entry.status,
                 content_type=entry.content_type, place=original, payload=original)


@dataclass(slots=True)
class Loaded:
    """One record's HTTP exchange, read back: headers, raw payload, decoded payload."""

    status: int
    reason: str
    protocol: str
    headers: list[tuple[str, str]]
    raw_body: bytes
    body: bytes


def _read(place: Place) -> tuple[Any, bytes, bytes]:  # noqa: ANN401 - warcio's record
    with open_member(place.path, place.member) as stream:
        stream.seek(place.offset)
        record = next(iter(ArchiveIterator(stream)))
        chunked = "chunked" in (record.http_headers.get_header("Transfer-Encoding") or "").lower()
        # raw: as on the wire after de-chunking, before Content-Encoding is undone
        raw = (ChunkedDataReader(record.raw_stream, decomp_type=None).read() if chunked
               else record.raw_stream.read())
        # the payload decoded as the fetcher decodes a live answer (its limits too)
        body = decode_body(raw, record.http_headers.get_header("Content-Encoding"),
                           url=place.describe())
        return record, raw, body


def load(entry: Entry) -> Loaded:
    """The exchange an entry stands for: its own HTTP headers, its payload's bytes."""
    record, raw, body = _read(entry.payload)
    http = record.http_headers
    if entry.place != entry.payload:
        with open_member(entry.place.path, entry.place.member) as stream:
            stream.seek(entry.place.offset)
            own = next(iter(ArchiveIterator(stream)))
            if own.http_headers is not None and own.http_headers.get_statuscode() != "304":
                http = own.http_headers
    status_line = http.statusline or "200 OK"
    code, _, reason = status_line.partition(" ")
    headers = [(k, v) for k, v in http.headers
               if k.lower() not in ("transfer-encoding",)]
    return Loaded(status=int(code[:3] or 200), reason=reason, protocol=http.protocol or "HTTP/1.1",
                  headers=headers, raw_body=raw, body=body)
