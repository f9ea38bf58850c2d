"""The WordPress adapter's callbacks on the fixture pages (and on snippets of WordPress's own
templates for markup no saved page shows), one test per quirk: themes, replies, pings, wpDiscuz,
paging both ways, closed comments, the REST API and its fallback to the HTML."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from archiver.adapters import adapter_for, typepad, wordpress, wordpress_rest
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import JSON, Found, Request, Response
from archiver.errors import ParseError
from tests.conftest import FIXTURES, MOA, MOA_PATH

WP = FIXTURES / "wordpress"
GORMULUS = WP / "gormulus-wpcom-threaded" / "page.html"
GORMULUS_URL = "https://gormulus.wordpress.com/2012/12/11/das-wird-man-ja-wohl-noch-sagen-durfen/"
NETZPOLITIK = WP / "netzpolitik-wp-html5-comment-list" / "page.html"
NETZPOLITIK_URL = ("https://netzpolitik.org/2016/die-cider-connection-abmahnungen-gegen-nutzer-"
                   "von-creative-commons-bildern/")
BACKEN = WP / "backenmachtgluecklich-wpdiscuz-comment-page-1-of-5" / "page.html"
BACKEN_URL = "https://www.backenmachtgluecklich.de/rezepte/saftiger-zitronenkuchen-vom-blech.html"
STANDUP = WP / "standuptothegrownups-twentytwenty-comment-pages-1-2-3"
SITE = "https://standuptothegrownups.net/"
HELGE = WP / "helge-twentytwenty-comments-closed" / "page.html"
HELGE_URL = "http://www.helge.at/2014/03/warum-wien-zu-blod-fur-eine-staufreie-mahu-ist/"
WESEL = WP / "weselpower-wpcom-no-comments-closed" / "page.html"
WESEL_URL = "https://weselpower.wordpress.com/2009/12/23/monstergesprche-1/"
REST_JSON = WP / "standuptothegrownups-rest-api" / "wp-json" / "comments-post-8-page-1.json"
API = SITE + "wp-json/wp/v2/comments?post=8&per_page=100&page="


def response(url: str, body: str | bytes, ctype: str = "text/html; charset=UTF-8",
             headers: tuple[tuple[str, str], ...] = ()) -> Response:
    content = body.encode("utf-8") if isinstance(body, str) else body
    return Response(url=url, status=200, headers=(("Content-Type", ctype), *headers),
                    content=content, text=content.decode("utf-8", "replace"))


def page_of(path: Path, url: str) -> Response:
    return response(url, path.read_bytes())


def sort(found: Iterable[Found]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {"thread": [], "comments": [], "facts": [], "requests": []}
    for item in found:
        key = {ParsedThread: "thread", ParsedComment: "comments", PageFacts: "facts",
               Request: "requests"}[type(item)]
        out[key].append(item)
    return out


def shape(comments: Iterable[ParsedComment]) -> list[tuple[str, str | None, int, str]]:
    return [(c.source_id, c.parent_source_id, c.depth, c.kind) for c in comments]


# --- markup of themes ----------------------------------------------------------------------------

def test_wpcom_li_comment_wrappers_commentlist_replies_and_pings() -> None:
    """ol.commentlist > li#li-comment-N > article#comment-N (Twenty Twelve on WordPress.com),
    replies in ol.children, pingbacks as li.pingback#comment-N without an article."""
    page = wordpress.parse_page(GORMULUS.read_text(encoding="utf-8"), GORMULUS_URL)
    assert len(page.comments) == 45 and len(page.pings) == 5
    first, ping = page.comments[0], page.comments[1]
    assert (first.source_id, first.author_name, first.author_url) == (
        "154", "photobix", "http://photobix.de")
    assert first.published_text == "11. Dezember 2012 um 11:07"
    assert first.published_at == datetime(2012, 12, 11, 10, 7, 17, tzinfo=UTC)
    assert first.permalink == GORMULUS_URL + "#comment-154"
    assert first.body_text == "Danke!"
    assert (ping.source_id, ping.kind, ping.parent_source_id) == ("155", "pingback", None)
    assert ping.author_name.startswith("Israel: Von Grabenkämpfen")
    assert ping.author_url == ("https://gormulus.wordpress.com/2012/12/09/israel-von-"
                               "grabenkampfen-und-dem-wert-wahrer-freundschaft/")
    by_id = {c.source_id: c for c in page.comments}
    assert shape([by_id["173"], by_id["174"]]) == [("173", "162", 1, "comment"),
                                                    ("174", "173", 2, "comment")]
    assert sum(1 for c in page.comments if c.depth > 0) == 25


