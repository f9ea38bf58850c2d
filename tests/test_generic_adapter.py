"""Generic schema.org comments: the callback on the real pages (Handelsblatt's microdata,
MQL5's JSON-LD), replies by nesting and by parentItem, UserComments, a page stating it has no
comments; the registry's last word; and `archiver archive` on 127.0.0.1, where a page with
nothing to read is still exit 5 with its one line."""

from __future__ import annotations

import json

import pytest

from archiver.adapters import ADAPTERS, adapter_for, generic, typepad
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import Response
from archiver.devserver import FixtureServer
from archiver.errors import UnsupportedSite
from tests.conftest import FIXTURES, MOA

HANDELSBLATT = FIXTURES / "generic" / "handelsblatt-grenzschliessungen"
MQL5 = FIXTURES / "generic" / "mql5-forum-457395-jsonld"
HB_URL = ("https://www.handelsblatt.com/politik/international/grenzschliessungen-deutschland-"
          "frankreich-und-die-rueckkehr-der-ressentiments/25776812.html")


def response(text: str, url: str = "https://blog.example.org/2024/03/post/") -> Response:
    return Response(url=url, status=200, headers=(("Content-Type", "text/html"),),
                    content=text.encode("utf-8"), text=text)


def read(text: str, url: str = "https://blog.example.org/2024/03/post/") -> list:
    return list(generic.read_page(response(text, url)))


def comments(found: list) -> list[ParsedComment]:
    return [f for f in found if isinstance(f, ParsedComment)]


def ld(data: object) -> str:
    return ('<!DOCTYPE html><html><head><title>T</title><script type="application/ld+json">'
            f"{json.dumps(data)}</script></head><body><h1>T</h1></body></html>")


# ---- the real pages ---------------------------------------------------------------------------

def test_microdata_comments_of_a_news_page() -> None:
    found = read(HANDELSBLATT.joinpath("page.html").read_text(encoding="utf-8"), HB_URL)
    thread = found[0]
    assert isinstance(thread, ParsedThread)
    assert thread.title == ("Grenzschließungen: Deutschland, Frankreich und die Rückkehr der "
                            "Ressentiments")
    assert thread.url == HB_URL and thread.published_text == "2020-04-27T18:50:24+02:00"
    got = comments(found)
    assert [c.author_name for c in got] == ["Steffen Ecks", "Tobias Schmitz", "Hans Bajohr"]
    # <time content=... itemprop="datePublished"> without datetime: its content, not nothing
    assert [c.published_text for c in got] == [
        "2020-04-28T10:27:29+0200", "2020-04-28T08:59:41+0200", "2020-04-27T20:10:40+0200"]
    assert got[0].published_at is not None and got[0].published_at.hour == 8  # UTC
    assert got[0].body_text.endswith('Und zwar gerade dort, wo Schengen "zu Hause" ist.')
    assert "&#34;" not in got[0].body_text and "&quot;zu Hause&quot;" in got[0].body_html
    assert all(c.parent_source_id is None and c.depth == 0 for c in got)
    assert len({c.source_id for c in got}) == 3 and all(
        c.source_id.startswith("sha1-") for c in got)
    assert found[-1] == PageFacts(number=1)


def test_json_ld_comments_of_a_forum_topic() -> None:
    url = "https://www.mql5.com/en/forum/457395"
    found = read(MQL5.joinpath("page.html").read_text(encoding="utf-8"), url)
    thread = found[0]
    assert (thread.title, thread.author) == ("Strategy tester and market close scenarios", "lgb1")
    assert thread.body_text.startswith("I've been using an specific broker")
    got = comments(found)
    assert [c.source_id for c in got] == ["comment_50511371", "comment_50511416",
                                          "comment_50533748"]
    assert got[0].author_url == "https://www.mql5.com/en/users/fmic"
    assert got[0].permalink == "https://www.mql5.com/en/forum/457395#comment_50511371"
    assert got[2].published_text == "2023-11-15T04:12:28.0000000Z"  # seven fraction digits
    assert got[2].published_at is not None and got[2].published_at.isoformat() == (
        "2023-11-15T04:12:28+00:00")
    assert got[1].body_html.startswith("<p>You can however")


def test_ids_of_id_less_comments_stay_the_same_across_reads() -> None:
    page = HANDELSBLATT.joinpath("page.html").read_text(encoding="utf-8")
    first = [c.source_id for c in comments(read(page, HB_URL))]
    assert first == [c.source_id for c in comments(read(page, HB_URL))]


# ---- replies ----------------------------------------------------------------------------------

def test_nested_comment_lists_are_replies_in_page_order() -> None:
    post = {"@context": "https://schema.org", "@type": "BlogPosting", "headline": "Tides",
            "datePublished": "2024-03-06T07:30:00Z", "author": {"@type": "Person", "name": "b"},
            "comment": [
                {"@type": "Comment", "@id": "#c1", "text": "First", "author": "Ann",
                 "dateCreated": "2024-03-06T08:00:00Z",
                 "comment": [{"@type": "Comment", "@id": "#c2", "text": "Reply",
                              "author": {"@type": "Person", "name": "Bo"},
                              "comment": {"@type": "Comment", "@id": "#c3", "text": "Deeper",
                                          "author": "Cy"}}]},
                {"@type": "Comment", "@id": "#c4", "text": "Second", "author": "Di"}]}
    found = read(ld(post))
    assert found[0].title == "Tides"
    got = [(c.source_id, c.parent_source_id, c.depth, c.author_name) for c in comments(found)]
    assert got == [("c1", None, 0, "Ann"), ("c2", "c1", 1, "Bo"), ("c3", "c2", 2, "Cy"),
                   ("c4", None, 0, "Di")]


