"""FetchSettings: every knob of politeness, patience and limits the fetcher obeys."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from annotated_types import Ge

from archiver import __version__
from archiver.fetch.oauth import REDDIT_MIN_DELAY, OAuthApp

if TYPE_CHECKING:
    from archiver.fetch.result import FetchResult

DEFAULT_USER_AGENT = (
    f"archiver/{__version__} (+https://github.com/archiver-project/archiver; archiver@example.org)"
)

# Minimums the config checks (archiver.config turns these fields into its [fetch] table):
# where 0 cannot work (no attempt, no connection, no time to answer) the minimum is above 0.
NonNegative = Annotated[float, Ge(0)]
NonNegativeInt = Annotated[int, Ge(0)]
AtLeast1 = Annotated[int, Ge(1)]
AtLeast1F = Annotated[float, Ge(1)]
Positive = Annotated[float, Ge(0.001)]


# APIs' published request budgets, as the least delay between two requests (whatever the
# config says): Reddit's OAuth API allows 100 requests a minute per client id
PUBLISHED_BUDGETS = {"oauth.reddit.com": REDDIT_MIN_DELAY}


@dataclass(slots=True)
class FetchSettings:
    """How politely and patiently we fetch. Times are in seconds, sizes in bytes."""

    user_agent: str = DEFAULT_USER_AGENT
    delay: NonNegative = 1.0  # minimum gap between two requests to the same host
    connect_timeout: Positive = 10.0
    read_timeout: Positive = 30.0  # longest silence while waiting for bytes
    total_timeout: Positive = 300.0  # longest a single response (headers + body) may take
    max_body: AtLeast1 = 50 * 1024 * 1024  # raw bytes on the wire, enforced while streaming
    max_decoded_body: AtLeast1 = 100 * 1024 * 1024  # after Content-Encoding decoding
    max_ratio: AtLeast1F = 200.0  # decoded/raw size above which a big body is a bomb
    ratio_floor: NonNegativeInt = 5 * 1024 * 1024  # the ratio test applies past this decoded size
    max_attempts: AtLeast1 = 5
    url_budget: Positive = 600.0  # longest one URL may take: all attempts and waits between them
    backoff_base: NonNegative = 2.0  # first retry waits about this, then doubles, plus jitter
    max_retry_wait: NonNegative = 600.0  # cap on any single wait (Retry-After, backoff, host defer)
    slowdown_factor: AtLeast1F = 2.0  # a 429/503 multiplies the host's delay by this...
    max_host_delay: NonNegative = 60.0  # ...up to this, for the rest of the run
    max_redirects: NonNegativeInt = 10
    respect_robots: bool = True  # False only for a site's own owner (--ignore-robots)
    robots_ttl: NonNegative = 24 * 3600.0
    robots_retry: NonNegative = 600.0  # after robots.txt was unreachable, ask again after this
    max_crawl_delay: NonNegative = 300.0  # Crawl-delay above this is capped (as Heritrix does)
    host_delays: dict[str, float] = field(default_factory=dict)  # "host[:port]" -> delay
    max_concurrency: AtLeast1 = 8  # requests in flight across all hosts
    per_host_concurrency: AtLeast1 = 1  # requests in flight to one host
    # Networks counted as public although they are not ("127.0.0.2/32, 10.1.0.0/16"): a fetch
    # that starts at a public address is never led to a private one (tests use this).
    public_networks: str = ""
    # Origins read from elsewhere: "https://disqus.com=http://127.0.0.1:8123 ..." (space- or
    # comma-separated FROM=TO pairs) sends every request for a FROM URL to the same path on TO
    # (a mirror, a local copy, tests). The adapters build the real URLs; only the fetch moves.
    origin_map: str = ""
    # APIs that need application-only OAuth (Reddit's), with the app's credentials from the
    # config ([reddit]); the fetcher puts their bearer token on those hosts' requests
    oauth_apps: tuple[OAuthApp, ...] = ()
    clock: Callable[[], float] = time.monotonic  # injectable for tests
    sleep: Callable[[float], None] = time.sleep  # injectable for tests

    @property
    def robots_token(self) -> str:
        """The product token robots.txt groups are matched against (RFC 9309 section 2.2.1)."""
        token = self.user_agent.strip().split("/", 1)[0].split(" ", 1)[0]
        return token or "*"

    def delay_for(self, host: str) -> float:
        """The configured delay for host ("name" or "name:port", any case), else the default."""
        host = host.lower()
        overrides = {key.lower(): value for key, value in self.host_delays.items()}
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        delay = overrides[host] if host in overrides else overrides.get(name, self.delay)
        return max(delay, PUBLISHED_BUDGETS.get(name, 0.0))


def parse_origin_map(text: str) -> tuple[tuple[str, str], ...]:
    """The FROM=TO pairs of an origin map, each an origin (scheme://host[:port], no path)."""
    pairs = []
    for item in text.replace(",", " ").split():
        source, sep, target = item.partition("=")
        for origin in (source, target):
            if not sep or not re.fullmatch(r"https?://[^/\s?#]+", origin.rstrip("/")):
                raise ValueError(f"{item!r} is not FROM=TO with two origins "
                                 "(e.g. https://disqus.com=http://127.0.0.1:8123)")
        pairs.append((source.rstrip("/").lower(), target.rstrip("/")))
    return tuple(pairs)


def map_origin(url: str, pairs: tuple[tuple[str, str], ...]) -> str:
    """url with its origin replaced by the one the map gives it, if any."""
    for source, target in pairs:
        if url.lower().startswith(source) and url[len(source):len(source) + 1] in ("", "/", "?"):
            return target + url[len(source):]
    return url


def restore_origin(result: FetchResult, pairs: tuple[tuple[str, str], ...]) -> FetchResult:
    """An exchange read from a mapped origin, named by the real URLs it stands for (the store,
    the adapters and the exports never see the stand-in's address)."""
    if not pairs:
        return result

    def real(url: str) -> str:
        for source, target in pairs:
            if url.startswith(target) and url[len(target):len(target) + 1] in ("", "/", "?"):
                return source + url[len(target):]
        return url

    result.url, result.requested_url = real(result.url), real(result.requested_url)
    result.redirect_to = real(result.redirect_to) if result.redirect_to else None
    result.redirects = [real(u) for u in result.redirects]
    return result


def restoring(record: Callable[[FetchResult], None] | None, pairs: tuple[tuple[str, str], ...]
              ) -> Callable[[FetchResult], None] | None:
    """A record callback that stores exchanges under their real URLs (restore_origin)."""
    if record is None or not pairs:
        return record
    inner = record
    return lambda result: inner(restore_origin(result, pairs))
