"""Blogger's comment feed (``/feeds/POSTID/comments/default?alt=json``): one page of it read
into comments in thread order, and the request for the next page (``start-index``).

Each entry gives the same fields the post page shows, so a comment reads the same either way:
the body (``content.$t``, parsed in the ``<p>`` the page renders it in; a removed comment wrapped
in ``span.deleted-comment`` as Blogger's own script does), the author and profile link, the time
as shown (``blogger.displayTime``) and exact (``published``), the permalink (the ``alternate``
link) and the parent (the ``related`` link ``.../comments/default/PARENTID``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from archiver.adapters.base import PageFacts, ParsedComment
from archiver.adapters.contract import JSON, Found, Request, Response
from archiver.adapters.depth import parse_html
from archiver.adapters.render import render_children
from archiver.errors import ParseError

PAGE_SIZE = 500  # entries asked for per feed page (the feed may answer with fewer)
# Blogger's own comment script asks for the feed in publishing order, oldest first
_QUERY = "alt=json&orderby=published&reverse=false&start-index={start}&max-results={size}"
_ENTRY_ID = re.compile(r"post-(\d+)$")
_PARENT = re.compile(r"/comments/default/(\d+)(?:[?#]|$)")


def feed_url(feed: str, start: int) -> str:
    """The feed's page of comments from the start-th (1-based) on."""
    parts = urlsplit(feed)
    query = _QUERY.format(start=start, size=PAGE_SIZE)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _text(value: Any) -> str:  # noqa: ANN401 - a feed field is any JSON
    """A GData text field ``{"$t": "..."}`` (or a bare string) as text."""
    if isinstance(value, dict):
        value = value.get("$t")
    return value if isinstance(value, str) else ""


def _int(value: Any, what: str, url: str) -> int:  # noqa: ANN401
    text = _text(value).strip()
    if not text.isdecimal() or len(text) > 9:
        raise ParseError(f"{url}: the comment feed states no {what}")
    return int(text)


def _when(text: str) -> datetime | None:
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _body(content: str, removed: bool) -> tuple[str, str]:
    """The body as the post page holds it: parsed inside the ``<p class="comment-content">``
    the page renders it in, serialised by the same parser."""
    if removed:
        content = f'<span class="deleted-comment">{content}</span>'
    tree = parse_html(f'<p class="comment-content">{content}</p>')
    node = tree.css_first("p.comment-content")
    if node is None:
        return "", ""
    if removed:
        span = node.css_first("span.deleted-comment")
        if span is not None:
            return span.html or "", render_children(span)
    return node.inner_html or "", render_children(node)


def _entry(entry: Any, url: str) -> ParsedComment:  # noqa: ANN401
    if not isinstance(entry, dict):
        raise ParseError(f"{url}: a feed entry is not an object")
    ident = _ENTRY_ID.search(_text(entry.get("id")))
    if ident is None:
        raise ParseError(f"{url}: a feed entry has no comment id")
    if "content" not in entry:  # the blog's feed is set to "short": summaries, not comments
        raise ParseError(f"{url}: the comment feed gives summaries, not the comments")
    props = {_text(p.get("name")): _text(p.get("value"))
             for p in entry.get("gd$extendedProperty") or [] if isinstance(p, dict)}
    body_html, body_text = _body(_text(entry.get("content")),
                                 props.get("blogger.contentRemoved") == "true")
    authors = entry.get("author") or [{}]
    author = authors[0] if isinstance(authors, list) and isinstance(authors[0], dict) else {}
    permalink = parent = None
    for link in entry.get("link") or []:
        if not isinstance(link, dict):
            continue
        rel, href = link.get("rel"), link.get("href") or ""
        if rel == "alternate" and permalink is None:
            permalink = href or None
        elif rel == "related":
            found = _PARENT.search(href)
            parent = found[1] if found else parent
    published = _text(entry.get("published"))
    return ParsedComment(
        source_id=ident[1], body_html=body_html, body_text=body_text,
        author_name=_text(author.get("name")), author_url=_text(author.get("uri")) or None,
        published_text=props.get("blogger.displayTime") or published,
        published_at=_when(published), permalink=permalink, parent_source_id=parent,
        depth=1 if parent else 0,
    )


def thread_order(comments: list[ParsedComment]) -> list[ParsedComment]:
    """Comments as the post page lists them: by time, each followed by its replies (a reply
    whose parent is not among them stays where its time puts it, its parent id kept)."""
    ordered = sorted(comments, key=lambda c: c.published_at or datetime.max.replace(tzinfo=UTC))
    ids = {c.source_id for c in ordered}
    replies: dict[str, list[ParsedComment]] = {}
    roots: list[ParsedComment] = []
    for comment in ordered:
        parent = comment.parent_source_id
        if parent and parent in ids and parent != comment.source_id:
            replies.setdefault(parent, []).append(comment)
        else:
            roots.append(comment)
    result: list[ParsedComment] = []
    placed: set[str] = set()
    stack = list(reversed(roots))
    while stack:
        comment = stack.pop()
        if comment.source_id in placed:
            continue
        placed.add(comment.source_id)
        if comment.parent_source_id in placed:
            above = next(c for c in reversed(result) if c.source_id == comment.parent_source_id)
            comment.depth = above.depth + 1
        result.append(comment)
        stack.extend(reversed(replies.get(comment.source_id, [])))
    # a cycle of replies (no root) is still kept, in time order
    result.extend(c for c in ordered if c.source_id not in placed)
    return result


@dataclass(frozen=True, slots=True)
class FeedReader:
    """The callback for a page of the comment feed. ``closed``: what the post page said of its
    comments (the feed's last page is the read's last answer); ``shown``: how many comments
    the post page showed (a feed with fewer is not read: the page is then the better source)."""

    closed: bool
    shown: int = 0

    def __call__(self, response: Response) -> Iterator[Found]:
        url = response.url
        data = response.json()
        feed = data.get("feed") if isinstance(data, dict) else None
        if not isinstance(feed, dict):
            raise ParseError(f"{url}: not a Blogger comment feed (no feed object)")
        total = _int(feed.get("openSearch$totalResults"), "total of comments", url)
        first = _int(feed.get("openSearch$startIndex") or {"$t": "1"}, "start index", url)
        entries = feed.get("entry") or []
        if not isinstance(entries, list):
            raise ParseError(f"{url}: the feed's entries are not a list")
        if first == 1 and total < self.shown:
            raise ParseError(f"{url}: the comment feed lists {total} comments, the page shows"
                             f" {self.shown}")
        comments = thread_order([_entry(entry, url) for entry in entries])
        yield from comments
        yield PageFacts(number=(first - 1) // PAGE_SIZE + 1, comments_closed=self.closed)
        following = first + len(entries)
        if entries and following <= total:
            yield Request(feed_url(url, following), accept=JSON,
                          then=FeedReader(closed=self.closed))
