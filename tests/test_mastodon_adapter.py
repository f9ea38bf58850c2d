"""Mastodon (issue 15): a status and its reply tree through /api/v1/statuses/ID and its
/context, on the real context answers (mastodon.social: 59 replies over 7 levels; fosstodon)."""

from __future__ import annotations

import json
from pathlib import Path

from archiver.adapters import adapter_for_url, mastodon
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import JSON, Request, Response
from archiver.devserver import FixtureServer, load_fixture
from tests.conftest import FIXTURES

SOCIAL = FIXTURES / "mastodon" / "mastodon-social-109294719267373593"
FOSS = FIXTURES / "mastodon" / "fosstodon-114026814291152535"


def answer(path: Path, url: str) -> Response:
    body = path.read_bytes()
    return Response(url=url, status=200, headers=(("Content-Type", "application/json"),),
                    content=body, text=body.decode("utf-8"))


def replies(folder: Path, root: str, name: str = "context.json") -> list[ParsedComment]:
    found = list(mastodon.read_context(answer(folder / name, "https://x/context"), root=root))
    assert found[-1] == PageFacts(1, False)
    return [f for f in found if isinstance(f, ParsedComment)]


def test_status_urls_of_every_form_lead_to_the_status_api():
    for url, api in [
        ("https://mastodon.social/@austinkocher/109294719267373593",
         "https://mastodon.social/api/v1/statuses/109294719267373593"),
        ("https://fosstodon.org/users/erc_bk/statuses/114027213608365869",
         "https://fosstodon.org/api/v1/statuses/114027213608365869"),
        ("https://hachyderm.io/@erc_bk@fosstodon.org/114027213608365869?x=1",
         "https://hachyderm.io/api/v1/statuses/114027213608365869"),
    ]:
        assert adapter_for_url(url) is mastodon
        first = mastodon.start(url)
        assert (first.url, first.accept) == (api, JSON)
    assert adapter_for_url("https://mastodon.social/@austinkocher") is None  # a profile


def test_the_status_is_the_post_and_its_context_is_asked_next():
    found = list(mastodon.read_status(
        answer(FOSS / "status_114026814291152535.json", "http://127.0.0.1:9/api/v1/statuses/x"),
        origin="https://fosstodon.org"))
    thread, request = found
    assert isinstance(thread, ParsedThread) and isinstance(request, Request)
    assert thread.url == "https://fosstodon.org/@schochastics/114026814291152535"
    assert thread.title.startswith("@schochastics: Not sure if this already exist")
    assert (thread.author, thread.site_url) == ("David Schoch", "https://fosstodon.org/")
    assert thread.published_text == "2025-02-18T20:38:26.738Z"
    assert thread.published_at is not None and thread.published_at.minute == 38
    assert request.url == "https://fosstodon.org/api/v1/statuses/114026814291152535/context"
    assert request.accept == JSON


def test_59_replies_over_7_levels_in_the_apis_order_with_parents_from_in_reply_to_id():
    comments = replies(SOCIAL, "109294719267373593")
    raw = json.loads((SOCIAL / "context.json").read_text(encoding="utf-8"))["descendants"]
    assert [c.source_id for c in comments] == [s["id"] for s in raw] and len(comments) == 59
    assert sorted({c.depth for c in comments}) == list(range(7))
    seen: dict[str, ParsedComment] = {}
    for c in comments:  # each parent came before, one level up; top level answers the status
        if c.parent_source_id is None:
            assert c.depth == 0
        else:
            assert seen[c.parent_source_id].depth == c.depth - 1
        seen[c.source_id] = c
    first = comments[0]
    assert (first.author_name, first.author_url) == (
        "Austin Kocher, PhD 🌎", "https://mastodon.social/@austinkocher")
    assert first.body_text.startswith("The best way to keep this development going")
    assert first.permalink == "https://mastodon.social/@austinkocher/109294767623508949"


def test_a_reply_whose_parent_is_not_listed_keeps_its_parent():
    raw = json.loads((FOSS / "context.json").read_text(encoding="utf-8"))["descendants"]
    orphan = [s for s in raw if s["id"] == "114058233338164636"]  # its parent left out
    (comment,) = mastodon.parse_replies(orphan, "114026814291152535")
    assert (comment.parent_source_id, comment.depth) == ("114055560713759881", 0)


def test_content_warning_media_and_poll_are_kept():
    status = json.loads((FOSS / "status_114026814291152535.json").read_text(encoding="utf-8"))
    status = {**status, "spoiler_text": "long <thread>",
              "media_attachments": [{"type": "image", "url": "https://files.example/a.png",
                                     "description": "a chart"}],
              "poll": {"options": [{"title": "yes"}, {"title": "no"}]}}
    html = mastodon.body_html(status)
    assert html.startswith("<p>CW: long &lt;thread&gt;</p><p>Not sure")
    assert '<a href="https://files.example/a.png">[a chart]</a>' in html
    assert html.endswith("<ul><li>yes</li><li>no</li></ul>")


def test_archive_a_status_and_its_tree_through_a_mirror(data_dir, cli, monkeypatch):
    """`archiver archive` on the real URL, mastodon.social mapped to 127.0.0.1: two requests
    (status, context), the thread stored under mastodon.social's URL."""
    origin, routes = load_fixture(SOCIAL)
    with FixtureServer(routes) as server:  # served as recorded: the URLs stay mastodon.social's
        monkeypatch.setenv("ARCHIVER_FETCH_ORIGIN_MAP",
                           f"https://mastodon.social={server.url('').rstrip('/')}")
        url = "https://mastodon.social/@austinkocher/109294719267373593"
        result = cli("archive", url)
        exported = cli("export", "jsonl", url, "-o", "-")
        asked = [path for _, path, _ in server.requests if path != "/robots.txt"]
    assert result.code == 0, result.err
    assert asked == ["/api/v1/statuses/109294719267373593",
                     "/api/v1/statuses/109294719267373593/context"]
    thread = json.loads(exported.out)
    assert thread["comment_count"] == 59
    assert [c["source_id"] for c in thread["comments"]] == [
        c.source_id for c in replies(SOCIAL, "109294719267373593")]


def test_through_a_mirror_the_thread_keeps_its_real_url(data_dir, cli, monkeypatch):
    origin, routes = load_fixture(SOCIAL)
    with FixtureServer(routes) as server:
        monkeypatch.setenv("ARCHIVER_FETCH_ORIGIN_MAP",
                           f"https://mastodon.social={server.url('').rstrip('/')}")
        url = "https://mastodon.social/@austinkocher/109294719267373593"
        assert cli("archive", url).code == 0
        exported = cli("export", "jsonl", url, "-o", "-")
    assert json.loads(exported.out)["url"] == url
