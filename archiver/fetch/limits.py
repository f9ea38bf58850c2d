"""Limits on what we accept: URL schemes, body size, and Content-Encoding bombs."""

from __future__ import annotations

import zlib
from urllib.parse import urlsplit

from archiver.errors import FetchError

ALLOWED_SCHEMES = ("http", "https")
_CHUNK = 64 * 1024


class LimitExceeded(FetchError):
    """A response broke one of our limits (size, bomb, redirects): final, not retried."""


def check_url(url: str) -> None:
    """Refuse anything but an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise LimitExceeded(f"not a valid URL: {url} ({exc})", url=url) from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES or not host:
        raise LimitExceeded(f"not an http(s) URL: {url}", url=url)


def _decompress(data: bytes, d: zlib._Decompress, budget: int, url: str, coding: str) -> bytes:
    """Stream data through one zlib decompressor, never producing more than budget bytes."""
    out: list[bytes] = []
    produced = 0
    pending = data
    while True:
        chunk = d.decompress(pending, _CHUNK)
        produced += len(chunk)
        if produced > budget:
            raise LimitExceeded(
                f"{url}: {coding} body decodes to more than {budget} bytes (decompression bomb)",
                url=url,
            )
        out.append(chunk)
        pending = d.unconsumed_tail
        if not pending:
            if d.eof or not chunk:
                break
    tail = d.flush()
    if tail:
        produced += len(tail)
        if produced > budget:
            raise LimitExceeded(
                f"{url}: {coding} body decodes to more than {budget} bytes (decompression bomb)",
                url=url,
            )
        out.append(tail)
    return b"".join(out)


def decode_body(
    raw: bytes,
    content_encoding: str | None,
    *,
    max_decoded: int = 100 * 1024 * 1024,
    max_ratio: float = 200.0,
    ratio_floor: int = 5 * 1024 * 1024,
    url: str = "",
) -> bytes:
    """Undo Content-Encoding (gzip, deflate; several in order) on a raw body.

    Refuses a body that would decode past max_decoded bytes, or past ratio_floor bytes at more
    than max_ratio times its raw size: both raise LimitExceeded before the memory is spent.
    """
    if not content_encoding:
        return raw
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    budget = max_decoded
    if raw:
        budget = min(max_decoded, max(ratio_floor, int(len(raw) * max_ratio)))
    data = raw
    for coding in reversed(codings):
        try:
            if coding in ("gzip", "x-gzip"):
                data = _decompress(
                    data, zlib.decompressobj(16 + zlib.MAX_WBITS), budget, url, coding
                )
            elif coding == "deflate":
                try:
                    data = _decompress(data, zlib.decompressobj(), budget, url, coding)
                except zlib.error:  # raw deflate, as some servers send it
                    data = _decompress(
                        data, zlib.decompressobj(-zlib.MAX_WBITS), budget, url, coding
                    )
            elif coding == "identity":
                continue
            else:
                raise LimitExceeded(f"{url}: unsupported Content-Encoding {coding!r}", url=url)
        except zlib.error as exc:
            raise LimitExceeded(f"{url}: corrupt {coding} body: {exc}", url=url) from exc
    return data
