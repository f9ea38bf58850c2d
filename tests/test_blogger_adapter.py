"""Blogger (issue 13): the adapter's callbacks on the real pages of fixtures/blogger/, one test per
quirk, and the same comments through `archiver archive` with and without the comment feed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from archiver.adapters import adapter_for, adapter_for_url, blogger, typepad
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.blogger_feed import PAGE_SIZE, FeedReader, thread_order
from archiver.adapters.contract import JSON, Found, Request, Response
from archiver.config import load_settings
from archiver.devserver import FixtureServer, Route, serve_fixture
from archiver.discovery import Discoverer, parse_feed
from archiver.errors import ParseError, UnsupportedSite
from archiver.fetch import Fetcher
from archiver.store.db import Store
from tests.conftest import FIXTURES, MOA, MOA_PATH

CASES = FIXTURES / "blogger"
LUXURY = CASES / "luxuryhaven-custom-domain-threaded"
REPLIES = CASES / "derpapierplanet-custom-domain-replies"
SHELF = CASES / "abookshelf-blogspot-reply"
LEGACY = CASES / "legacy-comments-block"
EMPTY = CASES / "bumsbutzener-blogspot-legacy-no-comments"
OFF = CASES / "android-developers-comments-off"


def origin(case: Path) -> str:
    return str(json.loads((case / "routes.json").read_text(encoding="utf-8"))["origin"])


def expected(case: Path) -> dict[str, Any]:
    return dict(json.loads((case / "expected.json").read_text(encoding="utf-8")))


def page(case: Path, html: str | None = None, path: str | None = None) -> Response:
    body = html if html is not None else (case / "page.html").read_text(encoding="utf-8")
    url = origin(case) + (path or expected(case)["start"])
    return Response(url=url, status=200, headers=(("Content-Type", "text/html"),),
                    content=body.encode(), text=body)


def feed(case: Path, data: Any = None, url: str = "") -> Response:  # noqa: ANN401
    text = json.dumps(data) if data is not None else (case / "comments-feed.json").read_text(
        encoding="utf-8")
    return Response(url=url or origin(case) + "/feeds/1/comments/default?alt=json&start-index=1",
                    status=200, headers=(("Content-Type", "application/json"),),
                    content=text.encode(), text=text)


def split(found: Iterable[Found]) -> tuple[list[ParsedThread], list[ParsedComment],
                                            list[PageFacts], list[Request]]:
    items = list(found)
    return ([f for f in items if isinstance(f, ParsedThread)],
            [f for f in items if isinstance(f, ParsedComment)],
            [f for f in items if isinstance(f, PageFacts)],
            [f for f in items if isinstance(f, Request)])


def feed_request(response: Response) -> Request:
    """The page's one request for its comment feed (checked to be optional, for JSON)."""
    _, comments, facts, requests = split(blogger.read_page(response))
    assert comments == [] and facts == [], "with a feed, the page's comments are its fallback"
    assert len(requests) == 1
    request = requests[0]
    assert request.accept == JSON and request.fallback is not None
    assert "/comments/default?alt=json" in request.url and "start-index=1&" in request.url
    return request


def html_comments(case: Path, html: str | None = None) -> list[ParsedComment]:
    request = feed_request(page(case, html))
    assert request.fallback is not None
    return split(request.fallback())[1]


def compare(comments: list[ParsedComment], case: Path) -> None:
    """The comments against the case's expected.json (written from the page with BS4)."""
    want = expected(case)["comments"]
    assert [c.source_id for c in comments] == [w["source_id"] for w in want]
    base = origin(case)
    for got, w in zip(comments, want, strict=True):
        fields = asdict(got)
        for key in ("author_name", "published_text", "parent_source_id", "depth", "kind"):
            assert (got.source_id, key, fields[key]) == (got.source_id, key, w[key])
        assert got.author_url == w["author_url"]
        assert " ".join(got.body_text.split()).startswith(w["body_text_starts"])
        assert got.permalink and got.permalink.startswith(base)
        assert got.permalink.endswith("#c" + got.source_id)


