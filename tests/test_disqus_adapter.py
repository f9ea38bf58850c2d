"""Disqus: the callbacks on the real thread data (purseblog, 16 and 41 posts) and the pages built
around them (fixtures/disqus), then whole threads archived through the CLI on 127.0.0.1, with
https://disqus.com sent to the same local server by fetch.origin_map."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from archiver.adapters import ADAPTERS, adapter_for, disqus, generic, typepad
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import JSON, Request, Response
from archiver.devserver import FixtureServer, Route, load_fixture, serve_fixture
from archiver.errors import ParseError
from tests.conftest import FIXTURES, MOA

CASES = FIXTURES / "disqus"
SHORT = CASES / "purseblog-134117"
LONG = CASES / "purseblog-140418"
PAGED = CASES / "purseblog-140418-paged"
ORIGIN = "http://www.purseblog.com"
SHORT_PATH = "/louis-vuitton/louis-vuitton-chanel-resort-2016-ad-campaigns/"
LONG_PATH = "/louis-vuitton/louis-vuitton-spring-2016-bag-ad-campaign/"


def response(text: str | bytes, url: str, content_type: str = "text/html; charset=utf-8"
             ) -> Response:
    body = text.encode("utf-8") if isinstance(text, str) else text
    return Response(url=url, status=200, headers=(("Content-Type", content_type),),
                    content=body, text=body.decode("utf-8"))


def posts(folder: Path) -> list[dict]:
    return json.loads((folder / "threadData.json").read_text(encoding="utf-8"))["response"]["posts"]


def embed_of(folder: Path) -> Response:
    return response((folder / "embed.html").read_bytes(), disqus.EMBED + "?f=purseblog")


def comments(found: list) -> list[ParsedComment]:
    return [f for f in found if isinstance(f, ParsedComment)]


# ---- recognising a page that embeds Disqus -------------------------------------------------

def test_the_post_page_is_disqus_and_comes_before_the_blog_platforms() -> None:
    page = (SHORT / "post.html").read_text(encoding="utf-8")
    assert disqus.matches(page)
    assert adapter_for(page, ORIGIN + SHORT_PATH) is disqus  # a WordPress page (generator meta)
    order = [a.PLATFORM for a in ADAPTERS]
    assert order.index("disqus") < order.index("generic") == len(order) - 1
    for blog in ("wordpress", "blogger"):  # when they are registered, Disqus reads first
        if blog in order:
            assert order.index("disqus") < order.index(blog)


def test_a_page_without_disqus_is_not_claimed() -> None:
    moa = next((MOA / "one-page").glob("*.html")).read_text(encoding="utf-8")
    assert typepad.matches(moa) and not disqus.matches(moa)
    assert not disqus.matches("<html><body><h1>A post</h1><p>No comments here.</p></body></html>")
    assert not disqus.matches("<p>We moved our comments off disqus last year.</p>")


def test_the_universal_code_and_the_plugin_embed_vars_are_read() -> None:
    universal = """<div id="disqus_thread"></div><script>
    var disqus_config = function () {
        this.page.url = "https://blog.example.org/2024/03/tides/";
        this.page.identifier = 'post-42';
        this.page.title = 'Tides \\'24';
    };
    (function() { var d = document, s = d.createElement('script');
    s.src = 'https://tidesblog.disqus.com/embed.js';
    s.setAttribute('data-timestamp', +new Date()); (d.head || d.body).appendChild(s); })();
    </script>"""
    assert disqus.matches(universal)
    assert disqus.embed_config(universal) == {
        "shortname": "tidesblog", "identifier": "post-42", "title": "Tides '24",
        "url": "https://blog.example.org/2024/03/tides/"}
    plugin3 = ('<script>var embedVars = {"disqusConfig":{"integration":"wordpress 3.0.17"},'
               '"disqusIdentifier":"2457 http:\\/\\/example.org\\/?p=2457",'
               '"disqusShortname":"coffee-doll","disqusTitle":"Body Scrub",'
               '"disqusUrl":"http:\\/\\/example.org\\/body-scrub\\/","postId":"2457"};\n'
               "var disqus_url = embedVars.disqusUrl;\n"
               "var disqus_shortname = embedVars.disqusShortname;</script>")
    assert disqus.embed_config(plugin3) == {
        "shortname": "coffee-doll", "identifier": "2457 http://example.org/?p=2457",
        "url": "http://example.org/body-scrub/", "title": "Body Scrub"}
    numeric = "<script>var disqus_shortname='n'; var disqus_identifier = 1234;</script>"
    assert disqus.embed_config(numeric) == {"shortname": "n", "identifier": "1234"}


# ---- the host page ----------------------------------------------------------------------------

def test_the_host_page_gives_the_post_and_asks_for_the_embed_page() -> None:
    found = list(disqus.read_host(response((SHORT / "post.html").read_bytes(),
                                           ORIGIN + SHORT_PATH)))
    thread = found[0]
    assert isinstance(thread, ParsedThread)
    assert thread.title == ("Feast Your Eyes on Bag-Heavy Cruise 2016 Ads from Louis Vuitton "
                            "and Chanel")
    assert thread.url == ORIGIN + SHORT_PATH and thread.site_name == "PurseBlog"
    assert thread.published_text == "2015-10-22T15:04:37+00:00"
    assert thread.published_at is not None and thread.published_at.hour == 15
    request = found[-1]
    assert isinstance(request, Request) and request.then is disqus.read_embed
    parts = urlsplit(request.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == disqus.EMBED
    query = parse_qs(parts.query)
    assert query["f"] == ["purseblog"] and query["base"] == ["default"]
    assert query["t_i"] == ["134117 http://www.purseblog.com/?p=134117"]  # the plugin's identifier
    assert query["t_u"] == [ORIGIN + SHORT_PATH]


def test_a_page_naming_no_shortname_is_refused_by_the_host_callback() -> None:
    from archiver.errors import UnsupportedSite
    with pytest.raises(UnsupportedSite, match="no shortname"):
        list(disqus.read_host(response("<html><body>disqus.com</body></html>", ORIGIN + "/x")))


# ---- the embed page and the API ---------------------------------------------------------------

@pytest.mark.parametrize("folder", [SHORT, LONG], ids=["16 posts", "41 posts"])
def test_every_post_of_the_thread_data_with_parent_and_depth(folder: Path) -> None:
    found = list(disqus.read_embed(embed_of(folder)))
    got = comments(found)
    raw = posts(folder)
    assert [c.source_id for c in got] == [p["id"] for p in raw]
    for comment, post in zip(got, raw, strict=True):
        assert comment.parent_source_id == (str(post["parent"]) if post["parent"] else None)
        assert comment.depth == post["depth"]
        assert comment.author_name == post["author"]["name"]
        assert comment.published_text == post["createdAt"]
        assert comment.published_at is not None
        assert comment.published_at.isoformat().startswith(post["createdAt"])
        assert comment.body_html == post["message"]
        assert comment.kind == "comment"
    # no cursor to follow: the thread is complete in the embed page
    assert not [f for f in found if isinstance(f, Request)]
    assert [f for f in found if isinstance(f, PageFacts)] == [PageFacts(1, False)]


def test_depths_and_authors_as_the_page_shows_them() -> None:
    got = {c.source_id: c for c in comments(list(disqus.read_embed(embed_of(LONG))))}
    assert max(c.depth for c in got.values()) == 5
    deep = got["2455083458"]  # a guest's answer five levels down
    assert (deep.parent_source_id, deep.depth, deep.author_name, deep.author_url) == (
        "2453044997", 5, "Guest", None)
    assert got["2452061068"].author_url == "https://disqus.com/by/disqus_bZPrQ0YACk/"
    assert got["2452061068"].body_text == "Tacky :("
    assert got["2452061068"].permalink == (
        "http://www.purseblog.com/louis-vuitton/louis-vuitton-spring-2016-bag-ad-campaign/"
        "#comment-2452061068")


def test_a_post_held_as_spam_is_kept_and_its_reply_points_at_it() -> None:
    got = {c.source_id: c for c in comments(list(disqus.read_embed(embed_of(SHORT))))}
    assert len(got) == 16  # the thread says 15: the embed returned one held as spam, too
    assert got["2321357510"].parent_source_id == "2321252510" and "2321252510" in got


def embed_with(folder: Path, change) -> Response:  # noqa: ANN001 - a function of the data
    data = json.loads((folder / "threadData.json").read_text(encoding="utf-8"))
    change(data)
    page = disqus_page(json.dumps(data))
    return response(page, disqus.EMBED + "?f=purseblog")


def disqus_page(thread_data: str) -> str:
    return ('<!DOCTYPE html><html><head><title>Disqus Comments</title></head><body>'
            f'<script type="text/json" id="disqus-threadData">{thread_data}</script></body></html>')


def test_a_post_deleted_upstream_is_left_out_and_its_reply_keeps_its_parent() -> None:
    def delete(data: dict) -> None:
        post = next(p for p in data["response"]["posts"] if p["id"] == "2321377821")
        post.update(isDeleted=True, message="", raw_message="")

    got = {c.source_id: c for c in comments(list(disqus.read_embed(embed_with(SHORT, delete))))}
    assert "2321377821" not in got and len(got) == 15
    assert got["2321942123"].parent_source_id == "2321377821"


def test_a_closed_thread_says_so() -> None:
    def close(data: dict) -> None:
        data["response"]["thread"]["isClosed"] = True

    facts = [f for f in disqus.read_embed(embed_with(LONG, close)) if isinstance(f, PageFacts)]
    assert facts == [PageFacts(1, True)]


def test_the_cursor_leads_to_the_api_page_the_embed_asks_for() -> None:
    found = list(disqus.read_embed(embed_of(PAGED)))
    assert len(comments(found)) == 25
    (request,) = [f for f in found if isinstance(f, Request)]
    assert request.accept == JSON and request.fallback is None  # a page of the thread, not extra
    parts = urlsplit(request.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == disqus.API
    query = parse_qs(parts.query)
    assert query["thread"] == ["4482008787"] and query["forum"] == ["purseblog"]
    assert query["cursor"] == ["1:25:0"] and query["order"] == ["popular"]
    assert query["api_key"] == [disqus.PUBLIC_API_KEY]
    answer = response((PAGED / "listPostsThreaded-2.json").read_bytes(), request.url,
                      "application/json")
    rest = list(request.then(answer))
    assert [c.source_id for c in comments(found) + comments(rest)] == [
        p["id"] for p in posts(LONG)]
    assert [f for f in rest if isinstance(f, PageFacts)] == [PageFacts(2, False)]
    assert not [f for f in rest if isinstance(f, Request)]  # hasNext false: done


def test_each_api_page_leads_to_the_next_while_it_has_one() -> None:
    raw = posts(LONG)
    then = disqus._api_reader("4482008787", "purseblog", "popular", "KEY", "http://x/", False, 2)
    page = {"cursor": {"hasNext": True, "next": "1:30:0"}, "code": 0, "response": raw[25:30]}
    found = list(then(response(json.dumps(page), disqus.API, "application/json")))
    (request,) = [f for f in found if isinstance(f, Request)]
    assert "cursor=1%3A30%3A0" in request.url and "api_key=KEY" in request.url
    last = {"cursor": {"hasNext": False, "next": "1:41:0"}, "code": 0, "response": raw[30:]}
    more = list(request.then(response(json.dumps(last), request.url, "application/json")))
    assert [f for f in more if isinstance(f, PageFacts)] == [PageFacts(3, False)]
    assert len(comments(found)) == 5 and len(comments(more)) == 11


def test_an_api_error_is_a_parse_failure_naming_it() -> None:
    then = disqus._api_reader("1", "f", "popular", "KEY", "", False, 2)
    error = {"code": 5, "response": "Invalid API key"}
    with pytest.raises(ParseError, match="code 5: Invalid API key"):
        list(then(response(json.dumps(error), disqus.API, "application/json")))


def test_an_api_key_the_embed_page_names_is_used() -> None:
    def more(data: dict) -> None:
        data["cursor"].update(hasNext=True, next="1:50:0")

    page = embed_with(LONG, more)
    named = page.text.replace("</body>", '<script>window.api_key="Abc123Abc123Abc123Abc123"'
                              "</script></body>")
    (request,) = [f for f in disqus.read_embed(response(named, page.url))
                  if isinstance(f, Request)]
    assert "api_key=Abc123Abc123Abc123Abc123" in request.url


def test_an_embed_page_without_thread_data_is_a_parse_failure() -> None:
    with pytest.raises(ParseError, match="no disqus-threadData"):
        list(disqus.read_embed(response("<html><body>Disqus</body></html>", disqus.EMBED)))


def test_the_embed_page_asked_for_directly_is_a_thread_of_its_own() -> None:
    url = disqus.EXAMPLES[0]
    assert disqus.start(url).then is disqus.read_embed
    assert disqus.start(ORIGIN + SHORT_PATH).then is disqus.read_host
    thread = next(f for f in disqus.read_embed(embed_of(LONG)) if isinstance(f, ParsedThread))
    assert thread.title.startswith("Louis Vuitton’s Spring 2016 Ads")
    assert thread.site_name == "purseblog"


# ---- end to end through the CLI -----------------------------------------------------------

def serve(folder: Path, monkeypatch: pytest.MonkeyPatch, **extra: Route
          ) -> tuple[FixtureServer, FixtureServer]:
    """The blog (origin rewritten to it) and a stand-in of its own for https://disqus.com (the
    same routes, files unchanged), fetch.origin_map sending disqus.com there."""
    blog = serve_fixture(folder)
    _, routes = load_fixture(folder)
    stand_in = FixtureServer({**routes, **extra}).start()
    monkeypatch.setenv("ARCHIVER_FETCH_ORIGIN_MAP", f"https://disqus.com={stand_in.base_url}")
    return blog, stand_in


def exported(cli, url: str) -> dict:  # noqa: ANN001
    result = cli("export", "jsonl", url, "-o", "-")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_archive_follows_the_cursor_through_the_api(data_dir, cli, monkeypatch) -> None:
    blog, stand_in = serve(PAGED, monkeypatch)
    try:
        url = blog.url(LONG_PATH)
        result = cli("archive", url)
        thread = exported(cli, url)
    finally:
        blog.stop()
        stand_in.stop()
    assert result.code == 0, result.err
    assert "41 comments" in result.out
    assert [p for _, p, _ in blog.requests if p != "/robots.txt"] == [LONG_PATH]
    asked = [p for _, p, _ in stand_in.requests if p != "/robots.txt"]
    assert len(asked) == 2 and asked[0].startswith("/embed/comments/?base=default&f=purseblog")
    assert asked[1].startswith("/api/3.0/threads/listPostsThreaded?")
    assert "cursor=1%3A25%3A0" in asked[1] and "thread=4482008787" in asked[1]
    assert thread["site"]["platform"] == "disqus" and thread["pages"] == 3
    assert thread["url"] == blog.url(LONG_PATH)  # the blog's post, not Disqus's stand-in
    assert [c["source_id"] for c in thread["comments"]] == [p["id"] for p in posts(LONG)]
    by_id = {c["source_id"]: c for c in thread["comments"]}
    assert (by_id["2455083458"]["parent_source_id"], by_id["2455083458"]["depth"]) == (
        "2453044997", 5)


def test_robots_txt_of_disqus_is_obeyed(data_dir, cli, monkeypatch) -> None:
    robots = Route(body=b"User-agent: *\nDisallow: /embed/\n", content_type="text/plain")
    blog, stand_in = serve(SHORT, monkeypatch, **{"/robots.txt": robots})
    try:
        url = blog.url(SHORT_PATH)
        result = cli("archive", url)
        thread = exported(cli, url)
    finally:
        blog.stop()
        stand_in.stop()
    assert result.code == 3, result.out + result.err  # a page of the thread could not be had
    assert "robots" in (result.out + result.err).lower()
    assert [p for _, p, _ in stand_in.requests] == ["/robots.txt"]  # asked, then obeyed
    assert thread["title"].startswith("Feast Your Eyes") and thread["comments"] == []


def test_a_post_deleted_upstream_is_flagged_removed_on_the_next_read(data_dir, cli,
                                                                     monkeypatch) -> None:
    blog, stand_in = serve(SHORT, monkeypatch)
    try:
        url = blog.url(SHORT_PATH)
        assert cli("archive", url).code == 0
        data = json.loads((SHORT / "threadData.json").read_text(encoding="utf-8"))
        for post in data["response"]["posts"]:
            if post["id"] == "2321096613":
                post.update(isDeleted=True, message="", raw_message="")
        stand_in.set_page("/embed/comments/", disqus_page(json.dumps(data)))
        second = cli("archive", url)
        thread = exported(cli, url)
    finally:
        blog.stop()
        stand_in.stop()
    assert second.code == 0, second.err
    gone = [c for c in thread["comments"] if c["removed"]]
    assert [c["source_id"] for c in gone] == ["2321096613"]
    assert len(thread["comments"]) == 16  # kept, flagged, never deleted


def test_detection_never_reaches_generic_for_a_disqus_page() -> None:
    page = (LONG / "post.html").read_text(encoding="utf-8")
    assert not generic.matches(page)
    assert adapter_for(page, ORIGIN + LONG_PATH) is disqus


def test_messages_rendered_together_read_as_each_alone() -> None:
    from archiver.adapters.render import html_to_text

    real = [p["message"] for folder in (SHORT, LONG) for p in posts(folder)]
    assert disqus._texts(real) == [html_to_text(m) for m in real]
    # markup that reaches beyond its own message: each is then parsed alone, nothing mixed up
    for odd in (["<ul><li>open list", "<p>next</p>"], ["<p>a</p></div><p>b", "<p>c</p>"],
                ["<b>bold never closed", "<p>plain</p>"], ["<script>x", "<p>y</p>"],
                ["", "<p>after an empty one</p>"], ["<table><tr><td>cell", "<p>z</p>"]):
        assert disqus._texts(odd) == [html_to_text(m) if m else "" for m in odd], odd
