"""robots.txt per RFC 9309 with Protego: fetched once per origin, cached, re-read after a TTL."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

from archiver.errors import FetchError, RobotsDisallowed
from archiver.fetch.guard import PrivateAddressRefused
from archiver.fetch.limits import LimitExceeded
from archiver.fetch.result import FetchResult
from archiver.fetch.settings import FetchSettings

log = logging.getLogger("archiver.fetch")

MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309 2.5: parse at least the first 500 KiB


@dataclass(slots=True)
class RobotsRules:
    """What one origin's robots.txt says, and when we read it."""

    parser: Protego | None  # None: no usable robots.txt (4xx), everything allowed
    read_at: float  # settings.clock() time
    status: int | None = None
    error: str | None = None  # set while robots.txt is unreachable and nothing was cached


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), "/robots.txt", "", ""))


class RobotsCache:
    """Answers "may we fetch this URL?", reading each origin's robots.txt when needed."""

    def __init__(
        self,
        settings: FetchSettings,
        fetch: Callable[[str], FetchResult],
        on_rules: Callable[[str, RobotsRules], None] | None = None,
    ) -> None:
        self.settings = settings
        self._fetch = fetch  # GETs a robots.txt URL (redirects followed, retries done)
        self._on_rules = on_rules
        self._rules: dict[str, RobotsRules] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def _origin_lock(self, origin: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(origin, threading.Lock())

    def rules(self, url: str) -> RobotsRules:
        """The current rules for url's origin, reading robots.txt if absent or stale."""
        origin = robots_url(url)
        with self._origin_lock(origin):
            now = self.settings.clock()
            cached = self._rules.get(origin)
            if cached is not None:
                ttl = self.settings.robots_retry if cached.error else self.settings.robots_ttl
                if now - cached.read_at < ttl:
                    return cached
            rules = self._read(origin, cached)
            self._rules[origin] = rules
        if self._on_rules is not None:
            self._on_rules(url, rules)
        return rules

    def _read(self, origin: str, stale: RobotsRules | None) -> RobotsRules:
        now = self.settings.clock()
        try:
            result = self._fetch(origin)
        except PrivateAddressRefused:  # led into private space: the fetch is refused, not paused
            raise
        except LimitExceeded as exc:  # too many redirects, too big: "unavailable" (RFC 2.3.1.2)
            log.info("robots.txt %s unavailable (%s): all allowed", origin, exc)
            return RobotsRules(parser=None, read_at=now, error=None)
        except FetchError as exc:
            return self._unreachable(origin, stale, now, exc.status, str(exc))
        status = result.status
        if 200 <= status < 300:
            text = result.body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
            return RobotsRules(parser=Protego.parse(text), read_at=now, status=status)
        if 400 <= status < 500 and status != 429:
            log.info("robots.txt %s answered %d: all allowed", origin, status)
            return RobotsRules(parser=None, read_at=now, status=status)
        return self._unreachable(origin, stale, now, status, f"HTTP {status} {result.reason}")

    def _unreachable(
        self, origin: str, stale: RobotsRules | None, now: float, status: int | None, why: str
    ) -> RobotsRules:
        if stale is not None and stale.error is None:
            # RFC 9309 2.4: keep using the copy we had while the server is unwell.
            log.info("robots.txt %s unreachable (%s): keeping the copy we had", origin, why)
            return RobotsRules(stale.parser, read_at=now, status=stale.status)
        log.info("robots.txt %s unreachable (%s): host paused, will retry later", origin, why)
        return RobotsRules(parser=None, read_at=now, status=status, error=why)

    def check(self, url: str) -> None:
        """Raise RobotsDisallowed if robots.txt forbids url, FetchError if it cannot be read."""
        rules = self.rules(url)
        if rules.error is not None and rules.status is None:  # no answer at all: the host
            raise FetchError(
                f"cannot reach {urlsplit(url).netloc} (asking for robots.txt before {url}):"
                f" {rules.error}",
                url=url,
            )
        if rules.error is not None:
            raise FetchError(
                f"robots.txt of {urlsplit(url).netloc} could not be read, so {url} was not"
                f" fetched (will retry later): {rules.error}",
                url=url,
                status=rules.status,
            )
        if rules.parser is not None and not rules.parser.can_fetch(url, self.settings.robots_token):
            raise RobotsDisallowed(
                f"robots.txt of {urlsplit(url).netloc} disallows {url}"
                f" for user-agent {self.settings.robots_token!r}",
                url=url,
            )
