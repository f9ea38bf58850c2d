"""Helpers for the scheduling tests: synthetic TypePad sites on 127.0.0.1, configs, a clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from archiver.devserver import FixtureServer, Route, load_fixture
from tests.conftest import FIXTURES

BLOG = FIXTURES / "typepad" / "synthetic-blog"
REFRESH = FIXTURES / "typepad" / "synthetic-refresh"
PAGED = FIXTURES / "typepad" / "synthetic-paged"

TYPES = {".xml": "application/atom+xml", ".rdf": "application/rdf+xml"}


def expected(folder: Path) -> dict:
    return json.loads((folder / "synthetic.json").read_text(encoding="utf-8"))


def content_type(name: str) -> str:
    if name == "rss.xml":
        return "application/rss+xml"
    return TYPES.get(Path(name).suffix, "text/html; charset=utf-8")


def serve(folder: Path, *, etags: bool = False) -> FixtureServer:
    """Serve a synthetic fixture folder (feeds with feed content types; ETags if asked)."""
    spec = json.loads((folder / "routes.json").read_text(encoding="utf-8"))
    origin, routes = load_fixture(folder)
    for path, name in spec["routes"].items():
        route = routes[path]
        route.content_type = content_type(name)
        if etags:
            route.headers["ETag"] = f'"{name}"'
    routes["/robots.txt"] = Route(b"User-agent: *\nDisallow:\n", content_type="text/plain")
    return FixtureServer(routes, origin=origin)  # use it as a context manager


def set_file(server: FixtureServer, path: str, folder: Path, name: str, *,
             etag: bool = False) -> None:
    """Serve a fixture file (origin rewritten by the server) at path."""
    headers = {"ETag": f'"{name}"'} if etag else {}
    server.set_page(path, (folder / name).read_bytes(), content_type=content_type(name),
                    headers=headers)


def paths(server: FixtureServer) -> list[str]:
    return [p for _, p, _ in server.requests if p != "/robots.txt"]


def site_config(
    server: FixtureServer,
    data_dir: Path,
    *,
    feed: str | None = "/atom.xml",
    extra: str = "",
    site_extra: str = "",
    discovery_extra: str = "",
    max_age: str = "36500d",
    fetch_extra: str = "",
) -> str:
    """A config watching the synthetic site served by server."""
    feed_line = f'feed = "{server.url(feed)}"\n' if feed else ""
    return f"""
[archive]
data_dir = "{data_dir}"

[fetch]
delay = 0
contact = "mailto:tests@example.org"
{fetch_extra}
[refresh]
min_interval = "15m"
max_interval = "1d"
max_age = "{max_age}"
{extra}
[[sites]]
name = "harbour"
url = "{server.url('/')}"
platform = "typepad"
{site_extra}
[sites.discovery]
{feed_line}{discovery_extra}
"""


class Clock:
    """A controlled clock: tests move it; nothing sleeps."""

    def __init__(self, start: datetime) -> None:
        self.now = start if start.tzinfo else start.replace(tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> datetime:
        self.now = when
        return when
