"""The config's own value types, which pydantic does not have: durations ("30d", "15m"), since
(a date or a duration ago), URLs, cron expressions, regexes and CSS selectors lexbor can run."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator

UTC = dt.UTC

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_duration(value: object) -> float:
    """Seconds from 90, 90.5, "90", "90s", "15m", "1h30m", "1d", "2w"; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("a duration, not a boolean")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().lower()
    try:
        return float(text)
    except ValueError:
        pass
    pos, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos or text[pos:match.start()].strip():
            break
        total += float(match[1]) * _UNITS[match[2]]
        pos = match.end()
    if pos == 0 or text[pos:].strip():
        raise ValueError('a duration like 90, "90s", "15m", "2h", "1d" or "1w"')
    return total


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def check_url(value: object) -> str:
    """The value as an absolute http(s) URL with a host, or ValueError saying why not."""
    from urllib.parse import urlsplit

    text = str(value).strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {text!r} ({exc})") from None
    if parts.scheme.lower() not in ("http", "https") or not host or any(c.isspace() for c in text):
        raise ValueError(f"not an http(s) URL: {text!r}")
    return text


def check_css_selector(selector: object) -> str:
    """The selector if lexbor can run it, else ValueError saying so."""
    from selectolax.lexbor import LexborHTMLParser

    text = str(selector)
    try:
        LexborHTMLParser("<p></p>").css_first(text)
    except Exception as exc:  # selectolax raises its own error type for a bad selector
        raise ValueError(f"bad CSS selector {text!r}: {exc}") from None
    return text


def check_cron(expression: object, timezone: str = "UTC") -> str:
    """The expression (stripped) if APScheduler can schedule it, else ValueError saying so."""
    from apscheduler.triggers.cron import CronTrigger

    text = str(expression).strip()
    try:
        CronTrigger.from_crontab(text, timezone=timezone)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"bad cron expression {text!r}: {exc}") from None
    return text


def check_regex(pattern: object) -> str:
    try:
        re.compile(str(pattern))
    except re.error as exc:
        raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
    return str(pattern)


def parse_since(value: object, now: dt.datetime | None = None) -> dt.datetime:
    """A date, a datetime (UTC unless it says), or a duration meaning "that long ago"."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = str(value).strip()
    try:
        parsed = dt.datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        ago = parse_duration(text)
    except ValueError:
        raise ValueError(
            f'a date ("2024-01-31"), a datetime or a duration ago ("90d"), got {text!r}'
        ) from None
    return (now or dt.datetime.now(UTC)) - dt.timedelta(seconds=ago)


def _duration(value: object) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ValueError(f"must be {exc}, got {value!r}") from None


def _one_or_more(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


# Annotated types for the models: each turns what a TOML file or an ARCHIVER_* variable says
# into the value the program uses, or raises ValueError with the message the user sees.
Duration = Annotated[float, BeforeValidator(_duration)]
Since = Annotated[dt.datetime, BeforeValidator(parse_since)]
Url = Annotated[str, BeforeValidator(check_url)]
Urls = Annotated[list[Url], BeforeValidator(_one_or_more)]  # one URL is a list of one
Cron = Annotated[str, BeforeValidator(check_cron)]
Regex = Annotated[str, BeforeValidator(check_regex)]
CssSelector = Annotated[str, BeforeValidator(check_css_selector)]
