"""The HTTP client: one GET with per-host delay, returning the exchange exactly as received."""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from archiver import __version__
from archiver.errors import FetchError

DEFAULT_USER_AGENT = (
    f"archiver/{__version__} (+https://github.com/archiver-project/archiver; archiver@example.org)"
)


@dataclass(slots=True)
class FetchSettings:
    """How politely and patiently we fetch."""

    user_agent: str = DEFAULT_USER_AGENT
    delay: float = 1.0  # seconds between two requests to the same host
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_body: int = 50 * 1024 * 1024


@dataclass(slots=True)
class FetchResult:
    """One HTTP exchange: what we sent and what came back, bytes as received."""

    url: str
    method: str
    status: int
    reason: str
    http_version: str
    request_headers: list[tuple[str, str]]
    headers: list[tuple[str, str]]  # response headers, in order, as received
    raw_body: bytes  # as on the wire (after de-chunking, before Content-Encoding decoding)
    body: bytes  # decoded payload
    fetched_at: datetime  # naive UTC
    elapsed_ms: int
    attempt: int = 1
    final: bool = True  # False for an exchange that was retried
    encoding: str = field(default="utf-8")

    def header(self, name: str) -> str | None:
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
        return self.body.decode(self.encoding, errors="replace")


def decode_body(raw: bytes, content_encoding: str | None) -> bytes:
    """Undo Content-Encoding (gzip, deflate) on a raw body."""
    if not content_encoding:
        return raw
    data = raw
    for coding in reversed([c.strip().lower() for c in content_encoding.split(",") if c.strip()]):
        if coding in ("gzip", "x-gzip"):
            data = zlib.decompress(data, 16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            try:
                data = zlib.decompress(data)
            except zlib.error:
                data = zlib.decompress(data, -zlib.MAX_WBITS)
        elif coding == "identity":
            continue
        else:
            raise FetchError(f"unsupported Content-Encoding {coding!r}")
    return data


class Fetcher:
    """A polite HTTP client. Thread-safe: one request at a time per host, with a delay."""

    def __init__(self, settings: FetchSettings | None = None) -> None:
        self.settings = settings or FetchSettings()
        s = self.settings
        self._client = httpx.Client(
            headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(s.read_timeout, connect=s.connect_timeout),
            follow_redirects=True,
        )
        self._hosts: dict[str, tuple[threading.Lock, list[float]]] = {}
        self._hosts_lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _host_slot(self, url: str) -> tuple[threading.Lock, list[float]]:
        host = urlsplit(url).netloc.lower()
        with self._hosts_lock:
            if host not in self._hosts:
                self._hosts[host] = (threading.Lock(), [0.0])
            return self._hosts[host]

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        record: Callable[[FetchResult], None] | None = None,
    ) -> FetchResult:
        """GET url; return the exchange. Raises FetchError when no response could be had."""
        scheme = urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise FetchError(f"not an http(s) URL: {url}", url=url)
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        lock, last = self._host_slot(url)
        with lock:
            wait = last[0] + self.settings.delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                result = self._get(url, headers)
            finally:
                last[0] = time.monotonic()
        if record is not None:
            record(result)
        return result

    def _get(self, url: str, headers: dict[str, str]) -> FetchResult:
        started = time.monotonic()
        fetched_at = datetime.now(UTC).replace(tzinfo=None)
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_raw():
                    size += len(chunk)
                    if size > self.settings.max_body:
                        raise FetchError(
                            f"{url}: body larger than {self.settings.max_body} bytes", url=url
                        )
                    chunks.append(chunk)
        except httpx.ConnectError as exc:
            raise FetchError(f"cannot connect to {urlsplit(url).netloc}: {exc}", url=url) from exc
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out fetching {url}", url=url) from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"error fetching {url}: {exc}", url=url) from exc
        raw = b"".join(chunks)
        resp_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
        body = decode_body(raw, response.headers.get("content-encoding"))
        return FetchResult(
            url=str(response.url),
            method="GET",
            status=response.status_code,
            reason=response.reason_phrase,
            http_version=response.http_version,
            request_headers=[
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.request.headers.raw
            ],
            headers=resp_headers,
            raw_body=raw,
            body=body,
            fetched_at=fetched_at,
            elapsed_ms=int((time.monotonic() - started) * 1000),
            encoding=response.charset_encoding or "utf-8",
        )
