"""A total time limit per response, headers included: every socket read and write of a request
waits at most until the request's deadline, so a server dripping bytes cannot hold us forever."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterable

import httpcore
import httpx

SocketOption = tuple[int, int, int | bytes] | tuple[int, int, None, int]


class Deadlines:
    """The deadline of the request in progress on each thread (time.monotonic() seconds)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def set(self, seconds: float) -> None:
        self._local.at = time.monotonic() + seconds

    def clear(self) -> None:
        self._local.at = None

    def bound(self, timeout: float | None, error: type[Exception]) -> float | None:
        """timeout cut to what is left before the deadline; error once nothing is left."""
        at = getattr(self._local, "at", None)
        if at is None:
            return timeout
        left = at - time.monotonic()
        if left <= 0:
            raise error("the response's total time limit was reached")
        return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadlines: Deadlines) -> None:
        self._inner = inner
        self._deadlines = deadlines

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadlines.bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadlines.bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = self._deadlines.bound(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, bounded),
                       self._deadlines)

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend, deadlines: Deadlines) -> None:
        self._inner = inner
        self._deadlines = deadlines

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = self._deadlines.bound(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, bounded, local_address, socket_options)
        return _Stream(stream, self._deadlines)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = self._deadlines.bound(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, bounded, socket_options),
                       self._deadlines)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _install(transport: object, deadlines: Deadlines) -> bool:
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(backend, httpcore.NetworkBackend):
        return False
    pool._network_backend = _Backend(backend, deadlines)  # type: ignore[union-attr]
    return True


def install(client: httpx.Client, deadlines: Deadlines) -> bool:
    """Put the deadline under every connection pool of client: its default transport and the
    proxy transports httpx mounted from the environment. httpx 0.28 has no public way to give a
    pool a network backend, so this reaches for the pools'; False if one is not there
    (tests/test_fetch_retry.py then fails, rather than the limit silently not applying)."""
    mounts = getattr(client, "_mounts", {})
    transports = [getattr(client, "_transport", None), *mounts.values()]
    found = [t for t in transports if isinstance(t, httpx.HTTPTransport)]
    return bool(found) and all(_install(t, deadlines) for t in found)
