"""A toy platform written here, in under 80 lines: a JSON API read in two requests (the post with
its first comments and a cursor, then the rest), with replies. It runs through the real engine,
served by a real server on 127.0.0.1, into a real SQLite store and the JSONL export."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

from sqlmodel import select

from archiver.adapters import ADAPTERS
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import JSON, Adapter, Found, Request, Response
from archiver.devserver import FixtureServer, Route
from archiver.export.jsonl import write_thread
from archiver.fetch import Fetcher, FetchSettings
from archiver.pipeline import ThreadArchiver
from archiver.store.db import Store, default_database_url
from archiver.store.models import Thread


class Toy:
    """Threads at /toy/ID, read from /api/thread/ID (then ?after=CURSOR while a cursor comes)."""

    PLATFORM = "toy"
    URL_PATTERNS = (re.compile(r"^https?://[^/]+/toy/(?P<id>\d+)$"),)
    EXAMPLES = ("http://127.0.0.1:8000/toy/1", "https://forum.example/toy/42")

    def matches(self, html: str, url: str) -> bool:
        return False  # hosted: its URLs say so

    def start(self, url: str) -> Request:
        return Request(url.replace("/toy/", "/api/thread/"), then=self.topic, accept=JSON)

    def topic(self, response: Response) -> Iterator[Found]:
        data = response.json()
        yield ParsedThread(url=data["url"], title=data["title"], body_html=data["body"],
                           body_text=data["body"], site_name="Toy", author=data["author"])
        yield from self.batch(response)

    def batch(self, response: Response) -> Iterator[Found]:
        data = response.json()
        for post in data["comments"]:
            yield ParsedComment(source_id=str(post["id"]), body_html=f"<p>{post['text']}</p>",
                                body_text=post["text"], author_name=post["by"],
                                parent_source_id=post.get("reply_to"))
        yield PageFacts(comments_closed=data.get("closed", False))
        if data.get("cursor"):
            base = response.url.split("?", 1)[0]
            yield Request(f"{base}?after={data['cursor']}", then=self.batch, accept=JSON)


FIRST = {"url": "ORIGIN/toy/1", "title": "Toy thread", "body": "The post.", "author": "ann",
         "comments": [{"id": 1, "text": "First!", "by": "bob"},
                      {"id": 2, "text": "Reply to bob", "by": "cy", "reply_to": "1"}],
         "cursor": "c2"}
REST = {"comments": [{"id": 3, "text": "Reply to cy", "by": "bob", "reply_to": "2"}],
        "closed": True}


def test_a_toy_json_platform_runs_through_the_engine(tmp_path: Path) -> None:
    toy: Adapter = Toy()
    assert all(toy.URL_PATTERNS[0].match(url) for url in toy.EXAMPLES)
    routes = {"/api/thread/1": FIRST, "/api/thread/1?after=c2": REST}
    store = Store(default_database_url(tmp_path))
    with FixtureServer({path: Route(body=json.dumps(data).encode(),
                                    content_type="application/json")
                        for path, data in routes.items()}, origin="ORIGIN") as server, \
            Fetcher(FetchSettings(delay=0, max_attempts=1)) as fetcher:
        report = ThreadArchiver(store, fetcher, adapters=(*ADAPTERS, toy)).archive(
            server.url("/toy/1"))
        asked = [(path, headers.get("Accept")) for _, path, headers in server.requests
                 if path.startswith("/api/")]
    assert asked == [("/api/thread/1", JSON), ("/api/thread/1?after=c2", JSON)]
    assert report.complete and report.closed and not report.problems
    assert (report.pages, report.new, report.comments) == (2, 3, 3)
    with store.session() as session:
        thread = session.exec(select(Thread)).one()
        out = io.StringIO()
        assert write_thread(session, thread, out) == 3
    exported = json.loads(out.getvalue())
    assert exported["title"] == "Toy thread" and exported["url"] == server.url("/toy/1")
    assert [(c["source_id"], c["author_name"], c["body_text"]) for c in exported["comments"]] \
        == [("1", "bob", "First!"), ("2", "cy", "Reply to bob"), ("3", "bob", "Reply to cy")]
    store.close()