# --- recognising a Blogger page ----------------------------------------------------------------

def test_custom_domains_are_recognised_by_markup() -> None:
    for case in (LUXURY, REPLIES, OFF):
        response = page(case)
        assert adapter_for_url(response.url) is None  # nothing in the URL says Blogger
        assert adapter_for(response.text, response.url) is blogger
    typepad_page = (MOA / "one-page" / MOA_PATH.split("/")[-1]).read_text(encoding="utf-8")
    assert not blogger.matches(typepad_page, "https://www.moonofalabama.org" + MOA_PATH)
    assert adapter_for(typepad_page, "https://www.moonofalabama.org" + MOA_PATH) is typepad


def test_without_the_generator_tag_two_traces_are_needed() -> None:
    html = (LUXURY / "page.html").read_text(encoding="utf-8")
    untagged = html.replace("<meta content='blogger' name='generator'/>", "")
    assert blogger.matches(untagged)  # the widget CSS, the b: namespace, blogger.com feeds...
    one = ("<html><head><link href='https://www.blogger.com/static/v1/widgets/x.css'/></head>"
           "<body><p>a page that links Blogger's CSS</p></body></html>")
    assert not blogger.matches(one)
    assert blogger.matches(one.replace("<body>", "<body><script>_WidgetManager._Init()</script>"))
    assert blogger.matches('<head><meta name="generator" content="Blogger"></head>')


def test_blogspot_urls_are_claimed_before_any_fetch() -> None:
    for url in ("https://abookshelffullofsunshine.blogspot.com/2013/10/news.html",
                "http://flesler.blogspot.co.uk/2007/10/jqueryscrollto.html?showComment=1#c2"):
        assert adapter_for_url(url) is blogger
    assert adapter_for_url("https://abookshelffullofsunshine.blogspot.com/") is None
    assert adapter_for_url("https://example.typepad.com/blog/2018/06/a-post.html") is typepad


# --- the post ---------------------------------------------------------------------------------

def test_thread_fields_and_site() -> None:
    threads, *_ = split(blogger.read_page(page(LUXURY)))
    thread = threads[0]
    url = "https://www.luxuryhaven.co" + expected(LUXURY)["start"]
    assert thread.url == thread.permalink == url  # the canonical link
    assert thread.title == "Nam Nghi Phu Quoc, The Unbound Collection by Hyatt Officially Opens"
    assert thread.author == "Blackswan"
    assert thread.published_text == "Thursday, May 30, 2019"
    assert thread.published_at is not None and thread.published_at.date().isoformat() == (
        "2019-05-30")
    assert thread.site_name == "Luxury Haven | Award-winning Singapore Lifestyle Blog"  # logo alt
    assert thread.site_url == "https://www.luxuryhaven.co/"
    assert thread.body_text.startswith("nam nghi phu quoc unbound collection by hyatt")
    assert "The 114-room resort is nestled" in thread.body_text
    assert "Interesting place" not in thread.body_text  # no comment in the post's body
    legacy = split(blogger.read_page(page(LEGACY)))[0][0]
    assert (legacy.site_name, legacy.author) == ("Tide Watch", "Marit")  # "Posted by" dropped
    assert legacy.published_text == "Saturday, March 8, 2008 at 9:15 AM"
    assert legacy.published_at is not None and legacy.published_at.isoformat() == (
        "2008-03-08T09:15:00+00:00")  # abbr.published's exact time


def test_a_list_of_posts_is_no_thread() -> None:
    html = (LEGACY / "page.html").read_text(encoding="utf-8")
    twice = html.replace("<div class='post-footer'>",
                         "<div class='post-body entry-content'><p>Another post</p></div>"
                         "<div class='post-footer'>", 1)
    with pytest.raises(UnsupportedSite, match="list of 2 posts"):
        list(blogger.read_page(page(LEGACY, twice)))