def test_html5_comment_body_time_datetime_and_translated_says() -> None:
    """ol.comment-list > li#comment-N > article.comment-body: b.fn beside span.says "sagt:",
    time[datetime] read in UTC, the shown date kept as shown; nesting four replies deep."""
    page = wordpress.parse_page(NETZPOLITIK.read_text(encoding="utf-8"), NETZPOLITIK_URL)
    assert len(page.comments) == 74 and not page.pings
    first = page.comments[0]
    assert (first.source_id, first.author_name) == ("2058226", "blah blubb")
    assert "sagt" not in " ".join(c.author_name for c in page.comments)
    assert first.published_text == "23. Juni 2016 um 17:21 Uhr"
    assert first.published_at == datetime(2016, 6, 23, 15, 21, 9, tzinfo=UTC)
    chain = [c for c in page.comments if c.source_id in
             ("2058226", "2058234", "2058482", "2058522", "2058525")]
    assert shape(chain) == [("2058226", None, 0, "comment"), ("2058234", "2058226", 1, "comment"),
                            ("2058482", "2058234", 2, "comment"),
                            ("2058522", "2058482", 3, "comment"),
                            ("2058525", "2058522", 4, "comment")]
    assert sum(1 for c in page.comments if c.depth > 0) == 38


def test_bare_div_comments_twenty_twenty() -> None:
    """Twenty Twenty lists comments as div#comment-N.comment (style div: no ol/li), a reply
    nested in its parent's div; span.fn; the comment-content also carries entry-content, which
    must not be taken for the post's body."""
    page = wordpress.parse_page((STANDUP / "comment-page-2.html").read_text(encoding="utf-8"),
                                SITE + "comment-page-2/")
    assert shape(page.comments) == [("65", None, 0, "comment"), ("34", None, 0, "comment"),
                                    ("29", None, 0, "comment"), ("28", None, 0, "comment"),
                                    ("35", "28", 1, "comment"), ("25", None, 0, "comment")]
    assert page.comments[0].author_name == "Vivienne Gstrein"
    assert page.thread.title == "Article 12"
    assert page.thread.body_text.startswith("The United Nations Convention")
    assert page.thread.url == SITE and page.thread.site_url == SITE
    assert page.thread.site_name == "Stand up to the Grownups"


CLASSIC = """<html><head><meta name="generator" content="WordPress 3.0"></head><body>
<div class="entry"><h2 class="entry-title">Old post</h2><div class="entry-content"><p>Post.</p>
</div></div><div id="comments"><ol class="commentlist">
<li class="comment even thread-even depth-1" id="comment-2">
 <div id="div-comment-2" class="comment-body">
 <div class="comment-author vcard"><img alt="" class="avatar" src="a.png">
  <cite class="fn"><a href="http://ann.example.org/" rel="external nofollow" class="url">Ann</a>
  </cite> <span class="says">dit&nbsp;:</span></div>
 <div class="comment-meta commentmetadata"><a href="http://blog.example.org/2010/03/post/#comment-2">
  March 3, 2010 at 10:22 am</a></div>
 <p>Bonjour, <em>tout</em> le monde.</p>
 <div class="reply"><a class="comment-reply-link" href="?replytocom=2#respond">Reply</a></div>
 </div>
 <ul class="children">
 <li class="comment byuser bypostauthor odd alt depth-2" id="comment-3">
  <div id="div-comment-3" class="comment-body">
  <div class="comment-author vcard"><span class="fn">Bob</span> <span class="says">says:</span>
  </div>
  <div class="comment-meta commentmetadata"><a href="#comment-3">March 4, 2010 at 1:05 pm</a></div>
  <p>A reply.</p></div></li></ul></li>
<li class="trackback even thread-odd depth-1" id="comment-4">
 <div id="div-comment-4" class="comment-body">Trackback: <a href="http://other.example.net/x"
  rel="external nofollow" class="url">Other blog</a></div></li>
</ol></div>
<div id="respond"><form id="commentform" action="/wp-comments-post.php"></form></div>
</body></html>"""


