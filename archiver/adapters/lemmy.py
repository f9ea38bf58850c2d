"""Lemmy: a post and its comments through the instance's API: ``/api/v3/post?id=N`` (the post),
then ``/api/v3/comment/list?post_id=N`` page by page (the comments, oldest first).

A comment's ``path`` (``0.12.34``: the ids from the post down to it) gives its parent (the id
before its own) and its depth. Oldest first puts every parent before its replies and keeps the
pages stable: new comments land on the last page. Lemmy stores Markdown; it is rendered with
markdown-it (as Lemmy's own web UI does), raw HTML left as text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit

from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import JSON, Found, Request, Response
from archiver.adapters.render import html_to_text
from archiver.errors import ParseError

PLATFORM = "lemmy"
# the largest instances by name; any other is found by its web UI's markup (``matches``)
_INSTANCES = (r"(?:lemmy\.ml|lemmy\.world|beehaw\.org|programming\.dev|sh\.itjust\.works|"
              r"lemm\.ee|feddit\.de|lemmy\.ca|lemmy\.dbzer0\.com|discuss\.tchncs\.de|"
              r"lemmy\.blahaj\.zone)")
URL_PATTERNS = (
    re.compile(r"^https?://" + _INSTANCES + r"/post/(\d+)/?(?:[?#].*)?$", re.IGNORECASE),
)
EXAMPLES = (
    "https://lemmy.ml/post/1234567",
    "https://lemmy.world/post/45711923?scrollToComments=true",
)
PAGE_SIZE = 50  # the most Lemmy gives per page


@functools.cache
def _markdown() -> Any:  # noqa: ANN401 - markdown_it's MarkdownIt, imported when first needed
    """The Markdown renderer, built on first use: importing markdown_it costs every process
    (every `archiver archive` of any platform) ~20 ms otherwise."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
        ["table", "strikethrough"])


def post_id(url: str) -> str | None:
    """The post id of a post URL (``/post/N``)."""
    found = re.match(r"^https?://[^/?#]+/post/(\d+)/?(?:[?#].*)?$", url, re.IGNORECASE)
    return found.group(1) if found else None


def matches(html: str, url: str = "") -> bool:
    """Whether the page is a post page of Lemmy's web UI (``window.isoData``) at /post/N."""
    return post_id(url) is not None and "window.isoData" in html and "lemmy" in html.lower()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def comments_url(origin: str, post: str, page: int) -> str:
    return (f"{origin}/api/v3/comment/list?post_id={post}&sort=Old&type_=All"
            f"&limit={PAGE_SIZE}&page={page}")


def start(url: str) -> Request:
    """The first request: the post, from the API of the instance the URL names."""
    found = post_id(url)
    if found is None:
        raise ParseError(f"{url}: no post id in the URL (/post/N)")
    origin = _origin(url)
    return Request(f"{origin}/api/v3/post?id={found}", accept=JSON,
                   then=functools.partial(read_post, origin=origin))


def markdown_html(text: str) -> str:
    """Lemmy's Markdown as HTML (raw HTML in it stays text, as Lemmy shows it)."""
    return str(_markdown().render(text or "")).strip()


def _utc(when: datetime) -> datetime:
    """Lemmy's timestamps carry a zone since 0.19 (``...Z``); older ones are UTC without one."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _person(person: dict[str, Any]) -> tuple[str, str | None]:
    name = str(person.get("display_name") or person.get("name") or "")
    return name, person.get("actor_id") or person.get("ap_id")


def parse_thread(view: dict[str, Any], origin: str) -> ParsedThread:
    """The post (``post_view``): its title, link and body, its author and community."""
    post = view.get("post")
    if not isinstance(post, dict) or "id" not in post or "name" not in post:
        raise ParseError("a Lemmy post_view without a post (id, name)")
    link = str(post.get("url") or "")
    body_html = (f'<p><a href="{escape(link)}">{escape(link)}</a></p>' if link else "") + \
        markdown_html(str(post.get("body") or ""))
    author, _ = _person(view.get("creator") or {})
    published = str(post.get("published") or "")
    url = f"{origin}/post/{post['id']}"
    return ParsedThread(
        url=url,
        title=str(post["name"]),
        body_html=body_html,
        body_text=html_to_text(body_html),
        site_name=urlsplit(origin).netloc,  # the instance (a post's community is no site)
        site_url=origin + "/",
        author=author,
        published_text=published,
        published_at=_utc_or_none(published),
        permalink=post.get("ap_id") or url,
    )


def _utc_or_none(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


def read_post(response: Response, *, origin: str | None = None) -> Iterator[Found]:
    """The post answer: the post, then the first page of its comments."""
    origin = origin or _origin(response.url)
    data = response.json()
    view = data.get("post_view") if isinstance(data, dict) else None
    if not isinstance(view, dict):
        raise ParseError(f"{response.url}: not a Lemmy post (no post_view)")
    thread = parse_thread(view, origin)
    yield thread
    post = str(view["post"]["id"])
    locked = bool(view["post"].get("locked"))
    yield Request(comments_url(origin, post, 1), accept=JSON,
                  then=functools.partial(read_comments, origin=origin, post=post, page=1,
                                         locked=locked))


def parse_comment(view: dict[str, Any], origin: str) -> ParsedComment:
    """One ``CommentView``: the comment, its author, and its place in the tree from its path."""
    comment = view.get("comment")
    if not isinstance(comment, dict) or "id" not in comment:
        raise ParseError("a Lemmy comment_view without a comment id")
    cid = str(comment["id"])
    path = [part for part in str(comment.get("path") or f"0.{cid}").split(".") if part]
    above = path[1:-1] if path and path[-1] == cid else path[1:]
    body_html = markdown_html(str(comment.get("content") or ""))
    marks = [label for key, label in (("deleted", "[deleted]"), ("removed", "[removed]"))
             if comment.get(key)]
    if marks:
        body_html = f"<p>{' '.join(marks)}</p>{body_html}"
    author, author_url = _person(view.get("creator") or {})
    published = str(comment.get("published") or "")
    return ParsedComment(
        source_id=cid,
        body_html=body_html,
        body_text=html_to_text(body_html),
        author_name=author,
        author_url=author_url,
        published_text=published,
        published_at=_utc_or_none(published),
        permalink=comment.get("ap_id") or f"{origin}/comment/{cid}",
        parent_source_id=above[-1] if above else None,
        depth=len(above),
    )


def read_comments(response: Response, *, origin: str, post: str, page: int,
                  locked: bool = False) -> Iterator[Found]:
    """A page of comments; a full page leads to the next one."""
    data = response.json()
    views = data.get("comments") if isinstance(data, dict) else None
    if not isinstance(views, list):
        raise ParseError(f"{response.url}: not a Lemmy comment list (no comments)")
    for view in views:
        yield parse_comment(view, origin)
    yield PageFacts(number=page, comments_closed=locked)
    if len(views) >= PAGE_SIZE:
        yield Request(comments_url(origin, post, page + 1), accept=JSON,
                      then=functools.partial(read_comments, origin=origin, post=post,
                                             page=page + 1, locked=locked))