# --- comments from the HTML -------------------------------------------------------------------

def test_threaded_comments_from_the_page() -> None:
    comments = html_comments(LUXURY)
    compare(comments, LUXURY)
    first = comments[0]
    assert first.published_at is not None  # exact, from the permalink's showComment=EPOCH_MS
    assert first.published_at.isoformat() == "2019-05-30T05:06:04.955000+00:00"
    assert comments[1].body_html == "I've heard great things about these hotels....hope to stay" \
        " at one of the US locations if I never get to VN!"


def test_replies_keep_their_parent_and_depth() -> None:
    comments = html_comments(REPLIES)
    compare(comments, REPLIES)
    replies = [c for c in comments if c.parent_source_id]
    assert len(replies) == 9 and {c.depth for c in replies} == {1}
    assert [c.depth for c in comments[:3]] == [0, 1, 1]
    shelf = html_comments(SHELF)
    compare(shelf, SHELF)
    assert shelf[1].parent_source_id == shelf[0].source_id
    assert shelf[0].published_text == "21:00"  # only a time shown: the date is in the permalink
    assert shelf[0].published_at is not None and shelf[0].published_at.isoformat().startswith(
        "2013-10-07T19:00:01")


def test_the_comment_footer_is_the_form_not_a_comment() -> None:
    """Blogger's p.comment-footer holds the comment form (and the backlinks block has one too):
    neither is read as a comment, and a comment's own dd.comment-footer is its timestamp."""
    for case in (LUXURY, REPLIES, LEGACY):
        comments = html_comments(case)
        assert len(comments) == expected(case)["comment_count"]
        assert all(c.source_id.isdecimal() and c.author_name for c in comments)
        assert not any("Post a Comment" in c.body_text or "comment-form" in c.body_html
                       for c in comments)


def test_legacy_comments_block() -> None:
    comments = html_comments(LEGACY)
    compare(comments, LEGACY)
    anonymous, owner, named, removed = comments
    assert (anonymous.author_name, anonymous.author_url) == ("Anonymous", None)  # not "said..."
    assert anonymous.body_text == (
        "Was the harbour road closed as well?\n\nIt was still open at six.")
    assert owner.author_url == "https://www.blogger.com/profile/10428857385927012347"
    # the avatar's link is not the author; the upper-case <A HREF> of old comments is a link
    assert (named.author_name, named.author_url) == ("Pete the harbourmaster",
                                                     "http://harbourmaster.example.net/")
    assert '<a href="http://harbourmaster.example.net/gauge" rel="nofollow">' in named.body_html
    assert removed.body_html == (
        '<span class="deleted-comment">This comment has been removed by the author.</span>')
    assert removed.published_at is not None and removed.published_at.isoformat() == (
        "2008-03-09T11:42:00+00:00")


def test_legacy_comment_pages_are_followed() -> None:
    """A legacy page of more than 200 comments links its other pages (?commentPage=N): the
    fallback asks for them; a later page is read from its HTML (no feed asked again)."""
    html = (LEGACY / "page.html").read_text(encoding="utf-8")
    base = origin(LEGACY) + expected(LEGACY)["start"]
    pager = (f"<span class='paging-control-container'><a class='paging-control' "
             f"href='{base}?commentPage=2'>Newer &#8250;</a></span>\n<p class='comment-footer'>")
    paged = html.replace("<p class='comment-footer'>", pager, 1).replace(
        "<h4>\n4\ncomments:", "<h4>\n204\ncomments:")
    request = feed_request(page(LEGACY, paged))
    assert request.fallback is not None
    _, comments, facts, follow = split(request.fallback())
    assert len(comments) == 4 and facts == [PageFacts(number=1, comments_closed=False)]
    assert [r.url for r in follow] == [base + "?commentPage=2"]  # no feed asked for the rest
    assert follow[0].accept != JSON and follow[0].fallback is None
    later = page(LEGACY, paged, expected(LEGACY)["start"] + "?commentPage=2")
    _, comments, facts, follow = split(blogger.read_page(later))
    assert len(comments) == 4 and facts[0].number == 2
    assert not any(r.accept == JSON for r in follow)


