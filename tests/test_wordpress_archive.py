"""WordPress end to end: `archiver archive URL` on the devserver (127.0.0.1) serving the real
three-page set, with its REST API served and without it. The set is complete from each of its
pages; the API and the HTML give the same comments; an API that refuses, answers HTML or
garbage, or lists fewer comments than the page shows is logged and the run falls back."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from archiver.devserver import FixtureServer, load_fixture
from tests.conftest import FIXTURES

WP = FIXTURES / "wordpress"
HTML_ONLY = WP / "standuptothegrownups-twentytwenty-comment-pages-1-2-3"
WITH_API = WP / "standuptothegrownups-rest-api"
API_PATH = "/wp-json/wp/v2/comments?post=8&per_page=100&page=1"
PAGES = ("/", "/comment-page-1/", "/comment-page-2/", "/comment-page-3/")
ALL_IDS = {"3458", "103", "81", "77", "65", "34", "29", "28", "35", "25",
           "23", "22", "21", "17", "19", "12"}
REPLIES = {"35": "28", "19": "17"}  # what the pages nest: reply -> the comment it answers


def serve(folder: Path) -> FixtureServer:
    origin, routes = load_fixture(folder)
    return FixtureServer(routes, origin=origin).start()


def archive(server: FixtureServer, path: str, cli) -> tuple[Any, dict[str, Any]]:  # noqa: ANN001
    result = cli("archive", server.url(path))
    assert result.code == 0, result.err  # 0: the read is complete (else 3 or 6)
    exported = cli("export", "jsonl", server.url(path), "-o", "-")
    assert exported.code == 0, exported.err
    (line,) = exported.out.splitlines()
    return result, json.loads(line)


def comments(thread: dict[str, Any]) -> dict[str, tuple[str, str | None, int, str]]:
    return {c["source_id"]: (c["author_name"], c["parent_source_id"], c["depth"], c["kind"])
            for c in thread["comments"] if not c["removed"]}


def asked(server: FixtureServer) -> list[str]:
    return [path for method, path, _ in server.requests if path != "/robots.txt"]


@pytest.mark.parametrize("folder", [HTML_ONLY, WITH_API], ids=["html", "api"])
@pytest.mark.parametrize("start", PAGES)
def test_three_page_set_is_complete_from_each_page(folder: Path, start: str, data_dir: Path,
                                                   cli) -> None:  # noqa: ANN001
    server = serve(folder)
    try:
        result, thread = archive(server, start, cli)
        requests = asked(server)
    finally:
        server.stop()
    got = comments(thread)
    assert set(got) == ALL_IDS
    assert {cid: got[cid][1] for cid in got if got[cid][1]} == REPLIES
    assert thread["url"] == server.url("/")  # one thread whichever page it was reached by
    assert API_PATH in requests  # the page offers the API: it is always asked
    # every comment page is read (kept as a capture when the API gave the comments)
    assert {"/comment-page-1/", "/comment-page-2/"} <= set(requests)
    assert "16 comments" in result.out


def test_api_and_html_give_the_same_comments(data_dir: Path, tmp_path: Path, cli,  # noqa: ANN001
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    got = {}
    for name, folder in (("html", HTML_ONLY), ("api", WITH_API)):
        monkeypatch.setenv("ARCHIVER_DATA_DIR", str(tmp_path / name))
        server = serve(folder)
        try:
            result, thread = archive(server, "/", cli)
        finally:
            server.stop()
        got[name] = comments(thread)
        assert ("optional request(s) read another way" in result.out) is (name == "html")
    assert got["api"] == got["html"] and len(got["api"]) == 16


BAD_ANSWERS = {
    "401": dict(html=b'{"code":"rest_forbidden"}', status=401, content_type="application/json"),
    "403": dict(html=b'{"code":"rest_cannot_read"}', status=403, content_type="application/json"),
    "404": dict(html=b"<html>Not Found</html>", status=404),
    "500": dict(html=b"<html>Error</html>", status=500),
    "html": dict(html=b"<html><body>A maintenance page</body></html>", status=200),
    "garbage": dict(html=b"\x00\x01{[not json", status=200, content_type="application/json"),
    "error-object": dict(html=b'{"code":"rest_disabled","message":"off"}', status=200,
                         content_type="application/json"),
}


@pytest.mark.parametrize("bad", sorted(BAD_ANSWERS))
def test_api_that_cannot_be_read_falls_back_to_the_html(
    bad: str, data_dir: Path, cli, caplog: pytest.LogCaptureFixture,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARCHIVER_FETCH_MAX_ATTEMPTS", "1")  # a 500 is retried otherwise
    server = serve(WITH_API)
    server.set_page(API_PATH, **BAD_ANSWERS[bad])  # type: ignore[arg-type]
    try:
        with caplog.at_level(logging.WARNING, logger="archiver.pipeline"):
            result, thread = archive(server, "/comment-page-2/", cli)
    finally:
        server.stop()
    assert set(comments(thread)) == ALL_IDS
    assert "1 optional request(s) read another way" in result.out
    assert any(API_PATH in r.getMessage() and "fallback" in r.getMessage()
               for r in caplog.records)


def test_api_listing_fewer_comments_than_the_page_falls_back(
    data_dir: Path, cli, caplog: pytest.LogCaptureFixture,  # noqa: ANN001
) -> None:
    server = serve(WITH_API)
    answer = json.loads((WITH_API / "wp-json" / "comments-post-8-page-1.json").read_bytes())
    short = [c for c in answer if c["id"] != 3458]  # one the plain URL's page shows
    server.set_page(API_PATH, json.dumps(short), content_type="application/json",
                    headers={"X-WP-TotalPages": "1"})
    try:
        with caplog.at_level(logging.WARNING, logger="archiver.pipeline"):
            result, thread = archive(server, "/", cli)
    finally:
        server.stop()
    assert set(comments(thread)) == ALL_IDS
    assert any("lacks 1" in r.getMessage() for r in caplog.records)


def test_api_in_two_pages_is_followed(data_dir: Path, cli) -> None:  # noqa: ANN001
    """X-WP-TotalPages 2: page 2 is asked for, the comments of both pages are kept."""
    server = serve(WITH_API)
    answer = json.loads((WITH_API / "wp-json" / "comments-post-8-page-1.json").read_bytes())
    for page, part in ((1, answer[:9]), (2, answer[9:])):
        server.set_page(API_PATH.replace("&page=1", f"&page={page}"), json.dumps(part),
                        content_type="application/json", headers={"X-WP-TotalPages": "2"})
    try:
        _, thread = archive(server, "/", cli)
        requests = asked(server)
    finally:
        server.stop()
    assert API_PATH.replace("&page=1", "&page=2") in requests
    assert set(comments(thread)) == ALL_IDS
