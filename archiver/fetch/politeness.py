"""Per-host politeness: one request in flight per host, a delay between them, a global cap."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from archiver.errors import FetchError
from archiver.fetch.settings import FetchSettings


class HostDeferred(FetchError):
    """The host asked us (Retry-After) to stay away longer than we are willing to wait."""


def host_key(url: str) -> str:
    """The politeness key of a URL: its host and port, lowercased, without credentials."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host


@dataclass(slots=True)
class _Host:
    cond: threading.Condition = field(default_factory=threading.Condition)
    in_flight: int = 0
    next_start: float = 0.0  # no new request starts before this clock time
    deferred_until: float = 0.0  # set by Retry-After: applies to every request to the host
    slowdown: float = 1.0  # grows with each 429/503, for the rest of the run
    crawl_delay: float = 0.0  # from robots.txt
    queue: deque[int] = field(default_factory=deque)  # tickets waiting, first come first served
    tickets: int = 0


# A turn at a host shared with other processes (store/hosts.py): (host, delay) -> a context held
# for the request; the next request may start delay() after it ends.
SharedTurn = Callable[[str, Callable[[], float]], AbstractContextManager[None]]


class Politeness:
    """Hands out request slots so that each host is spaced and the process stays under a cap;
    with `shared`, each host's turn is also taken from the database (every worker together)."""

    def __init__(self, settings: FetchSettings, shared: SharedTurn | None = None) -> None:
        self.settings = settings
        self.shared = shared
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()
        self._global = threading.BoundedSemaphore(max(1, settings.max_concurrency))

    def _host(self, host: str) -> _Host:
        with self._lock:
            state = self._hosts.get(host)
            if state is None:
                state = self._hosts[host] = _Host()
            return state

    def delay(self, host: str) -> float:
        """The current minimum gap between two requests to host."""
        state = self._host(host)
        s = self.settings
        base = max(s.delay_for(host), state.crawl_delay)
        if state.slowdown > 1.0:
            return max(base, min(base * state.slowdown, s.max_host_delay))
        return base

    def set_crawl_delay(self, host: str, seconds: float) -> None:
        self._host(host).crawl_delay = max(0.0, min(seconds, self.settings.max_crawl_delay))

    def slow_down(self, host: str) -> float:
        """A 429/503 came back: widen this host's delay for the rest of the run; the new delay."""
        state = self._host(host)
        with state.cond:
            if self.delay(host) < self.settings.max_host_delay:
                state.slowdown *= self.settings.slowdown_factor
        return self.delay(host)

    def defer(self, host: str, seconds: float) -> None:
        """Make every request to host wait until seconds from now (Retry-After)."""
        state = self._host(host)
        with state.cond:
            state.deferred_until = max(state.deferred_until, self.settings.clock() + seconds)

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """Wait for our turn at host (in-flight limit, delay, deferral), then for a global slot."""
        s = self.settings
        state = self._host(host)
        with state.cond:
            # First come, first served: a worker going from page to page must not starve
            # another worker waiting for the same host.
            state.tickets += 1
            ticket = state.tickets
            state.queue.append(ticket)
            try:
                while state.queue[0] != ticket or state.in_flight >= max(1, s.per_host_concurrency):
                    state.cond.wait()
            except BaseException:  # interrupted while waiting: give up our place in the queue
                state.queue.remove(ticket)
                state.cond.notify_all()
                raise
            state.queue.popleft()
            state.in_flight += 1
            state.cond.notify_all()
            start = max(s.clock(), state.next_start)
            state.next_start = start + self.delay(host)  # spaces concurrent starts, if allowed
        try:
            while True:
                with state.cond:
                    target = max(start, state.deferred_until)
                wait = target - s.clock()
                if wait <= 0:
                    break
                if wait > s.max_retry_wait:
                    raise HostDeferred(
                        f"{host} asked us to wait {wait:.0f} s, more than the"
                        f" {s.max_retry_wait:.0f} s we wait; try again later"
                    )
                s.sleep(wait)
            with self._global:
                if self.shared is None:
                    yield
                else:
                    with self.shared(host, lambda: self.delay(host)):
                        yield
        finally:
            with state.cond:
                state.in_flight -= 1
                # The delay runs from the end of this response to the start of the next.
                state.next_start = max(state.next_start, s.clock() + self.delay(host))
                state.cond.notify_all()