def test_a_page_showing_fewer_comments_than_the_post_has_asks_the_feed_for_the_rest() -> None:
    """Blogger renders the first ~200 comments and a "Load more..." that its script fills from
    the feed. Without the feed the rest cannot be had: the fallback asks for them (start-index
    after the last shown) as a required request, so the read is incomplete if they are not."""
    html = (LUXURY / "page.html").read_text(encoding="utf-8")
    assert 'class="loadmore hidden"' in html
    shown = feed_request(page(LUXURY)).fallback
    assert shown is not None and split(shown())[3] == []  # all 24 shown: nothing more to ask
    more = html.replace('class="loadmore hidden"', 'class="loadmore"')
    request = feed_request(page(LUXURY, more))
    assert request.fallback is not None
    _, comments, _, follow = split(request.fallback())
    assert len(comments) == 24 and len(follow) == 1
    rest = follow[0]
    assert rest.accept == JSON and rest.fallback is None and "start-index=25&" in rest.url
    stated = feed_request(page(LUXURY, html.replace("<h4>24 comments:</h4>",
                                                    "<h4>230 comments:</h4>"))).fallback
    assert stated is not None and "start-index=25&" in split(stated())[3][0].url


def test_a_post_with_no_comments_is_a_thread_with_none() -> None:
    request = feed_request(page(EMPTY))
    assert request.fallback is not None
    _, comments, facts, follow = split(request.fallback())
    assert comments == [] and follow == []
    assert facts == [PageFacts(number=1, comments_closed=False)]  # its comment.g link: open


def test_comments_closed_when_the_page_offers_no_form() -> None:
    threads, comments, facts, requests = split(blogger.read_page(page(OFF)))
    assert len(threads) == 1 and comments == [] and requests == []  # comments off: no feed
    assert facts == [PageFacts(number=1, comments_closed=True)]
    html = (LEGACY / "page.html").read_text(encoding="utf-8")
    start, end = html.index("<div class='comment-form'>"), html.index("</div>\n</p>")
    closed = html[:start] + "Comments are closed for this post." + html[end + 6:]
    request = feed_request(page(LEGACY, closed))
    assert isinstance(request.then, FeedReader) and request.then.closed
    assert request.fallback is not None
    assert split(request.fallback())[2] == [PageFacts(number=1, comments_closed=True)]
    assert not feed_request(page(LEGACY)).then.closed  # type: ignore[attr-defined]


# --- comments from the feed -------------------------------------------------------------------

@pytest.mark.parametrize("case", [LUXURY, REPLIES], ids=["luxuryhaven", "derpapierplanet"])
def test_the_feed_gives_the_same_comments_as_the_page(case: Path) -> None:
    request = feed_request(page(case))
    from_html = html_comments(case)
    _, from_feed, facts, follow = split(request.then(feed(case)))
    assert [asdict(c) for c in from_feed] == [asdict(c) for c in from_html]
    assert facts == [PageFacts(number=1, comments_closed=False)] and follow == []


def feed_data(case: Path) -> dict[str, Any]:
    return dict(json.loads((case / "comments-feed.json").read_text(encoding="utf-8")))


