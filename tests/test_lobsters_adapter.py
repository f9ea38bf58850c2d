"""Lobsters (issue 15): a story and its comments from /s/ID.json, on the real 2021 answer, and
the same comments in today's schema (``parent_comment``, ``depth``, the user as a name)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from archiver.adapters import adapter_for_url, lobsters
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import JSON, Response
from archiver.devserver import FixtureServer, load_fixture
from archiver.errors import ParseError
from tests.conftest import FIXTURES

CASE = FIXTURES / "lobsters" / "s-d9ucpe-2021"
STORY = "https://lobste.rs/s/d9ucpe/what_problems_do_people_solve_with_strace"


def answer(data: bytes, url: str = "https://lobste.rs/s/d9ucpe.json") -> Response:
    return Response(url=url, status=200, headers=(("Content-Type", "application/json"),),
                    content=data, text=data.decode("utf-8"))


def story() -> dict[str, Any]:
    return json.loads((CASE / "s_d9ucpe.json").read_text(encoding="utf-8"))


def read(data: dict[str, Any] | None = None) -> list[Any]:
    raw = (CASE / "s_d9ucpe.json").read_bytes() if data is None else json.dumps(data).encode()
    return list(lobsters.read_story(answer(raw), origin="https://lobste.rs"))


def shape(found: list[Any]) -> list[tuple[str, str | None, int, str]]:
    return [(c.source_id, c.parent_source_id, c.depth, c.author_name)
            for c in found if isinstance(c, ParsedComment)]


def test_story_urls_lead_to_the_story_json():
    for url in (STORY, "https://lobste.rs/s/d9ucpe", "http://127.0.0.1:9/s/d9ucpe.json"):
        assert adapter_for_url(url) is lobsters
        first = lobsters.start(url)
        assert first.url.endswith("/s/d9ucpe.json") and first.accept == JSON
    assert adapter_for_url("http://127.0.0.1:9/s/d9ucpe") is None  # elsewhere: by its markup


def test_the_2021_schema_indent_level_gives_depth_and_parent():
    found = read()
    thread = found[0]
    assert isinstance(thread, ParsedThread) and thread.url == STORY
    assert thread.title == "What problems do people solve with strace?"
    assert thread.author == "technetium"
    assert thread.body_text.startswith("https://jvns.ca/blog/2021/04/03/")
    assert thread.published_at is not None and thread.published_at.utcoffset() is not None
    assert shape(found) == [
        ("42bzeq", None, 0, "garymoon"), ("kejbct", None, 0, "enz"), ("vvs5qn", None, 0, "jxy"),
        ("6gmzsf", None, 0, "dmbaturin"), ("flr1hj", "6gmzsf", 1, "kodfodrasz"),
        ("oeggxb", None, 0, "tonyarkles"), ("pvti5i", None, 0, "kameliya")]
    first = next(c for c in found if isinstance(c, ParsedComment))
    assert first.author_url == "https://lobste.rs/~garymoon"
    assert first.published_text == "2021-04-03T17:43:55.000-05:00"
    assert first.body_text.startswith("I’ve always felt like my usage of strace")
    assert found[-1] == PageFacts(1, False)


def test_todays_schema_names_the_parent_and_the_depth():
    """The same story as lobste.rs answers today: ``parent_comment``, 0-based ``depth``, the
    user a plain name; a parent that is not the comment just above is still found."""
    data = story()
    today = []
    for item in data["comments"]:
        item = {k: v for k, v in item.items() if k != "indent_level"}
        item["commenting_user"] = item["commenting_user"]["username"]
        item["depth"] = 0
        item["parent_comment"] = None
        today.append(item)
    today[4].update(depth=1, parent_comment="6gmzsf")
    today[6].update(depth=1, parent_comment="42bzeq", is_deleted=True)  # not the one above
    found = read({**data, "comments": today, "submitter_user": "technetium"})
    assert shape(found)[4] == ("flr1hj", "6gmzsf", 1, "kodfodrasz")
    assert shape(found)[6] == ("pvti5i", "42bzeq", 1, "kameliya")
    assert found[0].author == "technetium"
    deleted = [c for c in found if isinstance(c, ParsedComment)][6]
    assert deleted.body_text.startswith("[deleted]")


def test_an_answer_that_is_no_story_is_a_parse_error():
    with pytest.raises(ParseError, match="not a Lobsters story"):
        list(lobsters.read_story(answer(b'{"error": "not found"}')))


def test_archive_a_story_through_a_mirror(data_dir, cli, monkeypatch):
    origin, routes = load_fixture(CASE)
    with FixtureServer(routes) as server:
        monkeypatch.setenv("ARCHIVER_FETCH_ORIGIN_MAP",
                           f"https://lobste.rs={server.url('').rstrip('/')}")
        result = cli("archive", STORY)
        exported = cli("export", "jsonl", STORY, "-o", "-")
        asked = [path for _, path, _ in server.requests if path != "/robots.txt"]
    assert result.code == 0, result.err
    assert asked == ["/s/d9ucpe.json"]
    thread = json.loads(exported.out)
    assert thread["comment_count"] == 7
    assert [c["source_id"] for c in thread["comments"]] == [s for s, *_ in shape(read())]


def test_the_story_id_is_read_from_every_story_url():
    assert lobsters.story_id("https://lobste.rs/s/d9ucpe.json") == "d9ucpe"
    assert lobsters.story_id("https://lobste.rs/t/rust") is None
