"""Lemmy (issue 15): the post through /api/v3/post, its comments through /api/v3/comment/list
page by page, the path giving parent and depth; on the synthetic case written in Lemmy 0.19's
documented shape (fixtures/lemmy/make_synthetic.py: no real recording was found)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from archiver.adapters import adapter_for, adapter_for_url, lemmy
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import JSON, Request, Response
from archiver.devserver import FixtureServer, load_fixture
from tests.conftest import FIXTURES

CASE = FIXTURES / "lemmy" / "synthetic-post-1000"
ORIGIN = "https://lemmy.example.org"


def answer(path: Path, url: str) -> Response:
    body = path.read_bytes()
    return Response(url=url, status=200, headers=(("Content-Type", "application/json"),),
                    content=body, text=body.decode("utf-8"))


def page(number: int) -> list[Any]:
    return list(lemmy.read_comments(answer(CASE / f"comments-{number}.json", "http://x"),
                                    origin=ORIGIN, post="1000", page=number))


def test_post_urls_lead_to_the_post_api_and_other_instances_are_found_by_markup():
    first = lemmy.start("https://lemmy.world/post/45711923?scrollToComments=true")
    assert (first.url, first.accept) == ("https://lemmy.world/api/v3/post?id=45711923", JSON)
    assert adapter_for_url("https://lemmy.ml/post/1") is lemmy
    assert adapter_for_url(f"{ORIGIN}/post/1000") is None
    html = (CASE / "post.html").read_text(encoding="utf-8")
    assert adapter_for(html, f"{ORIGIN}/post/1000") is lemmy
    assert not lemmy.matches(html, f"{ORIGIN}/c/harbours")


def test_the_post_then_the_first_page_of_comments_oldest_first():
    thread, request = lemmy.read_post(answer(CASE / "post.json", "http://127.0.0.1:9/api/v3/post?id=1000"),
                                      origin=ORIGIN)
    assert isinstance(thread, ParsedThread) and isinstance(request, Request)
    assert (thread.url, thread.title, thread.author) == (
        f"{ORIGIN}/post/1000", "Reading the tide tables together", "Tide Watcher")
    assert thread.body_html == ("<p>What do you read <strong>first</strong> in a tide table?</p>\n"
                                "<p>Share your method.</p>")
    assert thread.published_at is not None and thread.published_at.tzinfo is not None
    assert request.url == (f"{ORIGIN}/api/v3/comment/list?post_id=1000&sort=Old&type_=All"
                           "&limit=50&page=1")


def test_the_path_gives_parent_and_depth_and_a_full_page_leads_on():
    first = page(1)
    comments = [c for c in first if isinstance(c, ParsedComment)]
    assert len(comments) == 50 and first[-2] == PageFacts(1, False)
    assert isinstance(first[-1], Request) and first[-1].url.endswith("&page=2")
    raw = json.loads((CASE / "comments-1.json").read_text(encoding="utf-8"))["comments"]
    for comment, view in zip(comments, raw, strict=True):
        ids = view["comment"]["path"].split(".")
        assert comment.depth == len(ids) - 2
        assert comment.parent_source_id == (ids[-2] if len(ids) > 2 else None)
    last = page(3)
    assert not any(isinstance(f, Request) for f in last)  # 20 < 50: the last page


def test_markdown_is_rendered_raw_html_stays_text_and_removals_are_marked():
    comments = {c.source_id: c for n in (1, 2, 3) for c in page(n) if isinstance(c, ParsedComment)}
    code = comments[str(5000 + 2 * 7)]
    assert "<pre><code>high = low + 3.2\n</code></pre>" in code.body_html
    raw_html = comments[str(5000 + 5 * 7)]
    assert "&lt;b&gt;raw html&lt;/b&gt;" in raw_html.body_html
    assert "<b>raw html</b>" in raw_html.body_text  # shown as typed, not as bold
    assert comments[str(5000 + 40 * 7)].body_text == "[deleted]"
    assert comments[str(5000 + 77 * 7)].body_text.startswith("[removed]")
    remote = next(c for c in comments.values() if c.author_name == "gull")
    assert remote.author_url == "https://other.example.net/u/gull"


def test_archive_a_post_and_its_three_comment_pages(data_dir, cli, monkeypatch):
    """The real instance URL through a mirror: one post request, three comment pages."""
    origin, routes = load_fixture(CASE)
    with FixtureServer(routes) as server:
        monkeypatch.setenv("ARCHIVER_FETCH_ORIGIN_MAP", f"{ORIGIN}={server.url('').rstrip('/')}")
        # an instance not in URL_PATTERNS: its page is read first and tells the platform
        url = f"{ORIGIN}/post/1000"
        result = cli("archive", url)
        exported = cli("export", "jsonl", url, "-o", "-")
        asked = [path for _, path, _ in server.requests if path != "/robots.txt"]
    assert result.code == 0, result.err
    assert asked[:2] == ["/post/1000", "/api/v3/post?id=1000"] and len(asked) == 5
    thread = json.loads(exported.out)
    want = json.loads((CASE / "expected.json").read_text(encoding="utf-8"))["comments"]
    assert [c["source_id"] for c in thread["comments"]] == [c["source_id"] for c in want]
    assert thread["comment_count"] == 120