def test_feed_paging_by_start_index() -> None:
    data = feed_data(REPLIES)
    entries = data["feed"]["entry"]
    assert len(entries) == 13
    first = json.loads(json.dumps(data))
    first["feed"]["entry"] = entries[:7]
    second = json.loads(json.dumps(data))
    second["feed"]["entry"] = entries[7:]
    second["feed"]["openSearch$startIndex"] = {"$t": "8"}
    reader = FeedReader(closed=False, shown=13)
    _, one, facts, follow = split(reader(feed(REPLIES, first)))
    assert len(one) == 7 and len(follow) == 1 and facts[0].number == 1
    assert follow[0].accept == JSON and follow[0].fallback is None
    assert "start-index=8&" in follow[0].url and f"max-results={PAGE_SIZE}" in follow[0].url
    next_reader = follow[0].then
    assert isinstance(next_reader, FeedReader) and next_reader.shown == 0
    _, two, _, after = split(next_reader(feed(REPLIES, second, follow[0].url)))
    assert len(two) == 6 and after == []  # 13 of 13: the last page
    # a reply whose parent is on the page before keeps its parent
    parents = {c.source_id: c.parent_source_id for c in one + two}
    want = {c["source_id"]: c["parent_source_id"] for c in expected(REPLIES)["comments"]}
    assert parents == want
    assert all(c.depth == (1 if c.parent_source_id else 0) for c in one + two)


def test_thread_order_puts_replies_under_their_parent() -> None:
    _, comments, _, _ = split(FeedReader(closed=False)(feed(REPLIES)))
    shuffled = list(reversed(comments))
    assert [c.source_id for c in thread_order(shuffled)] == [c.source_id for c in comments]


def test_a_removed_comment_reads_the_same_from_the_feed() -> None:
    removed = html_comments(LEGACY)[3]
    entry = {"id": {"$t": "tag:blogger.com,1999:blog-4410203391729385502.post-8960453357419226617"},
             "published": {"$t": "2008-03-09T11:42:00.000Z"},
             "content": {"type": "html", "$t": "This comment has been removed by the author."},
             "link": [{"rel": "alternate", "type": "text/html", "href": removed.permalink}],
             "author": [{"name": {"$t": "bawb"},
                         "uri": {"$t": "https://www.blogger.com/profile/02561613173295281689"}}],
             "gd$extendedProperty": [{"name": "blogger.contentRemoved", "value": "true"},
                                     {"name": "blogger.displayTime",
                                      "value": "March 9, 2008 at 11:42 AM"}]}
    data = {"feed": {"openSearch$totalResults": {"$t": "1"}, "openSearch$startIndex": {"$t": "1"},
                     "entry": [entry]}}
    _, comments, _, _ = split(FeedReader(closed=False)(feed(LEGACY, data)))
    assert asdict(comments[0]) == asdict(removed)


@pytest.mark.parametrize("answer", [
    pytest.param("<html><body>Not here</body></html>", id="html"),
    pytest.param("{\"feed\": ", id="truncated-json"),
    pytest.param("[1, 2, 3]", id="not-a-feed"),
    pytest.param('{"feed": {"entry": []}}', id="no-total"),
])
def test_a_feed_that_cannot_be_read_raises_so_the_page_is_used(answer: str) -> None:
    """The engine takes the fallback when the callback raises: any answer that is not a
    readable comment feed must raise, never yield a partial or empty read."""
    response = Response(url=origin(LUXURY) + "/feeds/1/comments/default?alt=json", status=200,
                        headers=(("Content-Type", "application/json"),),
                        content=answer.encode(), text=answer)
    with pytest.raises((ParseError, ValueError)):
        list(FeedReader(closed=False, shown=24)(response))


def test_a_feed_with_fewer_comments_than_the_page_or_only_summaries_is_refused() -> None:
    data = feed_data(LUXURY)
    fewer = json.loads(json.dumps(data))
    fewer["feed"]["entry"] = []
    fewer["feed"]["openSearch$totalResults"] = {"$t": "0"}  # a blog whose comment feed is off
    with pytest.raises(ParseError, match="lists 0 comments, the page shows 24"):
        list(FeedReader(closed=False, shown=24)(feed(LUXURY, fewer)))
    short = json.loads(json.dumps(data))
    for entry in short["feed"]["entry"]:
        entry["summary"] = entry.pop("content")  # the blog's feed set to "short"
    with pytest.raises(ParseError, match="summaries"):
        list(FeedReader(closed=False, shown=24)(feed(LUXURY, short)))


