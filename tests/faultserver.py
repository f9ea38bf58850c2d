"""A fault-injecting HTTP/1.1 server on 127.0.0.1 for fetcher tests, with its own request log.

Raw sockets, so a route can misbehave as real servers do: reset mid-body, send less than its
Content-Length, stall, drip, send gzip bombs, redirect in circles. Each route is a list of
responses played in turn (the last one repeats) or a function of the request.
"""

from __future__ import annotations

import gzip
import json
import socket
import socketserver
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path


class FakeClock:
    """A monotonic clock that only moves when someone sleeps on it. Thread-safe."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if seconds > 0:
                self._now += seconds


@dataclass
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]  # lowercased names
    at: float  # server clock when the request head had arrived
    real_at: float  # time.monotonic() at the same moment
    done_at: float | None = None  # server clock when the server had finished answering
    real_done_at: float | None = None
    status: int | None = None
    kind: str = ""
    # just before the server began its last write of the response (server clock, real clock):
    # the client cannot have the whole response before then, whatever the load on the machine
    last_write_at: float | None = None
    real_last_write_at: float | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


# -- responses -------------------------------------------------------------------------------


@dataclass
class Reply:
    """A well-formed response. body may be bytes or an iterable of chunks (then length given
    or chunked transfer coding used)."""

    status: int = 200
    body: bytes | Callable[[], Iterable[bytes]] = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    length: int | None = None  # for an iterable body: Content-Length to declare
    chunked: bool = False
    reason: str | None = None


@dataclass
class Reset:
    """Headers announcing the whole body, then `after` bytes of it, then a TCP reset."""

    body: bytes
    after: int
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Short:
    """Headers announcing len(body)+missing bytes, all of body, then a clean close."""

    body: bytes
    missing: int
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Stall:
    """Headers and `sent` bytes of the body, then silence until the server stops."""

    body: bytes
    sent: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Drip:
    """A chunked body sent one piece every `interval` real seconds."""

    pieces: list[bytes]
    interval: float
    headers: list[tuple[str, str]] = field(default_factory=list)


Response = Reply | Reset | Short | Stall | Drip
Handler = Callable[[Request], Response]


def gzip_bomb(decoded_size: int) -> bytes:
    """A gzip stream of decoded_size zero bytes (about 1000:1), built without holding it all."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    out = []
    left = decoded_size
    while left > 0:
        n = min(left, len(block))
        out.append(comp.compress(block[:n]))
        left -= n
    out.append(comp.flush())
    return b"".join(out)


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


# -- the server ------------------------------------------------------------------------------


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: FaultServer


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        owner = self.server.owner
        sock: socket.socket = self.request
        sock.settimeout(10)
        buf = b""
        while not owner.stopping.is_set():
            while b"\r\n\r\n" not in buf:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buf += data
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            try:
                method, target, _version = lines[0].split(" ", 2)
            except ValueError:
                return
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            while len(buf) < length:
                data = sock.recv(65536)
                if not data:
                    return
                buf += data
            buf = buf[length:]
            request = Request(method, target, headers, owner.clock(), time.monotonic())
            with owner.lock:
                owner.log.append(request)
                owner.in_flight += 1
                owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
            keep = False
            try:
                response = owner.respond(request)
                request.status = getattr(response, "status", 200)
                request.kind = type(response).__name__
                keep = owner.send(sock, method, response, request)
            except OSError:
                keep = False
            finally:
                request.done_at = owner.clock()
                request.real_done_at = time.monotonic()
                with owner.lock:
                    owner.in_flight -= 1
            if not keep or headers.get("connection", "").lower() == "close":
                return


