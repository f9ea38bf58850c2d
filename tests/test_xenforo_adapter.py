"""XenForo adapter (issue 14): its callbacks read the saved pages (fixtures/xenforo: two real
XenForo 2 threads, a XenForo 1 thread written from its templates), one test per quirk; then end
to end through `archiver archive` on the 127.0.0.1 devserver, from the second page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from archiver.adapters import adapter_for, adapter_for_url, phpbb, vbulletin, xenforo
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import Found, Request, Response
from archiver.devserver import FixtureServer, Route, load_fixture, serve_fixture
from tests.conftest import FIXTURES

KATZEN = FIXTURES / "xenforo" / "katzen-forum-thread-230143"
VILLAGERS = FIXTURES / "xenforo" / "villagersandheroes-thread-3976"
XF1 = FIXTURES / "xenforo" / "xf1-template-locked-thread"
KATZEN_URL = ("https://www.katzen-forum.net/threads/"
              "jede-nacht-verliert-pepe-soviel-dreck-aus-dem-fell.230143/")
VILLAGERS_URL = ("https://villagersandheroes.com/forums/threads/"
                 "patchnotes-4-47-4-tagundnachtgleiche-bugfix-build.3976/")
XF1_URL = "https://forum.example.org/threads/tide-tables-for-the-north-quay.4242/"


def page(folder: Path, name: str = "page.html") -> str:
    return (folder / name).read_text(encoding="utf-8")


def answer(url: str, html: str) -> Response:
    return Response(url=url, status=200, headers=(("Content-Type", "text/html"),),
                    content=html.encode(), text=html)


def sort(found: Iterator[Found]) -> tuple[list[ParsedThread], list[ParsedComment],
                                          list[PageFacts], list[Request]]:
    items = list(found)
    return ([f for f in items if isinstance(f, ParsedThread)],
            [f for f in items if isinstance(f, ParsedComment)],
            [f for f in items if isinstance(f, PageFacts)],
            [f for f in items if isinstance(f, Request)])


def test_xf2_posts_author_date_number_as_the_thread_shows_them() -> None:
    threads, comments, facts, requests = sort(xenforo.read_first(answer(
        KATZEN_URL, page(KATZEN))))
    [thread] = threads
    assert (thread.url, thread.site_url) == (KATZEN_URL, "https://www.katzen-forum.net/")
    assert thread.title == "Jede Nacht verliert Pepe soviel Dreck aus dem Fell"
    assert thread.site_name == "Katzen Forum - Das große Katzenforum"
    assert (thread.author, thread.published_text) == ("Pepemaus", "27. September 2018")
    # time[datetime] (+0200) read as UTC; the text kept as shown
    assert thread.published_at == datetime(2018, 9, 27, 12, 51, 9, tzinfo=UTC)
    assert len(comments) == 17 and [c.number for c in comments] == list(range(2, 19))
    first = comments[0]
    assert (first.source_id, first.author_name, first.author_url) == (
        "6331423", "yellowkitty", "https://www.katzen-forum.net/members/yellowkitty.100882/")
    assert first.permalink == KATZEN_URL + "post-6331423"
    assert facts == [PageFacts(number=1, comments_closed=False)] and requests == []


def test_links_to_other_threads_pages_are_not_this_threads_pages() -> None:
    html = page(KATZEN)
    assert "page-4" in html  # the "similar threads" box links to other threads' pages
    assert xenforo.parse_page(html, KATZEN_URL).page_urls == [KATZEN_URL]


def test_a_truncated_pager_still_leads_to_every_page() -> None:
    # XenForo 2's pageNav as it renders page 1 of 9: 1 2 3 ... 9 (pages 4 to 8 not linked)
    path = urlsplit(KATZEN_URL).path
    links = "".join(f'<li class="pageNav-page "><a href="{path}page-{n}">{n}</a></li>'
                    for n in (2, 3, 9))
    nav = ('<ul class="pageNav-main"><li class="pageNav-page pageNav-page--current ">'
           f'<a href="{path}">1</a></li>{links}</ul>')
    html = page(KATZEN).replace('<div class="block-container lbContainer"', nav
                                + '<div class="block-container lbContainer"', 1)
    assert nav in html
    requests = sort(xenforo.read_first(answer(KATZEN_URL, html)))[3]
    assert [r.url for r in requests] == [f"{KATZEN_URL}page-{n}" for n in range(2, 10)]
    assert all(r.then is xenforo.read_page for r in requests)


def test_a_forum_below_a_folder_a_prefixed_title_and_a_linked_number() -> None:
    found = xenforo.parse_page(page(VILLAGERS), VILLAGERS_URL)
    assert found.thread.site_url == "https://villagersandheroes.com/forums/"
    assert found.thread.title == "Patch Notes Patchnotes 4.47.4 - Tagundnachtgleiche Bugfix Build"
    assert [p.number for p in found.posts] == list(range(1, 10))  # "#N" links, spaces around
    assert found.posts[1].author_url == \
        "https://villagersandheroes.com/forums/members/bibi-blocksberg.201/"


def test_quotes_stay_quotes() -> None:
    posts = xenforo.parse_page(page(VILLAGERS), VILLAGERS_URL).posts
    quoting = next(p for p in posts if p.source_id == "53796")
    assert 'class="bbCodeBlock bbCodeBlock--expandable bbCodeBlock--quote"' in quoting.body_html
    assert quoting.body_text.startswith("Nixe said:\n\nJa, es sind leider einige Randfiguren")


def test_xf1_page_one_leads_to_the_other_pages_with_its_base_href() -> None:
    threads, comments, facts, requests = sort(xenforo.read_first(answer(
        XF1_URL, page(XF1, "page1.html"))))
    [thread] = threads
    assert (thread.title, thread.site_name, thread.author) == (
        "Tide tables for the north quay", "Harbour Forum", "Harbourmaster")
    # relative links read against <base href> (the board's root), not the thread's URL
    assert comments[0].author_url == "https://forum.example.org/members/dmitri.31/"
    assert [r.url for r in requests] == [XF1_URL + "page-2"]
    assert facts == [PageFacts(number=1, comments_closed=True)]
    # the text's end marker (an empty block) is no part of the post
    assert comments[0].body_text == "Thanks, printed and pinned in the shed."
    assert "messageTextEndMarker" not in comments[0].body_html


def test_xf1_dates_by_title_or_by_the_unix_time() -> None:
    posts = xenforo.parse_page(page(XF1, "page2.html"), XF1_URL + "page-2").posts
    older, recent = posts  # span.DateTime[title] (over a week old), abbr.DateTime[data-time]
    assert (older.published_text, older.published_at) == (
        "Mar 8, 2016", datetime(2016, 3, 8, 8, 0, tzinfo=UTC))
    assert (recent.published_text, recent.published_at) == (
        "Mar 8, 2016 at 12:30 PM", datetime(2016, 3, 8, 12, 30, tzinfo=UTC))
    assert [p.number for p in posts] == [4, 5]


def test_a_later_page_leads_to_page_one_first() -> None:
    threads, comments, _facts, requests = sort(xenforo.read_first(answer(
        XF1_URL + "page-2", page(XF1, "page2.html"))))
    assert threads == [] and comments == []
    assert [(r.url, r.then) for r in requests] == [(XF1_URL, xenforo.read_first)]
    # read as a later page: all comments, no requests (its facts are the walk's last word)
    threads, comments, facts, requests = sort(xenforo.read_page(answer(
        XF1_URL + "page-2", page(XF1, "page2.html"))))
    assert threads == [] and requests == [] and len(comments) == 2
    assert facts == [PageFacts(number=2, comments_closed=True)]


def test_a_thread_not_open_for_replies_has_its_comments_closed() -> None:
    html = page(KATZEN)
    assert not xenforo.parse_page(html, KATZEN_URL).comments_closed
    status = ('<dl class="blockStatus"><dt>Status</dt><dd class="blockStatus-message '
              'blockStatus-message--locked">Not open for further replies.</dd></dl>')
    locked = html.replace('<div class="block-container lbContainer"',
                          status + '<div class="block-container lbContainer"', 1)
    assert status in locked and xenforo.parse_page(locked, KATZEN_URL).comments_closed
    unlocked = page(XF1, "page1.html").replace('<dd class="lockedAlert">', "<dd>")
    assert not xenforo.parse_page(unlocked, XF1_URL).comments_closed


def test_urls_and_markup_name_the_platform() -> None:
    assert adapter_for_url(KATZEN_URL + "page-3") is xenforo
    assert adapter_for_url(VILLAGERS_URL) is xenforo
    assert adapter_for_url("https://forum.example.org/threads/123-some-slug") is vbulletin  # vB
    assert xenforo.start(KATZEN_URL + "page-3#post-6331617").url == KATZEN_URL
    for html in (page(KATZEN), page(VILLAGERS), page(XF1, "page1.html")):
        assert xenforo.matches(html) and not phpbb.matches(html)
        assert adapter_for(html, "https://forum.example.org/t/1") is xenforo


def test_archiving_the_second_page_archives_the_whole_thread(data_dir: Path, cli) -> None:
    server = serve_fixture(XF1)
    try:
        url = server.url("/threads/tide-tables-for-the-north-quay.4242/page-2")
        result = cli("archive", url)
        assert result.code == 0, result.err
        exported = cli("export", "jsonl", url, "-o", "-")
        dump = cli("export", "text", url, "-o", "-")
        asked = [path for _, path, _ in server.requests if path != "/robots.txt"]
    finally:
        server.stop()
    assert asked == ["/threads/tide-tables-for-the-north-quay.4242/",
                     "/threads/tide-tables-for-the-north-quay.4242/page-2"]
    thread = json.loads(exported.out)
    assert thread["comments_closed"] is True and thread["comment_count"] == 4
    assert [c["number"] for c in thread["comments"]] == [2, 3, 4, 5]
    assert "Posted by: Pim | Mar 8, 2016 at 12:30 PM | 5\n" in dump.out
    assert dump.out.rstrip().endswith("The comments to this entry are closed.")


def test_a_post_permalink_redirect_archives_the_whole_thread(data_dir: Path, cli) -> None:
    # /posts/ID/ redirects to the page holding the post; no URL pattern claims it: the markup
    # names the platform, and the page leads to page 1
    origin, routes = load_fixture(XF1)
    with FixtureServer(routes, origin=origin) as server:
        target = server.url("/threads/tide-tables-for-the-north-quay.4242/page-2#post-118")
        server.routes["/posts/118/"] = Route(b"", status=301, headers={"Location": target})
        result = cli("archive", server.url("/posts/118/"))
        assert result.code == 0, result.err
        exported = cli("export", "jsonl", server.url(
            "/threads/tide-tables-for-the-north-quay.4242/"), "-o", "-")
    thread = json.loads(exported.out)
    assert thread["author"] == "Harbourmaster" and thread["comment_count"] == 4
