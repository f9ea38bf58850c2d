"""A fetcher that answers from imported WARC records instead of the network: the engine reads
a thread out of web archives exactly as it reads a live site. Each answer is the record captured
nearest to the moment being replayed; a URL no file holds is a failed fetch, never invented."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urljoin

from archiver.errors import FetchError
from archiver.fetch.charset import choose_encoding, decode_text
from archiver.fetch.result import FetchResult
from archiver.importing.records import Entry, Index, load
from archiver.importing.unwrap import unwrap

Record = Callable[[FetchResult], None]
MAX_REDIRECTS = 10


class ReplayFetcher:
    """Fetcher.fetch's interface over an Index; `moment` picks among several captures."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.moment: datetime | None = None  # replay the captures nearest to this time
        self.pinned: Entry | None = None  # ...and this one for its URL
        self.served: list[Entry] = []  # what this fetcher answered with, in order

    def nearest(self, url: str) -> Entry | None:
        entries = self.index.lookup(url)
        if not entries:
            return None
        if self.pinned is not None and self.pinned in entries:
            return self.pinned
        if self.moment is None:
            return entries[-1]
        moment = self.moment
        return min(entries, key=lambda e: (abs((e.date - moment).total_seconds()), e.date))

    def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None,
        record: Record | None = None, record_robots: Record | None = None,
        accept: str | None = None,
    ) -> FetchResult:
        """The archived answer for url (redirects followed within the archives); each exchange
        goes to record, as the network fetcher's do. FetchError: no file holds the URL."""
        current, chain = url, []
        for _ in range(MAX_REDIRECTS + 1):
            entry = self.nearest(current)
            if entry is None:
                raise FetchError(f"{current}: not in the imported archives", url=current)
            result = self._result(entry, url)
            location = result.header("location")
            if 300 <= result.status < 400 and location:
                result.final = False
                result.redirect_to = urljoin(entry.url, location)
                if record is not None:
                    record(result)
                chain.append(entry.url)
                current = result.redirect_to
                continue
            result.redirects = chain
            if record is not None:
                record(result)
            self.served.append(entry)
            return result
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects in the archives", url=url)

    def _result(self, entry: Entry, asked: str) -> FetchResult:
        loaded = load(entry)
        content_type = next((v for k, v in loaded.headers if k.lower() == "content-type"), None)
        encoding = choose_encoding(loaded.body, content_type)
        body = loaded.body
        if entry.rewritten:  # the page as captured, not as the Wayback Machine replays it
            body = unwrap(decode_text(body, encoding)).encode(encoding, errors="replace")
        return FetchResult(
            url=entry.url, method="GET", status=loaded.status, reason=loaded.reason,
            http_version=loaded.protocol, request_headers=[], headers=loaded.headers,
            raw_body=loaded.raw_body, body=body,
            fetched_at=entry.date.replace(tzinfo=None), elapsed_ms=0,
            encoding=encoding, requested_url=asked,
            source=f"{entry.place.describe()}"
                   + (f" (payload {entry.payload.describe()})" if entry.payload != entry.place
                      else ""),
        )

    def __enter__(self) -> ReplayFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        pass
