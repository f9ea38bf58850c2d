"""Lobsters: a story and its comments from the story's JSON (``/s/ID.json``), one request.

The comments come flat, in the site's order (threads depth first). Today's schema names each
comment's parent (``parent_comment``) and ``depth`` (0 at top level); the schema of 2021 gives only
``indent_level`` (1 at top level), so the parent is the nearest shallower comment before it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import urljoin, urlsplit

from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import JSON, Found, Request, Response
from archiver.adapters.render import html_to_text
from archiver.errors import ParseError

PLATFORM = "lobsters"
URL_PATTERNS = (
    # lobste.rs's story pages (any slug), and the story JSON of any Lobsters site
    re.compile(r"^https?://lobste\.rs/s/([a-z0-9]+)(?:[/.][^?#]*)?(?:[?#].*)?$", re.IGNORECASE),
    re.compile(r"^https?://[^/?#]+/s/([a-z0-9]{6})\.json(?:[?#].*)?$", re.IGNORECASE),
)
EXAMPLES = (
    "https://lobste.rs/s/d9ucpe/what_problems_do_people_solve_with_strace",
    "https://lobste.rs/s/d9ucpe",
    "https://tilde.news/s/abc123.json",
)


def story_id(url: str) -> str | None:
    """The story's short id in a story URL (``/s/ID``, ``/s/ID/slug``, ``/s/ID.json``)."""
    found = re.match(r"^https?://[^/?#]+/s/([a-z0-9]+)", url, re.IGNORECASE)
    return found.group(1) if found else None


def matches(html: str, url: str = "") -> bool:
    """Whether the page is a Lobsters story page (its comment tree's markup) at /s/ID."""
    return story_id(url) is not None and ('class="comments comments1"' in html
                                          or "story_liner" in html)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def start(url: str) -> Request:
    """The first request: the story's JSON."""
    found = story_id(url)
    if found is None:
        raise ParseError(f"{url}: no story id in the URL (/s/ID)")
    origin = _origin(url)
    return Request(f"{origin}/s/{found}.json", accept=JSON,
                   then=functools.partial(read_story, origin=origin))


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _user(value: Any) -> str:  # noqa: ANN401 - a name (today) or an object (2021)
    if isinstance(value, dict):
        return str(value.get("username") or "")
    return str(value or "")


def parse_thread(story: dict[str, Any], origin: str) -> ParsedThread:
    """The story: its title, its link and description, its submitter."""
    link = str(story.get("url") or "")
    body_html = (f'<p><a href="{escape(link)}">{escape(link)}</a></p>' if link else "") + str(
        story.get("description") or "")
    created = str(story.get("created_at") or "")
    url = str(story.get("comments_url") or story.get("short_id_url")
              or f"{origin}/s/{story.get('short_id')}")
    return ParsedThread(
        url=url,
        title=str(story.get("title") or ""),
        body_html=body_html,
        body_text=html_to_text(body_html),
        site_name=urlsplit(origin).netloc,
        site_url=origin + "/",
        author=_user(story.get("submitter_user")),
        published_text=created,
        published_at=_when(created),
        permalink=str(story.get("short_id_url") or url),
    )


def _int(value: Any, default: int) -> int:  # noqa: ANN401
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def parse_comments(items: list[Any], origin: str) -> list[ParsedComment]:
    """The story's comments in the site's order, each with its parent and depth."""
    found: list[ParsedComment] = []
    above: list[str] = []  # above[d]: the last comment seen at depth d (2021 schema)
    for item in items:
        if not isinstance(item, dict) or not item.get("short_id"):
            raise ParseError("a Lobsters comment without a short_id")
        sid = str(item["short_id"])
        if "depth" in item:
            depth = max(0, _int(item.get("depth"), 0))
        else:
            depth = max(0, _int(item.get("indent_level"), 1) - 1)
        del above[depth:]
        if "parent_comment" in item:
            parent = item.get("parent_comment")
        else:
            parent = above[depth - 1] if 0 < depth <= len(above) else None
        while len(above) < depth:
            above.append("")
        above.append(sid)
        body_html = str(item.get("comment") or "")
        marks = [label for key, label in (("is_deleted", "[deleted]"),
                                          ("is_moderated", "[moderated]")) if item.get(key)]
        if marks:
            body_html = f"<p>{' '.join(marks)}</p>{body_html}"
        user = _user(item.get("commenting_user"))
        created = str(item.get("created_at") or "")
        found.append(ParsedComment(
            source_id=sid,
            body_html=body_html,
            body_text=html_to_text(body_html),
            author_name=user,
            author_url=urljoin(origin + "/", f"~{user}") if user else None,
            published_text=created,
            published_at=_when(created),
            permalink=item.get("short_id_url") or item.get("url"),
            parent_source_id=str(parent) if parent else None,
            depth=depth,
        ))
    return found


def read_story(response: Response, *, origin: str | None = None) -> Iterator[Found]:
    """The story's JSON: the story, every comment, and that it is complete (no paging)."""
    origin = origin or _origin(response.url)
    story = response.json()
    if not isinstance(story, dict) or not story.get("short_id") or "title" not in story:
        raise ParseError(f"{response.url}: not a Lobsters story (no short_id or title)")
    yield parse_thread(story, origin)
    comments = story.get("comments")
    if not isinstance(comments, list):
        raise ParseError(f"{response.url}: the story has no comments list")
    yield from parse_comments(comments, origin)
    yield PageFacts(number=1, comments_closed=False)
