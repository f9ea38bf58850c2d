"""The Wayback Machine as a source: the captures of a thread's URL and of its comment pages are
listed through the public CDX API, fetched raw (`id_` URLs: no toolbar, no rewritten links) one at
a time with the polite fetcher, written to a WARC in the data folder (kept: the raw captures) and
imported from it like any web archive."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from urllib.parse import quote, urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.errors import FetchError, ParseError
from archiver.fetch import Fetcher, FetchResult
from archiver.importing.runner import ImportReport, import_files
from archiver.store.captures import capture_recorder
from archiver.store.db import Store

log = logging.getLogger("archiver.importing")

WAYBACK = "https://web.archive.org"
READABLE = ("text/html", "application/xhtml+xml", "application/json")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One capture the CDX API lists."""

    timestamp: str  # YYYYmmddHHMMSS
    original: str
    mimetype: str
    status: str

    @property
    def raw_url(self) -> str:
        """The capture as archived: `id_` asks for the original bytes, nothing rewritten."""
        return f"{WAYBACK}/web/{self.timestamp}id_/{self.original}"

    @property
    def date(self) -> datetime:
        return datetime.strptime(self.timestamp[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(
            tzinfo=UTC)


def thread_prefix(url: str) -> str:
    """What the thread's URL and its comment pages share: the URL without its query and its
    .html/.htm/.php ending (TypePad's `post.html` and `post/comments/page/2/`, WordPress's
    `post/` and `post/comment-page-2/`)."""
    parts = urlsplit(url)
    path = parts.path
    for ending in (".html", ".htm", ".php"):
        if path.endswith(ending):
            path = path[: -len(ending)]
    return f"{parts.netloc}{path}"


def cdx_url(url: str) -> str:
    """The CDX query for every capture of the thread's pages (one row per distinct payload)."""
    return (f"{WAYBACK}/cdx/search/cdx?url={quote(thread_prefix(url), safe='')}"
            "&matchType=prefix&output=json&fl=timestamp,original,mimetype,statuscode"
            "&filter=statuscode:200&collapse=digest")


def parse_cdx(text: str) -> list[Snapshot]:
    """The rows of a CDX answer in JSON (a header row, then one list per capture)."""
    import json

    try:
        rows = json.loads(text) if text.strip() else []
    except ValueError as exc:
        raise ParseError(f"the Wayback Machine's capture list is not JSON ({exc})") from None
    if not isinstance(rows, list) or (rows and not isinstance(rows[0], list)):
        raise ParseError("the Wayback Machine's capture list has an unknown shape")
    if not rows:
        return []
    header = [str(h) for h in rows[0]]
    need = ("timestamp", "original", "mimetype", "statuscode")
    if not all(name in header for name in need):
        raise ParseError(f"the capture list lacks {', '.join(n for n in need if n not in header)}")
    at = {name: header.index(name) for name in need}
    return [Snapshot(str(r[at["timestamp"]]), str(r[at["original"]]),
                     str(r[at["mimetype"]]).lower(), str(r[at["statuscode"]]))
            for r in rows[1:] if isinstance(r, list) and len(r) == len(header)]


def _write(writer: WARCWriter, snapshot: Snapshot, result: FetchResult) -> None:
    headers = [(k, v) for k, v in result.headers
               if k.lower() not in ("transfer-encoding", "content-encoding", "content-length")]
    headers.append(("Content-Length", str(len(result.body))))
    http = StatusAndHeaders(f"{result.status} {result.reason or 'OK'}", headers,
                            protocol="HTTP/1.1")
    record = writer.create_warc_record(
        snapshot.original, "response", payload=BytesIO(result.body), length=len(result.body),
        http_headers=http, warc_headers_dict={
            "WARC-Date": snapshot.date.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "WARC-Source-URI": snapshot.raw_url,  # where this copy was read from
        })
    writer.write_record(record)


def rebuild_from_wayback(
    store: Store, fetcher: Fetcher, url: str, folder: Path,
    *, on_snapshot: Callable[[int, int, Snapshot], None] | None = None,
) -> ImportReport:
    """List, fetch and import the Wayback Machine's captures of the thread at url. Every
    exchange with the archive is stored as a capture (tied to no thread) as it comes."""
    with store.session() as session:
        record = capture_recorder(session)
        listing = fetcher.fetch(cdx_url(url), record=record, accept="application/json")
        if listing.status != 200:
            raise FetchError(f"{listing.url}: HTTP {listing.status} {listing.reason}".rstrip(),
                             url=listing.url, status=listing.status)
        snapshots = [s for s in parse_cdx(listing.text)
                     if s.status == "200" and s.mimetype.split(";")[0] in READABLE]
        if not snapshots:
            raise FetchError(f"the Wayback Machine holds no capture of {url} or its comment "
                             "pages", url=url)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        path = folder / f"wayback-{urlsplit(url).netloc}-{stamp}.warc.gz"
        fetched = 0
        with path.open("wb") as out:
            writer = WARCWriter(out, gzip=True)
            for number, snapshot in enumerate(snapshots, 1):  # one at a time, politely
                if on_snapshot is not None:
                    on_snapshot(number, len(snapshots), snapshot)
                try:
                    result = fetcher.fetch(snapshot.raw_url, record=record)
                except FetchError as exc:
                    log.warning("capture %s: %s", snapshot.raw_url, exc)
                    continue
                if result.status == 200:
                    _write(writer, snapshot, result)
                    fetched += 1
    if not fetched:
        raise FetchError(f"none of the {len(snapshots)} captures of {url} could be fetched",
                         url=url)
    return import_files(store, [path])
