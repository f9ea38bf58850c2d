"""URL normalisation: one form of a thread's URL whichever way it was typed or linked (archive,
export, discovery, the scheduler and the WARC writer all go through here), and the URL as sent.

``normalise_url`` is pure and idempotent: ``normalise_url(normalise_url(u)) == normalise_url(u)``.
Parsing, IDNA and percent-encoding of what may not appear raw are httpx's (the same code that
sends our requests); the rules on top of it are listed beside the function.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

# Query parameters that only say where a visitor came from; the page is the same without them.
# utm_* (Google Analytics campaign tags) is matched as a prefix, the rest by name, any case.
TRACKING_PREFIXES = ("utm_",)
TRACKING_PARAMS = frozenset({
    "fbclid",  # Facebook click id
    "gclid", "dclid",  # Google Ads / DoubleClick click ids
    "msclkid",  # Microsoft Ads click id
    "yclid",  # Yandex click id
    "igshid",  # Instagram share id
    "mc_cid", "mc_eid",  # Mailchimp campaign / subscriber ids
    "_ga", "_gl",  # Google Analytics cross-domain linker
})

# Comment permalinks: a parameter that only scrolls to (or highlights) one comment of the thread
# the rest of the URL names. Dropped, so a permalink leads to its thread.
#   TypePad:   post.html?cid=6a00d8341c640e53ef...#comment-6a00d8341c640e53ef...  (cid is dropped
#              only when its value is a TypePad asset id: "6a" then hex; elsewhere a cid may
#              select a category or a forum and is kept)
#   WordPress: post/?replytocom=123#respond  (the reply form under comment 123)
#   Blogger:   post.html?showComment=1528483140000#c123  (a comment's time in ms)
COMMENT_PARAMS: dict[str, re.Pattern[str] | None] = {
    "cid": re.compile(r"6a[0-9a-f]{16,}", re.IGNORECASE),  # TypePad
    "replytocom": None,  # WordPress: any value
    "showcomment": None,  # Blogger: any value
}

DEFAULT_PORTS = {"http": 80, "https": 443}
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# Unreserved characters (RFC 3986 2.3) are the same escaped or not; "." stays escaped so that an
# escaped dot segment (%2E%2E) never turns into a real one.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~")


def _parse(url: str) -> httpx.URL:
    """An absolute http(s) URL with a host as httpx reads it, or ValueError saying why not (the
    same messages as the CLI's URL check)."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {text!r} ({exc})") from None
    if parts.scheme.lower() not in DEFAULT_PORTS or not host:
        raise ValueError(f"not an http(s) URL: {text!r}")
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise ValueError(f"not a valid URL: {text!r} ({exc})") from None
    if not parsed.host:
        raise ValueError(f"not an http(s) URL: {text!r}")
    return parsed


@functools.lru_cache(maxsize=4096)  # a URL is asked for, recorded and looked up: parsed once
def request_url(url: str) -> str:
    """The URL as requested on the wire: what httpx sends (scheme and host lower-case, IDN host
    in punycode, default port dropped, unsafe characters escaped), without the #fragment (never
    sent over HTTP) and with / for an empty path. ValueError for a URL we would not fetch."""
    wire = str(_parse(url).copy_with(fragment=None))
    parts = urlsplit(wire)
    if not parts.path:
        wire = urlunsplit(parts._replace(path="/"))
    return wire


def as_sent(url: str) -> str:
    """request_url(url), or url unchanged when it is no URL we would fetch (recorded as it was
    rather than lost)."""
    try:
        return request_url(url)
    except ValueError:
        return url


def _escapes(text: str) -> str:
    """Percent-escapes with upper-case hex; escaped unreserved characters decoded."""

    def one(match: re.Match[str]) -> str:
        char = chr(int(match[1], 16))
        return char if char in _UNRESERVED else "%" + match[1].upper()

    return _ESCAPE.sub(one, text)


def is_dropped_param(name: str, value: str) -> bool:
    """Whether a query parameter (name and value, still escaped) is tracking or a comment
    permalink, so the URL means the same page without it."""
    key = unquote(name).lower()
    if key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES):
        return True
    if key in COMMENT_PARAMS:
        pattern = COMMENT_PARAMS[key]
        return pattern is None or pattern.fullmatch(unquote(value)) is not None
    return False


def _query(query: str) -> str:
    kept = []
    for piece in query.split("&"):
        if not piece:  # a&&b or a trailing &: nothing there
            continue
        name, _, value = piece.partition("=")
        if not is_dropped_param(name, value):
            kept.append(piece)
    return "&".join(kept)


@functools.lru_cache(maxsize=4096)
def normalise_url(url: str) -> str:
    """The one form of a URL, used to store, compare and look up threads:

    - scheme and host lower-case, an IDN host in its ASCII (punycode) form, default ports
      (:80 for http, :443 for https) dropped, an empty path as /, dot segments resolved;
    - the #fragment dropped, and an empty query (a bare ?);
    - percent-escapes with upper-case hex, escaped unreserved characters (letters, digits, - _ ~)
      decoded; reserved characters stay as they were, escaped or not;
    - tracking parameters (TRACKING_PREFIXES, TRACKING_PARAMS) and comment-permalink parameters
      (COMMENT_PARAMS) dropped; every other parameter kept, in its order (?page=2, ?cpage=2,
      viewtopic.php?t=1&start=25 select a page).

    ValueError (with a message for the user) for anything but an absolute http(s) URL with a host.
    """
    parts = urlsplit(request_url(url))
    return urlunsplit((
        parts.scheme, parts.netloc, _escapes(parts.path) or "/", _query(_escapes(parts.query)), "",
    ))


def same_host(a: str, b: str) -> bool:
    """Whether two URLs are on one host (scheme, port and a leading www. aside)."""

    def host(url: str) -> str:
        return (urlsplit(url).hostname or "").lower().removeprefix("www.")

    return host(a) == host(b)
