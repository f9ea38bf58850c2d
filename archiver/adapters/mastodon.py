"""Mastodon (and servers that speak its API): a status and its whole reply tree, read through
``/api/v1/statuses/ID`` (the post) and ``/api/v1/statuses/ID/context`` (every reply).

A status URL (``/@user/ID``, ``/@user@host/ID``, ``/users/user/statuses/ID``) is claimed on any
host. The context answer lists the descendants flat, in the server's depth-first order; a reply's
parent is its ``in_reply_to_id`` and its depth follows from the chain up to the status archived.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit

from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import JSON, Found, Request, Response
from archiver.adapters.render import html_to_text
from archiver.errors import ParseError

PLATFORM = "mastodon"
_STATUS_PATH = (r"/(?:@[\w.-]+(?:@[\w.-]+)?|users/[\w.-]+/statuses|web/statuses|web/@[\w.-]+"
                r"(?:@[\w.-]+)?)/(\d+)")
URL_PATTERNS = (
    re.compile(r"^https?://[^/?#]+" + _STATUS_PATH + r"/?(?:[?#].*)?$", re.IGNORECASE),
)
EXAMPLES = (
    "https://mastodon.social/@Gargron/109294719267373593",
    "https://fosstodon.org/users/schochastics/statuses/114026814291152535",
    "https://hachyderm.io/@someone@mastodon.social/112233445566778899",
)
_TITLE_CHARS = 100


def matches(html: str, url: str = "") -> bool:
    """Whether the page is a Mastodon status page: a status URL served by Mastodon's web app."""
    return status_id(url) is not None and 'id="mastodon"' in html[:200000]


def status_id(url: str) -> str | None:
    """The status id in a status URL, or None."""
    found = URL_PATTERNS[0].match(url)
    return found.group(1) if found else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def start(url: str) -> Request:
    """The first request: the status itself, from the API of the server the URL names."""
    found = status_id(url)
    if found is None:
        raise ParseError(f"{url}: no status id in the URL (/@user/ID)")
    origin = _origin(url)
    return Request(f"{origin}/api/v1/statuses/{found}", accept=JSON,
                   then=functools.partial(read_status, origin=origin))


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def _name(account: dict[str, Any]) -> str:
    return str(account.get("display_name") or account.get("username") or account.get("acct") or "")


def body_html(status: dict[str, Any]) -> str:
    """What the status shows: its content warning, its text, its media (as links), its poll."""
    parts: list[str] = []
    warning = status.get("spoiler_text") or ""
    if warning:
        parts.append(f"<p>CW: {escape(warning)}</p>")
    parts.append(str(status.get("content") or ""))
    for media in status.get("media_attachments") or []:
        link = media.get("url") or media.get("remote_url") or ""
        label = media.get("description") or media.get("type") or "attachment"
        if link:
            parts.append(f'<p><a href="{escape(link)}">[{escape(str(label))}]</a></p>')
    poll = status.get("poll") or {}
    if poll.get("options"):
        items = "".join(f"<li>{escape(str(o.get('title', '')))}</li>" for o in poll["options"])
        parts.append(f"<ul>{items}</ul>")
    return "".join(parts)


def _status(data: Any, url: str) -> dict[str, Any]:  # noqa: ANN401 - JSON of any shape
    if not (isinstance(data, dict) and data.get("id") and isinstance(data.get("account"), dict)):
        raise ParseError(f"{url}: not a Mastodon status (no id or account)")
    return data


def parse_thread(status: dict[str, Any], origin: str) -> ParsedThread:
    """The status archived, as the post of the thread."""
    account = status["account"]
    html = body_html(status)
    text = html_to_text(html)
    first = next((line for line in text.splitlines() if line.strip()), "")
    excerpt = first if len(first) <= _TITLE_CHARS else first[:_TITLE_CHARS - 1].rstrip() + "…"
    acct = str(account.get("acct") or account.get("username") or "")
    url = str(status.get("url") or status.get("uri") or f"{origin}/@{acct}/{status['id']}")
    created = str(status.get("created_at") or "")
    return ParsedThread(
        url=url,
        title=f"@{acct}: {excerpt}" if excerpt else f"Status by @{acct}",
        body_html=html,
        body_text=text,
        site_name=urlsplit(origin).netloc,
        site_url=origin + "/",
        author=_name(account),
        published_text=created,
        published_at=_when(created),
        permalink=url,
    )


def read_status(response: Response, *, origin: str | None = None) -> Iterator[Found]:
    """The status: the post, then its context (every reply below it)."""
    origin = origin or _origin(response.url)
    status = _status(response.json(), response.url)
    yield parse_thread(status, origin)
    yield Request(f"{origin}/api/v1/statuses/{status['id']}/context", accept=JSON,
                  then=functools.partial(read_context, root=str(status["id"])))


def parse_replies(descendants: list[Any], root: str) -> list[ParsedComment]:
    """The descendants in the API's order, each with its parent (``in_reply_to_id``; None for
    a reply to the status archived) and its depth along that chain."""
    depths: dict[str, int] = {root: -1}
    found: list[ParsedComment] = []
    for item in descendants:
        status = _status(item, "context")
        sid = str(status["id"])
        parent = status.get("in_reply_to_id")
        parent = str(parent) if parent is not None else None
        depth = depths.get(parent, -1) + 1 if parent is not None else 0
        depths[sid] = depth
        account = status["account"]
        html = body_html(status)
        created = str(status.get("created_at") or "")
        found.append(ParsedComment(
            source_id=sid,
            body_html=html,
            body_text=html_to_text(html),
            author_name=_name(account),
            author_url=account.get("url"),
            published_text=created,
            published_at=_when(created),
            permalink=status.get("url") or status.get("uri"),
            parent_source_id=None if parent in (None, root) else parent,
            depth=depth,
        ))
    return found


def read_context(response: Response, *, root: str) -> Iterator[Found]:
    """The context answer: every descendant of the status, in the server's order."""
    data = response.json()
    if not isinstance(data, dict) or not isinstance(data.get("descendants"), list):
        raise ParseError(f"{response.url}: not a Mastodon context (no descendants)")
    yield from parse_replies(data["descendants"], root)
    yield PageFacts(number=1, comments_closed=False)
