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
