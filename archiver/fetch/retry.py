"""When and how long to retry: transient errors, retryable statuses, Retry-After, backoff; a
transport failure told in a few words."""

from __future__ import annotations

import random
import socket
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
import tenacity

from archiver.errors import FetchError
from archiver.fetch.politeness import host_key
from archiver.fetch.settings import FetchSettings

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
SLOWDOWN_STATUSES = frozenset({429, 503})


class Transient(FetchError):
    """A network failure worth another try: refused, reset, cut short, timed out."""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or an HTTP-date); None if bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdecimal():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


class RetryPolicy:
    """tenacity callables for one Fetcher: retry predicate, wait (backoff or Retry-After), stop."""

    def __init__(self, settings: FetchSettings) -> None:
        self.settings = settings
        self._random = random.Random()

    def backoff(self, attempt: int) -> float:
        """Exponential backoff after the attempt-th try: base, 2*base, 4*base... plus up to
        half a base of jitter, so that clients that failed together do not retry together."""
        base = self.settings.backoff_base
        wait = base * 2 ** min(attempt - 1, 30) + self._random.uniform(0, base / 2)
        return min(wait, self.settings.max_retry_wait)

    @staticmethod
    def retry_after(state: tenacity.RetryCallState) -> float | None:
        """The Retry-After the last response asked for, in seconds."""
        outcome = state.outcome
        if outcome is None or outcome.failed:
            return None
        result = outcome.result()
        return parse_retry_after(result.header("Retry-After"))

    def should_retry(self, state: tenacity.RetryCallState) -> bool:
        outcome = state.outcome
        if outcome is None:
            return False
        if outcome.failed:
            return isinstance(outcome.exception(), Transient)
        return outcome.result().status in RETRY_STATUSES

    def wait(self, state: tenacity.RetryCallState) -> float:
        backoff = self.backoff(state.attempt_number)
        asked = self.retry_after(state) or 0.0
        return min(self.settings.max_retry_wait, max(backoff, asked))

    def stop(self, state: tenacity.RetryCallState) -> bool:
        if state.attempt_number >= self.settings.max_attempts:
            return True
        asked = self.retry_after(state)
        return asked is not None and asked > self.settings.max_retry_wait


def unknown_host(exc: BaseException) -> bool:
    """Whether a connect failure was the host name not resolving (EAI_NONAME, EAI_NODATA)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return seen.errno in NO_SUCH_NAME
        seen = seen.__cause__ or seen.__context__
    return False


NO_SUCH_NAME = {
    getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name)
}


def describe_failure(exc: httpx.HTTPError, url: str, received: int) -> str:
    """A short, readable reason for a transport failure."""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"timed out connecting to {host_key(url)}"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {host_key(url)}: {exc}"
    if isinstance(exc, httpx.ReadTimeout):
        return f"read timed out (server stalled after {received} body bytes)"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out: {exc}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"body cut short: {exc}" if received else f"protocol error: {exc}"
    if isinstance(exc, httpx.ReadError):
        return f"connection lost after {received} body bytes: {exc}"
    return f"{type(exc).__name__}: {exc}"