class FaultServer:
    """Serves routes on 127.0.0.1:<free port> in threads (or on another loopback address, e.g.
    127.0.0.2 standing for a public host). Use as a context manager."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.clock = clock
        self.routes: dict[str, Handler | list[Response]] = {}
        self.log: list[Request] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.in_flight = 0
        self.max_in_flight = 0
        self._counts: dict[str, int] = {}
        self._server = _TCPServer((host, port), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self.base_url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- configuration ---------------------------------------------------------------------

    def route(self, path: str, *responses: Response | Handler) -> None:
        """Answer path with responses in turn (the last repeats), or with a handler."""
        if len(responses) == 1 and callable(responses[0]):
            self.routes[path] = responses[0]  # type: ignore[assignment]
        else:
            self.routes[path] = list(responses)  # type: ignore[arg-type]

    def robots(self, text: str, status: int = 200) -> None:
        self.route("/robots.txt", Reply(status, text.encode(), [("Content-Type", "text/plain")]))

    def serve_fixture(self, fixture_dir: Path, *, etag: bool = True) -> dict[str, str]:
        """Serve a fixture's routes.json, its origin rewritten to ours; answers conditional
        requests with 304 when the validators match. Returns {path: url}."""
        spec = json.loads((fixture_dir / "routes.json").read_text())
        origin = spec["origin"]
        urls = {}
        for path, file in spec["routes"].items():
            raw = (fixture_dir / file).read_bytes()
            body = raw.replace(origin.encode(), self.base_url.encode())
            self.route(path, static_page(body, etag=etag))
            urls[path] = self.url(path)
        return urls

    def requests(self, path: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.log if path is None or r.path == path]

    def respond(self, request: Request) -> Response:
        path = request.path
        route = self.routes.get(path)
        if route is None:
            return Reply(404, b"not found\n", [("Content-Type", "text/plain")])
        if callable(route):
            return route(request)
        with self.lock:
            n = self._counts.get(path, 0)
            self._counts[path] = n + 1
        return route[min(n, len(route) - 1)]

    # -- sending ---------------------------------------------------------------------------

    @staticmethod
    def _head(status: int, headers: list[tuple[str, str]], reason: str | None = None) -> bytes:
        if reason is None:
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = "Unknown"
        lines = [f"HTTP/1.1 {status} {reason}"]
        names = {k.lower() for k, _ in headers}
        if "date" not in names:
            lines.append(f"Date: {formatdate(usegmt=True)}")
        lines += [f"{k}: {v}" for k, v in headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _write(self, sock: socket.socket, data: bytes, request: Request | None) -> None:
        if request is not None:
            request.last_write_at = self.clock()
            request.real_last_write_at = time.monotonic()
        sock.sendall(data)

    def send(
        self, sock: socket.socket, method: str, response: Response, request: Request | None = None
    ) -> bool:
        """Write response; True if the connection may be reused. Each write is stamped on
        request (last_write_at) before it starts."""
        if isinstance(response, Reply):
            return self._send_reply(sock, method, response, request)
        if isinstance(response, Reset):
            hdrs = [*response.headers, ("Content-Length", str(len(response.body)))]
            self._write(sock, self._head(200, hdrs) + response.body[: response.after], request)
            time.sleep(0.05)  # let the bytes leave before the reset
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            return False
        if isinstance(response, Short):
            declared = len(response.body) + response.missing
            hdrs = [*response.headers, ("Content-Length", str(declared))]
            self._write(sock, self._head(200, hdrs) + response.body, request)
            sock.shutdown(socket.SHUT_WR)
            return False
        if isinstance(response, Stall):
            hdrs = [*response.headers, ("Content-Length", str(len(response.body)))]
            self._write(sock, self._head(200, hdrs) + response.body[: response.sent], request)
            self.stopping.wait(30)
            return False
        if isinstance(response, Drip):
            hdrs = [*response.headers, ("Transfer-Encoding", "chunked")]
            self._write(sock, self._head(200, hdrs), request)
            for piece in response.pieces:
                if self.stopping.wait(response.interval):
                    return False
                self._write(sock, b"%x\r\n%s\r\n" % (len(piece), piece), request)
            self._write(sock, b"0\r\n\r\n", request)
            return True
        raise TypeError(response)

    def _send_reply(
        self, sock: socket.socket, method: str, r: Reply, request: Request | None = None
    ) -> bool:
        headers = list(r.headers)
        names = {k.lower() for k, _ in headers}
        no_body = method == "HEAD" or r.status in (204, 304) or 100 <= r.status < 200
        if isinstance(r.body, bytes):
            if "content-length" not in names and not r.chunked and r.status not in (204, 304):
                headers.append(("Content-Length", str(len(r.body))))
            chunks: Iterable[bytes] = [r.body]
        else:
            chunks = r.body()
            if r.length is not None and "content-length" not in names:
                headers.append(("Content-Length", str(r.length)))
        chunked = r.chunked or (not isinstance(r.body, bytes) and r.length is None)
        if chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        self._write(sock, self._head(r.status, headers, r.reason), request)
        if no_body:
            return True
        for chunk in chunks:
            if not chunk:
                continue
            if chunked:
                self._write(sock, b"%x\r\n%s\r\n" % (len(chunk), chunk), request)
            else:
                self._write(sock, chunk, request)
        if chunked:
            self._write(sock, b"0\r\n\r\n", request)
        return True


def static_page(
    body: bytes,
    *,
    etag: bool = True,
    content_type: str = "text/html; charset=utf-8",
    last_modified: str = "Fri, 08 Jun 2018 12:00:00 GMT",
) -> Handler:
    """A page with an ETag and Last-Modified that answers 304 to a matching conditional GET."""
    tag = f'"{zlib.crc32(body):08x}"'

    def handler(request: Request) -> Response:
        validators = [("Last-Modified", last_modified)]
        if etag:
            validators.append(("ETag", tag))
        inm = request.header("If-None-Match")
        ims = request.header("If-Modified-Since")
        if (etag and inm is not None and tag in [t.strip() for t in inm.split(",")]) or (
            inm is None and ims == last_modified
        ):
            return Reply(304, b"", validators)
        return Reply(200, body, [("Content-Type", content_type), *validators])

    return handler


def zeros(total: int, chunk: int = 1024 * 1024) -> Callable[[], Iterator[bytes]]:
    """A body of total zero bytes produced in chunks (for size-limit tests)."""

    def gen() -> Iterator[bytes]:
        block = bytes(chunk)
        left = total
        while left > 0:
            n = min(chunk, left)
            yield block[:n]
            left -= n

    return gen
