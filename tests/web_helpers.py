"""Helpers for the `archiver serve` tests: the app under uvicorn on 127.0.0.1 (a real server in a
thread), and stores written through the store's own merge (replies, an edit, a removal, a hostile
comment, a 5,000-comment thread)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn

from archiver.adapters.base import ParsedComment, ParsedThread
from archiver.adapters.render import html_to_text
from archiver.config import ServeSettings, Settings, load_settings
from archiver.fetch.guard import Resolver
from archiver.store import repo
from archiver.store.db import Store
from archiver.web.app import create_app
from archiver.web.jobs import Jobs

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
URL_OF = {"tide": "http://127.0.0.1:9/2024/03/tide-tables.html",
          "hostile": "http://127.0.0.1:9/2024/03/hostile.html"}


class LiveServer:
    """create_app(settings) served by uvicorn on a port of 127.0.0.1 chosen by the system."""

    def __init__(self, settings: Settings, store: Store | None = None,
                 resolver: Resolver | None = None) -> None:
        self.settings = settings
        self.store = store or Store(settings.db_url)
        jobs = Jobs(settings, self.store, resolver) if resolver is not None else None
        self.app = create_app(settings, self.store, jobs=jobs, host="127.0.0.1")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        while not self.server.started:  # no time limit: a dead thread fails the test instead
            assert self.thread.is_alive(), "uvicorn did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join()
        self.sock.close()
        self.store.close()


def settings_for(data_dir: Path, **serve: object) -> Settings:
    """The settings the environment gives (tests' data_dir fixture), with [serve] values."""
    settings = load_settings(None)
    settings.serve = ServeSettings(**serve)  # type: ignore[arg-type]
    return settings


@dataclass
class Comment:
    source_id: str
    author: str
    body: str
    parent: str | None = None
    depth: int = 0


def write_thread(store: Store, url: str, title: str, comments: Iterable[Comment], *,
                 now: datetime = T0, site_name: str = "Test Blog", body: str = "<p>The post.</p>",
                 complete: bool = True) -> int:
    """One read of a thread, merged as the engine merges it (a later call is a later read:
    edits kept as versions, comments missing from a complete read flagged removed)."""
    parsed = ParsedThread(url=url, title=title, body_html=body, body_text=html_to_text(body),
                          site_name=site_name, author="Ann", published_text="1 March 2024",
                          published_at=T0)
    with store.session() as session:
        site = repo.get_or_create_site(session, url, "typepad", parsed)
        thread = repo.upsert_thread(session, site, parsed, now)
        thread.last_fetched_at = now
        existing = repo.existing_comments(session, thread.id or 0)
        merge = repo.MergeResult()
        page = [ParsedComment(source_id=c.source_id, body_html=c.body, author_name=c.author,
                              body_text=html_to_text(c.body), published_text=f"{T0:%d %B %Y}",
                              published_at=T0 + timedelta(minutes=i),
                              parent_source_id=c.parent, depth=c.depth)
                for i, c in enumerate(comments)]
        for start in range(0, len(page), 1000):
            repo.merge_page(session, thread, existing, url, page[start:start + 1000], merge, now)
        repo.settle_comments(session, thread, existing, merge, now, complete=complete)
        session.commit()
        return thread.id or 0


def conversation(edited: bool = False, removed: bool = False) -> list[Comment]:
    """A small thread: two top-level comments, a reply and a reply to the reply."""
    items = [
        Comment("c1", "Alice", "<p>First, about the tide tables.</p>"),
        Comment("c2", "Bob", "<p>I disagree with Alice.</p>" if not edited
                else "<p>I disagree with Alice, politely.</p>", parent="c1", depth=1),
        Comment("c3", "Carol", "<p>Bob has a point.</p>", parent="c2", depth=2),
        Comment("c4", "Dave", "<p>A separate remark on moon phases.</p>"),
        Comment("c5", "Erin", "<p>Soon to be deleted.</p>"),
    ]
    return [c for c in items if not (removed and c.source_id == "c5")]


HOSTILE = (
    '<p id="hostile">Hostile comment</p>'
    '<script>document.title="pwned-script";fetch("{canary}/script")</script>'
    '<img src="{canary}/img.png" onerror="document.title=\'pwned-onerror\'">'
    '<a id="jslink" href="javascript:document.title=\'pwned-link\'">click me</a>'
    '<div style="background:url({canary}/css-url)" onmouseover="document.title=\'pwned-hover\'">'
    'styled</div>'
    '<style>body {{ background: url({canary}/style-tag) }}</style>'
    '<meta http-equiv="refresh" content="0;url={canary}/meta-refresh">'
    '<svg><script>document.title="pwned-svg"</script><image href="{canary}/svg-image"/></svg>'
    '<svg onload="document.title=\'pwned-svgload\'"></svg>'
    '<iframe src="{canary}/iframe"></iframe>'
    '<form action="{canary}/form"><button>go</button></form>'
    '<object data="{canary}/object"></object>'
    '<link rel="stylesheet" href="{canary}/link-css">'
    '<base href="{canary}/">'
    '<a href="relative-link">relative</a>'
)


def big_thread(store: Store, count: int = 5000) -> int:
    """A thread of `count` comments, merged in one read: every tenth a reply to the one before,
    and so is the first of every 200 (its parent on the page before, at 200 a page)."""
    words = ("harbour tide moon surge pier ebb flood gauge chart almanac "
             "shipping forecast ferry estuary").split()
    items = []
    for i in range(1, count + 1):
        text = " ".join(words[(i * 7 + k) % len(words)] for k in range(60))
        reply = i % 10 == 0 or (i % 200 == 1 and i > 1)
        items.append(Comment(f"b{i}", f"Reader {i % 97}", f"<p>Comment {i}: {text}</p>",
                             parent=f"b{i - 1}" if reply else None, depth=1 if reply else 0))
    return write_thread(store, "http://127.0.0.1:9/2024/03/big-thread.html", "A Very Long Thread",
                        items)
