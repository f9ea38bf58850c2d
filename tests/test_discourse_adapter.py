"""Issue 14, Discourse: the adapter's callbacks on real topic JSON, and whole topics archived
through `archiver archive URL` from 127.0.0.1: every batch of the stream read (each a capture in
the WARC), replies and depths as the forum gives them, a refresh that reads only the batches
that changed and flags a deleted post removed, a 429 on a batch waited out."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import select
from warcio.archiveiterator import ArchiveIterator

from archiver.adapters import adapter_for, adapter_for_url, discourse
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import JSON, Found, Request, Response
from archiver.devserver import FixtureServer, Route, load_fixture
from archiver.errors import ParseError, UnsupportedSite
from archiver.fetch import Fetcher, FetchSettings
from archiver.pipeline import ThreadArchiver
from archiver.store.db import Store, default_database_url
from archiver.store.models import Capture, Comment, Thread
from tests.conftest import FIXTURES
from tests.faultserver import FakeClock, FaultServer, Reply

CASES = FIXTURES / "discourse"
URHO = CASES / "urho3d-5371-about-all-the-drama"
T26 = CASES / "sourcecred-t26-paged"
T2144 = CASES / "criticalfallibilism-t2144"
T2108 = CASES / "criticalfallibilism-t2108"
JSON_TYPE = (("Content-Type", "application/json; charset=utf-8"),)


def answer(url: str, file: Path | bytes) -> Response:
    body = file if isinstance(file, bytes) else file.read_bytes()
    return Response(url=url, status=200, headers=JSON_TYPE, content=body,
                    text=body.decode("utf-8"))


def split(found: Iterator[Found]) -> tuple[list[ParsedThread], list[ParsedComment],
                                            list[PageFacts], list[Request]]:
    items = list(found)
    return ([f for f in items if isinstance(f, ParsedThread)],
            [f for f in items if isinstance(f, ParsedComment)],
            [f for f in items if isinstance(f, PageFacts)],
            [f for f in items if isinstance(f, Request)])


def served(folder: Path) -> FixtureServer:
    """A server for a case folder (a context manager: started on entering)."""
    origin, routes = load_fixture(folder)
    return FixtureServer(routes, origin=origin)


def expected(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "expected.json").read_text(encoding="utf-8"))


# -- URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "json_url"), [
    ("https://f.example/t/a-topic/26", "https://f.example/t/a-topic/26.json"),
    ("https://f.example/t/26", "https://f.example/t/26.json"),
    ("https://f.example/t/a-topic/26/14", "https://f.example/t/a-topic/26.json"),
    ("https://f.example/t/26/14?u=someone", "https://f.example/t/26.json"),
    ("https://f.example/t/a-topic/26/14.json", "https://f.example/t/a-topic/26.json"),
    ("https://f.example/forum/t/topic-2/7/#reply", "https://f.example/forum/t/topic-2/7.json"),
])
def test_any_post_url_of_a_topic_starts_at_the_topic_json(url: str, json_url: str) -> None:
    assert adapter_for_url(url) is discourse
    first = discourse.start(url)
    assert (first.url, first.accept, first.then) == (json_url, JSON, discourse.read_topic)


def test_a_url_that_names_no_topic_is_refused() -> None:
    assert adapter_for_url("https://f.example/latest") is None
    with pytest.raises(UnsupportedSite, match="not a Discourse topic URL"):
        discourse.start("https://f.example/c/general/4")


def test_the_generator_meta_names_discourse() -> None:
    page = ('<html><head><meta name="generator" content="Discourse 3.2.0 - '
            'https://github.com/discourse/discourse version abc"></head><body></body></html>')
    assert discourse.matches(page, "https://f.example/x")
    assert adapter_for(page, "https://f.example/x") is discourse
    assert not discourse.matches('<meta name="generator" content="WordPress 6.4">', "")


# -- callbacks on real answers ---------------------------------------------------------------


def test_a_closed_topic_in_one_answer_urho3d() -> None:
    url = "https://discourse.urho3d.io/t/about-all-the-drama-around-here/5371.json"
    threads, comments, facts, requests = split(
        discourse.read_topic(answer(url, URHO / "about-all-the-drama-around-here.5371.json")))
    (thread,) = threads
    assert thread.title == "About all the drama around here"
    assert thread.url == "https://discourse.urho3d.io/t/about-all-the-drama-around-here/5371"
    assert thread.site_url == "https://discourse.urho3d.io/"
    assert thread.author == "GoldenThumbs"
    assert thread.body_text.startswith("I hate to talk about this")
    assert thread.published_at is not None and thread.published_at.isoformat().startswith(
        "2019-07-30T04:03:29")
    # posts 3 and 4 are deleted (a gap, nothing invented), post 21 is the "closed" small action
    want = expected(URHO)["comments"]
    assert [c.number for c in comments] == [2, *range(5, 21)]
    assert [(c.source_id, c.parent_source_id, c.depth) for c in comments] == [
        (w["source_id"], w["parent_source_id"], w["depth"]) for w in want]
    assert comments[0].author_url == "https://discourse.urho3d.io/u/GoldenThumbs"
    assert comments[0].permalink == (
        "https://discourse.urho3d.io/t/about-all-the-drama-around-here/5371/2")
    assert facts == [PageFacts(number=1, comments_closed=True)]
    assert requests == []


def test_the_posts_not_loaded_come_in_a_batch_t26() -> None:
    _, comments, facts, requests = split(
        discourse.read_topic(answer("https://f.example/t/26.json", T26 / "t_26.json")))
    assert [c.number for c in comments] == list(range(2, 21))
    assert facts == [PageFacts(number=1, comments_closed=False)]
    (batch,) = requests
    assert (batch.url, batch.accept) == ("https://f.example/t/26/posts.json?post_ids[]=54", JSON)
    threads, more, facts, after = split(batch.then(answer(batch.url, T26 / "t_26_posts_54.json")))
    assert threads == [] and after == []
    assert [(c.source_id, c.number, c.author_name) for c in more] == [
        ("21", 21, "beanow.sc-test")]
    assert facts == [PageFacts(number=2, comments_closed=False)]


def test_a_stream_of_446_read_in_batches_of_20_with_depths_across_them() -> None:
    """t_2108_452.json is the real /t/2108/452.json: a view from post 433, post 1 not loaded:
    every post of the stream is then asked for in batches, the first one bringing the thread."""
    topic_url = "https://f.example/t/2108/452.json"
    data = json.loads((T2108 / "t_2108_452.json").read_bytes())
    stream = data["post_stream"]["stream"]
    threads, comments, facts, requests = split(
        discourse.read_topic(answer(topic_url, T2108 / "t_2108_452.json")))
    assert threads == [] and comments == [] and facts == [PageFacts(1, False)]
    (batch,) = requests
    assert batch.url == "https://f.example/t/2108/posts.json?" + "&".join(
        f"post_ids[]={i}" for i in stream[:20])
    topic = batch.then.args[0]  # type: ignore[attr-defined]
    assert sum(len(b) for b in topic.batches) == 446 and len(topic.batches) == 23
    assert [i for b in topic.batches for i in b] == stream
    # batch 1: the real first 20 posts (/t/2108/posts.json)
    threads, comments, facts, requests = split(
        batch.then(answer(batch.url, T2108 / "t_2108_posts.json")))
    (thread,) = threads
    assert thread.title == "Comments on The Boyfriend's Introduction to Feminism"
    assert thread.author == "Elliot" and thread.url == (
        "https://f.example/t/comments-on-the-boyfriends-introduction-to-feminism/2108")
    assert [c.number for c in comments] == list(range(2, 21))
    by_number = {c.number: c for c in comments}
    assert (by_number[8].parent_source_id, by_number[8].depth) == ("3", 1)
    assert (by_number[11].parent_source_id, by_number[11].depth) == ("8", 2)
    assert (by_number[13].parent_source_id, by_number[13].depth) == ("11", 3)
    assert facts == [PageFacts(number=2, comments_closed=False)]
    (second,) = requests
    assert second.url.endswith("&".join(f"post_ids[]={i}" for i in stream[20:40]))
    # batch 2: posts 21-40 (the real answer lists them backwards); 21 answers 13 (batch 1)
    _, comments, facts, requests = split(second.then(
        answer(second.url, T2108 / "t_2108_posts_post_number_41.PRETTYPRINTED.json")))
    assert [c.number for c in comments] == list(range(21, 41))
    by_number = {c.number: c for c in comments}
    assert (by_number[21].parent_source_id, by_number[21].depth) == ("13", 4)
    # 23 -> 22 -> 19 -> 10 -> 6 -> 4 (top level)
    assert (by_number[23].parent_source_id, by_number[23].depth) == ("22", 5)
    assert facts == [PageFacts(number=3, comments_closed=False)]
    assert len(requests) == 1 and requests[0].url.endswith(f"post_ids[]={stream[59]}")


def test_a_parent_never_read_is_kept_and_counts_as_top_level() -> None:
    """The last 20 posts read as a batch with nothing before them: 443 answers 149, which this
    read never saw: its parent is still "149", at depth 1; the chain after it goes on."""
    topic = discourse.Topic(base="https://f.example", topic_id=2108, slug="s", title="t",
                            closed=False, batches=())
    _, comments, _, requests = split(discourse.read_batch(
        topic, 0, {}, answer("https://f.example/t/2108/posts.json", T2108 / "t_2108_452.json")))
    by_number = {c.number: c for c in comments}
    assert (by_number[443].parent_source_id, by_number[443].depth) == ("149", 1)
    assert (by_number[452].parent_source_id, by_number[452].depth) == ("451", 8)
    assert (by_number[435].parent_source_id, by_number[435].depth) == (None, 0)
    assert requests == []


# -- whole topics through the CLI ------------------------------------------------------------


def stored_comments(data_dir: Path) -> list[Comment]:
    store = Store(default_database_url(data_dir))
    try:
        with store.session() as session:
            return list(session.exec(select(Comment).order_by(Comment.position)))
    finally:
        store.close()


@pytest.mark.parametrize("folder", [URHO, T26, T2144], ids=lambda f: f.name)
def test_a_topic_archived_whole_with_its_replies(folder: Path, data_dir: Path, cli) -> None:
    want = expected(folder)
    with served(folder) as server:
        url = server.url(want["start"])
        result = cli("archive", url)
        assert result.code == 0, result.err
        routes = json.loads((folder / "routes.json").read_text())["routes"]
        assert [path for _, path, _ in server.requests if "robots" not in path] == [
            path for path in routes if "?page=" not in path]  # t26's ?page=2 is never asked
    got = stored_comments(data_dir)
    assert [(c.source_id, c.number, c.author_name, c.published_text, c.parent_source_id,
             c.depth, c.kind, c.removed_at) for c in got] == [
        (w["source_id"], w["number"], w["author_name"], w["published_text"],
         w["parent_source_id"], w["depth"], w["kind"], None) for w in want["comments"]]
    dump = cli("export", "text", url, "-o", "-").out
    first = want["comments"][0]
    assert f"Posted by: {first['author_name']} | {first['published_text']} | {first['number']}" \
        in dump
    assert f"Posted by {want['thread']['author']} on {want['thread']['published_text']}" in dump


def test_every_batch_is_a_capture_in_the_warc(data_dir: Path, tmp_path: Path, cli) -> None:
    with served(T26) as server:
        url = server.url("/t/26")
        assert cli("archive", url).code == 0
    out = tmp_path / "t26.warc.gz"
    assert cli("export", "warc", url, "-o", str(out)).code == 0
    with out.open("rb") as handle:
        responses = {r.rec_headers.get_header("WARC-Target-URI"): r.content_stream().read()
                     for r in ArchiveIterator(handle) if r.rec_type == "response"}
    assert set(responses) == {server.url("/t/26.json"),
                              server.url("/t/26/posts.json?post_ids[]=54")}
    assert responses[server.url("/t/26/posts.json?post_ids[]=54")] == (
        T26 / "t_26_posts_54.json").read_bytes()
    assert len(stored_comments(data_dir)) == 20


def test_a_post_link_found_by_the_generator_then_read_as_json(data_dir: Path, cli) -> None:
    """A URL that is no topic path (a short link) redirects to the topic's HTML page, which
    names Discourse as its generator: the topic is then read through its JSON."""
    with served(URHO) as server:
        server.set_page("/p/45807", b"", status=302, content_type="text/plain",
                        headers={"Location": "/t/about-all-the-drama-around-here/5371/10"})
        server.set_page("/t/about-all-the-drama-around-here/5371/10",
                        '<html><head><meta name="generator" content="Discourse 2.9.0.beta12">'
                        "</head><body>JavaScript needed</body></html>")
        result = cli("archive", server.url("/p/45807"))
        assert result.code == 0, result.err
    assert len(stored_comments(data_dir)) == 17


def test_platform_discourse_goes_straight_to_the_json(data_dir: Path, cli) -> None:
    with served(T26) as server:
        result = cli("archive", "--platform", "discourse", server.url("/t/26/3"))
        assert result.code == 0, result.err
        paths = [path for _, path, _ in server.requests if "robots" not in path]
    assert paths == ["/t/26.json", "/t/26/posts.json?post_ids[]=54"]


# -- a refresh: the topic gained posts and lost one ------------------------------------------


def t2108_posts() -> list[dict[str, Any]]:
    """Topic 2108's first 76 real posts (the stream's first 76 ids), in post order."""
    found: dict[int, dict[str, Any]] = {}
    for name in ("t_2108_posts.json", "t_2108_posts_post_number_41.PRETTYPRINTED.json",
                 "t_2108_posts_pn_61.json", "t_2108_posts_pn_81.json"):
        for post in json.loads((T2108 / name).read_bytes())["post_stream"]["posts"]:
            found[post["post_number"]] = post
    return [found[n] for n in sorted(found)]


def chain(posts: list[dict[str, Any]], number: int) -> int:
    """How many replies lead from post number up to a top-level post (its depth)."""
    parents = {p["post_number"]: p.get("reply_to_post_number") for p in posts}
    depth, parent = 0, parents[number]
    while parent is not None and parent > 1 and parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


def topic_state(posts: list[dict[str, Any]]) -> dict[str, Route]:
    """The routes of topic 2108 as it stands with these posts: its JSON (the real envelope,
    its stream and first 20 posts replaced) and each batch, all with an ETag."""
    data = json.loads((T2108 / "t_2108_452.json").read_bytes())
    data = copy.deepcopy(data)
    data["post_stream"] = {"posts": posts[:20], "stream": [p["id"] for p in posts]}
    data["posts_count"] = len(posts)

    def route(body: object) -> Route:
        raw = json.dumps(body).encode()
        return Route(body=raw, content_type="application/json",
                     headers={"ETag": '"' + hashlib.sha256(raw).hexdigest()[:16] + '"'})

    routes = {"/t/2108.json": route(data)}
    rest = posts[20:]
    for start in range(0, len(rest), 20):
        chunk = rest[start:start + 20]
        path = "/t/2108/posts.json?" + "&".join(f"post_ids[]={p['id']}" for p in chunk)
        routes[path] = route({"post_stream": {"posts": chunk}, "id": 2108})
    return routes


def test_a_refresh_reads_only_the_changed_batches_and_flags_a_deleted_post(
    tmp_path: Path,
) -> None:
    posts = t2108_posts()
    before, now = posts[:60], [p for p in posts if p["post_number"] != 62]  # 62 deleted
    assert {p["post_number"] for p in before} >= {62}
    store = Store(default_database_url(tmp_path))
    with FixtureServer(topic_state(before)) as server, \
            Fetcher(FetchSettings(delay=0, max_attempts=1)) as fetcher:
        archiver = ThreadArchiver(store, fetcher)
        url = server.url("/t/2108")
        first = archiver.archive(url)
        assert first.complete and first.pages == 3 and first.new == 58  # 60 less op, small action
        server.routes = topic_state(now)
        server.requests.clear()
        second = archiver.archive(url)
        log = [(path, "If-None-Match" in headers) for _, path, headers in server.requests
               if "robots" not in path]
        server.requests.clear()
        third = archiver.archive(url)  # nothing changed since: every answer 304, none parsed
        again = [path for _, path, _ in server.requests if "robots" not in path]
    batches = list(topic_state(now))
    base = server.base_url
    # batch 1 (posts 21-40) is as it was: asked conditionally, answered 304, not parsed;
    # batch 2 lost post 62 and batch 3 is new: both read
    assert [path for path, _ in log] == batches
    assert log[1] == (batches[1], True)
    assert second.complete and second.pages_not_modified == 1
    assert (second.new, second.removed) == (76 - 60, 1)
    # the third read follows the batches through the stored answers (304 has no body)
    assert again == batches and third.pages_not_modified == len(batches)
    assert third.complete and (third.new, third.edited, third.removed) == (0, 0, 0)
    assert second.comments == third.comments == 76 - 3  # less the op, 51 (small action), 62
    with store.session() as session:
        thread = session.exec(select(Thread)).one()
        parsed = session.exec(select(Capture.url).where(
            Capture.thread_id == thread.id, Capture.status == 200)).all()
        comments = {c.source_id: c for c in session.exec(select(Comment))}
    assert parsed.count(base + batches[1]) == 1  # read once, in the first run only
    assert comments["62"].removed_at is not None  # flagged, never dropped
    assert comments["62"].body_text
    assert sum(c.removed_at is None for c in comments.values()) == 76 - 1 - 1 - 1
    # a new post answering one of batch 2: its depth counts the chain through batches
    assert (comments["80"].parent_source_id, comments["80"].depth) == ("78", chain(posts, 80))
    store.close()


# -- 429 on a batch --------------------------------------------------------------------------


def test_a_429_on_a_batch_is_waited_out_and_the_read_complete(tmp_path: Path) -> None:
    clock = FakeClock()
    json_type = [("Content-Type", "application/json")]
    batch_path = "/t/26/posts.json?post_ids[]=54"
    with FaultServer(clock=clock) as server:
        server.route("/t/26.json", Reply(200, (T26 / "t_26.json").read_bytes(), json_type))
        server.route(batch_path, Reply(429, b"slow down", [("Retry-After", "30")]),
                     Reply(200, (T26 / "t_26_posts_54.json").read_bytes(), json_type))
        store = Store(default_database_url(tmp_path))
        settings = FetchSettings(clock=clock, sleep=clock.sleep, delay=0.1, backoff_base=0.1)
        with Fetcher(settings) as fetcher:
            report = ThreadArchiver(store, fetcher).archive(server.url("/t/26"))
        limited, ok = server.requests(batch_path)
    assert (limited.status, ok.status) == (429, 200)
    assert ok.at - limited.at >= 30.0
    assert report.complete and report.comments == 20
    store.close()


# -- discovery: a forum's /latest.json, page after page --------------------------------------

LATEST = CASES / "sourcecred-latest"
PAGE_1 = "/latest.json?ascending=false&no_definitions=true&order=activity&page=1"


def test_a_listing_names_its_topics_and_its_next_page() -> None:
    data = json.loads((LATEST / "latest_page0.json").read_bytes())
    topics, more = discourse.topic_list(data, "https://f.example/forum/latest.json")
    assert len(topics) == 30
    assert topics[0].url == "https://f.example/forum/t/welcome-to-discourse/7"
    assert topics[1].title == "Filler Topic #11"
    assert topics[1].created_at is not None
    assert more == "https://f.example" + PAGE_1  # more_topics_url, with .json
    data = json.loads((LATEST / "latest_page1.json").read_bytes())
    topics, more = discourse.topic_list(data, "https://f.example" + PAGE_1)
    assert [t.url for t in topics][3] == "https://f.example/t/big-filler-topic-1/26"
    assert more is None


def test_discovery_walks_a_forum_listing_and_queues_its_topics(tmp_path: Path) -> None:
    from archiver.config import load_settings
    from archiver.discovery import Discoverer

    json_type = "application/json; charset=utf-8"
    routes = {"/latest.json": Route((LATEST / "latest_page0.json").read_bytes(), json_type),
              PAGE_1: Route((LATEST / "latest_page1.json").read_bytes(), json_type)}
    with FixtureServer(routes) as server:
        config = tmp_path / "archiver.toml"
        config.write_text(f"""
