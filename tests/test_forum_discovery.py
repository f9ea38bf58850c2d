"""Discovery on forums (issue 14, minimal): a board listing is an index page whose topic links
the default selector finds (phpBB's a.topictitle, XenForo 2's .structItem-title, XenForo 1's
.discussionListItem title); a watched board's listing queues its topics for `archiver run`.
Board feeds (phpBB's feed.php, XenForo's forums/slug.ID/index.rss) are plain Atom/RSS."""

from __future__ import annotations

import html as entities
import re
from pathlib import Path

from archiver.config import load_settings
from archiver.devserver import FixtureServer, Route
from archiver.discovery import Discoverer, parse_index
from archiver.fetch import Fetcher
from archiver.store.db import Store
from tests.conftest import FIXTURES
from tests.schedule_helpers import site_config

BOARD = FIXTURES / "phpbb" / "dildano-subsilver2-topic-8" / "viewforum-23602.php"
KATZEN = FIXTURES / "xenforo" / "katzen-forum-thread-230143" / "page.html"


def test_a_phpbb_board_listing_yields_its_topics() -> None:
    html = BOARD.read_text(encoding="utf-8")
    url = "http://dildano.co.uk/phpBB3/viewforum.php?f=3"
    found, older = parse_index(html, url, hosts={"dildano.co.uk"})
    listed = re.findall(r'href="([^"]+)" class="topictitle">([^<]+)<', html)
    assert len(listed) == 14
    assert [(f.url, f.title) for f in found] == [
        ("http://dildano.co.uk/phpBB3/" + href, entities.unescape(title)) for href, title in listed]
    assert older is None  # one page ("Page 1 of 1")


def test_a_xenforo_2_thread_list_yields_threads_not_prefix_filters() -> None:
    html = KATZEN.read_text(encoding="utf-8")
    found, _ = parse_index(html, "https://www.katzen-forum.net/threads/x.230143/",
                           hosts={"www.katzen-forum.net"})
    # the "similar threads" box is XenForo 2's thread list markup (structItem), as on a board
    assert found and all("/threads/" in f.url and f.title for f in found)
    assert found[0].url == ("https://www.katzen-forum.net/threads/eine-invasion-die-mich-beisst-"
                            "ich-braeuchte-hilfe-sind-das-wirklich-katzenfloehe.229732/")


def test_a_watched_board_queues_its_topics(tmp_path: Path) -> None:
    routes = {"/phpBB3/viewforum.php?f=3": Route(BOARD.read_bytes()),
              "/robots.txt": Route(b"User-agent: *\nDisallow:\n", content_type="text/plain")}
    with FixtureServer(routes, origin="http://dildano.co.uk") as server:
        config = site_config(server, tmp_path / "d", feed=None, discovery_extra=(
            f'index = ["{server.url("/phpBB3/viewforum.php?f=3")}"]\n'))
        path = tmp_path / "archiver.toml"
        path.write_text(config, encoding="utf-8")
        settings = load_settings(path, {})
        store = Store(settings.db_url)
        with Fetcher(settings.fetch) as fetcher:
            report = Discoverer(store, fetcher).discover(settings.sites[0])
        store.close()
    assert report.errors == [] and len(report.queued) == 14
    assert report.queued[0] == server.url("/phpBB3/viewtopic-16705.php")  # "Artwork"


LISTINGS = FIXTURES / "forum-listings"


def test_vbulletin_smf_and_invision_board_listings_yield_their_topics_and_next_page() -> None:
    cases = [
        ("vbulletin4-forumdisplay.html", "https://www.pocketpc.ch/forumdisplay.php?15-Pocket-PCs",
         [("https://www.pocketpc.ch/showthread.php?122760-Windows-10-Mobile-Update",
           "Windows 10 Mobile Update"),
          ("https://www.pocketpc.ch/showthread.php?122761-Akku-haelt-nicht", "Akku hält nicht")],
         "https://www.pocketpc.ch/forumdisplay.php?15-Pocket-PCs/page2"),
        ("smf20-messageindex.html", "https://forum.example.org/index.php?board=2.0",
         [("https://forum.example.org/index.php?topic=4711.0", "Lighthouse keepers' logbooks"),
          ("https://forum.example.org/index.php?topic=4712.0", "Fog signals, then and now")],
         None),  # SMF's pager has no "next" link: a board walk reads its first page
        ("invision4-forum.html", "https://community.example.org/forum/3-harbour-talk/",
         [("https://community.example.org/topic/8123-the-old-pier/", "The old pier"),
          ("https://community.example.org/topic/8130-winter-moorings/", "Winter moorings")],
         "https://community.example.org/forum/3-harbour-talk/page/2/"),
    ]
    for name, url, topics, following in cases:
        html = (LISTINGS / name).read_text(encoding="utf-8")
        found, older = parse_index(html, url, hosts={url.split("/")[2]})
        assert [(f.url, f.title) for f in found] == topics, name
        assert older == following, name
