"""Per-host politeness across processes and machines, through the database (PostgreSQL): a host's
row in host_turn says when the next request to it may start (next_allowed_at, on the database's
clock). A worker takes the host's turn by moving that time past the longest its request can last
(a lease, in one atomic UPDATE that only succeeds once the time has come), makes the request, then
sets it to the end of the answer plus the host's delay. One request in flight per host, every
worker together; a worker that dies mid-request leaves its lease, so no other worker asks the host
again before that request could have ended, plus the delay."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("archiver.store.hosts")

_ENSURE = text("INSERT INTO host_turn (key, requests) VALUES (:key, 0) ON CONFLICT DO NOTHING")
# the turn, if its time has come: the lease is taken and nothing else is returned; else the
# seconds left to wait
_TAKE = text(
    "WITH here AS (SELECT key, next_allowed_at, clock_timestamp() AS now FROM host_turn"
    " WHERE key = :key FOR UPDATE),"
    " taken AS (UPDATE host_turn t SET next_allowed_at = here.now + make_interval(secs => :lease)"
    " FROM here WHERE t.key = here.key AND (here.next_allowed_at IS NULL"
    " OR here.next_allowed_at <= here.now) RETURNING t.key)"
    " SELECT (SELECT count(*) FROM taken) AS taken,"
    " (SELECT EXTRACT(EPOCH FROM (next_allowed_at - now)) FROM here) AS wait")
_DONE = text("UPDATE host_turn SET next_allowed_at = clock_timestamp() + make_interval(secs =>"
             " :delay), requests = requests + 1 WHERE key = :key")


class HostTurns:
    """Hands out a host's turn across every process on one PostgreSQL database."""

    def __init__(self, engine: Engine, *, sleep: Callable[[float], None], lease: float,
                 poll: float = 0.05) -> None:
        """lease: the longest one request can last (connect + total timeouts), seconds; poll:
        how long to wait before asking again when the database cannot say how long."""
        self.engine = engine
        self.sleep = sleep
        self.lease = lease
        self.poll = poll
        self._known: set[str] = set()

    def _ensure(self, key: str) -> None:
        if key not in self._known:
            with self.engine.begin() as conn:
                conn.execute(_ENSURE, {"key": key})
            self._known.add(key)

    def _take(self, key: str) -> None:
        """Wait until key's next_allowed_at has passed, then take its lease."""
        self._ensure(key)
        while True:
            with self.engine.begin() as conn:
                row = conn.execute(_TAKE, {"key": key, "lease": self.lease}).one()
            if row.taken:
                return
            wait = float(row.wait) if row.wait is not None else self.poll
            if wait > self.lease / 2:  # a request in flight (its lease): ask again shortly
                wait = self.poll
            self.sleep(min(max(wait, 0.001), 5.0))

    @contextmanager
    def turn(self, key: str, delay: Callable[[], float]) -> Iterator[None]:
        """Hold key's turn for the body of the with; then the next may start delay() later."""
        self._take(key)
        try:
            yield
        finally:
            try:
                with self.engine.begin() as conn:
                    conn.execute(_DONE, {"key": key, "delay": float(delay())})
            except SQLAlchemyError as exc:  # the lease stands: the host waits it out
                log.warning("could not record the turn of %s: %s", key, exc)
