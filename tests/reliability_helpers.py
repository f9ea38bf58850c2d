"""Helpers for the reliability tests (issues 10 and 11): fixture servers with ETags or on another
loopback address, a request gate that makes two clients collide, and readers of the store and of
the CLI's summary line."""

from __future__ import annotations

import re
import sqlite3
import threading
import zlib
from http.server import ThreadingHTTPServer
from pathlib import Path

from archiver.devserver import FixtureServer, Route, load_fixture
from tests.conftest import MOA, MOA_PATH

PAGED = MOA / "paged"
ONE_PAGE = MOA / "one-page"
THREAD_DIR = MOA_PATH.removesuffix(".html")
PAGE2 = f"{THREAD_DIR}/comments/page/2/"
PAGE3 = f"{THREAD_DIR}/comments/page/3/"
PAGE_COMMENTS = {MOA_PATH: 15, PAGE2: 15, PAGE3: 10}  # the paged MoA fixture
ROBOTS = Route(b"User-agent: *\nDisallow:\n", content_type="text/plain")


def etag_of(body: bytes) -> str:
    return f'"{zlib.crc32(body):08x}"'


def fixture_server(folder: Path, *, etags: bool = True, host: str = "127.0.0.1",
                   gate: Gate | None = None) -> FixtureServer:
    """A started FixtureServer for a fixture folder on host (any loopback address), every
    route with an ETag (the devserver answers 304 to a matching If-None-Match) if asked, and
    robots.txt allowing everything; gate, if given, holds requests for its path."""
    origin, routes = load_fixture(folder)
    if etags:
        for route in routes.values():
            route.headers["ETag"] = etag_of(route.body)
    routes["/robots.txt"] = ROBOTS
    server = FixtureServer(routes, origin=origin)
    if host != "127.0.0.1":  # the devserver binds 127.0.0.1: bind its handler elsewhere
        server._httpd.server_close()
        server._httpd = ThreadingHTTPServer((host, 0), server._httpd.RequestHandlerClass)
        server._httpd.daemon_threads = True
        server._thread = threading.Thread(target=server._httpd.serve_forever, daemon=True)
    if gate is not None:
        gate.install(server)
    return server.start()


def set_body(server: FixtureServer, path: str, body: bytes, *, status: int = 200,
             etag: bool = True) -> None:
    """Serve body at path from now on (the server still rewrites its origin in it)."""
    headers = {"ETag": etag_of(body)} if etag else {}
    with server._lock:
        server.routes[path] = Route(body=body, status=status, headers=headers)


def requested(server: FixtureServer, since: int = 0) -> list[str]:
    """Paths the server was asked for (robots.txt left out), from request number since on."""
    return [p for _, p, _ in server.requests[since:] if p != "/robots.txt"]


class Gate:
    """Holds every GET of one path until `parties` of them have arrived, or until the test
    opens it (a client died before asking). Two clients started together thus get their first
    page at the same moment and write to the store at the same time."""

    def __init__(self, path: str, parties: int = 2, patience: float = 60.0) -> None:
        self.path = path
        self.parties = parties
        self.patience = patience
        self.arrived = 0
        self.met = 0  # rounds in which every party arrived
        self.opened = False
        self.cond = threading.Condition()

    def reset(self) -> None:
        """A new round: the next `parties` requests wait for each other."""
        with self.cond:
            self.arrived, self.opened = 0, False

    def open(self) -> None:
        """Let every waiting (and later) request through."""
        with self.cond:
            self.opened = True
            self.cond.notify_all()

    def wait(self) -> None:
        with self.cond:
            self.arrived += 1
            if self.arrived == self.parties:
                self.met += 1
                self.cond.notify_all()
            # patience: a safety net (a writer that waits for the other before asking, e.g. on a
            # lock, would otherwise hang the test); a round that ran out of it is not counted
            # in `met`, which the tests check
            self.cond.wait_for(lambda: self.arrived >= self.parties or self.opened,
                               timeout=self.patience)

    def install(self, server: FixtureServer) -> None:
        """Wrap a FixtureServer's request handler so that requests for the path wait here."""
        gate = self
        base = server._httpd.RequestHandlerClass

        class Gated(base):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:  # noqa: N802
                if self.path.split("?")[0] == gate.path:
                    gate.wait()
                super().do_GET()

        server._httpd.RequestHandlerClass = Gated


def query(db: Path, sql: str, *args: object) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def number_before(word: str, text: str) -> int | None:
    """The number written just before word in text ("40 comments" -> 40), else None; "40 new"
    is not "0 new"."""
    found = re.search(rf"(?<![\d.,])(\d+) {word}\b", text)
    return int(found.group(1)) if found else None


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]
