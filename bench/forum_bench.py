"""What the phpBB and XenForo parse benches (parse_phpbb.py, parse_xenforo.py) share: the fields
compared, a check that both extractions agree, and the rows of the race (common.race over all of
a case's pages in turn). The forumpages-based benches (vBulletin, SMF, Invision) have theirs in
bench/forum_race.py.

A contender takes (html, url) and returns a ``Topic``: the thread's title, the page URLs it leads
to, whether it is closed, and one ``Post`` per post in page order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from common import BS4_TARGET, Row, verdict
from common import race as race_once


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


def topic(page: Any) -> Topic:
    """An adapter's page (phpbb.parse_page, xenforo.parse_page) as a Topic."""
    return Topic(page.thread.title, page.comments_closed, page.page_urls, [
        Post(p.source_id, p.author_name, p.author_url, p.published_text, p.published_at,
             p.number, p.body_text) for p in page.posts])


def race(bench: str, case: str, pages: Sequence[tuple[str, str]], ours: Parser,
         theirs: Parser, rounds: int) -> list[Row]:
    """Check that both read the same, then time a pass over the pages each, side by side
    (common.race: interleaved rounds, best of each); rows in ms per page."""

    def compare(mine: list[Topic], other: list[Topic]) -> list[str]:
        return [f"{url}: {problem}" for (_, url), a, b in zip(pages, mine, other, strict=True)
                for problem in differences(a, b)]

    result = race_once(case, lambda: [ours(html, url) for html, url in pages],
                       lambda: [theirs(html, url) for html, url in pages], rounds, compare)
    n, posts = len(pages), sum(len(t.posts) for t in result.found)
    ratio = result.ratio
    note = f"{n} pages, {posts} posts; best of {rounds}; fields checked equal first"
    return [
        Row(bench, case, "adapter: ms per page", f"{result.best_ours * 1000 / n:.2f}", note=note),
        Row(bench, case, "BeautifulSoup+lxml: ms per page",
            f"{result.best_theirs * 1000 / n:.2f}"),
        Row(bench, case, "adapter speed / BS4 speed", f"{ratio:.1f}x", f">= {BS4_TARGET:.0f}x",
            verdict(ratio >= BS4_TARGET)),
    ]
