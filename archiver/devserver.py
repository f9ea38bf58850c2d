"""A small HTTP server on 127.0.0.1 that serves a saved site (fixtures) as if it were live.

A fixture folder has a ``routes.json``: ``{"origin": "https://…", "routes": {"/path": "file"}}``
(a route may carry a query string: ``/post.html?page=2``; instead of a file name, a route may be
``{"file": …, "content_type": …, "status": …, "headers": {…}}``, e.g. a JSON API's answer).
Every occurrence of the origin in a served file is rewritten to the server's own address, so
links and pagination lead back to it. Used by the tests and by ``archiver demo``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Route:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class FixtureServer:
    """Serve routes on 127.0.0.1 in a background thread; a context manager."""

    def __init__(
        self, routes: dict[str, Route] | None = None, *, origin: str = "", port: int = 0
    ) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.origin = origin
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (method, path, headers)
        self.forms: list[tuple[str, bytes]] = []  # (path, body) of each POST with a body
        self.delay = 0.0  # seconds each response waits before it is sent (a slow site)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - a form (an OAuth token request)
                length = self.headers.get("Content-Length", "0")
                body = self.rfile.read(int(length) if length.isdecimal() else 0)
                self.answer("POST", body)

            def do_GET(self) -> None:  # noqa: N802
                self.answer("GET", b"")

            def answer(self, method: str, form: bytes) -> None:
                path = urlsplit(self.path).path
                with server._lock:
                    server.requests.append((method, self.path, dict(self.headers.items())))
                    if form:
                        server.forms.append((self.path, form))
                    route = server.routes.get(self.path) or server.routes.get(path)
                if server.delay:
                    time.sleep(server.delay)
                if route is None:
                    body = b"<html><body><h1>404 Not Found</h1></body></html>"
                    route = Route(body=body, status=404)
                body = route.body.replace(server.origin.encode(), server.base_url.encode()) \
                    if server.origin else route.body
                etag = route.headers.get("ETag")
                if etag and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in route.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

        try:
            self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError:  # the preferred port is taken: any free one will do
            self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> FixtureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_page(self, path: str, html: str | bytes, **kwargs: object) -> None:
        body = html.encode("utf-8") if isinstance(html, str) else html
        with self._lock:
            self.routes[path] = Route(body=body, **kwargs)  # type: ignore[arg-type]


# a served file's content type by its suffix (an API's answer saved as .json); HTML otherwise
CONTENT_TYPES = {".json": "application/json; charset=utf-8"}


def load_fixture(folder: Path) -> tuple[str, dict[str, Route]]:
    """Read a fixture folder's routes.json: its origin and its routes (a ``.json`` file is
    served as application/json, everything else as HTML, unless the route says otherwise)."""
    spec = json.loads((folder / "routes.json").read_text(encoding="utf-8"))
    routes = {path: _route(folder, entry) for path, entry in spec["routes"].items()}
    return spec.get("origin", ""), routes


def _route(folder: Path, entry: str | dict[str, Any]) -> Route:
    """A route of routes.json: a file name, or an object naming the file and what to answer
    with it (content_type, status, headers); the content type defaults by the file's suffix."""
    if isinstance(entry, str):
        return Route(body=(folder / entry).read_bytes(),
                     content_type=CONTENT_TYPES.get(Path(entry).suffix, Route.content_type))
    return Route(
        body=(folder / entry["file"]).read_bytes(),
        content_type=entry.get("content_type") or CONTENT_TYPES.get(
            Path(entry["file"]).suffix, Route.content_type),
        status=int(entry.get("status", 200)),
        headers=dict(entry.get("headers", {})),
    )


def serve_fixture(folder: Path, *, port: int = 0) -> FixtureServer:
    """Start a server for a fixture folder (call .stop() when done)."""
    origin, routes = load_fixture(folder)
    return FixtureServer(routes, origin=origin, port=port).start()


def main(argv: list[str] | None = None) -> int:
    """`python -m archiver.devserver FOLDER [--port N]`: serve a fixture folder until Ctrl-C."""
    import argparse
    import signal
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m archiver.devserver",
        description="Serve a saved site (a folder with routes.json) on 127.0.0.1 until Ctrl-C.",
    )
    parser.add_argument("folder", type=Path, help="e.g. fixtures/typepad/synthetic-blog")
    parser.add_argument("--port", type=int, default=8700, help="port (default 8700; 0: any)")
    args = parser.parse_args(argv)
    if not (args.folder / "routes.json").is_file():
        print(f"error: {args.folder} has no routes.json", file=sys.stderr)
        return 2
    try:
        server = serve_fixture(args.folder, port=args.port)
    except OSError as exc:
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    # Ctrl-C and SIGTERM stop it even when started with SIGINT ignored (a background job of a
    # script: Python then leaves SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"Serving {args.folder} at {server.base_url} (Ctrl-C to stop):", flush=True)
    for path in sorted(server.routes):
        print(f"  {server.url(path)}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
