"""Per-host politeness across processes and machines, through the database (PostgreSQL): a host's
row in host_turn is held FOR UPDATE for the length of each request to it (one in flight, every
worker together; a worker that dies drops its connection and with it the lock), and its
next_allowed_at, on the database's clock, spaces the requests by the host's delay."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("archiver.store.hosts")

_ENSURE = text("INSERT INTO host_turn (key, requests) VALUES (:key, 0) ON CONFLICT DO NOTHING")
_TAKE = text("SELECT EXTRACT(EPOCH FROM (next_allowed_at - clock_timestamp())) FROM host_turn"
             " WHERE key = :key FOR UPDATE SKIP LOCKED")
_BUSY = text("SELECT 1 FROM host_turn WHERE key = :key")
_DONE = text("UPDATE host_turn SET next_allowed_at = clock_timestamp() + make_interval(secs =>"
             " :delay), requests = requests + 1 WHERE key = :key")


class HostTurns:
    """Hands out a host's turn across every process on one PostgreSQL database."""

    def __init__(self, engine: Engine, *, sleep: Callable[[float], None],
                 poll: float = 0.05) -> None:
        """poll: how long to wait before asking again while another worker holds the host."""
        self.engine = engine
        self.sleep = sleep
        self.poll = poll
        self._known: set[str] = set()

    def _ensure(self, key: str) -> None:
        if key not in self._known:
            with self.engine.begin() as conn:
                conn.execute(_ENSURE, {"key": key})
            self._known.add(key)

    def _take(self, key: str) -> Connection:
        """A connection in a transaction holding key's row, once its next_allowed_at passed."""
        self._ensure(key)
        while True:
            conn = self.engine.connect()
            taken = False
            try:
                conn.begin()
                row = conn.execute(_TAKE, {"key": key}).first()
                if row is None:  # another worker's request to this host is in flight
                    wait = self.poll
                elif row[0] is not None and float(row[0]) > 0:
                    wait = float(row[0])
                else:
                    taken = True
                    return conn
            finally:
                if not taken:
                    conn.rollback()
                    conn.close()
            self.sleep(min(wait, 5.0))

    @contextmanager
    def turn(self, key: str, delay: Callable[[], float]) -> Iterator[None]:
        """Hold key's turn for the body of the with; then the next may start delay() later."""
        conn = self._take(key)
        try:
            yield
        finally:
            try:
                conn.execute(_DONE, {"key": key, "delay": float(delay())})
                conn.commit()
            except SQLAlchemyError as exc:  # the database went away: the lock went with it
                log.warning("could not record the turn of %s: %s", key, exc)
            finally:
                conn.close()