def test_parent_item_names_the_comment_answered_even_when_it_is_gone() -> None:
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "DiscussionForumPosting", "headline": "Q", "comment": [
            {"@type": "Comment", "@id": "https://f.example/t/1#p2", "text": "A"},
            {"@type": "Comment", "@id": "https://f.example/t/1#p3", "text": "B",
             "parentItem": {"@id": "https://f.example/t/1#p2"}},
            {"@type": "Comment", "@id": "https://f.example/t/1#p5", "text": "C",
             "parentItem": "https://f.example/t/1#p4"}]}]}
    got = [(c.source_id, c.parent_source_id, c.depth) for c in comments(read(ld(graph)))]
    assert got == [("p2", None, 0), ("p3", "p2", 1), ("p5", "p4", 1)]


def test_microdata_replies_nested_inside_a_comment_and_user_comments() -> None:
    page = """<html><body><article itemscope itemtype="https://schema.org/BlogPosting">
    <h1 itemprop="headline">Harbour notes</h1><div itemprop="articleBody"><p>Post</p></div>
    <div itemprop="comment" itemscope itemtype="https://schema.org/Comment" id="c-1">
      <link itemprop="url" href="#c-1">
      <span itemprop="author" itemscope itemtype="https://schema.org/Person">
        <a itemprop="url" href="https://ann.example/"><span itemprop="name">Ann</span></a></span>
      <time itemprop="dateCreated" datetime="2024-03-06T08:00:00Z">March 6</time>
      <div itemprop="text"><p>Hello <b>all</b></p></div>
      <div itemprop="comment" itemscope itemtype="https://schema.org/Comment">
        <link itemprop="url" href="#c-2"><span itemprop="author">Bo</span>
        <div itemprop="text">Hi Ann</div></div>
    </div>
    <div itemprop="comment" itemscope itemtype="http://schema.org/UserComments">
      <link itemprop="url" href="#c-3"><span itemprop="creator">Cy</span>
      <meta itemprop="commentTime" content="2024-03-07T09:00:00Z">
      <p itemprop="commentText">Old vocabulary</p></div>
    </article></body></html>"""
    got = comments(read(page))
    assert [(c.source_id, c.parent_source_id, c.depth, c.author_name) for c in got] == [
        ("c-1", None, 0, "Ann"), ("c-2", "c-1", 1, "Bo"), ("c-3", None, 0, "Cy")]
    assert got[0].author_url == "https://ann.example/"
    assert got[0].body_html == "<p>Hello <b>all</b></p>"  # the text's own markup, not the reply's
    assert got[0].body_text == "Hello all" and got[1].body_text == "Hi Ann"
    assert got[2].published_text == "2024-03-07T09:00:00Z" and got[2].body_text == (
        "Old vocabulary")


# ---- nothing to read, and the registry --------------------------------------------------------

def test_a_post_saying_it_has_no_comments_is_a_thread_with_none() -> None:
    found = read(ld({"@context": "https://schema.org", "@type": "BlogPosting",
                     "headline": "Quiet", "commentCount": 0}))
    assert isinstance(found[0], ParsedThread) and comments(found) == []


def test_a_page_with_no_schema_org_comments_is_refused() -> None:
    with pytest.raises(UnsupportedSite, match="no comments described as schema.org data"):
        read(ld({"@context": "https://schema.org", "@type": "BlogPosting", "headline": "x"}))
    assert not generic.matches("<html><body><p>Comment below!</p></body></html>")
    assert not generic.matches('{"@type": "CommentAction"} itemtype="https://schema.org/CommentAction"')
    assert generic.matches('<script type="application/ld+json">{"comment": [{"@type": ["Comment"]'
                           ', "text": "x"}]}</script>')


def test_generic_is_the_last_word() -> None:
    assert ADAPTERS[-1] is generic
    moa = next((MOA / "one-page").glob("*.html")).read_text(encoding="utf-8")
    assert adapter_for(moa, "http://127.0.0.1/x.html") is typepad
    page = HANDELSBLATT.joinpath("page.html").read_text(encoding="utf-8")
    assert adapter_for(page, HB_URL) is generic


# ---- end to end -------------------------------------------------------------------------------

def test_archive_detects_a_page_with_schema_org_comments(data_dir, cli) -> None:
    page = MQL5.joinpath("page.html").read_bytes()
    with FixtureServer(origin="https://www.mql5.com") as server:
        server.set_page("/en/forum/457395", page)
        url = server.url("/en/forum/457395")
        result = cli("archive", url)
        exported = cli("export", "jsonl", url, "-o", "-")
    assert result.code == 0, result.err
    assert "3 comments" in result.out
    thread = json.loads(exported.out)
    assert thread["site"]["platform"] == "generic"
    assert [c["author_name"] for c in thread["comments"]] == [
        "Fernando Carreiro", "Fernando Carreiro", "lgb1"]


@pytest.mark.parametrize("platform", ["auto", "generic"])
def test_a_page_with_nothing_found_is_exit_5_with_one_line(data_dir, cli, platform) -> None:
    with FixtureServer() as server:
        server.set_page("/about.html", "<html><head><title>About</title></head><body>"
                                       "<h1>About us</h1><p>We make boats.</p></body></html>")
        result = cli("archive", "--platform", platform, server.url("/about.html"))
    assert result.code == 5, result.out + result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.err
    assert "not a" in lines[0] and "supported platform" in lines[0]
