"""Replies and pings in every export: a thread read through the real engine from a 127.0.0.1
server (a toy platform of nested comments, one reply to a comment missing upstream, a pingback
and a trackback) into SQLite, then exported as JSONL, text and the HTML mirror (opened in
Chromium). The text of a flat thread keeps the seed's shape: tests/test_fixture_cases.py and the
TypePad tests check that."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from archiver.adapters import ADAPTERS
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import JSON, Found, Request, Response
from archiver.devserver import FixtureServer, Route
from archiver.export import html as html_export
from archiver.export import jsonl, text
from archiver.export.selection import Selection, resolve
from archiver.fetch import Fetcher, FetchSettings
from archiver.pipeline import ThreadArchiver
from archiver.store.db import Store, default_database_url
from archiver.store.models import Thread
from tests.test_export_html import dump_dom

# (id, parent, depth, kind, author, text): the page's order, a reply under what it answers
ITEMS = [
    ("1", None, 0, "comment", "ann", "Top one."),
    ("2", "1", 1, "comment", "bob", "Answer to ann."),
    ("3", "2", 2, "comment", "cy", "Answer to bob."),
    ("4", None, 0, "comment", "dee", "Top two."),
    ("5", "99", 1, "comment", "eve", "Answer to a comment gone upstream."),
    ("p1", None, 0, "pingback", "Other blog", "Linked from Other blog"),
    ("t1", None, 0, "trackback", "Far blog", "Tracked by Far blog"),
]


class Nested:
    PLATFORM = "nested"
    URL_PATTERNS = (re.compile(r"^https?://[^/]+/nested/\d+$"),)
    EXAMPLES = ("http://127.0.0.1:8000/nested/1",)

    def matches(self, html: str, url: str) -> bool:
        return False

    def start(self, url: str) -> Request:
        return Request(url.replace("/nested/", "/api/"), then=self.read, accept=JSON)

    def read(self, response: Response) -> Iterator[Found]:
        yield ParsedThread(url=response.url.replace("/api/", "/nested/"), title="Nested post",
                           body_html="<p>The post.</p>", body_text="The post.",
                           site_name="Nested", author="host", published_text="May 1, 2024")
        for cid, parent, depth, kind, who, said in response.json():
            yield ParsedComment(source_id=cid, body_html=f"<p>{said}</p>", body_text=said,
                                author_name=who, published_text="May 2, 2024",
                                parent_source_id=parent, depth=depth, kind=kind)
        yield PageFacts()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(default_database_url(tmp_path))
    route = Route(body=json.dumps(ITEMS).encode(), content_type="application/json")
    with FixtureServer({"/api/1": route}) as server, \
            Fetcher(FetchSettings(delay=0, max_attempts=1)) as fetcher:
        report = ThreadArchiver(store, fetcher, adapters=(*ADAPTERS, Nested())).archive(
            server.url("/nested/1"))
    assert report.complete and (report.comments, report.pings) == (5, 2)  # pings apart
    assert "5 comments, 2 pings, 1 page" in report.summary()
    yield store


def test_jsonl_gives_parents_depths_and_kinds(store: Store) -> None:
    out = io.StringIO()
    with store.session() as session:
        jsonl.write_thread(session, session.exec(select(Thread)).one(), out)
    thread = json.loads(out.getvalue())
    assert (thread["comment_count"], thread["ping_count"]) == (5, 2)
    got = [(c["source_id"], c["parent_source_id"], c["depth"], c["kind"])
           for c in thread["comments"]]
    assert got == [(i, p, d, k) for i, p, d, k, _, _ in ITEMS]


def test_text_shows_whom_each_reply_answers_and_pings_apart(store: Store) -> None:
    with store.session() as session:
        dump = "".join(text.thread_lines(session, session.exec(select(Thread)).one()))
    comments = dump.split("Comments\n\n", 1)[1]
    assert comments == (
        "Top one.\n\n"
        "Posted by: ann | May 2, 2024 | 1\n\n"
        "    Answer to ann.\n\n"
        "    Posted by: bob | May 2, 2024 | 2 | in reply to ann (#1)\n\n"
        "        Answer to bob.\n\n"
        "        Posted by: cy | May 2, 2024 | 3 | in reply to bob (#2)\n\n"
        "Top two.\n\n"
        "Posted by: dee | May 2, 2024 | 4\n\n"
        "    Answer to a comment gone upstream.\n\n"
        "    Posted by: eve | May 2, 2024 | 5 | in reply to a comment not in the archive "
        "(id 99)\n\n"
        "Pingbacks and trackbacks\n\n"
        "Linked from Other blog\n\n"
        "Pingback from: Other blog | May 2, 2024\n\n"
        "Tracked by Far blog\n\n"
        "Trackback from: Far blog | May 2, 2024\n\n"
    )


def test_the_mirror_nests_replies_links_their_parents_and_lists_pings_apart(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "mirror"
    with store.session() as session:
        html_export.export(session, resolve(session, Selection()), folder)
    page = next(p for p in folder.glob("*/*.html") if p.name != "index.html")
    dom = dump_dom(page, tmp_path / "profile")  # as Chromium built it
    comments = dom.select("section.comments article.comment")
    assert [a["id"] for a in comments] == ["comment-1", "comment-2", "comment-3", "comment-4",
                                           "comment-5"]
    assert dom.select_one("section.comments h2").get_text() == "5 comments"
    reply = dom.select_one("#comment-3")
    assert "reply" in reply["class"] and "depth-2" in reply["class"]
    link = reply.select_one("p.reply-to a")
    assert link["href"] == "#comment-2" and link.get_text() == "bob (#2)"
    assert "not in the archive (id 99)" in dom.select_one("#comment-5 p.reply-to").get_text()
    pings = dom.select("section.pings article.comment")
    assert [(a["id"], a.select_one(".comment-meta").get_text().split(":")[0]) for a in pings] == [
        ("comment-p1", "Pingback from"), ("comment-t1", "Trackback from")]


def test_a_reply_moved_under_another_comment_is_an_edit_kept_as_a_version(
    tmp_path: Path
) -> None:
    store = Store(default_database_url(tmp_path))
    moved = [list(item) for item in ITEMS]
    moved[2][1:3] = ["1", 1]  # cy's answer now hangs under ann's comment
    routes = {"/api/1": Route(body=json.dumps(ITEMS).encode(), content_type="application/json")}
    with FixtureServer(routes) as server, \
            Fetcher(FetchSettings(delay=0, max_attempts=1)) as fetcher:
        archiver = ThreadArchiver(store, fetcher, adapters=(*ADAPTERS, Nested()))
        archiver.archive(server.url("/nested/1"))
        server.routes["/api/1"] = Route(body=json.dumps(moved).encode(),
                                        content_type="application/json")
        again = archiver.archive(server.url("/nested/1"))
    assert (again.new, again.edited, again.removed) == (0, 1, 0)
    out = io.StringIO()
    with store.session() as session:
        jsonl.write_thread(session, session.exec(select(Thread)).one(), out)
    cy = json.loads(out.getvalue())["comments"][2]
    assert (cy["parent_source_id"], cy["depth"], cy["version"]) == ("1", 1, 2)
    assert [(h["parent_source_id"], h["kind"]) for h in cy["history"]] == [("2", "comment")]


def test_a_plain_comment_hashes_as_before_replies_existed() -> None:
    """Hashes stored by 0.1 must still match, or every refresh would version every comment."""
    from archiver.store.repo import content_hash, sha256

    plain = ParsedComment(source_id="1", body_html="<p>x</p>", author_name="ann",
                          author_url="http://a", published_text="May 2")
    assert content_hash(plain) == sha256(b"ann\x1fhttp://a\x1fMay 2\x1f<p>x</p>")
    reply = ParsedComment(source_id="1", body_html="<p>x</p>", author_name="ann",
                          author_url="http://a", published_text="May 2", parent_source_id="0")
    assert content_hash(reply) != content_hash(plain)
