"""Issue 5: discovery reads Atom/RSS/RDF feeds and index pages (stored as captures) and queues
the thread URLs not yet known, bounded by max_threads / since; backfill walks archives once."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archiver.config import load_settings
from archiver.discovery import Discoverer, parse_feed, parse_index, url_period_end
from archiver.errors import ParseError
from archiver.fetch import Fetcher
from archiver.store.db import Store
from tests.schedule_helpers import BLOG, expected, paths, serve, set_file, site_config

ORIGIN = "https://harbour.example.org"


@pytest.mark.parametrize("name", ["atom-4.xml", "rss.xml", "index.rdf"])
def test_parse_feed_formats(name: str) -> None:
    found = parse_feed((BLOG / name).read_bytes(), f"{ORIGIN}/{name}")
    exp = expected(BLOG)
    assert [f.url for f in found] == [ORIGIN + p for p in exp["atom-4.xml"]]
    published = {ORIGIN + p["path"]: datetime.fromisoformat(p["published"]) for p in exp["posts"]}
    for item in found:
        assert item.published_at == published[item.url]
        assert item.title


def test_parse_feed_rejects_a_non_feed() -> None:
    with pytest.raises(ParseError, match="not a readable feed"):
        parse_feed(b"<html><body><p>hello</p></body></html>", f"{ORIGIN}/atom.xml")


def test_parse_index_links_and_older_link() -> None:
    html = (BLOG / "home.html").read_text(encoding="utf-8")
    found, older = parse_index(html, f"{ORIGIN}/", hosts={"harbour.example.org"})
    exp = expected(BLOG)["index_walk"]
    assert [f.url for f in found] == [ORIGIN + p for p in exp[:2]]
    assert older == f"{ORIGIN}/page/2/"
    pattern = r"/2024/\d\d/(?!index)[^/]+\.html$"  # every link on the page, filtered
    found, older = parse_index(html, f"{ORIGIN}/", hosts={"harbour.example.org"},
                               link_pattern=pattern)
    assert [f.url for f in found] == [ORIGIN + p for p in exp[:2]]  # archive links don't match
    found, _ = parse_index(html, f"{ORIGIN}/", hosts={"elsewhere.example.org"})
    assert found == []  # other hosts' links are never queued


def test_url_period_end() -> None:
    assert url_period_end(f"{ORIGIN}/2024/02/old-news.html") == datetime(
        2024, 2, 29, 23, 59, 59, tzinfo=UTC
    )
    assert url_period_end(f"{ORIGIN}/about.html") is None


def _discoverer(config: str, tmp_path: Path) -> tuple[Discoverer, object]:
    path = tmp_path / "archiver.toml"
    path.write_text(config, encoding="utf-8")
    settings = load_settings(path, {})
    store = Store(settings.db_url)
    return Discoverer(store, Fetcher(settings.fetch)), settings


def _queue(db: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(db)
    try:
        return con.execute("select url, state from discoveredurl order by id").fetchall()
    finally:
        con.close()


def test_feed_discovery_queues_new_threads_and_stores_the_feed(tmp_path: Path) -> None:
    with serve(BLOG, etags=True) as server:
        disc, settings = _discoverer(site_config(server, tmp_path / "d"), tmp_path)
        site = settings.sites[0]
        report = disc.discover(site)
        exp = expected(BLOG)
        assert report.queued == [server.url(p) for p in exp["atom-3.xml"]]
        assert report.errors == []
        # the same feed again (304 by ETag): nothing new, nothing queued twice
        report = disc.discover(site)
        assert report.queued == [] and report.not_modified == 1
        set_file(server, "/atom.xml", BLOG, "atom-4.xml", etag=True)
        report = disc.discover(site)
        assert report.queued == [server.url(exp["atom-4.xml"][0])]
        assert paths(server) == ["/atom.xml"] * 3
        served = (BLOG / "atom-3.xml").read_bytes().replace(ORIGIN.encode(),
                                                             server.base_url.encode())
    db = tmp_path / "d" / "archiver.db"
    assert len(_queue(db)) == 4 and {s for _, s in _queue(db)} == {"queued"}
    con = sqlite3.connect(db)
    rows = con.execute(
        "select c.status, c.parsed_ok, b.data from capture c left join blob b"
        " on b.sha256 = c.body_sha256 where c.url like '%/atom.xml' order by c.id"
    ).fetchall()
    assert [r[0] for r in rows] == [200, 304, 200]
    assert rows[0][1] == 1 and rows[0][2] == served  # the feed's raw bytes are kept
    check = con.execute("select last_found, last_error from sitecheck").fetchall()
    assert check == [(1, None)]


def test_feed_errors_are_recorded_not_raised(tmp_path: Path) -> None:
    with serve(BLOG) as server:
        disc, settings = _discoverer(site_config(server, tmp_path / "d", feed="/missing.xml"),
                                     tmp_path)
        report = disc.discover(settings.sites[0])
        assert report.queued == [] and "HTTP 404" in report.errors[0]
        server.set_page("/broken.xml", "<html><p>not a feed</p></html>")
        disc2, settings2 = _discoverer(site_config(server, tmp_path / "d", feed="/broken.xml"),
                                       tmp_path)
        report = disc2.discover(settings2.sites[0])
        assert "not a readable feed" in report.errors[0]
    con = sqlite3.connect(tmp_path / "d" / "archiver.db")
    (error,) = con.execute("select last_error from sitecheck").fetchone()
    assert "not a readable feed" in error
    parsed = con.execute(
        "select parsed_ok, parse_error from capture where url like '%/broken.xml'"
    ).fetchone()
    assert parsed[0] == 0 and "not a readable feed" in parsed[1]


def test_index_walk_stops_at_a_page_with_nothing_new(tmp_path: Path) -> None:
    with serve(BLOG) as server:
        config = site_config(server, tmp_path / "d", feed=None,
                             discovery_extra=f'index = ["{server.url("/")}"]\n')
        disc, settings = _discoverer(config, tmp_path)
        report = disc.discover(settings.sites[0])
        exp = expected(BLOG)
        # home, page 2, then the February archive the pager leads to
        assert report.queued == [server.url(p) for p in [*exp["index_walk"],
                                                         exp["old_post"]["path"]]]
        assert paths(server) == ["/", "/page/2/", "/2024/02/index.html"]
        server.requests.clear()
        report = disc.discover(settings.sites[0])
        assert report.queued == [] and paths(server) == ["/"]  # nothing new on the first page


def test_backfill_once_bounded_by_since_and_max_threads(tmp_path: Path) -> None:
    with serve(BLOG) as server:
        extra = (f'backfill = ["{server.url("/2024/03/index.html")}"]\n'
                 'since = 2024-03-02\n')
        disc, settings = _discoverer(
            site_config(server, tmp_path / "d", feed=None, discovery_extra=extra), tmp_path)
        report = disc.discover(settings.sites[0])
        exp = expected(BLOG)
        # posts from March 2 on; first-light (March 1) and February's post are too old
        assert report.queued == [server.url(p) for p in exp["index_walk"][:3]]
        assert paths(server) == ["/2024/03/index.html", "/2024/02/index.html"]
        assert (report.old, report.known, report.over_cap) == (2, 0, 0)  # said, not silent
        assert report.summary().endswith("3 new (skipped: 2 older than since (2024-03-02))")
        server.requests.clear()
        report = disc.discover(settings.sites[0])
        assert report.queued == [] and paths(server) == []  # the backfill ran once

    with serve(BLOG) as server:
        extra = (f'backfill = ["{server.url("/")}"]\n'
                 "max_threads = 3\n")
        disc, settings = _discoverer(
            site_config(server, tmp_path / "e", feed=None, discovery_extra=extra), tmp_path)
        report = disc.discover(settings.sites[0])
        assert report.queued == [server.url(p) for p in expected(BLOG)["index_walk"][:3]]
        assert paths(server) == ["/", "/page/2/"]
        assert report.over_cap >= 1 and report.listed == 3 + report.over_cap + report.known
        assert f"{report.over_cap} over max_threads (next run)" in report.summary()


def test_known_threads_are_not_queued(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    with serve(BLOG) as server:
        exp = expected(BLOG)
        config = site_config(server, tmp_path / "d")
        (tmp_path / "archiver.toml").write_text(config, encoding="utf-8")
        first = server.url(exp["atom-3.xml"][0])
        result = cli("-c", str(tmp_path / "archiver.toml"), "archive", first)
        assert result.code == 0, result.err
        disc, settings = _discoverer(config, tmp_path)
        report = disc.discover(settings.sites[0])
        assert report.queued == [server.url(p) for p in exp["atom-3.xml"][1:]]
        assert report.known == 1 and "(skipped: 1 already archived or queued)" in report.summary()


def test_a_thread_listed_under_several_urls_is_queued_once_normalised(
    tmp_path: Path, cli,  # type: ignore[no-untyped-def]
) -> None:
    """Issue 10: a feed linking a post with tracking parameters, an upper-case scheme and host,
    or a comment permalink queues the post once, in its normalised form; a post archived
    already is known whatever form the feed gives."""
    cid = "6a00e552000000000100010000200c"
    posts = [p["path"] for p in expected(BLOG)["posts"]]
    with serve(BLOG) as server:
        upper = server.base_url.replace("http://", "HTTP://")
        links = [
            server.url(posts[1]) + "?utm_source=rss&utm_medium=feed",
            upper + posts[1],
            server.url(posts[1]) + f"?cid={cid}#comment-{cid}",
            server.url(posts[1]) + "#comments",
            server.url(posts[2]) + "?page=2&fbclid=abc",
            server.url(posts[0]) + "?utm_campaign=x",  # archived below
            "mailto:editor@example.org",
        ]
        items = "".join(f"<item><title>t{i}</title><link>{link}</link></item>"
                        for i, link in enumerate(links))
        server.set_page("/feed.rss", f'<?xml version="1.0"?><rss version="2.0"><channel>'
                        f"<title>b</title>{items}</channel></rss>".replace("&", "&amp;")
                        .replace("&amp;lt;", "&lt;"), content_type="application/rss+xml")
        config = site_config(server, tmp_path / "d", feed="/feed.rss")
        (tmp_path / "archiver.toml").write_text(config, encoding="utf-8")
        assert cli("-c", str(tmp_path / "archiver.toml"), "archive",
                   server.url(posts[0])).code == 0
        disc, settings = _discoverer(config, tmp_path)
        report = disc.discover(settings.sites[0])
    assert report.errors == []
    assert report.queued == [server.url(posts[1]), server.url(posts[2]) + "?page=2"]
    assert _queue(tmp_path / "d" / "archiver.db") == [(u, "queued") for u in report.queued]
    assert report.summary().endswith(
        "7 listed, 2 new (skipped: 4 already archived or queued, 1 not http(s) links)")
