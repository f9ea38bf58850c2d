"""Pages as the Wayback Machine replays them (its toolbar and scripts inserted, every link
rewritten to /web/TIMESTAMP/ORIGINAL) turned back into the page as it was captured, so the
adapters read them like raw captures."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# https://web.archive.org/web/20180610081500/https://host/path, also with a modifier (id_, im_,
# cs_, js_...) or scheme-relative (//web.archive.org/...) or site-relative (/web/2018.../)
_REPLAY_URL = re.compile(
    r"^(?:https?:)?//(?:web\.)?archive\.org/web/(?P<stamp>\d{4,14})(?:[a-z]{2}_)?/(?P<url>.+)$")
_IN_PAGE = re.compile(
    r"(?:(?:https?:)?//(?:web\.)?archive\.org)?/web/\d{4,14}(?:[a-z]{2}_)?/(?=(?:https?:)?//)")
_TOOLBAR = re.compile(
    r"<!--\s*BEGIN WAYBACK TOOLBAR INSERT\s*-->.*?<!--\s*END WAYBACK TOOLBAR INSERT\s*-->", re.S)
_HEAD_SCRIPTS = re.compile(
    r"<script[^>]*(?:/_static/js/|archive\.org/includes/)[^>]*>.*?"
    r"<!--\s*End Wayback Rewrite JS Include\s*-->", re.S)
_TRAILER = re.compile(r"<!--\s*FILE ARCHIVED ON .*?-->", re.S)


def replayed(url: str) -> tuple[str, datetime] | None:
    """(the original URL, when it was captured) for a Wayback replay URL, else None."""
    found = _REPLAY_URL.match(url)
    if found is None:
        return None
    original = found.group("url")
    if original.startswith("//"):
        original = "http:" + original
    elif not original.startswith(("http://", "https://")):
        original = "http://" + original
    stamp = found.group("stamp").ljust(14, "0")
    return original, datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def is_rewritten(html: str) -> bool:
    return "BEGIN WAYBACK TOOLBAR INSERT" in html or bool(_IN_PAGE.search(html))


def unwrap(html: str) -> str:
    """The page without the Wayback Machine's insertions, its links pointing where they did."""
    html = _TOOLBAR.sub("", html)
    html = _HEAD_SCRIPTS.sub("", html)
    html = _TRAILER.sub("", html)
    return _IN_PAGE.sub("", html)