# --- end to end: `archiver archive` on the devserver, with and without the feed ---------------

def archive(case: Path, cli, routes: dict[str, Route | None],  # type: ignore[no-untyped-def]
            ) -> tuple[dict[str, Any], list[str]]:
    server = serve_fixture(case)
    for path, route in routes.items():
        if route is None:
            server.routes.pop(path, None)
        else:
            server.routes[path] = route
    try:
        url = server.url(expected(case)["start"])
        result = cli("archive", url)
        assert result.code == 0, result.err
        exported = cli("export", "jsonl", url, "-o", "-")
        assert exported.code == 0, exported.err
        asked = [path for _, path, _ in server.requests]
    finally:
        server.stop()
    return json.loads(exported.out.splitlines()[0]), asked


COMPARED = ("source_id", "author_name", "author_url", "published_text", "published_at",
            "body_html", "body_text", "parent_source_id", "depth", "kind")


@pytest.mark.parametrize("case", [LUXURY, REPLIES], ids=["luxuryhaven", "derpapierplanet"])
def test_same_comments_with_and_without_the_feed(  # type: ignore[no-untyped-def]
        case: Path, data_dir: Path, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The feed served, then absent (404), answering HTML, garbage or 500: every run stores the
    same comments, fields and parents (the page's own comments are the feed's fallback)."""
    monkeypatch.setenv("ARCHIVER_FETCH_MAX_ATTEMPTS", "1")  # a 500 is not retried: one answer
    feed_path = next(p for p in json.loads((case / "routes.json").read_text())["routes"]
                     if p.startswith("/feeds/"))
    with_feed, asked = archive(case, cli, {})
    assert any(p.startswith(feed_path + "?alt=json") for p in asked)
    runs = {"feed": with_feed}
    broken = {
        "no-feed": None,  # 404
        "html-answer": Route(body=b"<html><body>Blogger error</body></html>"),
        "garbage": Route(body=b"{\"feed\": {\"entry\": [", content_type="application/json"),
        "server-error": Route(body=b"oops", status=500, content_type="application/json"),
    }
    if case is LUXURY:  # the answers that cannot be read are tried on the case with replies
        broken = {"no-feed": None}
    for name, route in broken.items():
        monkeypatch.setenv("ARCHIVER_DATA_DIR", str(tmp_path / name))
        runs[name], asked = archive(case, cli, {feed_path: route})
        assert any(p.startswith(feed_path + "?alt=json") for p in asked), name
    want = expected(case)
    for name, thread in runs.items():
        assert thread["comment_count"] == want["comment_count"], name
        assert [c["source_id"] for c in thread["comments"]] == [
            c["source_id"] for c in want["comments"]], name
        assert thread["comments_closed"] is False, name
        assert [{k: c.get(k) for k in COMPARED} for c in thread["comments"]] == [
            {k: c.get(k) for k in COMPARED} for c in with_feed["comments"]], name



def test_a_read_by_the_feed_then_by_the_page_changes_nothing(data_dir: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """The same store read through the feed, then (feed gone) through the page, then the feed
    again: no comment counts as edited or removed (both paths give the same stored fields)."""
    server = serve_fixture(REPLIES)
    feed_route = next(p for p in server.routes if p.startswith("/feeds/"))
    try:
        url = server.url(expected(REPLIES)["start"])
        outs = []
        for served in (True, False, True):
            route = server.routes.pop(feed_route)
            if served:
                server.routes[feed_route] = route
            result = cli("archive", url)
            server.routes[feed_route] = route
            assert result.code == 0, result.err
            outs.append(result.out)
    finally:
        server.stop()
    assert "13 new, 0 edited, 0 removed" in outs[0]
    assert "0 new, 0 edited, 0 removed" in outs[1] and "read another way" in outs[1]
    assert "0 new, 0 edited, 0 removed" in outs[2] and "another way" not in outs[2]


def test_a_truncated_page_without_its_feed_is_an_incomplete_read(data_dir: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """"Load more..." shown and no feed: the 24 comments shown are kept, the rest is asked of
    the feed (start-index=25) and cannot be had, so the read is incomplete (exit 3), and nothing
    is flagged removed; with the feed served the same page reads complete."""
    html = (LUXURY / "page.html").read_text(encoding="utf-8").replace(
        'class="loadmore hidden"', 'class="loadmore"')
    server = serve_fixture(LUXURY)
    path = expected(LUXURY)["start"]
    feed_route = next(p for p in server.routes if p.startswith("/feeds/"))
    server.routes[path] = Route(html.encode())
    try:
        url = server.url(path)
        route = server.routes.pop(feed_route)
        without = cli("archive", url)
        asked = [p for _, p, _ in server.requests if p.startswith(feed_route)]
        server.routes[feed_route] = route
        served = cli("archive", url)
    finally:
        server.stop()
    assert without.code == 3, without.err
    assert "24 new" in without.out and "incomplete" in without.out
    assert [("start-index=1&" in p, "start-index=25&" in p) for p in asked] == [
        (True, False), (False, True)]
    assert served.code == 0 and "0 new, 0 edited, 0 removed" in served.out

# --- discovery for `archiver run`: Blogger's posts feed ---------------------------------------

FEED = CASES / "discovery-feed" / "posts-default.atom.xml"
POSTS = ["/2019/06/blogging-break-for-luxury-haven-lifestyle-bog.html",
         "/2019/05/nam-nghi-phu-quoc-unbound-collection-by-hyatt-officially-opens.html",
         "/2019/05/keio-plaza-hotel-tama-opens-my-melody-little-twin-stars-rooms.html"]


def test_discovery_reads_a_blogger_posts_feed(tmp_path: Path) -> None:
    """`archiver run` reads /feeds/posts/default as it reads TypePad's feed: the posts (the
    rel=alternate links, not the rel=replies ones to the comment feed or #comment-form) are
    queued, with their dates; the feed is stored as a capture."""
    found = parse_feed(FEED.read_bytes(), "https://www.luxuryhaven.co/feeds/posts/default",
                       "application/atom+xml; charset=UTF-8")
    assert [f.url for f in found] == ["https://www.luxuryhaven.co" + p for p in POSTS]
    assert found[1].published_at == datetime(2019, 5, 29, 16, 30, tzinfo=UTC)
    assert found[1].title.startswith("Nam Nghi Phu Quoc")
    body = FEED.read_bytes()
    routes = {"/feeds/posts/default": Route(body, content_type="application/atom+xml; "
                                                               "charset=UTF-8"),
              "/robots.txt": Route(b"User-agent: *\nDisallow:\n", content_type="text/plain")}
    with FixtureServer(routes, origin="https://www.luxuryhaven.co") as server:
        config = tmp_path / "archiver.toml"
        config.write_text(f"""
[archive]
data_dir = "{tmp_path / 'd'}"
[fetch]
delay = 0
contact = "mailto:tests@example.org"
[[sites]]
name = "luxuryhaven"
url = "{server.url('/')}"
platform = "blogger"
[sites.discovery]
feed = "{server.url('/feeds/posts/default')}"
""", encoding="utf-8")
        settings = load_settings(config, {})
        with Fetcher(settings.fetch) as fetcher:
            report = Discoverer(Store(settings.db_url), fetcher).discover(settings.sites[0])
        assert report.errors == []
        assert report.queued == [server.url(p) for p in POSTS]
