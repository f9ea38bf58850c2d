"""FetchResult: one HTTP exchange as it happened, with the bytes exactly as received."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from archiver.fetch.charset import decode_text


@dataclass(slots=True)
class FetchResult:
    """One HTTP exchange: what we sent and what came back, bytes as received."""

    url: str  # the URL of this exchange (for the result fetch returns: the final URL)
    method: str
    status: int
    reason: str
    http_version: str
    request_headers: list[tuple[str, str]]
    headers: list[tuple[str, str]]  # response headers, in order, as received
    raw_body: bytes  # as on the wire (after de-chunking, before Content-Encoding decoding)
    body: bytes  # decoded payload
    fetched_at: datetime  # naive UTC, when the request was sent
    elapsed_ms: int
    attempt: int = 1  # 1 for the first try of this URL, 2 for the first retry...
    final: bool = True  # False for an exchange that was retried or redirected onwards
    encoding: str = field(default="utf-8")  # what .text decodes body with
    requested_url: str = ""  # the URL fetch() was asked for, before redirects
    redirect_to: str | None = None  # for a redirect hop: the absolute URL it pointed to
    redirects: list[str] = field(default_factory=list)  # URLs that redirected to this one
    decode_error: str | None = None  # why body could not be decoded from raw_body (then empty)
    source: str | None = None  # where it was read from when not the network (a WARC record)

    def header(self, name: str) -> str | None:
        """The first response header called name (any case), or None."""
        low = name.lower()
        for key, value in self.headers:
            if key.lower() == low:
                return value
        return None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def text(self) -> str:
        """The body as text; undecodable bytes replaced, never an exception."""
        return decode_text(self.body, self.encoding)
