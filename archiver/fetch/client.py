"""The HTTP client: polite, patient GETs that return every exchange exactly as received."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urldefrag, urljoin

import httpx
import tenacity

from archiver.errors import ConfigError, FetchError
from archiver.fetch.charset import choose_encoding
from archiver.fetch.deadline import Deadlines
from archiver.fetch.deadline import install as install_deadline
from archiver.fetch.guard import AddressPolicy, Guard, Resolver, parse_networks, system_resolver
from archiver.fetch.guard import install as install_guard
from archiver.fetch.limits import LimitExceeded, check_url, decode_body
from archiver.fetch.oauth import OAuth, redact, token_poster
from archiver.fetch.politeness import Politeness, SharedTurn, host_key
from archiver.fetch.result import FetchResult
from archiver.fetch.retry import (
    RETRY_STATUSES,
    SLOWDOWN_STATUSES,
    RetryPolicy,
    Transient,
    describe_failure,
    parse_retry_after,
)
from archiver.fetch.retry import unknown_host as _unknown_host
from archiver.fetch.robots import RobotsCache, RobotsRules
from archiver.fetch.settings import (
    DEFAULT_USER_AGENT,
    FetchSettings,
    map_origin,
    parse_origin_map,
    restore_origin,
    restoring,
)
from archiver.urls import as_sent

__all__ = ["DEFAULT_USER_AGENT", "FetchResult", "FetchSettings", "Fetcher", "decode_body"]

log = logging.getLogger("archiver.fetch")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ROBOTS_MAX_REDIRECTS = 5  # RFC 9309 2.3.1.2
Record = Callable[[FetchResult], None]
RetryCallback = Callable[[int, int, float, str], None]  # next attempt, of how many, wait, why


@dataclass(slots=True)
class _Budget:
    """The time one fetch() may take across its attempts: seconds spent in exchanges and in
    the waits between attempts (not in waiting for the host's turn)."""

    limit: float
    spent: float = 0.0
    exhausted: bool = False

    @property
    def left(self) -> float:
        return self.limit - self.spent


def _attempts(n: int) -> str:
    return f"{n} attempt" if n == 1 else f"{n} attempts"


def _pairs(raw: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]


class Fetcher:
    """A polite HTTP client. Thread-safe: per-host slots and delay, retries, robots.txt."""

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        on_retry: RetryCallback | None = None,
        resolver: Resolver = system_resolver,
        shared_turn: SharedTurn | None = None,
        public_only: bool = False,
    ) -> None:
        """on_retry(attempt, max_attempts, wait, reason) is called before each wait for another
        attempt; resolver (host, port) -> addresses is the DNS lookup (injectable for tests);
        shared_turn: each host's turn taken across processes too (store/hosts.py, workers);
        public_only: connect to public addresses only (fetch.public_networks count as public),
        whatever the URL asked for (the web form's archives)."""
        self.settings = s = settings or FetchSettings()
        self.on_retry = on_retry
        try:
            networks = parse_networks(s.public_networks)
        except ValueError as exc:
            raise ConfigError(f"fetch.public_networks: {exc}") from None
        try:
            self.origin_map = parse_origin_map(s.origin_map)
        except ValueError as exc:
            raise ConfigError(f"fetch.origin_map: {exc}") from None
        self.guard = Guard(AddressPolicy(networks), resolver, public_only=public_only)
        self._client = httpx.Client(
            headers={
                "User-Agent": s.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                "Accept-Encoding": "gzip, deflate",
            },
            timeout=httpx.Timeout(s.read_timeout, connect=s.connect_timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=max(1, s.max_concurrency)),
        )  # no transport of ours: httpx then honours HTTP(S)_PROXY / ALL_PROXY / NO_PROXY
        self.private_guard_installed = install_guard(self._client, self.guard)
        self._deadlines = Deadlines()
        self.total_timeout_enforced = install_deadline(self._client, self._deadlines)
        self.politeness = Politeness(s, shared_turn)
        self.oauth = OAuth(s.oauth_apps, clock=s.clock)  # bearer tokens (Reddit's API)
        self._post_token = token_poster(self._client, lambda u: map_origin(u, self.origin_map))
        self._retry = RetryPolicy(s)
        self.robots = RobotsCache(s, self._fetch_robots, on_rules=self._apply_robots_rates)
        self._local = threading.local()  # record_robots of the fetch in progress
        if not s.respect_robots:
            log.info("robots.txt will be ignored (--ignore-robots): for a site's own owner only")

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public -----------------------------------------------------------------------------

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        record: Record | None = None,
        record_robots: Record | None = None,
        accept: str | None = None,
        max_body: int | None = None,
    ) -> FetchResult:
        """GET url, following redirects; every complete exchange goes to record first: the
        page's, its retries' and redirect hops', and one whose body could not be decoded
        (before the error is raised). A robots.txt read on the way goes to record_robots.
        accept: an Accept header in place of the HTML one (a JSON API's request).
        max_body: a smaller cap on the raw body than the settings' (a picture's size limit).

        Returns the final exchange for any non-retryable status (200, 304, 404...). Raises
        RobotsDisallowed, or FetchError when retries run out, the URL's time budget is spent
        or a limit is broken (PrivateAddressRefused: led from a public address to a private one).
        """
        self.oauth.check(url)  # an API that needs credentials we lack: one line, before any I/O
        asked = url
        url, pairs = map_origin(url, self.origin_map), self.origin_map  # a stand-in's address
        record, record_robots = restoring(record, pairs), restoring(record_robots, pairs)
        check_url(url)
        headers: dict[str, str] = {"Accept": accept} if accept else {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        outer = getattr(self._local, "record_robots", None), getattr(self._local, "max_body", None)
        self._local.record_robots, self._local.max_body = record_robots, max_body
        try:
            with self._budget(), self.guard.fetch(url):
                bearer = self.oauth.header(asked, self._post_token)
                result = self._follow(url, {**headers, **bearer}, record,
                                      check_robots=self.settings.respect_robots,
                                      max_redirects=self.settings.max_redirects)
                if result.status == 401 and bearer:  # the token expired or was revoked
                    self.oauth.forget(asked)  # once more with a new one
                    bearer = self.oauth.header(asked, self._post_token)
                    result = self._follow(url, {**headers, **bearer}, record, check_robots=False,
                                          max_redirects=self.settings.max_redirects)
                return restore_origin(result, pairs)
        finally:
            self._local.record_robots, self._local.max_body = outer

    @contextmanager
    def _budget(self) -> Iterator[_Budget]:
        """The time budget of the fetch in progress on this thread (a new one if none is)."""
        outer: _Budget | None = getattr(self._local, "budget", None)
        if outer is not None:
            yield outer
            return
        self._local.budget = budget = _Budget(self.settings.url_budget)
        try:
            yield budget
        finally:
            self._local.budget = None

    # -- redirects --------------------------------------------------------------------------

    def _follow(
        self,
        url: str,
        headers: dict[str, str],
        record: Record | None,
        *,
        check_robots: bool,
        max_redirects: int,
    ) -> FetchResult:
        chain: list[str] = []
        current = url
        while True:
            self.guard.hop(current)  # before robots.txt: nothing is asked of a refused host
            if check_robots:
                self.robots.check(current)
                self.guard.at(current)
            # The caller stored its validators from the final response of this chain, so they
            # go with every hop: a thread behind a permanent redirect can still answer 304.
            result = self._with_retries(current, headers, record, url, chain)
            if result.redirect_to is None:
                return result
            chain.append(current)
            target = result.redirect_to
            if target in chain:
                loop = " -> ".join([*chain, target])
                raise LimitExceeded(f"redirect loop: {loop}", url=url, status=result.status)
            if len(chain) > max_redirects:
                raise LimitExceeded(
                    f"more than {max_redirects} redirects from {url} (last to {target})",
                    url=url,
                    status=result.status,
                )
            try:
                check_url(target)
            except LimitExceeded as exc:
                raise LimitExceeded(
                    f"{current} redirects to a non-http(s) URL: {target}",
                    url=url,
                    status=result.status,
                ) from exc
            if host_key(target) != host_key(current):  # a token is for its own host only
                headers = {k: v for k, v in headers.items() if k != "Authorization"}
            current = target

    # -- retries ----------------------------------------------------------------------------

    def _with_retries(
        self,
        url: str,
        headers: dict[str, str],
        record: Record | None,
        requested: str,
        chain: list[str],
    ) -> FetchResult:
        with self._budget() as budget:
            return self._retrying(url, headers, record, requested, chain, budget)

    def _retrying(
        self,
        url: str,
        headers: dict[str, str],
        record: Record | None,
        requested: str,
        chain: list[str],
        budget: _Budget,
    ) -> FetchResult:
        s = self.settings
        budget.exhausted = False  # (a robots.txt read on the way may have run into it)
        if budget.left <= 0:
            raise FetchError(
                f"gave up on {url} before asking: its {budget.limit:g} s budget was spent on"
                f" the requests before it (robots.txt, redirects; {budget.spent:.1f} s)",
                url=url,
            )

        def stop(state: tenacity.RetryCallState) -> bool:
            if self._retry.stop(state):
                return True
            if budget.spent + float(getattr(state, "upcoming_sleep", 0.0)) >= budget.limit:
                budget.exhausted = True
                return True
            return False

        def before_sleep(state: tenacity.RetryCallState) -> None:
            wait = state.next_action.sleep if state.next_action is not None else 0.0
            budget.spent += wait
            self._before_sleep(state, wait)

        retrying = tenacity.Retrying(
            retry=self._retry.should_retry,
            wait=self._retry.wait,
            stop=stop,
            sleep=s.sleep,
            before_sleep=before_sleep,
            reraise=False,
        )
        try:
            for attempt in retrying:
                with attempt:
                    number = attempt.retry_state.attempt_number
                    try:
                        result = self._attempt(
                            url, headers, number, requested, list(chain), budget
                        )
                    except FetchError as exc:
                        if record is not None and isinstance(exc.exchange, FetchResult):
                            record(exc.exchange)  # the bytes as received, though undecodable
                        raise
                    if record is not None:
                        record(result)
                if not attempt.retry_state.outcome.failed:  # type: ignore[union-attr]
                    attempt.retry_state.set_result(result)
        except tenacity.RetryError as err:
            last = err.last_attempt
            n = last.attempt_number
            gave_up = f"gave up on {url} after {n} attempts"
            if budget.exhausted:
                gave_up = (f"gave up on {url} after {budget.spent:.1f} s"
                           f" (budget {budget.limit:g} s, {_attempts(n)})")
            if last.failed:
                exc = last.exception()
                raise FetchError(
                    f"{gave_up}: {exc}",
                    url=url,
                    status=getattr(exc, "status", None),
                ) from exc
            bad: FetchResult = last.result()
            why = f"HTTP {bad.status} {bad.reason}".rstrip()
            asked = bad.header("Retry-After")
            if n < s.max_attempts and asked and not budget.exhausted:
                why += f" (Retry-After {asked!r} is beyond our {s.max_retry_wait:.0f} s limit)"
            raise FetchError(f"{gave_up}: {why}", url=url, status=bad.status) from None
        return result

    def _before_sleep(self, state: tenacity.RetryCallState, wait: float) -> None:
        outcome = state.outcome
        if outcome is None:
            what = "?"
        elif outcome.failed:
            what = str(outcome.exception())
        else:
            failed: FetchResult = outcome.result()
            what = f"HTTP {failed.status} {failed.reason}".rstrip()
        upcoming, total = state.attempt_number + 1, self.settings.max_attempts
        log.info("attempt %d of %d in %.1f s: %s", upcoming, total, wait, what)
        if self.on_retry is not None:
            self.on_retry(upcoming, total, wait, what)

    def _attempt(
        self,
        url: str,
        headers: dict[str, str],
        number: int,
        requested: str,
        chain: list[str],
        budget: _Budget,
    ) -> FetchResult:
        """One request in this host's slot; classify the outcome for retries and redirects."""
        host = host_key(url)
        with self.politeness.slot(host):
            started = time.monotonic()
            try:
                result = self._exchange(url, headers, number, budget.left)
            finally:
                budget.spent += time.monotonic() - started
        result.requested_url = requested
        result.redirects = chain
        if result.status in SLOWDOWN_STATUSES:
            delay = self.politeness.slow_down(host)
            log.info("%s answered %d: delay for %s is now %.1f s", url, result.status, host, delay)
        asked = parse_retry_after(result.header("Retry-After"))
        if asked is not None and result.status in SLOWDOWN_STATUSES:
            # The whole host waits; past max_retry_wait its URLs fail fast (HostDeferred) and
            # are tried again on a later run. A day at most, whatever the server says.
            self.politeness.defer(host, min(asked, max(self.settings.max_retry_wait, 86400.0)))
        if result.status in RETRY_STATUSES:
            result.final = False
        elif result.status in REDIRECT_STATUSES:
            location = result.header("Location")
            if location:
                result.redirect_to = urldefrag(urljoin(url, location.strip()))[0]
                result.final = False
        return result

    # -- one exchange -----------------------------------------------------------------------

    def _exchange(
        self, url: str, headers: dict[str, str], attempt: int, budget_left: float
    ) -> FetchResult:
        """One GET, body streamed raw under the size and time limits (the response's, or what is
        left of the URL's budget if less). Raises Transient."""
        s = self.settings
        max_body = min(s.max_body, getattr(self._local, "max_body", None) or s.max_body)
        url = as_sent(url)  # the exchange's URL as httpx sends it: no #fragment, http:// not HTTP://
        limit = min(s.total_timeout, max(budget_left, 0.001))
        too_long = (
            f"response took longer than {s.total_timeout:g} s"
            if limit >= s.total_timeout
            else f"response cut when the URL's {s.url_budget:g} s budget ran out"
        )
        started = time.monotonic()
        fetched_at = datetime.now(UTC).replace(tzinfo=None)
        received = 0
        status: int | None = None
        self._deadlines.set(limit)  # headers and body, whatever the server's pace
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                length = response.headers.get("content-length", "")
                if length.isdecimal() and (len(length) > 18 or int(length) > max_body):
                    raise LimitExceeded(
                        f"{url}: Content-Length {length[:20]} exceeds the {max_body} byte limit",
                        url=url,
                        status=status,
                    )
                chunks: list[bytes] = []
                for chunk in response.iter_raw():
                    received += len(chunk)
                    if received > max_body:
                        raise LimitExceeded(
                            f"{url}: body exceeds the {max_body} byte limit",
                            url=url,
                            status=status,
                        )
                    if time.monotonic() - started > limit:
                        raise Transient(f"{too_long} ({received} body bytes so far)", url=url)
                    chunks.append(chunk)
                raw = b"".join(chunks)
                req_headers = redact(_pairs(response.request.headers.raw))  # no credentials
                resp_headers = _pairs(response.headers.raw)
                reason = response.reason_phrase
                http_version = response.http_version
        except httpx.UnsupportedProtocol as exc:
            self._log_failure(url, attempt, started, str(exc))
            raise LimitExceeded(f"not an http(s) URL: {url}", url=url) from exc
        except httpx.HTTPError as exc:
            why = describe_failure(exc, url, received)
            if time.monotonic() - started >= limit:
                why = f"{too_long} ({received} body bytes so far)"
            self._log_failure(url, attempt, started, why)
            if _unknown_host(exc):  # a name that does not resolve will not resolve in a minute
                raise FetchError(f"unknown host {host_key(url)} ({exc})", url=url) from exc
            raise Transient(why, url=url) from exc
        except FetchError as exc:
            self._log_failure(url, attempt, started, str(exc))
            raise
        finally:
            self._deadlines.clear()
        elapsed_ms = int((time.monotonic() - started) * 1000)
        encoding_header = next(
            (v for k, v in resp_headers if k.lower() == "content-encoding"), None
        )
        try:
            body = decode_body(
                raw,
                encoding_header,
                max_decoded=s.max_decoded_body,
                max_ratio=s.max_ratio,
                ratio_floor=s.ratio_floor,
                url=url,
            )
        except LimitExceeded as exc:
            exc.status = status
            exc.exchange = FetchResult(
                url=url, method="GET", status=status, reason=reason, http_version=http_version,
                request_headers=req_headers, headers=resp_headers, raw_body=raw, body=b"",
                fetched_at=fetched_at, elapsed_ms=int((time.monotonic() - started) * 1000),
                attempt=attempt, decode_error=str(exc),
            )
            self._log_failure(url, attempt, started, str(exc))
            raise
        content_type = next((v for k, v in resp_headers if k.lower() == "content-type"), None)
        log.info("GET %s %d %d B %d ms attempt %d", url, status, len(raw), elapsed_ms, attempt)
        return FetchResult(
            url=url,
            method="GET",
            status=status,
            reason=reason,
            http_version=http_version,
            request_headers=req_headers,
            headers=resp_headers,
            raw_body=raw,
            body=body,
            fetched_at=fetched_at,
            elapsed_ms=elapsed_ms,
            attempt=attempt,
            encoding=choose_encoding(body, content_type),
        )

    @staticmethod
    def _log_failure(url: str, attempt: int, started: float, why: str) -> None:
        ms = int((time.monotonic() - started) * 1000)
        log.info("GET %s failed after %d ms attempt %d: %s", url, ms, attempt, why)

    # -- robots.txt -------------------------------------------------------------------------

    def _fetch_robots(self, url: str) -> FetchResult:
        record: Record | None = getattr(self._local, "record_robots", None)
        return self._follow(
            url, {}, record, check_robots=False, max_redirects=ROBOTS_MAX_REDIRECTS
        )

    def _apply_robots_rates(self, url: str, rules: RobotsRules) -> None:
        if rules.parser is None:
            self.politeness.set_crawl_delay(host_key(url), 0.0)
            return
        token = self.settings.robots_token
        delay = rules.parser.crawl_delay(token)
        rate = rules.parser.request_rate(token)
        if rate is not None and rate.requests:
            delay = max(delay or 0.0, rate.seconds / rate.requests)
        self.politeness.set_crawl_delay(host_key(url), float(delay or 0.0))
