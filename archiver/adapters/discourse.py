"""Discourse: read a forum topic through its JSON API, the first post as the thread and every
later post as a comment, the whole topic whatever post URL was given.

``/t/[slug/]ID.json`` gives the topic, its first posts and ``post_stream.stream`` (every post id
in order); the posts not loaded come from ``/t/ID/posts.json?post_ids[]=...`` in batches of the
topic's ``chunk_size`` (20), as Discourse's own client asks for them. The batches are cut from the
stream in order, so a topic that gains posts keeps the URLs of its earlier batches (a forum that
answers them 304 is not read again) and only the last and new batches are read.

Source ids are post numbers (``post_number``, what the topic's permalinks ``/t/slug/ID/N`` and
``reply_to_post_number`` name): a reply keeps its parent's number even when that post is gone.
A reply to the first post (the thread) has no parent. A post's depth is its parent's plus one,
read along the reply chain: each batch's callback is handed the depths of the posts read before
it (the batches are asked for one after another, in stream order); a parent not read (deleted,
moved, or on a batch that failed) counts as a top-level post. Gaps in the post numbers are
deleted posts: nothing stands in for them. Small-action posts (``post_type`` 3: "closed",
"pinned", ...) are no comments. A closed or archived topic is a closed thread.

``topic_list`` reads a forum's listings (``/latest.json``, ``/c/slug/ID.json``) for discovery.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from archiver.adapters.base import PageFacts, ParsedComment, ParsedPage, ParsedThread
from archiver.adapters.contract import JSON, Found, Request, Response
from archiver.adapters.render import html_to_text
from archiver.errors import ParseError, UnsupportedSite

PLATFORM = "discourse"
# a topic on any host (Discourse is self-hosted), the forum maybe below a folder:
# /t/slug/ID, /t/ID, /t/slug/ID/N (a post of it), and their .json
_TOPIC_PATH = re.compile(
    r"^(?P<base>.*?)/t/(?:(?P<slug>[^/]*[^/\d][^/]*)/)?(?P<id>\d+)(?:/(?P<post>\d+))?"
    r"(?:\.json)?/?$"
)
URL_PATTERNS = (
    re.compile(r"^https?://[^/?#]+(?:/[^?#]*)?/t/(?:[^/?#]+/)?\d+(?:/\d+)?(?:\.json)?/?"
               r"(?:[?#].*)?$", re.IGNORECASE),
)
EXAMPLES = (
    "https://meta.discourse.org/t/what-is-discourse/12345",
    "https://forum.example.org/t/some-topic/2108/452",
    "https://forum.example.org/t/26",
    "https://example.com/community/t/a-topic/77.json",
)
SMALL_ACTION = 3  # post_type of "closed", "pinned", "visible" and other small-action notices
DEFAULT_CHUNK = 20  # posts per request, as Discourse's client asks for them
# <meta name="generator" content="Discourse 3.2.0 - https://github.com/discourse/discourse ...">
# (either attribute first), or the setup element every Discourse page carries
_GENERATOR = re.compile(
    r"<meta\s[^>]*(?:name=[\"']generator[\"'][^>]*content=[\"']discourse"
    r"|content=[\"']discourse[^>]*name=[\"']generator[\"'])|id=[\"']data-discourse-setup[\"']",
    re.IGNORECASE,
)


def matches(html: str, url: str = "") -> bool:
    """Whether the page is a Discourse forum's (its generator meta names Discourse)."""
    return _GENERATOR.search(html[:65536]) is not None


@dataclass(frozen=True, slots=True)
class TopicPath:
    """A topic URL read apart: the forum's base URL, the topic's slug (maybe empty) and id."""

    base: str
    slug: str
    topic_id: int

    @property
    def json_url(self) -> str:
        slug = f"{self.slug}/" if self.slug else ""
        return f"{self.base}/t/{slug}{self.topic_id}.json"


def topic_path(url: str) -> TopicPath | None:
    """The topic a URL names (any post of it, its JSON), or None when it names no topic."""
    parts = urlsplit(url)
    found = _TOPIC_PATH.match(parts.path)
    if found is None:
        return None
    base = f"{parts.scheme}://{parts.netloc}{found['base']}"
    return TopicPath(base=base, slug=found["slug"] or "", topic_id=int(found["id"]))


def start(url: str) -> Request:
    """The first request: the topic's JSON from its first post, whatever post the URL names."""
    path = topic_path(url)
    if path is None:
        raise UnsupportedSite(f"{url} is not a Discourse topic URL (/t/slug/ID or /t/ID)")
    return Request(path.json_url, then=read_topic, accept=JSON)