def test_classic_markup_cite_fn_translated_says_and_trackback() -> None:
    """wp_list_comments without html5: div.comment-body holds the byline (cite.fn and a
    translated "says"), the date link and the text's paragraphs side by side; ul.children."""
    page = wordpress.parse_page(CLASSIC, "http://blog.example.org/2010/03/post/")
    ann, bob, track = page.comments
    assert (ann.author_name, ann.author_url) == ("Ann", "http://ann.example.org/")
    assert ann.published_text == "March 3, 2010 at 10:22 am"
    assert ann.published_at == datetime(2010, 3, 3, 10, 22, tzinfo=UTC)
    assert ann.body_text == "Bonjour, tout le monde."
    assert "dit" not in ann.body_text and "Reply" not in ann.body_text
    assert (bob.author_name, bob.parent_source_id, bob.depth) == ("Bob", "2", 1)
    assert bob.body_text == "A reply."
    assert bob.permalink == "http://blog.example.org/2010/03/post/#comment-3"
    assert (track.kind, track.author_name, track.author_url) == (
        "trackback", "Other blog", "http://other.example.net/x")


def test_says_without_fn_is_cut_from_the_author() -> None:
    html = CLASSIC.replace('<span class="fn">Bob</span> <span class="says">says:</span>\n',
                           "Bob sagt:")
    assert html != CLASSIC
    page = wordpress.parse_page(html, "http://blog.example.org/2010/03/post/")
    assert page.comments[1].author_name == "Bob"


def test_wpdiscuz_ids_levels_and_parents() -> None:
    """wpDiscuz: div.wc-comment#wc-comm-ID_PARENT, wc_comment_level-N, replies nested, no
    ol/li at all; its own author/date/text blocks."""
    page = wordpress.parse_page(BACKEN.read_text(encoding="utf-8"), BACKEN_URL)
    assert len(page.comments) == 25
    assert sum(1 for c in page.comments if c.depth == 0) == 15
    chain = [c for c in page.comments if c.source_id in ("47096", "47110", "47191", "47240",
                                                         "55001")]
    assert shape(chain) == [("47096", None, 0, "comment"), ("47110", "47096", 1, "comment"),
                            ("47191", "47110", 2, "comment"), ("47240", "47191", 3, "comment"),
                            ("55001", "47240", 4, "comment")]
    first = page.comments[0]
    assert (first.source_id, first.author_name, first.published_text) == (
        "52951", "Franzi", "19. Februar 2017 20:00")
    assert first.body_text.startswith("Liebe Kathrin,")
    assert first.published_at == datetime(2017, 2, 19, 20, 0, tzinfo=UTC)  # German, no zone
    assert first.permalink == BACKEN_URL + "#comment-52951"
    assert not any("Daumen" in c.body_text for c in page.comments)  # the vote footer


# --- paging --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "url", "number", "links"), [
    ("index.html", SITE, 3, ["comment-page-2/", "comment-page-1/"]),
    ("comment-page-1.html", SITE + "comment-page-1/", 1, ["comment-page-3/", "comment-page-2/"]),
    ("comment-page-2.html", SITE + "comment-page-2/", 2, ["comment-page-1/", "comment-page-3/"]),
    ("comment-page-3.html", SITE + "comment-page-3/", 3, ["comment-page-2/", "comment-page-1/"]),
])
def test_comment_pages_link_both_ways(name: str, url: str, number: int, links: list[str]) -> None:
    """Every page links the others (Older/Newer and numbers); the plain URL is the newest page
    (its number from the pager); a page's own number is not asked again."""
    page = wordpress.parse_page((STANDUP / name).read_text(encoding="utf-8"), url)
    assert page.page_number == number
    assert page.links == [SITE + link for link in links]
    assert page.thread.url == SITE  # canonical .../comment-page-N/#comments -> the post


