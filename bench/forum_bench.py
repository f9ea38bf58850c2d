"""What the forum parse benches (parse_phpbb.py, parse_xenforo.py) share: the fields compared,
a check that both extractions agree, and the race (best of several rounds, each page in turn).

A contender takes (html, url) and returns a ``Topic``: the thread's title, the page URLs it leads
to, whether it is closed, and one ``Post`` per post in page order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from common import Row, verdict

BS4_TARGET = 5.0  # the adapter at least 5x BeautifulSoup+lxml's speed (issue 14)


@dataclass(slots=True)
class Post:
    source_id: str
    author_name: str
    author_url: str | None
    published_text: str
    published_at: datetime | None
    number: int | None
    body_text: str


@dataclass(slots=True)
class Topic:
    title: str
    closed: bool
    page_urls: list[str]
    posts: list[Post] = field(default_factory=list)


Parser = Callable[[str, str], Topic]


def differences(ours: Topic, theirs: Topic) -> list[str]:
    """Where the BS4 extraction differs from the adapter's."""
    problems = [f"{name}: {getattr(ours, name)!r} vs {getattr(theirs, name)!r}"
                for name in ("title", "closed", "page_urls")
                if getattr(ours, name) != getattr(theirs, name)]
    if len(ours.posts) != len(theirs.posts):
        return [*problems, f"{len(ours.posts)} posts vs {len(theirs.posts)}"]
    for a, b in zip(ours.posts, theirs.posts, strict=True):
        for name in Post.__slots__:
            if getattr(a, name) != getattr(b, name):
                problems.append(f"post {a.source_id} {name}: {getattr(a, name)!r} vs "
                                f"{getattr(b, name)!r}")
    return problems


def best_of(parse: Parser, pages: Sequence[tuple[str, str]], rounds: int) -> float:
    """Seconds for one pass over the pages: the best of rounds passes."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for html, url in pages:
            parse(html, url)
        best = min(best, time.perf_counter() - start)
    return best


def race(bench: str, case: str, pages: Sequence[tuple[str, str]], ours: Parser,
         theirs: Parser, rounds: int) -> list[Row]:
    """Check that both read the same, then time them side by side (interleaved rounds)."""
    posts = 0
    for html, url in pages:
        mine, other = ours(html, url), theirs(html, url)
        problems = differences(mine, other)
        if problems:
            raise SystemExit(f"{case} {url}: BS4 extraction differs: " + "; ".join(problems[:5]))
        posts += len(mine.posts)
    ours_s = theirs_s = float("inf")
    for _ in range(rounds):  # alternate, so a busy moment of the machine hits both
        ours_s = min(ours_s, best_of(ours, pages, 1))
        theirs_s = min(theirs_s, best_of(theirs, pages, 1))
    n = len(pages)
    ratio = theirs_s / ours_s
    note = f"{n} pages, {posts} posts; best of {rounds}; fields checked equal first"
    return [
        Row(bench, case, "adapter: ms per page", f"{ours_s * 1000 / n:.2f}", note=note),
        Row(bench, case, "BeautifulSoup+lxml: ms per page", f"{theirs_s * 1000 / n:.2f}"),
        Row(bench, case, "adapter speed / BS4 speed", f"{ratio:.1f}x", f">= {BS4_TARGET:.0f}x",
            verdict(ratio >= BS4_TARGET)),
    ]
