"""Read the date strings that blog platforms print into UTC datetimes, when possible."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_FORMATS = (
    "%b %d %Y %H:%M",  # Jun 8 2018 18:52 (utc)
    "%B %d, %Y at %H:%M",  # June 8, 2018 at 18:39 (UTC)
    "%B %d, %Y at %I:%M %p",  # June 08, 2018 at 07:35 PM
    "%b %d, %Y at %I:%M %p",
    "%b %d, %Y %I:%M:%S %p",
    "%d %B %Y at %H:%M",
    "%d %b %Y at %H:%M",
    "%B %d, %Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y at %I:%M %p",
    "%B %d, %Y",
    "%b %d %Y",
)
_UTC = re.compile(r"\s*\b(?:utc|gmt|z)\b\s*$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_TYPEPAD = re.compile(r"([A-Za-z]{3}) (\d{1,2}) (\d{4}) (\d{1,2}):(\d{2})(?: utc)?", re.IGNORECASE)


_DAY_FORMATS = (
    "%B %d, %Y",  # January 12, 2006 (TypePad's date header)
    "%b %d, %Y",
    "%d %B %Y",  # 14 January 2019
    "%d %b %Y",
    "%Y-%m-%d",
    "%B %d %Y",
    "%b %d %Y",
)
_WEEKDAY = re.compile(
    r"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", re.IGNORECASE)  # "Monday, " / "Thu "
_CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?m\.?)?(?![\w:])", re.IGNORECASE)


def parse_day(text: str) -> datetime | None:
    """The day a date without a time names ("January 12, 2006", "Monday, 14 January 2019"),
    as midnight UTC, or None. The caller keeps it as a day (precision "day"), never as a time."""
    cleaned = _SPACES.sub(" ", text.replace("\xa0", " ")).strip().rstrip(".")
    cleaned = _WEEKDAY.sub("", cleaned)
    for fmt in _DAY_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def clock_time(text: str) -> tuple[int, int, int] | None:
    """The first time of day in text ("at 08:15 PM", "18:39"), as (hour, minute, second)."""
    found = _CLOCK.search(text)
    if found is None:
        return None
    hour, minute, second = int(found[1]), int(found[2]), int(found[3] or 0)
    half = (found[4] or "").replace(".", "").lower()
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour, minute, second


def parse_date(text: str) -> datetime | None:
    """The datetime a page's date string names, or None when no known format fits.

    A string marked UTC/GMT is exact. A string with no zone is read as UTC too, since the page
    does not state the blog's zone; the original string is always kept beside it.
    """
    fast = _TYPEPAD.fullmatch(text)  # TypePad's comment stamp, "Jun 8 2018 18:52 utc"
    if fast is not None and fast[1].lower() in _MONTHS:
        try:
            return datetime(int(fast[3]), _MONTHS[fast[1].lower()], int(fast[2]),
                            int(fast[4]), int(fast[5]), tzinfo=UTC)
        except ValueError:
            pass
    cleaned = _SPACES.sub(" ", _UTC.sub("", text.replace("\xa0", " "))).strip()
    if not cleaned:
        return None
    for fmt in _FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None