@dataclass(frozen=True, slots=True)
class Topic:
    """What every answer of one topic is read with: from the topic's JSON."""

    base: str  # the forum's base URL (no trailing slash)
    topic_id: int
    slug: str
    title: str
    closed: bool
    batches: tuple[tuple[int, ...], ...]  # the post ids not loaded with the topic, in requests

    @property
    def url(self) -> str:
        return f"{self.base}/t/{self.slug}/{self.topic_id}" if self.slug else (
            f"{self.base}/t/{self.topic_id}")

    def batch_url(self, ids: Sequence[int]) -> str:
        query = "&".join(f"post_ids[]={post_id}" for post_id in ids)
        return f"{self.base}/t/{self.topic_id}/posts.json?{query}"


def _posts(data: Any) -> list[dict[str, Any]]:  # noqa: ANN401 - JSON of any shape
    """The answer's posts in post-number order (a posts.json answer may list them backwards)."""
    try:
        posts = data["post_stream"]["posts"]
    except (KeyError, TypeError) as exc:
        raise ParseError(f"no post_stream.posts in the answer ({exc!r})") from exc
    if not isinstance(posts, list):
        raise ParseError("post_stream.posts is not a list")
    for post in posts:
        if not isinstance(post, dict) or not isinstance(post.get("post_number"), int):
            raise ParseError(f"a post without a post_number: {str(post)[:80]}")
    return sorted(posts, key=lambda post: post["post_number"])


def _topic(data: Any, url: str, loaded: set[int]) -> Topic:  # noqa: ANN401 - JSON
    path = topic_path(url)
    if path is None or not isinstance(data, dict) or not isinstance(data.get("id"), int):
        raise ParseError(f"{url}: not a Discourse topic answer")
    stream = data["post_stream"].get("stream") or []
    if not isinstance(stream, list) or not all(isinstance(post_id, int) for post_id in stream):
        raise ParseError(f"{url}: post_stream.stream holds something other than post ids")
    chunk = data.get("chunk_size")
    size = chunk if isinstance(chunk, int) and chunk > 0 else DEFAULT_CHUNK
    remaining = [post_id for post_id in stream if post_id not in loaded]
    return Topic(
        base=path.base, topic_id=data["id"], slug=str(data.get("slug") or path.slug),
        title=str(data.get("title") or ""),
        closed=bool(data.get("closed")) or bool(data.get("archived")),
        batches=tuple(tuple(remaining[i:i + size]) for i in range(0, len(remaining), size)),
    )


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):  # no ISO date, or one at the edge of time
        return None


def _thread(topic: Topic, post: dict[str, Any]) -> ParsedThread:
    cooked = str(post.get("cooked") or "")
    created = str(post.get("created_at") or "")
    return ParsedThread(
        url=topic.url, title=topic.title, body_html=cooked, body_text=html_to_text(cooked),
        site_url=topic.base + "/", author=str(post.get("username") or ""),
        published_text=created, published_at=_when(created), permalink=topic.url,
    )


def _comments(
    topic: Topic, posts: list[dict[str, Any]], depths: dict[int, int]
) -> Iterator[ParsedComment]:
    """The answer's posts after the first, small actions left out; depths (post number ->
    depth, the posts read before) gains each post's."""
    for post in posts:
        number = post["post_number"]
        if number == 1 or post.get("post_type") == SMALL_ACTION:
            continue
        parent = post.get("reply_to_post_number")
        if isinstance(parent, int) and parent > 1:
            depth = depths.get(parent, 0) + 1
            parent_id: str | None = str(parent)
        else:
            depth, parent_id = 0, None
        depths[number] = depth
        username = str(post.get("username") or "")
        cooked = str(post.get("cooked") or "")
        created = str(post.get("created_at") or "")
        yield ParsedComment(
            source_id=str(number), body_html=cooked, body_text=html_to_text(cooked),
            author_name=username,
            author_url=f"{topic.base}/u/{username}" if username else None,
            published_text=created, published_at=_when(created), number=number,
            permalink=f"{topic.url}/{number}", parent_source_id=parent_id, depth=depth,
        )