[archive]
data_dir = "{tmp_path / 'data'}"
[fetch]
delay = 0
contact = "mailto:tests@example.org"
[[sites]]
name = "forum"
url = "{server.url('/')}"
platform = "discourse"
[sites.discovery]
index = ["{server.url('/latest.json')}"]
""", encoding="utf-8")
        settings = load_settings(config, {})
        store = Store(settings.db_url)
        with Fetcher(settings.fetch) as fetcher:
            report = Discoverer(store, fetcher).discover(settings.sites[0])
        asked = [path for _, path, _ in server.requests if "robots" not in path]
    assert asked == ["/latest.json", PAGE_1]
    assert not report.errors and report.pages == 2 and len(report.queued) == 40
    assert report.queued[0] == server.url("/t/welcome-to-discourse/7")
    assert server.url("/t/big-filler-topic-1/26") in report.queued
    store.close()


# -- bad answers -----------------------------------------------------------------------------


def test_a_topic_answer_that_is_no_json_is_one_line_and_exit_6(data_dir: Path, cli) -> None:
    routes = {"/t/a-topic/9.json": Route(b"<!doctype html><p>maintenance", "application/json")}
    with FixtureServer(routes) as server:
        result = cli("archive", server.url("/t/a-topic/9"))
    assert result.code == 6, result.err
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1


def test_a_batch_that_cannot_be_read_leaves_the_read_incomplete_and_keeps_the_rest(
    data_dir: Path, cli
) -> None:
    _, routes = load_fixture(T26)
    routes["/t/26/posts.json?post_ids[]=54"] = Route(b'{"errors": ["nope"]}', "application/json")
    with FixtureServer(routes) as server:
        result = cli("archive", server.url("/t/26"))
    assert result.code == 6, result.err
    assert "posts.json?post_ids[]=54" in result.err
    assert [c.number for c in stored_comments(data_dir)] == list(range(2, 21))
    store = Store(default_database_url(data_dir))
    with store.session() as session:
        failed = session.exec(select(Capture).where(Capture.parsed_ok == False)).all()  # noqa: E712
        thread = session.exec(select(Thread)).one()
    store.close()
    assert [c.url for c in failed] == [server.url("/t/26/posts.json?post_ids[]=54")]
    assert "no post_stream.posts" in (failed[0].parse_error or "")
    assert not thread.complete


# -- generated: mutated real answers raise nothing but a parse error --------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**12) | st.text(max_size=20)
    | st.sampled_from(["2019-07-30T04:03:29.416Z", "0001-01-01T00:00:00+01:00", "<p>x</p>"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)


def _paths(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every place inside a JSON value (dict keys, list indexes), the value itself first."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            found += _paths(item, (*path, index))
    return found


# the keys the adapter reads (topic, post, listing): where a mutation is worth making
READ_KEYS = frozenset(
    "post_stream stream posts id slug title closed archived chunk_size post_number post_type "
    "reply_to_post_number username cooked created_at topic_list topics more_topics_url".split())


@st.composite
def mutated(draw: st.DrawFn, data: object) -> object:
    """A real answer with a few of the places the adapter reads replaced by other JSON or
    dropped."""
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 3))):
        places = [p for p in _paths(data) if p and (isinstance(p[-1], int) or p[-1] in READ_KEYS)]
        path = draw(st.sampled_from(places)) if places else ()
        if not path:
            return draw(JSON_VALUES)
        parent = data
        for step in path[:-1]:
            parent = parent[step]  # type: ignore[index]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON_VALUES)  # type: ignore[index]
    return data


def _small(name: Path) -> object:
    data = json.loads(name.read_bytes())
    data.pop("suggested_topics", None)  # not read; keeps the examples small
    if "post_stream" in data:
        data["post_stream"]["posts"] = data["post_stream"]["posts"][:4]
    return data


FUZZ = settings(max_examples=int(os.environ.get("ARCHIVER_FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TOPICS = [_small(URHO / "about-all-the-drama-around-here.5371.json"), _small(T26 / "t_26.json")]


def _read_all(found: Iterator[Found]) -> None:
    for item in found:
        assert isinstance(item, ParsedThread | ParsedComment | PageFacts | Request)
        if isinstance(item, ParsedComment):
            assert isinstance(item.source_id, str) and isinstance(item.depth, int)
            assert isinstance(item.body_text, str) and isinstance(item.author_name, str)
        if isinstance(item, Request):
            _read_all(item.then(answer(item.url, json.dumps(TOPICS[0]).encode())))


def _with(data: object, path: tuple[object, ...], value: object) -> object:
    data = copy.deepcopy(data)
    parent = data
    for step in path[:-1]:
        parent = parent[step]  # type: ignore[index]
    parent[path[-1]] = value  # type: ignore[index]
    return data


@FUZZ
@given(data=st.sampled_from(TOPICS).flatmap(mutated))
# found by the generated examples (ARCHIVER_FUZZ_EXAMPLES=3000), kept: a date at the edge of
# time (astimezone overflows) and a stream that is no list
@example(data=_with(TOPICS[0], ("post_stream", "posts", 1, "created_at"),
                    "0001-01-01T00:00:00+01:00"))
@example(data=_with(TOPICS[1], ("post_stream", "stream"), 7))
def test_mutated_topic_answers_raise_only_parse_errors(data: object) -> None:
    text = json.dumps(data).encode()
    for callback, url in ((discourse.read_topic, "https://f.example/t/s/5.json"),
                          (partial(discourse.read_batch, TOPIC_2, 0, {}),
                           "https://f.example/t/5/posts.json?post_ids[]=1")):
        try:
            _read_all(callback(answer(url, text)))
        except ParseError as exc:
            assert str(exc)


@FUZZ
@given(data=mutated(json.loads((LATEST / "latest_page1.json").read_bytes())))
def test_mutated_listings_raise_only_parse_errors(data: object) -> None:
    try:
        topics, more = discourse.topic_list(data, "https://f.example/latest.json")
    except ParseError as exc:
        assert str(exc)
        return
    assert all(isinstance(t.url, str) and isinstance(t.title, str) for t in topics)
    assert more is None or isinstance(more, str)


TOPIC_2 = discourse.Topic(base="https://f.example", topic_id=5, slug="s", title="t",
                          closed=False, batches=((1,), (2,)))
