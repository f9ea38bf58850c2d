"""A loopback web of many hosts: one HTTP server per address 127.0.0.2, 127.0.0.3, ... (Linux
routes all of 127/8 to lo), served by one selector thread, each connection in its own thread.
Every request is logged with the address it came in on and when it began and ended (the
server's own clock), so a test or bench can check per-host politeness from the server's side.
Hosts serve synthetic TypePad threads (bench/gen_thread.py) or any pages given.
"""

from __future__ import annotations

import importlib.util
import selectors
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def gen_thread() -> ModuleType:
    """bench/gen_thread.py, the synthetic TypePad thread generator (bench is not a package)."""
    spec = importlib.util.spec_from_file_location("gen_thread", ROOT / "bench" / "gen_thread.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    import sys

    sys.modules.setdefault("gen_thread", module)
    spec.loader.exec_module(module)
    return module


@dataclass(slots=True, frozen=True)
class Hit:
    """One request as the server saw it."""

    host: str  # "127.0.0.7:PORT": the address and port it came in on
    path: str
    agent: str  # the User-Agent it came with
    began: float  # time.monotonic() when the request line was read
    ended: float  # ... when the last byte of the answer was written


class LoopbackWeb:
    """Servers on n addresses from 127.0.0.2 up; pages per host (path -> bytes)."""

    def __init__(self, n_hosts: int, *, first: int = 2, answer_delay: float = 0.0,
                 gate: int = 0) -> None:
        """gate: the first request to each host is held until `gate` hosts have asked (proof
        that that many are in flight at once; a client that cannot breaks the barrier)."""
        self.hits: list[Hit] = []
        self._gate = threading.Barrier(gate, timeout=300) if gate else None
        self._asked: set[str] = set()
        self._held: dict[str, tuple[threading.Event, threading.Event]] = {}
        self.pages: dict[str, dict[str, bytes]] = {}  # "127.0.0.7:PORT" -> path -> body
        self.agents: dict[str, str] = {}  # held path -> the User-Agent that asked
        self.answer_delay = answer_delay  # each answer waits this long (a slow site)
        self._lock = threading.Lock()
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                began = time.monotonic()
                address, port = self.connection.getsockname()[:2]
                host = f"{address}:{port}"
                with web._lock:
                    first_time = host not in web._asked
                    web._asked.add(host)
                if first_time and web._gate is not None:
                    web._gate.wait()  # threading.BrokenBarrierError: fewer hosts came at once
                body = web.pages.get(host, {}).get(self.path.split("#")[0])
                held = web._held.pop(self.path, None)
                if held is not None:  # a test holds this answer until it says so
                    web.agents[self.path] = self.headers.get("User-Agent", "")
                    held[0].set()
                    held[1].wait()
                if web.answer_delay:
                    time.sleep(web.answer_delay)
                if body is None:
                    body = b"<html><body>404</body></html>"
                    self.send_response(404)
                else:
                    self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # the answer's end, as tests/faultserver.py stamps it: just before its last write
                # begins (the client cannot have the whole answer before then, whatever the load;
                # a stamp taken after the write may come late on a busy machine)
                ended = time.monotonic()
                self.wfile.write(body)
                self.wfile.flush()
                with web._lock:
                    web.hits.append(Hit(host, self.path, self.headers.get("User-Agent", ""),
                                        began, ended))

        self.servers: list[ThreadingHTTPServer] = []
        for i in range(first, first + n_hosts):
            server = ThreadingHTTPServer((f"127.0.0.{i}", 0), Handler)
            server.daemon_threads = True
            self.servers.append(server)
        self.hosts = [f"{s.server_address[0]}:{s.server_address[1]}" for s in self.servers]
        self._selector = selectors.DefaultSelector()
        for server in self.servers:
            self._selector.register(server, selectors.EVENT_READ, server)
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stopping:
            for key, _ in self._selector.select(timeout=0.2):
                key.data._handle_request_noblock()

    def base(self, host: str) -> str:
        return f"http://{host}"

    def add_thread(self, host: str, n_comments: int, per_page: int, seed: int) -> str:
        """A synthetic TypePad thread on host; returns its URL."""
        thread = gen_thread().make_thread(n_comments, per_page, seed=seed,
                                          origin=self.base(host))
        pages = self.pages.setdefault(host, {})
        for path, html in thread.pages.items():
            pages[path] = html.encode("utf-8")
        return thread.url()

    def hold(self, path: str, asked: threading.Event, release: threading.Event) -> None:
        """The first request for path (on any host) sets asked, then waits for release."""
        self._held[path] = (asked, release)

    def agent_of(self, path: str) -> str:
        """The User-Agent of the held request for path."""
        return self.agents[path]

    def robots(self, text: str) -> None:
        for host in self.hosts:
            self.pages.setdefault(host, {})["/robots.txt"] = text.encode()

    def by_host(self) -> dict[str, list[Hit]]:
        grouped: dict[str, list[Hit]] = defaultdict(list)
        with self._lock:
            for hit in self.hits:
                grouped[hit.host].append(hit)
        for hits in grouped.values():
            hits.sort(key=lambda h: h.began)
        return dict(grouped)

    def closest_gap(self) -> float:
        """The smallest time between one answer's end and the next request's start on one host
        (negative: two requests to a host overlapped)."""
        gaps = [b.began - a.ended for hits in self.by_host().values()
                for a, b in zip(hits, hits[1:], strict=False)]
        return min(gaps, default=float("inf"))

    def most_hosts_in_progress(self) -> int:
        """The most hosts being crawled at one moment: between their first request's start and
        their last answer's end (each at its own pace in between)."""
        events = []
        for hits in self.by_host().values():
            events += [(hits[0].began, 1), (max(h.ended for h in hits), -1)]
        best = current = 0
        for _, step in sorted(events):
            current += step
            best = max(best, current)
        return best

    def most_hosts_at_once(self, window: float) -> int:
        """The most hosts that each had a request within one window of `window` seconds."""
        with self._lock:
            events = sorted((h.began, h.host) for h in self.hits)
        inside: Counter[str] = Counter()
        best, start = 0, 0
        for when, host in events:
            inside[host] += 1
            while when - events[start][0] > window:
                gone = events[start][1]
                inside[gone] -= 1
                if not inside[gone]:
                    del inside[gone]
                start += 1
            best = max(best, len(inside))
        return best

    def start(self) -> LoopbackWeb:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        self._thread.join()
        self._selector.close()
        for server in self.servers:
            server.server_close()

    def __enter__(self) -> LoopbackWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
