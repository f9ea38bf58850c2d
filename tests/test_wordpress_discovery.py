"""Issue 13: `archiver run` discovery reads a WordPress posts feed (/feed/) as it reads TypePad's:
the posts are queued with their dates, never the comment links (#comments, #respond) or the
comment feeds (wfw:commentRss); the feed is stored as a capture like every answer."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from archiver.config import load_settings
from archiver.devserver import FixtureServer, Route
from archiver.discovery import Discoverer, parse_feed
from archiver.fetch import Fetcher
from archiver.store.db import Store
from tests.conftest import FIXTURES

FEED = FIXTURES / "wordpress" / "discovery-feed" / "feed.rss2.xml"
POSTS = ["/2024/03/05/reading-the-tide-tables/", "/2024/02/20/first-light-on-the-breakwater/"]


def test_a_wordpress_feed_lists_its_posts() -> None:
    found = parse_feed(FEED.read_bytes(), "https://harbour.example.org/feed/",
                       "application/rss+xml; charset=UTF-8")
    assert [f.url for f in found] == ["https://harbour.example.org" + p for p in POSTS]
    assert found[0].published_at == datetime(2024, 3, 5, 18, 2, 11, tzinfo=UTC)
    assert found[1].title == "First light on the breakwater"


def test_archiver_run_discovery_queues_the_feeds_posts(tmp_path: Path) -> None:
    routes = {"/feed/": Route(FEED.read_bytes(), content_type="application/rss+xml; "
                                                              "charset=UTF-8")}
    with FixtureServer(routes, origin="https://harbour.example.org") as server:
        config = tmp_path / "archiver.toml"
        config.write_text(f"""
[archive]
data_dir = "{tmp_path / 'd'}"
[fetch]
delay = 0
contact = "mailto:tests@example.org"
[[sites]]
name = "harbour"
url = "{server.url('/')}"
platform = "wordpress"
[sites.discovery]
feed = "{server.url('/feed/')}"
""", encoding="utf-8")
        settings = load_settings(config, {})
        with Fetcher(settings.fetch) as fetcher:
            report = Discoverer(Store(settings.db_url), fetcher).discover(settings.sites[0])
    assert report.errors == []
    assert report.queued == [server.url(p) for p in POSTS]
    with sqlite3.connect(tmp_path / "d" / "archiver.db") as db:
        kept = db.execute("SELECT COUNT(*) FROM capture WHERE url LIKE '%/feed/'").fetchone()[0]
    assert kept == 1
