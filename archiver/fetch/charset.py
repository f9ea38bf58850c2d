"""Choosing a text encoding for a body: BOM, HTTP charset, <meta> charset, then a detector."""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# What browsers really use for these labels (WHATWG Encoding Standard).
_ALIASES = {"iso8859-1": "cp1252", "ascii": "cp1252", "latin-1": "cp1252", "iso8859-9": "cp1254"}


def normalize(label: str | None) -> str | None:
    """A codec name Python knows for label, or None for an unknown or unusable label."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("'\"")).name
    except LookupError:
        return None
    if name in ("utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"):
        return None  # a <meta> cannot truly declare these; HTML says treat as utf-8
    return _ALIASES.get(name, name)


def http_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header value, as given."""
    if not content_type:
        return None
    match = _CT_CHARSET.search(content_type)
    return match.group(1) if match else None


def meta_charset(body: bytes) -> str | None:
    """The charset a page declares in <meta charset> or <meta http-equiv> (first 4 KiB)."""
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


_DAMAGE_RATIO = 2  # valid multi-byte characters needed for each invalid byte sequence


def _is_utf8(body: bytes) -> bool:
    """Whether body is UTF-8: valid, or valid but for a few stray bytes (a page pasted together
    from sources, a comment saved in another encoding), which decode_text then replaces. A page
    in a legacy encoding shows no valid multi-byte characters at all, so it never passes."""
    try:
        body.decode("utf-8")
        return True
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = len(text) - len(text.encode("ascii", errors="ignore")) - bad
    return good >= _DAMAGE_RATIO * bad


def _fits(body: bytes, encoding: str) -> bool:
    """False when a declared encoding is plainly wrong: UTF-8 labelled on bytes that are not."""
    if encoding not in ("utf-8", "utf-8-sig"):
        return True  # single-byte and legacy codecs decode almost anything; trust the label
    return _is_utf8(body)


def choose_encoding(body: bytes, content_type: str | None) -> str:
    """The encoding to read body with. Never raises; falls back to UTF-8."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return "utf-8-sig" if name == "utf-8" else name
    for label in (http_charset(content_type), meta_charset(body)):
        name = normalize(label)
        if name and _fits(body, name):
            return name
    if _is_utf8(body):
        return "utf-8"
    try:
        best = charset_normalizer.from_bytes(body[:200_000]).best()
    except Exception:  # a detector failure must not lose the page
        best = None
    name = normalize(best.encoding) if best is not None else None
    return name or "cp1252"


def decode_text(body: bytes, encoding: str) -> str:
    """body as text in encoding, undecodable bytes replaced. Never raises."""
    try:
        return body.decode(encoding, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")
