"""phpBB adapter (issue 14): its callbacks read real saved pages (fixtures/phpbb), one test per
quirk; then end to end through `archiver archive` on the 127.0.0.1 devserver, from a middle
page, and a refresh in which only the last page changed (304s for the rest)."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from archiver.adapters import adapter_for, adapter_for_url, phpbb, xenforo
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import Found, Request, Response
from archiver.devserver import FixtureServer, Route, load_fixture, serve_fixture
from archiver.export.jsonl import write_thread
from archiver.fetch import Fetcher, FetchSettings
from archiver.pipeline import ThreadArchiver
from archiver.store.db import Store, default_database_url
from archiver.store.models import Thread
from tests.conftest import FIXTURES

DOSTIPS = FIXTURES / "phpbb" / "dostips-topic-7153-all-7-pages"
MYOOS = FIXTURES / "phpbb" / "myoos-topic-167"
DILDANO = FIXTURES / "phpbb" / "dildano-subsilver2-topic-8"
FORUM = "https://www.dostips.com/forum/"
TOPIC = FORUM + "viewtopic.php?t=7153"
PAGE_FILES = ["page1-viewtopic9d55.html", "page2-viewtopic55a4.html", "page3-viewtopicb606.html",
              "page4-viewtopic042a.html", "page5-viewtopic023b.html", "page6-viewtopic0ab8.html",
              "page7-viewtopicef76.html"]


def page(folder: Path, name: str) -> str:
    return (folder / name).read_text(encoding="utf-8")


def dostips(number: int) -> str:
    return page(DOSTIPS, PAGE_FILES[number - 1])


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


def test_page_one_shows_the_post_and_leads_to_every_page_in_canonical_form() -> None:
    threads, comments, facts, requests = sort(phpbb.read_first(answer(
        FORUM + "viewtopic.php?f=3&t=7153", dostips(1))))
    [thread] = threads
    assert (thread.url, thread.site_url, thread.site_name) == (TOPIC, FORUM, "DosTips.com")
    assert thread.title.startswith("Cmdgfx - draw 3d and graphic primitives")
    assert (thread.author, thread.published_text) == ("misol101", "15 May 2016 15:19")
    assert thread.body_text.startswith("Here is a little something I threw together")
    # the first post is the thread's, never a comment
    assert [c.number for c in comments] == list(range(2, 16))
    assert "46640" not in {c.source_id for c in comments}
    assert facts == [PageFacts(number=1, comments_closed=False)]
    # no forum id, no session id, no page read twice: start=15 ... 90, each once
    assert [r.url for r in requests] == [f"{TOPIC}&start={s}" for s in range(15, 91, 15)]
    assert all(r.then is phpbb.read_page for r in requests)


def test_a_truncated_pager_still_leads_to_the_pages_it_leaves_out() -> None:
    html = dostips(1)
    assert "start=75" not in html  # page 1's pager: 1 2 3 4 5 ... 7
    urls = [r.url for r in sort(phpbb.read_first(answer(TOPIC, html)))[3]]
    assert f"{TOPIC}&start=75" in urls


def test_a_later_page_is_all_comments_numbered_as_the_forum_shows_them() -> None:
    threads, comments, facts, requests = sort(phpbb.read_page(answer(
        f"{TOPIC}&start=15", dostips(2))))
    assert threads == [] and requests == []  # the last answer of the walk: its facts count
    assert facts == [PageFacts(number=2, comments_closed=False)]
    assert [c.number for c in comments] == list(range(16, 31))  # the "#16" ... "#30" shown
    assert comments[0].source_id == "47832"
    # the number shown wins over the place on the page (a deleted post leaves a gap)
    shown = dostips(2).replace("'Message #16'", "'Message #99'").replace(">#16</a>", ">#99</a>")
    assert sort(phpbb.read_page(answer(f"{TOPIC}&start=15", shown)))[1][0].number == 99
    assert comments[0].permalink == FORUM + "viewtopic.php?p=47832#p47832"


def test_a_post_link_on_a_later_page_leads_to_page_one_first() -> None:
    # viewtopic.php?p=ID shows the post's page; the thread is read from page 1
    threads, comments, _facts, requests = sort(phpbb.read_first(answer(
        FORUM + "viewtopic.php?p=47838", dostips(2))))
    assert threads == [] and comments == []
    assert [(r.url, r.then) for r in requests] == [(TOPIC, phpbb.read_first)]


def test_the_date_is_the_bare_text_after_the_author_kept_as_shown() -> None:
    comments = sort(phpbb.read_page(answer(f"{TOPIC}&start=15", dostips(2))))[1]
    penpen = comments[1]
    assert (penpen.author_name, penpen.published_text) == ("penpen", "18 Jul 2016 14:40")
    assert penpen.published_at == datetime(2016, 7, 18, 14, 40, tzinfo=UTC)
    assert penpen.author_url == FORUM + "memberlistfcd5.html?mode=viewprofile&u=4915"
    # German board (d.m.Y, H:i; "von" for "by") and subsilver2 ("Posted: D M d, Y g:i a")
    german = phpbb.parse_page(page(MYOOS, "page.html"), "https://foren.myoos.de/viewtopic.php?t=167")
    assert (german.thread.published_text, german.thread.published_at) == (
        "21.01.2009, 05:42", datetime(2009, 1, 21, 5, 42, tzinfo=UTC))
    old = phpbb.parse_page(page(DILDANO, "viewtopic-27953.php"),
                           "http://dildano.co.uk/phpBB3/viewtopic.php?f=3&t=8")
    assert (old.thread.published_text, old.thread.published_at) == (
        "Sun Sep 27, 2009 4:13 pm", datetime(2009, 9, 27, 16, 13, tzinfo=UTC))
    assert phpbb.parse_phpbb_date("Today, 08:51") is None  # relative: kept as text only


def test_phpbb_3_3_time_element_gives_the_exact_time() -> None:
    # 3.3's prosilver wraps the date in <time datetime="RFC 3339">; the text stays as shown
    html = dostips(2).replace("</span>18 Jul 2016 14:40", '</span><time datetime='
                              '"2016-07-18T12:40:00+00:00">Mon Jul 18, 2016 2:40 pm</time>', 1)
    penpen = sort(phpbb.read_page(answer(f"{TOPIC}&start=15", html)))[1][1]
    assert penpen.published_text == "Mon Jul 18, 2016 2:40 pm"
    assert penpen.published_at == datetime(2016, 7, 18, 12, 40, tzinfo=UTC)  # not 14:40


def test_quoted_posts_stay_quotes() -> None:
    comments = sort(phpbb.read_page(answer(f"{TOPIC}&start=15", dostips(2))))[1]
    quoting = comments[1]  # penpen quotes misol101
    assert quoting.body_html.startswith("<blockquote><div><cite>misol101 wrote:</cite>")
    # the cite on a line of its own, the quote a block of its own, the reply after it
    assert quoting.body_text.startswith(
        "misol101 wrote:\nHow slow is WriteConsoleOutput!!?\n\nIt should be much faster")
    nested = comments[3]  # a quote inside a quote
    assert nested.body_html.count("<blockquote>") == 2


def test_a_locked_topic_has_its_comments_closed() -> None:
    html = dostips(7)
    assert sort(phpbb.read_page(answer(f"{TOPIC}&start=90", html)))[2][0].comments_closed is False
    # prosilver 3.1+ when S_IS_LOCKED: the reply button shows a lock (fa-lock, not fa-reply)
    assert html.count("fa-reply fa-fw") == 2
    locked = html.replace("fa-reply fa-fw", "fa-lock fa-fw")
    facts = sort(phpbb.read_page(answer(f"{TOPIC}&start=90", locked)))[2]
    assert facts == [PageFacts(number=7, comments_closed=True)]
    # subsilver2: the locked button image
    old = page(DILDANO, "viewtopic-35177.php")
    url = "http://dildano.co.uk/phpBB3/viewtopic.php?t=8&start=10"
    assert not phpbb.parse_page(old, url).comments_closed
    locked = old.replace("button_topic_reply", "button_topic_locked")
    assert phpbb.parse_page(locked, url).comments_closed


def test_subsilver2_posts_from_a_mirror_whose_links_lost_their_query() -> None:
    url = "http://dildano.co.uk/phpBB3/viewtopic.php?f=3&t=8"
    threads, comments, _facts, requests = sort(phpbb.read_first(answer(
        url, page(DILDANO, "viewtopic-27953.php"))))
    [thread] = threads
    assert (thread.url, thread.title, thread.site_name, thread.author) == (
        "http://dildano.co.uk/phpBB3/viewtopic.php?t=8", "Artwork", "DILDANO", "Nick")
    # no "#N" in this style: a post's number is its place in the topic
    assert [(c.source_id, c.number, c.author_name) for c in comments[:2]] == [
        ("29", 2, "bearblock"), ("34", 3, "Nick")]
    # page 2 from the jumpto() script (t=8, 10 per page) and "Page 1 of 2"
    assert [r.url for r in requests] == ["http://dildano.co.uk/phpBB3/viewtopic.php?t=8&start=10"]
    later = sort(phpbb.read_page(answer(url + "&start=10", page(DILDANO, "viewtopic-35177.php"))))
    assert [c.number for c in later[1]] == list(range(11, 21))


def test_session_ids_and_forum_ids_stay_out_of_the_urls() -> None:
    found = phpbb.parse_page(page(MYOOS, "page.html"), "https://foren.myoos.de/viewtopic.php?p=453")
    assert found.first_page and found.thread.url == "https://foren.myoos.de/viewtopic.php?t=167"
    assert found.page_urls == ["https://foren.myoos.de/viewtopic.php?t=167"]


def test_urls_and_markup_name_the_platform() -> None:
    assert adapter_for_url(FORUM + "viewtopic.php?f=3&t=7153&start=45") is phpbb
    assert adapter_for_url(FORUM + "viewtopic.php?p=47838#p47838") is phpbb
    assert phpbb.start(FORUM + "viewtopic.php?f=3&t=7153&start=45&sid=abc#p1").url == TOPIC
    assert phpbb.start(FORUM + "viewtopic.php?p=47838#p47838").url == \
        FORUM + "viewtopic.php?p=47838"
    for html in (dostips(3), page(MYOOS, "page.html"), page(DILDANO, "viewtopic-27953.php")):
        assert phpbb.matches(html) and adapter_for(html, "http://x/forum/t/1") is phpbb
    xf = (FIXTURES / "xenforo" / "katzen-forum-thread-230143" / "page.html").read_text("utf-8")
    assert not phpbb.matches(xf) and xenforo.matches(xf)


def test_archiving_a_middle_page_archives_the_whole_topic(data_dir: Path, cli) -> None:
    server = serve_fixture(DOSTIPS)
    try:
        url = server.url("/forum/viewtopic.php?f=3&t=7153&start=45")
        result = cli("archive", url)
        assert result.code == 0, result.err
        exported = cli("export", "jsonl", url, "-o", "-")
        dump = cli("export", "text", url, "-o", "-")
        asked = [path for method, path, _ in server.requests if path != "/robots.txt"]
    finally:
        server.stop()
    # page 1 first (the post), then every page once, in the canonical form
    assert asked == ["/forum/viewtopic.php?t=7153"] + [
        f"/forum/viewtopic.php?t=7153&start={s}" for s in range(15, 91, 15)]
    thread = json.loads(exported.out)
    assert thread["url"] == server.url("/forum/viewtopic.php?t=7153")
    assert thread["comment_count"] == 93  # 94 posts: the first is the thread
    assert [c["number"] for c in thread["comments"]] == list(range(2, 95))
    assert "Posted by: penpen | 18 Jul 2016 14:40 | 17\n" in dump.out


def test_a_post_link_on_a_later_page_archives_the_whole_topic(data_dir: Path, cli) -> None:
    # viewtopic.php?p=ID answers with the page that holds the post (here page 2)
    origin, routes = load_fixture(DOSTIPS)
    routes["/forum/viewtopic.php?p=47838"] = routes["/forum/viewtopic.php?t=7153&start=15"]
    with FixtureServer(routes, origin=origin) as server:
        result = cli("archive", server.url("/forum/viewtopic.php?p=47838#p47838"))
        assert result.code == 0, result.err
        exported = cli("export", "jsonl", server.url("/forum/viewtopic.php?t=7153"), "-o", "-")
        asked = [path for _, path, _ in server.requests if path != "/robots.txt"]
    # the post's page, then page 1 (the thread), then every other page once
    assert asked == ["/forum/viewtopic.php?p=47838", "/forum/viewtopic.php?t=7153"] + [
        f"/forum/viewtopic.php?t=7153&start={s}" for s in range(15, 91, 15)]
    thread = json.loads(exported.out)
    assert thread["author"] == "misol101" and thread["comment_count"] == 93


def test_a_page_in_windows_1252_exports_as_utf8(data_dir: Path, cli) -> None:
    # the German page re-encoded as a legacy board would serve it (the header says ISO-8859-1,
    # which browsers, and the fetcher, read as windows-1252)
    html = page(MYOOS, "page.html").replace('<meta charset="utf-8" />',
                                            '<meta charset="windows-1252" />')
    body = html.encode("cp1252")
    assert "Kommunikationsmöglichkeiten".encode("cp1252") in body and b"\xc3" not in body
    route = Route(body=body, content_type="text/html; charset=ISO-8859-1")
    with FixtureServer({"/viewtopic.php?t=167": route}, origin="https://foren.myoos.de") as server:
        url = server.url("/viewtopic.php?t=167")
        assert cli("archive", url).code == 0
        exported = cli("export", "jsonl", url, "-o", "-")
    thread = json.loads(exported.out)
    assert thread["title"] == "Was ist Freie Software"
    assert "Kommunikationsmöglichkeiten" in thread["body_text"]
    assert "\ufffd" not in thread["body_text"] and "Ã" not in thread["body_text"]


def _etagged(folder: Path) -> dict[str, Route]:
    _origin, routes = load_fixture(folder)
    for route in routes.values():
        route.headers["ETag"] = '"' + hashlib.sha1(route.body).hexdigest() + '"'
    return routes


def test_a_refresh_reads_only_the_changed_pages_and_flags_a_deleted_post(
        tmp_path: Path) -> None:
    origin, _routes = load_fixture(DOSTIPS)
    routes = _etagged(DOSTIPS)
    store = Store(default_database_url(tmp_path))
    with FixtureServer(routes, origin=origin) as server, \
            Fetcher(FetchSettings(delay=0, max_attempts=1)) as fetcher:
        archiver = ThreadArchiver(store, fetcher)
        url = server.url("/forum/viewtopic.php?f=3&t=7153&start=45")
        first = archiver.archive(url)
        assert (first.complete, first.new, first.comments) == (True, 93, 93)
        # a new post on the last page (a copy of its last post under a new id and number)
        last = "/forum/viewtopic.php?t=7153&start=90"
        html = routes[last].body.decode()
        post = html[html.index('<div id="p57804"'):html.index('<hr class="divider" />',
                                                                html.index('<div id="p57804"'))]
        added = post.replace("57804", "57805").replace("Message #94", "Message #95") \
            .replace("#94</a>", "#95</a>")
        changed = html.replace(post, post + '<hr class="divider" />\n' + added).encode()
        server.set_page(last, changed, headers={"ETag": '"v2"'})
        del server.requests[:]
        again = archiver.archive(url)
        conditional = [headers.get("If-None-Match") for _, path, headers in server.requests
                       if path != "/robots.txt"]
        # a moderator deletes penpen's post p47838 on page 2: flagged removed, never dropped
        second = "/forum/viewtopic.php?t=7153&start=15"
        html = routes[second].body.decode()
        begin = html.index('<div id="p47838"')
        end = html.index('<hr class="divider" />', begin) + len('<hr class="divider" />')
        server.set_page(second, html[:begin] + html[end:], headers={"ETag": '"v3"'})
        third = archiver.archive(url)
        with store.session() as session:
            thread = session.exec(select(Thread)).one()
            out = io.StringIO()
            write_thread(session, thread, out)
    store.close()
    assert all(conditional) and len(conditional) == 7  # every page asked with its validator
    assert again.pages_not_modified == 6  # 304 for all but the last page
    assert (again.complete, again.new, again.comments) == (True, 1, 94)
    assert (third.pages_not_modified, third.removed, third.comments) == (6, 1, 93)
    exported = {c["source_id"]: c for c in json.loads(out.getvalue())["comments"]}
    assert exported["47838"]["removed"] is True and exported["47838"]["author_name"] == "penpen"
    assert exported["57805"]["removed"] is False and exported["57805"]["number"] == 95


@pytest.mark.parametrize("name", PAGE_FILES)
def test_every_page_reads_fifteen_posts_or_the_rest(name: str) -> None:
    number = PAGE_FILES.index(name) + 1
    start = (number - 1) * 15
    found = phpbb.parse_page(page(DOSTIPS, name), f"{TOPIC}&start={start}" if start else TOPIC)
    assert [p.number for p in found.posts] == list(range(start + 1, min(start + 15, 94) + 1))
    assert found.first_page is (number == 1) and found.page_number == number