def test_cpage_links_and_older_newer_text() -> None:
    html = """<html><head><link rel="canonical" href="http://b.example/?p=5&cpage=2"></head>
    <body><h1 class="entry-title">T</h1><div id="comments"><ol class="comment-list"></ol>
    <div class="navigation"><a href="http://b.example/?p=5&cpage=1#comments">Older Comments</a>
    <a href="http://b.example/?p=5&cpage=3#comments">Newer Comments</a>
    <a href="http://b.example/?p=5&cpage=2&replytocom=9#respond">Reply</a>
    <a href="http://b.example/?p=6&cpage=2">another post</a></div></div></body></html>"""
    page = wordpress.parse_page(html, "http://b.example/?p=5&cpage=2")
    assert page.page_number == 2
    assert page.links == ["http://b.example/?p=5&cpage=1", "http://b.example/?p=5&cpage=3"]
    assert page.thread.url == "http://b.example/?p=5"


def test_html_pages_yield_every_page_link() -> None:
    found = sort(wordpress.read_html(page_of(STANDUP / "comment-page-1.html",
                                             SITE + "comment-page-1/")))
    assert [r.url for r in found["requests"]] == [SITE + "comment-page-3/",
                                                   SITE + "comment-page-2/"]
    assert all(r.then is wordpress.read_html for r in found["requests"])
    assert found["facts"] == [PageFacts(number=1, comments_closed=False)]
    assert len(found["comments"]) == 6 and len(found["thread"]) == 1


# --- closed and empty ----------------------------------------------------------------------------

def test_closed_with_a_comment_no_form() -> None:
    """Twenty Twenty, comments closed: #respond holds p.comments-closed and no form."""
    page = wordpress.parse_page(HELGE.read_text(encoding="utf-8"), HELGE_URL)
    assert page.comments_closed is True
    assert [c.author_name for c in page.comments] == ["NCWien"]


def test_no_comments_and_closed_is_a_thread_with_none() -> None:
    found = sort(wordpress.read_page(page_of(WESEL, WESEL_URL)))
    assert found["comments"] == [] and found["requests"] == []
    assert found["thread"][0].title == "Monstergespräche #1"
    assert found["facts"] == [PageFacts(number=1, comments_closed=True)]


def test_open_pages_are_not_closed_and_a_quoted_notice_with_a_form_is_not() -> None:
    page = wordpress.parse_page(GORMULUS.read_text(encoding="utf-8"), GORMULUS_URL)
    assert page.comments_closed is False
    quoted = CLASSIC.replace("<p>A reply.</p>", "<p>Comments are closed.</p>")
    page = wordpress.parse_page(quoted, "http://blog.example.org/2010/03/post/")
    assert page.comments_closed is False


# --- recognising WordPress -----------------------------------------------------------------------

def test_matches_wordpress_pages_and_not_others() -> None:
    for path in (GORMULUS, NETZPOLITIK, BACKEN, HELGE, WESEL, STANDUP / "index.html"):
        assert wordpress.matches(path.read_text(encoding="utf-8"), "")
    assert wordpress.matches('<link rel="https://api.w.org/" href="/wp-json/">', "")
    assert wordpress.matches('<meta name="generator" content="WordPress 6.4">', "")
    assert wordpress.matches('<script src="/wp-includes/js/x.js"></script>', "")
    assert not wordpress.matches(  # an image hosted on a WordPress site does not make one
        '<html><head><title>x</title></head><body><img src="https://b.example/wp-content/u/a'
        '.png"></body></html>', "")
    moa = (MOA / "one-page" / MOA_PATH.rsplit("/", 1)[1]).read_text(encoding="utf-8")
    assert not wordpress.matches(moa, "")
    assert adapter_for(moa, "https://x.example/") is typepad  # TypePad stays first
    assert adapter_for(GORMULUS.read_text(encoding="utf-8"), GORMULUS_URL) is wordpress
    assert any(p.match(GORMULUS_URL) for p in wordpress.URL_PATTERNS)


