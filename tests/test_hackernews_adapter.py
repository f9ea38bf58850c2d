"""Hacker News (issue 15): the item page's callbacks on the real pages (2015, 2020, 2026), the
Algolia tree against the HTML of the same thread, "More" pages, and `archiver archive` end to
end on 127.0.0.1 (news.ycombinator.com and hn.algolia.com mapped there by fetch.origin_map)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from archiver.adapters import hackernews as hn
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import JSON, Request, Response
from archiver.devserver import FixtureServer, Route, load_fixture
from tests.conftest import FIXTURES

HERE = FIXTURES / "hackernews"
NOW = HERE / "item-48350598-2026"
OLD = HERE / "item-9681697-2015"
ONE = HERE / "item-1-2020-with-algolia"


def response(path: Path, url: str, content_type: str = "text/html; charset=utf-8") -> Response:
    body = path.read_bytes()
    return Response(url=url, status=200, headers=(("Content-Type", content_type),),
                    content=body, text=body.decode("utf-8"))


def split(found: list) -> tuple[list[ParsedThread], list[ParsedComment], list[PageFacts],
                                 list[Request]]:
    return ([f for f in found if isinstance(f, ParsedThread)],
            [f for f in found if isinstance(f, ParsedComment)],
            [f for f in found if isinstance(f, PageFacts)],
            [f for f in found if isinstance(f, Request)])


def html_read(path: Path, url: str) -> list[ParsedComment]:
    """The comments an item page gives when the API is not asked (its fall-back)."""
    threads, comments, facts, requests = split(list(hn.read_item(response(path, url))))
    if requests and requests[0].fallback is not None:
        comments = [f for f in requests[0].fallback() if isinstance(f, ParsedComment)]
    return comments


def test_on_news_ycombinator_com_the_item_page_asks_algolia_once_with_the_page_as_fallback():
    page = response(NOW / "item.html", "https://news.ycombinator.com/item?id=48350598")
    found = list(hn.read_item(page))
    threads, comments, facts, requests = split(found)
    assert found[0] is threads[0] and threads[0].title == "Chuwi Minibook X"
    assert threads[0].site_url == "https://news.ycombinator.com/"
    assert threads[0].author == "thcipriani"
    assert comments == [] and facts == []  # the comments come from the API, or from the fallback
    (api,) = requests
    assert api.url == "https://hn.algolia.com/api/v1/items/48350598" and api.accept == JSON
    fallback = list(api.fallback())
    assert len([f for f in fallback if isinstance(f, ParsedComment)]) == 124
    assert [f for f in fallback if isinstance(f, PageFacts)] == [PageFacts(1, False)]


def test_elsewhere_the_pages_are_all_there_is():
    found = list(hn.read_item(response(NOW / "item.html", "http://127.0.0.1:9/item?id=48350598")))
    threads, comments, facts, requests = split(found)
    assert len(comments) == 124 and requests == [] and facts == [PageFacts(1, False)]


def test_depth_from_the_indent_attribute_and_parents_from_the_rows_above():
    comments = html_read(NOW / "item.html", "http://127.0.0.1:9/item?id=48350598")
    by_id = {c.source_id: c for c in comments}
    assert max(c.depth for c in comments) == 7
    for c in comments:  # every parent is a comment one level up, shown before it
        if c.depth == 0:
            assert c.parent_source_id is None
        else:
            parent = by_id[c.parent_source_id]
            assert parent.depth == c.depth - 1 and comments.index(parent) < comments.index(c)
    first, reply = comments[0], comments[1]
    assert (first.source_id, first.author_name, first.published_text) == (
        "48351450", "winter_blue", "2026-06-01T00:51:16")
    assert first.published_at is not None
    assert first.published_at.isoformat() == "2026-06-01T00:51:16+00:00"
    assert first.body_text.startswith("Used laptops are such a good deal")
    assert "Or really buy any laptop" in first.body_text.split("\n\n")[1]
    assert (reply.parent_source_id, reply.depth) == ("48351450", 1)
    assert first.permalink == "http://127.0.0.1:9/item?id=48351450"


def test_2015_markup_spacer_width_gives_the_depth_and_the_age_link_the_id():
    comments = html_read(OLD / "item_9681697.html", "https://news.ycombinator.com/item?id=9681697")
    assert len(comments) == 69 and max(c.depth for c in comments) == 13
    assert [(c.source_id, c.parent_source_id, c.depth) for c in comments[:3]] == [
        ("9682061", None, 0), ("9682147", "9682061", 1), ("9682248", "9682147", 2)]
    assert comments[0].author_name == "glhaynes" and comments[0].published_text == "3 hours ago"
    assert comments[0].body_html.startswith("\n") or "<font" in comments[0].body_html
    # lexbor puts the reply link inside span.comment when a <p> is left open in it: kept out
    leaked = [c.source_id for c in comments if c.body_text.split()[-1:] == ["reply"]
              or "reply?id=" in c.body_html]
    assert leaked == []


def test_2020_markup_dead_comments_keep_their_mark_and_the_reply_link_stays_out():
    comments = html_read(ONE / "item_1.html", "https://news.ycombinator.com/item?id=1")
    dead = {c.source_id: c for c in comments if c.body_text.startswith("[dead]")}
    assert sorted(dead) == ["454410", "454424", "454426", "82729"]  # the 4 the page marks
    assert dead["454426"].body_text == "[dead]\n\nThis is why we can't have nice things."
    assert comments[0].published_text == "on Oct 9, 2006"
    assert comments[0].published_at is not None and comments[0].published_at.year == 2006
    assert all("reply" not in c.body_html for c in comments)


def test_a_comment_page_is_a_thread_of_its_own():
    page = response(NOW / "comment-48351450.html", "http://127.0.0.1:9/item?id=48351450")
    found = list(hn.read_item(page))
    threads, comments, facts, _ = split(found)
    assert threads[0].title == "Comment by winter_blue on: Chuwi Minibook X"
    assert threads[0].body_text.startswith("Used laptops")
    assert len(comments) == 69 and "48351450" not in {c.source_id for c in comments}
    assert facts[0].comments_closed  # 65 days on: archived, no comment form


def algolia_read(url: str = "https://hn.algolia.com/api/v1/items/1") -> list[ParsedComment]:
    page = response(ONE / "item_1.html", "https://news.ycombinator.com/item?id=1")
    (thread,) = [f for f in hn.read_item(page) if isinstance(f, ParsedThread)]
    api = response(ONE / "items_1.json", url, "application/json; charset=utf-8")
    return [f for f in hn.read_algolia(api, thread=thread) if isinstance(f, ParsedComment)]


def test_the_same_thread_through_the_api_and_the_html_gives_the_same_comments_and_parents():
    """Item 1's real Algolia tree and its real page (HNAPI's recordings, 2020): every comment
    the page shows, with the same parent, depth and text, but for what HN itself shows
    differently: its dead comments stand at top level at the end of the page (the tree puts two
    under their parents), an account renamed since (rms -> kf), and a deleted comment without
    replies that the tree lists and the page leaves out (the adapter leaves it out too)."""
    page = html_read(ONE / "item_1.html", "https://news.ycombinator.com/item?id=1")
    html = {c.source_id: c for c in page}
    api = {c.source_id: c for c in algolia_read()}
    assert set(api) == set(html) and len(api) == 19  # 234591 (deleted, no replies) left out
    tree = {k: (c.parent_source_id, c.depth) for k, c in api.items()}
    page = {k: (c.parent_source_id, c.depth) for k, c in html.items()}
    assert {k for k in tree if tree[k] != page[k]} == {"454424", "454426"}
    assert (tree["454426"], page["454426"]) == (("17", 2), (None, 0))
    assert {k for k in api if api[k].author_name != html[k].author_name} == {"234549", "234567"}
    for key in api:
        words = html[key].body_text.removeprefix("[dead]").split()
        assert api[key].body_text.split()[:5] == words[:5], key


def test_the_api_tree_is_read_depth_first_in_its_own_order():
    comments = algolia_read()
    assert [c.source_id for c in comments][:6] == [
        "487171", "454410", "234509", "234548", "234549", "234551"]
    assert comments[0].published_text == "2009-02-19T12:21:23"
    assert comments[0].author_url == "https://news.ycombinator.com/user?id=jacquesm"


def test_an_algolia_answer_for_another_item_is_refused():
    with pytest.raises(Exception, match="is not"):
        algolia_read_wrong = response(ONE / "items_1.json", "https://hn.algolia.com/api/v1/items/2",
                                      "application/json")
        thread = ParsedThread(url="https://news.ycombinator.com/item?id=2", title="x", body_html="")
        hn.read_algolia(algolia_read_wrong, thread=thread)


# --- end to end --------------------------------------------------------------------------------

def paged_routes(pages: int) -> dict[str, Route]:
    """The 2026 page cut into `pages` item pages at top-level comments, each but the last with
    HN's "More" link (``a.morelink``, ``item?id=N&p=P``): HN pages big threads this way."""
    html = (NOW / "item.html").read_text(encoding="utf-8")
    head, rest = html.split('<table border="0" class="comment-tree">', 1)
    rows, tail = rest.rsplit("</table>", 1)[0], "</table>" + rest.rsplit("</table>", 1)[1]
    top = r'<tr class="athing comtr" id="\d+"><td><table border="0"><tr><td class="ind" indent="0">'
    cut = [m.start() for m in re.finditer(top, rows)]
    bounds = [cut[len(cut) * i // pages] for i in range(pages)] + [len(rows)]
    routes = {}
    for i in range(pages):
        more = ('<tr class="morespace" style="height:10px"></tr><tr><td>'
                f'<a href="item?id=48350598&amp;p={i + 2}" class="morelink" rel="next">More</a>'
                '</td></tr>') if i + 1 < pages else ""
        table = '<table border="0" class="comment-tree">' + rows[bounds[i]:bounds[i + 1]]
        page = head + table + more + tail
        path = "/item?id=48350598" + (f"&p={i + 1}" if i else "")
        routes[path] = Route(body=page.encode("utf-8"))
    return routes


def test_a_thread_of_several_more_pages_is_complete(data_dir, cli):
    with FixtureServer(paged_routes(3), origin="https://news.ycombinator.com") as server:
        url = server.url("/item?id=48350598")
        result = cli("archive", url)
        asked = [path for _, path, _ in server.requests if path != "/robots.txt"]
        exported = cli("export", "jsonl", url, "-o", "-")
    assert result.code == 0, result.err
    assert asked == ["/item?id=48350598", "/item?id=48350598&p=2", "/item?id=48350598&p=3"]
    thread = json.loads(exported.out)
    want = [c.source_id for c in html_read(NOW / "item.html", "http://x/item?id=48350598")]
    assert [c["source_id"] for c in thread["comments"]] == want and len(want) == 124


def served_on_hn(routes: dict[str, Route], monkeypatch) -> FixtureServer:
    server = FixtureServer(routes, origin="https://news.ycombinator.com").start()
    base = server.url("").rstrip("/")
    monkeypatch.setenv("ARCHIVER_FETCH_ORIGIN_MAP",
                       f"https://news.ycombinator.com={base} https://hn.algolia.com={base}")
    return server


def test_archive_reads_the_algolia_tree_in_one_request(data_dir, cli, monkeypatch):
    origin, routes = load_fixture(ONE)
    server = served_on_hn(routes, monkeypatch)
    try:
        url = "https://news.ycombinator.com/item?id=1"
        result = cli("archive", url)
        exported = cli("export", "jsonl", url, "-o", "-")
        asked = [path for _, path, _ in server.requests if path != "/robots.txt"]
    finally:
        server.stop()
    assert result.code == 0, result.err
    assert asked == ["/item?id=1", "/api/v1/items/1"]  # never one request per comment
    comments = json.loads(exported.out)["comments"]
    assert [c["source_id"] for c in comments] == [c.source_id for c in algolia_read()]
    assert {c["source_id"]: c["author_name"] for c in comments}["234549"] == "rms"  # the API's


def test_when_algolia_fails_the_html_pages_are_read(data_dir, cli, monkeypatch):
    origin, routes = load_fixture(ONE)
    # an answer that is no JSON (a maintenance page; a 5xx would be retried first, slowly)
    routes["/api/v1/items/1"] = Route(body=b"<html>down for maintenance</html>")
    server = served_on_hn(routes, monkeypatch)
    try:
        url = "https://news.ycombinator.com/item?id=1"
        result = cli("archive", url)
        exported = cli("export", "jsonl", url, "-o", "-")
    finally:
        server.stop()
    assert result.code == 0, result.err
    comments = json.loads(exported.out)["comments"]
    page = html_read(ONE / "item_1.html", "https://news.ycombinator.com/item?id=1")
    want = [c.source_id for c in page]
    assert [c["source_id"] for c in comments] == want
    assert {c["source_id"]: c["author_name"] for c in comments}["234549"] == "kf"  # the page's


def test_a_refresh_of_an_unchanged_thread_edits_nothing(data_dir, cli):
    """The date kept is the page's timestamp (span.age's title), not the "4 hours ago" shown,
    which changes with every visit and would version every comment on every refresh."""
    html = (NOW / "item.html").read_text(encoding="utf-8")
    later = html.replace("4 hours ago", "9 hours ago").replace("3 hours ago", "8 hours ago")
    assert later != html
    with FixtureServer({"/item?id=48350598": Route(body=html.encode())},
                       origin="https://news.ycombinator.com") as server:
        url = server.url("/item?id=48350598")
        first = cli("archive", url)
        server.set_page("/item?id=48350598", later)
        again = cli("archive", url)
    assert first.code == 0 and "124 new" in first.out, first.out + first.err
    assert again.code == 0 and "0 new, 0 edited, 0 removed" in again.out, again.out + again.err


def test_flagged_and_deleted_comments_are_kept_as_shown():
    """The 2026 page with one comment's head showing "[flagged]" (as HN prints it beside the
    age) and another's text emptied to HN's "[deleted]"; both stay, marked."""
    html = (NOW / "item.html").read_text(encoding="utf-8")
    flagged = '<span id="unv_48351877"></span>'
    assert html.count(flagged) == 1
    html = html.replace(flagged, flagged + " [flagged]")
    body = re.search(r'(<tr class="athing comtr" id="48352177">.*?<div class="commtext c00">)(.*?)'
                     r'(</div>)', html, re.S)
    assert body is not None
    html = html[:body.start(2)] + "[deleted]" + html[body.end(2):]
    tree = hn.parse_html(html)
    comments = {c.source_id: c for c in hn.parse_comments(tree, "http://x/item?id=48350598")}
    assert len(comments) == 124
    assert comments["48351877"].body_text.startswith("[flagged]\n\nThis laptop has a 10")
    assert comments["48352177"].body_text == "[deleted]"
    assert comments["48352177"].parent_source_id == "48351877"
