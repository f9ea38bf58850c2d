"""FetchSettings: every knob of politeness, patience and limits the fetcher obeys."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from archiver import __version__

DEFAULT_USER_AGENT = (
    f"archiver/{__version__} (+https://github.com/archiver-project/archiver; archiver@example.org)"
)


@dataclass(slots=True)
class FetchSettings:
    """How politely and patiently we fetch. Times are in seconds, sizes in bytes."""

    user_agent: str = DEFAULT_USER_AGENT
    delay: float = 1.0  # minimum gap between two requests to the same host
    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # longest silence while waiting for bytes
    total_timeout: float = 300.0  # longest a single response (headers + body) may take
    max_body: int = 50 * 1024 * 1024  # raw bytes on the wire, enforced while streaming
    max_decoded_body: int = 100 * 1024 * 1024  # after Content-Encoding decoding
    max_ratio: float = 200.0  # decoded/raw size above which a big body is a bomb
    ratio_floor: int = 5 * 1024 * 1024  # the ratio test applies past this decoded size
    max_attempts: int = 5
    url_budget: float = 600.0  # longest one URL may take: all attempts and waits between them
    backoff_base: float = 2.0  # first retry waits about this, then doubles, plus jitter
    max_retry_wait: float = 600.0  # cap on any single wait (Retry-After, backoff, host defer)
    slowdown_factor: float = 2.0  # a 429/503 multiplies the host's delay by this...
    max_host_delay: float = 60.0  # ...up to this, for the rest of the run
    max_redirects: int = 10
    respect_robots: bool = True  # False only for a site's own owner (--ignore-robots)
    robots_ttl: float = 24 * 3600.0
    robots_retry: float = 600.0  # after robots.txt was unreachable, ask again after this
    max_crawl_delay: float = 300.0  # Crawl-delay above this is capped (Heritrix does the same)
    host_delays: dict[str, float] = field(default_factory=dict)  # "host[:port]" -> delay
    max_concurrency: int = 8  # requests in flight across all hosts
    per_host_concurrency: int = 1  # requests in flight to one host
    # Networks counted as public although they are not ("127.0.0.2/32, 10.1.0.0/16"): a fetch
    # that starts at a public address is never led to a private one (tests use this).
    public_networks: str = ""
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
        if host in overrides:
            return overrides[host]
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return overrides.get(name, self.delay)