# --- the REST API ------------------------------------------------------------------------------

def rest_answer(data: Any, url: str = API + "1", pages: str | None = "1",  # noqa: ANN401
                ctype: str = "application/json; charset=UTF-8") -> Response:
    headers = (("X-WP-TotalPages", pages),) if pages is not None else ()
    body = data if isinstance(data, str) else json.dumps(data)
    return response(url, body, ctype, headers)


def first_page(name: str = "index.html", url: str = SITE) -> dict[str, list[Any]]:
    return sort(wordpress.read_page(page_of(STANDUP / name, url)))


def test_page_with_the_api_asks_it_with_the_html_as_fallback() -> None:
    """api.w.org link + page-id-8: the thread and facts from the page, its comments from the
    API (accept JSON), this page's HTML reading as the fallback."""
    found = first_page()
    assert len(found["thread"]) == 1 and found["comments"] == []  # no pings on this page
    (api,) = found["requests"]
    assert api.url == API + "1" and api.accept == JSON and api.fallback is not None
    fallback = sort(api.fallback())
    assert [c.source_id for c in fallback["comments"]] == ["3458", "103", "81", "77"]
    assert [r.url for r in fallback["requests"]] == [SITE + "comment-page-2/",
                                                      SITE + "comment-page-1/"]
    assert all(r.then is wordpress.read_html for r in fallback["requests"])


def test_post_id_from_the_shortlink_and_api_on_the_pages_host() -> None:
    html = ('<html><head><link rel="https://api.w.org/" href="//old-name.example/wp-json/">'
            "<link rel='shortlink' href='https://b.example/?p=77'></head><body>"
            '<h1 class="entry-title">T</h1></body></html>')
    (api,) = sort(wordpress.read_page(response("https://b.example/post/", html)))["requests"]
    assert api.url == "https://b.example/wp-json/wp/v2/comments?post=77&per_page=100&page=1"
    assert wordpress_rest.comments_url("https://b.example/?rest_route=/", "77", 2) == (
        "https://b.example/?rest_route=%2Fwp%2Fv2%2Fcomments&post=77&per_page=100&page=2")


def test_no_api_link_reads_the_html_at_once() -> None:
    found = sort(wordpress.read_page(page_of(GORMULUS, GORMULUS_URL)))
    assert len(found["comments"]) == 45 and found["requests"] == []


def rest_comments_of(found: dict[str, list[Any]]) -> list[tuple[str, str, str | None]]:
    return sorted((c.source_id, c.author_name, c.parent_source_id) for c in found["comments"])


def test_rest_gives_the_same_comments_as_the_html_pages() -> None:
    (api,) = first_page()["requests"]
    data = json.loads(REST_JSON.read_text(encoding="utf-8"))
    found = sort(api.then(rest_answer(data)))
    html = []
    for name, url in (("index.html", SITE), ("comment-page-1.html", SITE + "comment-page-1/"),
                      ("comment-page-2.html", SITE + "comment-page-2/")):
        html += wordpress.parse_page((STANDUP / name).read_text(encoding="utf-8"), url).comments
    assert rest_comments_of(found) == sorted(
        (c.source_id, c.author_name, c.parent_source_id) for c in html)
    by_id = {c.source_id: c for c in found["comments"]}
    assert (by_id["35"].depth, by_id["35"].published_at) == (
        1, datetime(2020, 3, 31, 3, 21, 34, tzinfo=UTC))
    # thread order: oldest first, a reply right after what it answers
    ids = [c.source_id for c in found["comments"]]
    assert ids[:3] == ["12", "17", "19"] and ids.index("35") == ids.index("28") + 1
    # the HTML pages are still read, as captures: thread and pings, never the comments again
    assert [(r.url, r.then) for r in found["requests"]] == [
        (SITE + "comment-page-2/", wordpress.read_capture),
        (SITE + "comment-page-1/", wordpress.read_capture)]
    capture = sort(wordpress.read_capture(page_of(STANDUP / "comment-page-2.html",
                                                  SITE + "comment-page-2/")))
    assert capture["comments"] == [] and len(capture["thread"]) == 1
    assert [r.url for r in capture["requests"]] == [SITE + "comment-page-1/",
                                                     SITE + "comment-page-3/"]


