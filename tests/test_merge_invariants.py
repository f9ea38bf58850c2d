"""Generated tests of the store's promises: random sequences of a thread's states, archived in
order through the real pipeline from a real server into a real SQLite file, never lose a
comment, never double one, and flag removed exactly what a complete read missed.

Each example is one thread (a path of its own on one server, one store for the module). A step
is what the server shows at one archive run: which of ten comments are there, which are edited,
which comment page answers 500, and which URL of the thread the run is asked for. A model beside
the test says what the store must hold after each run; it follows the rules the README states:
- a comment page that fails makes the read incomplete: what was read is kept, nothing removed;
- a complete read flags removed what it did not see, unless that is more than half of the
  thread's current comments, which waits for the next complete read to agree;
- a comment seen again is restored; an edit is a new version;
- a page answering 304 holds what it held when last read.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from archiver.devserver import FixtureServer, Route
from archiver.fetch import Fetcher, FetchSettings
from archiver.pipeline import ThreadArchiver
from archiver.store.db import Store
from archiver.store.models import Comment, CommentVersion

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "make_synthetic", ROOT / "fixtures" / "typepad" / "make_synthetic.py")
assert _spec is not None and _spec.loader is not None
synthetic = importlib.util.module_from_spec(_spec)
sys.modules["make_synthetic"] = synthetic
_spec.loader.exec_module(synthetic)

PER_PAGE = 4
IDS = range(10)
START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
COUNTER = itertools.count(1)


@dataclass(frozen=True)
class Step:
    """What the server shows at one run."""

    visible: tuple[int, ...]  # comment numbers shown, in thread order
    edits: tuple[int, ...]  # the version (0, 1, 2) of each comment's text, by number
    failing: int | None  # a comment page (2 or 3) answering 500, if it exists
    via: str  # the URL asked for: plain, tracking, upper (scheme and host), alias


steps = st.builds(
    Step,
    visible=st.sets(st.sampled_from(IDS)).map(lambda s: tuple(sorted(s))),
    edits=st.tuples(*[st.integers(0, 2)] * len(IDS)),
    failing=st.sampled_from([None, None, 2, 3]),
    via=st.sampled_from(["plain", "tracking", "upper", "alias"]),
)


def source_id(n: int) -> str:
    return f"6a00e5520000000099{n:04d}0000200c"


def text_of(thread: int, n: int, version: int) -> str:
    return f"Comment {n} of thread {thread}, version {version}."


@dataclass
class Model:
    """What the store must hold: per comment its text, removed and missed flags, version."""

    thread: int
    text: dict[str, str] = field(default_factory=dict)
    removed: dict[str, bool] = field(default_factory=dict)
    missed: dict[str, bool] = field(default_factory=dict)
    version: dict[str, int] = field(default_factory=dict)
    page_of: dict[str, str] = field(default_factory=dict)  # the page a comment was last read from
    page_text: dict[str, str] = field(default_factory=dict)  # page URL key -> bytes last read
    page_held: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    page_next: dict[str, int | None] = field(default_factory=dict)

    def run(self, step: Step, pages: dict[str, str], chunks: list[list[int]]) -> bool:
        """Apply one run; returns whether the read is complete."""
        total = len(chunks)
        seen: list[str] = []
        complete_path = True
        number: int | None = 1
        visited: set[str] = set()
        while number is not None:
            key = "alias" if number == 1 and step.via == "alias" else str(number)
            if key in visited:
                break
            visited.add(key)
            if number > total or number == step.failing:
                complete_path = False
                number = self.page_next.get(key)
                continue
            shown = [(source_id(n), text_of(self.thread, n, step.edits[n]))
                     for n in chunks[number - 1]]
            if self.page_text.get(key) == pages[key]:  # 304: as held when last read
                held = self.page_held[key]
                if all(not self.removed.get(sid, True) and self.text.get(sid) == text
                       and self.page_of.get(sid) == key for sid, text in held):
                    seen += [sid for sid, _ in held]
                    number = self.page_next[key]
                    continue
            for sid, text in shown:  # read (afresh, or again from its stored capture)
                if sid in seen:
                    continue
                if sid not in self.text:
                    self.version[sid] = 1
                elif self.text[sid] != text:
                    self.version[sid] += 1
                self.text[sid] = text
                self.removed[sid] = False
                self.page_of[sid] = key
                seen.append(sid)
            self.page_text[key] = pages[key]
            self.page_held[key] = shown
            self.page_next[key] = number + 1 if number < total else None
            number = self.page_next[key]
        current = [sid for sid in self.text if not self.removed[sid]]
        for sid in current:
            if sid in seen:
                self.missed[sid] = False
        if not complete_path:
            return False
        missing = [sid for sid in current if sid not in seen]
        confirmed = missing
        if 2 * len(missing) > len(current):
            confirmed = [sid for sid in missing if self.missed.get(sid)]
            for sid in missing:
                self.missed[sid] = True
        for sid in confirmed:
            self.removed[sid] = True
            self.missed[sid] = False
        return True


class Site:
    """The server, the store and the archiver every example shares."""

    def __init__(self, folder: Path) -> None:
        self.server = FixtureServer(origin=synthetic.ORIGIN).start()
        self.store = Store(f"sqlite:///{folder / 'invariants.db'}")
        self.fetcher = Fetcher(FetchSettings(delay=0, max_attempts=1, respect_robots=False))
        self.archiver = ThreadArchiver(self.store, self.fetcher)

    def close(self) -> None:
        self.fetcher.close()
        self.server.stop()
        self.store.close()

    def show(self, thread: int, step: Step) -> tuple[dict[str, str], list[list[int]], str]:
        """Serve the thread as step says; returns the pages by key, the comment numbers by
        page, and the URL to archive."""
        comments = [
            synthetic.Comment(
                source_id=source_id(n), author=synthetic.NAMES[n],
                when=START + timedelta(minutes=n), paragraphs=[text_of(thread, n, step.edits[n])])
            for n in step.visible
        ]
        post = synthetic.Post(
            path=f"/2024/05/invariant-{thread}.html", title=f"Thread {thread}",
            published=START, paragraphs=["A post."], comments=comments, per_page=PER_PAGE)
        chunks = [[n for n in step.visible[i:i + PER_PAGE]]
                  for i in range(0, len(step.visible), PER_PAGE)] or [[]]
        pages: dict[str, str] = {}
        for number in range(1, 4):
            path = post.page_path(number)
            if number > len(chunks):
                with self.server._lock:
                    self.server.routes.pop(path, None)
                continue
            html = synthetic.page_html(post, number)
            pages[str(number)] = html
            if number == step.failing:
                self.server.set_page(path, "<html><body>busy</body></html>", status=500)
            else:
                self.server.set_page(path, html, headers={"ETag": f'"{hash(html) & 0xFFFFFFF}"'})
        alias = f"/alias/2024/05/invariant-{thread}.html"
        pages["alias"] = pages["1"]
        self.server.routes[alias] = Route(
            body=pages["1"].encode(), headers={"ETag": f'"{hash(pages["1"]) & 0xFFFFFFF}"'})
        plain = self.server.url(post.path)
        url = {
            "plain": plain,
            "tracking": plain + "?utm_source=feed&utm_medium=rss",
            "upper": plain.replace("http://127.0.0.1", "HTTP://127.0.0.1"),
            "alias": self.server.url(alias),
        }[step.via]
        return pages, chunks, url


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    shared = Site(tmp_path_factory.mktemp("invariants"))
    yield shared
    shared.close()


def check_store(
    site: Site, thread_id: int, model: Model, visible: list[str], complete: bool
) -> None:
    with site.store.session() as session:
        rows = session.exec(select(Comment).where(Comment.thread_id == thread_id)).all()
        ids = [c.source_id for c in rows]
        assert len(ids) == len(set(ids)), "a comment stored twice"
        assert set(ids) == set(model.text), "a comment lost (or one never shown stored)"
        for c in rows:
            assert c.body_text == model.text[c.source_id], c.source_id
            assert (c.removed_at is not None) == model.removed[c.source_id], c.source_id
            assert (c.missed_at is not None) == model.missed.get(c.source_id, False), c.source_id
            assert c.version == model.version[c.source_id], c.source_id
            versions = session.exec(
                select(CommentVersion).where(CommentVersion.comment_id == c.id)).all()
            assert len(versions) == c.version - 1, c.source_id
        current = sorted((c for c in rows if c.source_id in visible), key=lambda c: c.position)
        if complete and all(not model.removed.get(sid, True) for sid in visible):
            assert [c.source_id for c in current] == visible, "thread order lost"


@settings(max_examples=int(os.environ.get("INVARIANT_EXAMPLES", "20")), deadline=None,
          derandomize=bool(os.environ.get("CI")), suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(steps, min_size=1, max_size=6))
def test_merging_runs_in_order_keeps_every_comment(site: Site, runs: list[Step]) -> None:
    thread = next(COUNTER)
    model = Model(thread)
    for step in runs:
        pages, chunks, url = site.show(thread, step)
        report = site.archiver.archive(url)
        complete = model.run(step, pages, chunks)
        assert report.complete == complete
        if not complete:
            assert report.removed == 0
        visible = [source_id(n) for n in step.visible]
        assert report.thread_id is not None
        check_store(site, report.thread_id, model, visible, complete)
