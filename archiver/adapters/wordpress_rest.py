"""WordPress's REST API for comments: where it is, the URL of each page of a post's comments,
and its JSON (``/wp/v2/comments``, WordPress's published shape) read into ParsedComments.

Pure functions for archiver.adapters.wordpress; no I/O. A list that is not the published shape
raises ParseError, so the engine falls back to the HTML pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from archiver.adapters.base import ParsedComment
from archiver.adapters.contract import Response
from archiver.adapters.render import html_to_text
from archiver.errors import ParseError

PER_PAGE = 100  # the most WordPress serves in one page
# WordPress lists only approved comments of type "comment" to a reader not logged in (asking
# another ``type`` needs the edit_posts capability): pings come from the HTML pages
_PING_TYPES = ("pingback", "trackback")


def api_root(href: str, page_url: str) -> str | None:
    """The API's root URL from the page's ``link rel="https://api.w.org/"`` href, on the host
    that served the page: a link naming another host (protocol-relative, or left over from a
    move) keeps its path on the page's own origin, so the API asked is the site's that was read.
    None when href is no URL."""
    try:
        root = urlsplit(urljoin(page_url, href.strip()))
        page = urlsplit(page_url)
    except ValueError:
        return None
    if root.scheme not in ("http", "https") or not root.netloc:
        return None
    if root.netloc.lower() != page.netloc.lower():
        root = root._replace(scheme=page.scheme, netloc=page.netloc)
    return urlunsplit(root._replace(fragment=""))


def comments_url(root: str, post_id: str, page: int) -> str:
    """``<root>wp/v2/comments?post=ID&per_page=100&page=N``; for a site without pretty
    permalinks (root ``…/?rest_route=/``) the route goes in that parameter."""
    query = urlencode({"post": post_id, "per_page": PER_PAGE, "page": page})
    parts = urlsplit(root)
    if "rest_route=" in parts.query:
        route = urlencode({"rest_route": "/wp/v2/comments"})
        return urlunsplit(parts._replace(query=f"{route}&{query}"))
    base = root if root.endswith("/") else root + "/"
    return f"{base}wp/v2/comments?{query}"


def total_pages(response: Response, count: int) -> int | None:
    """How many pages the answer says there are (X-WP-TotalPages); None when it does not say
    and a full page suggests more (then the next page is asked until one comes back short)."""
    value = (response.header("x-wp-totalpages") or "").strip()
    if value.isdecimal() and len(value) <= 6:
        return int(value)
    return None if count >= PER_PAGE else 0


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParseError(f"comment {item.get('id')}: {key} is not a string")
    return value


def _when(item: dict[str, Any]) -> datetime | None:
    gmt = item.get("date_gmt")
    if isinstance(gmt, str) and gmt:
        try:
            return datetime.fromisoformat(gmt.removesuffix("Z")).replace(tzinfo=UTC)
        except ValueError:
            return None
    return None


def read_comments(data: Any, post_id: str) -> list[ParsedComment]:  # noqa: ANN401 - any JSON
    """The comments of one page of ``/wp/v2/comments`` (depth 0; ``thread_order`` sets it).
    ParseError when the answer is not that list (an error object, another post's comments)."""
    if not isinstance(data, list):
        what = data.get("code", "an object") if isinstance(data, dict) else type(data).__name__
        raise ParseError(f"the comments API answered {what}, not a list of comments")
    found = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("id"), int):
            raise ParseError("the comments API answered an item that is no comment")
        if "post" in item and str(item["post"]) != post_id:
            raise ParseError(f"the comments API answered comments of post {item['post']}")
        parent = item.get("parent") or 0
        content = item.get("content")
        rendered = content.get("rendered") if isinstance(content, dict) else None
        if not isinstance(parent, int) or not isinstance(rendered, str):
            raise ParseError(f"comment {item['id']}: no parent or content in the API's answer")
        kind = _text(item, "type")
        found.append(ParsedComment(
            source_id=str(item["id"]),
            body_html=rendered,
            body_text=html_to_text(rendered),
            author_name=_text(item, "author_name"),
            author_url=_text(item, "author_url") or None,
            published_text=_text(item, "date"),
            published_at=_when(item),
            permalink=_text(item, "link") or None,
            parent_source_id=str(parent) if parent else None,
            kind=kind if kind in _PING_TYPES else "comment",
        ))
    return found


def thread_order(comments: Iterable[ParsedComment]) -> list[ParsedComment]:
    """The comments as WordPress's threaded view lists them: top level oldest first, each
    followed by its replies (oldest first), at any depth; ``depth`` set from the parents.
    A reply whose parent the API did not list (held for moderation, removed) keeps its parent
    id and stands at depth 1 where its date puts it among the top level."""
    unique = {c.source_id: c for c in comments}
    oldest = sorted(unique.values(), key=lambda c: (c.published_at or datetime.min.replace(
        tzinfo=UTC), int(c.source_id) if c.source_id.isdecimal() else 0))
    replies: dict[str, list[ParsedComment]] = {}
    roots = []
    for comment in oldest:
        parent = comment.parent_source_id
        if parent is not None and parent in unique:
            replies.setdefault(parent, []).append(comment)
        else:
            comment.depth = 0 if parent is None else 1
            roots.append(comment)
    ordered: list[ParsedComment] = []
    stack = list(reversed(roots))
    while stack:  # depth first, without recursion on the thread's depth
        comment = stack.pop()
        ordered.append(comment)
        children = replies.get(comment.source_id, [])
        for child in children:
            child.depth = comment.depth + 1
        stack.extend(reversed(children))
    if len(ordered) < len(unique):  # parents in a loop (a broken answer): kept, at the end
        placed = {c.source_id for c in ordered}
        for comment in oldest:
            if comment.source_id not in placed:
                comment.depth = 1
                ordered.append(comment)
    return ordered