def test_capture_pages_still_give_their_pings() -> None:
    found = sort(wordpress.read_capture(page_of(GORMULUS, GORMULUS_URL)))
    assert [c.kind for c in found["comments"]] == ["pingback"] * 5


def test_rest_follows_total_pages_and_yields_all_at_the_end() -> None:
    (api,) = first_page()["requests"]
    data = json.loads(REST_JSON.read_text(encoding="utf-8"))
    one = sort(api.then(rest_answer(data[:10], pages="2")))
    assert one["comments"] == []
    (second,) = one["requests"]
    assert second.url == API + "2" and second.accept == JSON and second.fallback is api.fallback
    two = sort(second.then(rest_answer(data[10:], url=API + "2", pages="2")))
    assert len(two["comments"]) == 16
    assert two["facts"] == [PageFacts(number=2, comments_closed=False)]


def test_rest_without_total_pages_asks_on_until_a_short_page() -> None:
    (api,) = first_page()["requests"]
    found = sort(api.then(rest_answer(json.loads(REST_JSON.read_text(encoding="utf-8")),
                                      pages=None)))
    assert len(found["comments"]) == 16  # fewer than per_page: the last page


def test_rest_with_fewer_comments_than_the_page_shows_raises() -> None:
    (api,) = first_page()["requests"]
    data = [c for c in json.loads(REST_JSON.read_text(encoding="utf-8")) if c["id"] != 103]
    with pytest.raises(ParseError, match="lacks 1"):
        list(api.then(rest_answer(data)))


@pytest.mark.parametrize("body", [
    "<html><body>Not the API</body></html>", "{not json", '{"code": "rest_no_route"}',
    '[{"id": "x"}]', '[{"id": 1, "post": 9, "parent": 0, "content": {"rendered": ""}}]',
    "[1, 2]",
])
def test_rest_garbage_raises_so_the_engine_falls_back(body: str) -> None:
    (api,) = first_page()["requests"]
    with pytest.raises((ParseError, ValueError)):
        list(api.then(rest_answer(body)))


def test_rest_pings_by_type_and_a_parent_missing_upstream() -> None:
    items = [
        {"id": 5, "post": 8, "parent": 0, "author_name": "A", "author_url": "", "type": "",
         "date": "2020-01-01T10:00:00", "date_gmt": "2020-01-01T09:00:00",
         "content": {"rendered": "<p>hi</p>"}},
        {"id": 6, "post": 8, "parent": 99, "author_name": "B", "author_url": "http://b/",
         "type": "pingback", "date": "2020-01-02T10:00:00", "date_gmt": "2020-01-02T09:00:00",
         "content": {"rendered": "<p>ping</p>"}},
    ]
    got = wordpress_rest.thread_order(wordpress_rest.read_comments(items, "8"))
    assert [(c.source_id, c.kind, c.parent_source_id, c.depth, c.author_url) for c in got] == [
        ("5", "comment", None, 0, None), ("6", "pingback", "99", 1, "http://b/")]
    assert got[0].body_text == "hi" and got[0].published_text == "2020-01-01T10:00:00"


@pytest.mark.parametrize("url", ["", "https://b.example/0\x1b</span>"])
def test_a_page_url_that_is_no_url_reads_without_links(url: str) -> None:
    # found by tests/test_adapter_fuzz.py: normalise_url refused the page's own URL (ValueError)
    page = wordpress.parse_page((STANDUP / "comment-page-2.html").read_text(encoding="utf-8"), url)
    assert page.links == [] and len(page.comments) == 6


def test_a_time_datetime_out_of_range_is_no_date_not_a_crash() -> None:
    html = (STANDUP / "comment-page-2.html").read_text(encoding="utf-8").replace(
        'datetime="2020-06-03T15:50:25+10:00"', 'datetime="0001-01-01T00:30:00+10:00"')
    first = wordpress.parse_page(html, SITE + "comment-page-2/").comments[0]
    assert first.published_at is None and first.published_text == "3 June 2020 at 3:50 pm"