def _first_post(posts: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((post for post in posts if post["post_number"] == 1), None)


def read_topic(response: Response) -> Iterator[Found]:
    """The callback for the topic's JSON: the thread (its first post), the posts loaded with it,
    the topic's facts and the first batch of the posts not loaded."""
    data = response.json()
    posts = _posts(data)
    first = _first_post(posts)
    if first is None:  # a view from a later post (/t/ID/N.json): read every post by batches
        posts = []
    topic = _topic(data, response.url,
                   {post["id"] for post in posts if isinstance(post.get("id"), int)})
    depths: dict[int, int] = {}
    if first is not None:
        yield _thread(topic, first)
        yield from _comments(topic, posts, depths)
    yield PageFacts(number=1, comments_closed=topic.closed)
    if topic.batches:
        yield _batch_request(topic, 0, depths)


def parse_page(text: str, url: str) -> ParsedPage:
    """Read one topic answer (its JSON text, url the JSON's): the thread, the posts loaded with
    it and the first batch's URL. ParseError when it is no topic JSON or lacks the first post."""
    try:
        found = list(read_topic(Response(url=url, status=200, headers=(), content=b"",
                                         text=text)))
    except ValueError as exc:  # json's JSONDecodeError
        raise ParseError(f"{url}: not a JSON answer ({exc})") from exc
    thread = next((item for item in found if isinstance(item, ParsedThread)), None)
    if thread is None:
        raise ParseError(f"{url}: the topic answer does not hold its first post")
    facts = next(item for item in found if isinstance(item, PageFacts))
    follow = [item.url for item in found if isinstance(item, Request)]
    return ParsedPage(thread=thread, comments=[c for c in found if isinstance(c, ParsedComment)],
                      comments_closed=facts.comments_closed,
                      next_page_url=follow[0] if follow else None, page_number=facts.number)


def _batch_request(topic: Topic, index: int, depths: Mapping[int, int]) -> Request:
    return Request(topic.batch_url(topic.batches[index]), accept=JSON,
                   then=partial(read_batch, topic, index, dict(depths)))


_POST_ID = re.compile(r"post_ids(?:\[\]|%5B%5D)=(\d+)", re.IGNORECASE)


def read_batch(
    topic: Topic, index: int, depths: Mapping[int, int], response: Response
) -> Iterator[Found]:
    """The callback for one batch of posts (bound to its topic, its place among the batches and
    the depths of the posts read before it): its posts, and the next batch."""
    asked = tuple(int(post_id) for post_id in _POST_ID.findall(response.url))
    if asked in topic.batches:  # reached by another way (past a failed batch): where it stands
        index = topic.batches.index(asked)
    posts = _posts(response.json())
    known = dict(depths)
    first = _first_post(posts)
    if first is not None:
        yield _thread(topic, first)
    yield from _comments(topic, posts, known)
    yield PageFacts(number=index + 2, comments_closed=topic.closed)
    if index + 1 < len(topic.batches):
        yield _batch_request(topic, index + 1, known)


# -- listings (discovery): /latest.json, /c/slug/ID.json, /top.json ... -------------------------

_LISTING = re.compile(r"^(?P<base>.*?)/(?:latest|top|new|hot|c|tag|tags|categories)(?:[/.?]|$)")


@dataclass(frozen=True, slots=True)
class ListedTopic:
    """A topic a listing names: its URL, title and when it was created (None: unreadable)."""

    url: str
    title: str
    created_at: datetime | None


def topic_list(data: Any, url: str) -> tuple[list[ListedTopic], str | None]:  # noqa: ANN401
    """The topics of a listing answer (``/latest.json``, ``/c/slug/ID.json``...) in its order,
    and the JSON URL of its next page (its ``more_topics_url`` with ``.json``), if any."""
    try:
        listing = data["topic_list"]
        topics = listing["topics"]
    except (KeyError, TypeError) as exc:
        raise ParseError(f"{url}: no topic_list.topics in the answer ({exc!r})") from exc
    if not isinstance(topics, list):
        raise ParseError(f"{url}: topic_list.topics is not a list")
    parts = urlsplit(url)
    found = _LISTING.match(parts.path)
    base = f"{parts.scheme}://{parts.netloc}{found['base'] if found else ''}"
    listed = [
        ListedTopic(f"{base}/t/{topic.get('slug') or 'topic'}/{topic['id']}",
                    str(topic.get("title") or ""), _when(str(topic.get("created_at") or "")))
        for topic in topics if isinstance(topic, dict) and isinstance(topic.get("id"), int)
    ]
    more = listing.get("more_topics_url")
    if not isinstance(more, str) or not more:
        return listed, None
    path, _, query = more.partition("?")
    if not path.endswith(".json"):
        path += ".json"
    absolute = path if "://" in path else f"{parts.scheme}://{parts.netloc}{path}"
    return listed, absolute + (f"?{query}" if query else "")
