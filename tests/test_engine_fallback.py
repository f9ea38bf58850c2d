"""Optional requests and paging both ways, through the real engine: a toy blog whose HTML pages
show the comments and whose JSON API (optional, as WordPress's REST API) shows them with their
parents. The API answered, refused (404, 500), answering HTML or garbage: the run falls back to
the HTML comments and stays complete. Comment pages linking to each other both ways are each read
once, whichever is asked for first. A refresh answered 304 everywhere still follows the API."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from archiver.adapters import ADAPTERS
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import JSON, Adapter, Found, Request, Response
from archiver.devserver import FixtureServer, Route
from archiver.fetch import Fetcher, FetchSettings
from archiver.pipeline import ThreadArchiver
from archiver.store.db import Store, default_database_url
from archiver.store.models import Capture, Comment, Thread

PAGE = re.compile(r'<li id="c(\d+)" data-by="(\w+)">([^<]*)</li>')
LINK = re.compile(r'<a class="page" href="([^"]+)">')


class Blog:
    """Posts at /blog/ID (comment pages /blog/ID/p/N); the API at /api/ID when the page says so."""

    PLATFORM = "toyblog"
    URL_PATTERNS = (re.compile(r"^https?://[^/]+/blog/\d+"),)
    EXAMPLES = ("http://127.0.0.1:8000/blog/1",)

    def matches(self, html: str, url: str) -> bool:
        return False

    def start(self, url: str) -> Request:
        return Request(url, then=self.page)

    def html_comments(self, response: Response) -> Iterator[Found]:
        for cid, by, text in PAGE.findall(response.text):
            yield ParsedComment(source_id=cid, body_html=text, body_text=text, author_name=by)
        for href in LINK.findall(response.text):
            yield Request(response.url.split("/blog/")[0] + href, then=self.page)

    needed = False  # the API's answer is needed (a fallback keeps what it can, the read fails)

    def page(self, response: Response) -> Iterator[Found]:
        yield ParsedThread(url=response.url.split("/p/")[0], title="Toy post", body_html="x",
                           body_text="x", author="ann")
        api = re.search(r'<link rel="api" href="([^"]+)">', response.text)
        if api and "/p/" not in response.url:
            yield Request(response.url.split("/blog/")[0] + api.group(1), then=self.api,
                          accept=JSON, fallback=lambda: self.html_comments(response),
                          optional=not self.needed)
        else:
            yield from self.html_comments(response)
        yield PageFacts()

    def api(self, response: Response) -> Iterator[Found]:
        for item in response.json()["comments"]:
            yield ParsedComment(source_id=str(item["id"]), body_html=item["text"],
                                body_text=item["text"], author_name=item["by"],
                                parent_source_id=item.get("parent"), depth=item.get("depth", 0))
        if response.json().get("next"):
            yield Request(response.url.split("/api/")[0] + response.json()["next"],
                          then=self.api, accept=JSON)


def html(comments: list[tuple[int, str, str]], links: list[str], api: bool = True) -> bytes:
    head = '<link rel="api" href="/api/1">' if api else ""
    items = "".join(f'<li id="c{i}" data-by="{by}">{text}</li>' for i, by, text in comments)
    pages = "".join(f'<a class="page" href="{href}">' for href in links)
    return f"<html><head>{head}</head><body><ul>{items}</ul>{pages}</body></html>".encode()


COMMENTS = [(1, "bob", "First"), (2, "cy", "Answer to bob"), (3, "dee", "Answer to cy")]
API_1 = {"comments": [{"id": 1, "text": "First", "by": "bob"},
                      {"id": 2, "text": "Answer to bob", "by": "cy", "parent": "1", "depth": 1}],
         "next": "/api/1?page=2"}
API_2 = {"comments": [{"id": 3, "text": "Answer to cy", "by": "dee", "parent": "2", "depth": 2}]}


def json_route(data: object, **headers: str) -> Route:
    return Route(body=json.dumps(data).encode(), content_type="application/json",
                 headers=dict(headers))


def archive(tmp_path: Path, routes: dict[str, Route], path: str = "/blog/1",
            runs: int = 1, blog: Adapter | None = None) -> tuple[list, Store, list[str]]:
    blog = blog or Blog()
    store = Store(default_database_url(tmp_path))
    with FixtureServer(routes) as server, \
            Fetcher(FetchSettings(delay=0, max_attempts=1)) as fetcher:
        archiver = ThreadArchiver(store, fetcher, adapters=(*ADAPTERS, blog))
        reports = [archiver.archive(server.url(path)) for _ in range(runs)]
        asked = [p for _, p, _ in server.requests if not p.startswith("/robots")]
    return reports, store, asked


def stored(store: Store) -> list[tuple[str, str, str | None]]:
    with store.session() as session:
        return [(c.source_id, c.author_name, c.parent_source_id)
                for c in session.exec(select(Comment).order_by(Comment.source_id))]


def test_the_api_is_read_when_it_answers(tmp_path: Path) -> None:
    reports, store, asked = archive(tmp_path, {
        "/blog/1": Route(body=html(COMMENTS, [])),
        "/api/1": json_route(API_1), "/api/1?page=2": json_route(API_2)})
    assert asked == ["/blog/1", "/api/1", "/api/1?page=2"]
    report = reports[0]
    assert report.complete and not report.problems and not report.fallbacks
    assert stored(store) == [("1", "bob", None), ("2", "cy", "1"), ("3", "dee", "2")]


@pytest.mark.parametrize("api_route", [
    Route(body=b"not found", status=404, content_type="text/plain"),
    Route(body=b"oops", status=500, content_type="text/plain"),
    Route(body=b"<html>a login page</html>"),  # HTML where JSON was asked for
    Route(body=b"{garbage", content_type="application/json"),
], ids=["404", "500", "html", "garbage"])
def test_an_api_that_fails_falls_back_to_the_html_comments(
    tmp_path: Path, api_route: Route
) -> None:
    reports, store, asked = archive(tmp_path, {
        "/blog/1": Route(body=html(COMMENTS, [])), "/api/1": api_route})
    report = reports[0]
    assert asked == ["/blog/1", "/api/1"]
    assert report.complete and not report.problems, report.summary()
    assert len(report.fallbacks) == 1 and "/api/1" in report.fallbacks[0]
    assert "read another way" in report.summary()
    assert stored(store) == [("1", "bob", None), ("2", "cy", None), ("3", "dee", None)]
    with store.session() as session:
        thread = session.exec(select(Thread)).one()
        assert thread.status == "open" and thread.complete  # a 404 of the API is not "gone"
        if api_route.status == 200 and api_route.content_type == "application/json":
            api = session.exec(select(Capture).where(Capture.url.endswith("/api/1"))).one()
            assert api.parsed_ok is False and api.parse_error  # kept, with why it failed


def test_the_fallback_keeps_the_comments_as_they_were_after_the_api_recovers(
    tmp_path: Path
) -> None:
    """API down on the first run, up on the second: the same comments, now with parents, none
    flagged removed, none duplicated."""
    routes = {"/blog/1": Route(body=html(COMMENTS, [])),
              "/api/1": Route(body=b"down", status=503, content_type="text/plain")}
    store = Store(default_database_url(tmp_path))
    with FixtureServer(routes) as server, \
            Fetcher(FetchSettings(delay=0, max_attempts=1)) as fetcher:
        archiver = ThreadArchiver(store, fetcher, adapters=(*ADAPTERS, Blog()))
        first = archiver.archive(server.url("/blog/1"))
        server.routes["/api/1"] = json_route(API_1)
        server.routes["/api/1?page=2"] = json_route(API_2)
        second = archiver.archive(server.url("/blog/1"))
    assert first.fallbacks and not second.fallbacks
    assert (second.new, second.removed) == (0, 0) and second.complete
    assert stored(store) == [("1", "bob", None), ("2", "cy", "1"), ("3", "dee", "2")]


def test_comment_pages_linking_both_ways_are_each_read_once_from_any_page(
    tmp_path: Path
) -> None:
    pages = {1: [(1, "bob", "one")], 2: [(2, "cy", "two")], 3: [(3, "dee", "three")]}
    links = ["/blog/1/p/1", "/blog/1/p/2", "/blog/1/p/3"]
    routes = {f"/blog/1/p/{n}": Route(body=html(c, links, api=False)) for n, c in pages.items()}
    reports, store, asked = archive(tmp_path, routes, path="/blog/1/p/2")
    report = reports[0]
    assert sorted(asked) == links and len(asked) == 3
    assert report.complete and not report.stopped and report.comments == 3


def test_a_refresh_answered_304_everywhere_still_follows_the_api(tmp_path: Path) -> None:
    """The API's second page is read by another callback than the page that led to it: a 304
    on the first must not hand the second to the wrong callback."""
    routes = {"/blog/1": Route(body=html(COMMENTS, []), headers={"ETag": '"p"'}),
              "/api/1": json_route(API_1, ETag='"a1"'),
              "/api/1?page=2": json_route(API_2, ETag='"a2"')}
    reports, store, asked = archive(tmp_path, routes, runs=2)
    assert asked == ["/blog/1", "/api/1", "/api/1?page=2"] * 2
    again = reports[1]
    assert again.pages_not_modified == 3 and again.complete and not again.problems
    assert (again.new, again.removed, again.comments) == (0, 0, 3)
    assert stored(store) == [("1", "bob", None), ("2", "cy", "1"), ("3", "dee", "2")]


def test_a_needed_answer_that_fails_keeps_its_fallback_and_the_read_incomplete(
    tmp_path: Path
) -> None:
    needed = Blog()
    needed.needed = True
    reports, store, _ = archive(tmp_path, {
        "/blog/1": Route(body=html(COMMENTS, [])),
        "/api/1": Route(body=b"gone", status=404, content_type="text/plain")}, blog=needed)
    report = reports[0]
    assert not report.complete and report.failed_pages and "/api/1" in report.failed_pages[0]
    assert stored(store) == [("1", "bob", None), ("2", "cy", None), ("3", "dee", None)]
