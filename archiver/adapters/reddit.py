"""Reddit: a post and its whole comment tree through the OAuth API (oauth.reddit.com).

``/comments/ID`` gives the post and the first part of the tree (``data.replies`` listings); what
Reddit collapsed is in ``kind: "more"`` objects: their ids are asked of ``/api/morechildren`` in
batches (a flat list of things, nested by ``parent_id``, possibly with further "more" objects),
and a "continue this thread" stub (a "more" with no ids) is read as ``/comments/ID/_/PARENT``,
the subtree under that comment. Depth comes from the tree (the parent's plus one), so answers
of the older schema (no ``depth`` field) read the same. The adapter does no I/O: the bearer
token is put on the requests by the fetcher (archiver.fetch.oauth), from the config's [reddit].
Comments arrive out of display order (collapsed branches later): ``TREE_ORDER`` tells the
exports to show them as the tree, siblings in the order read.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import quote, urlsplit

from archiver.adapters.base import PageFacts, ParsedComment, ParsedPage, ParsedThread
from archiver.adapters.contract import JSON, Found, Request, Response
from archiver.adapters.render import html_to_text
from archiver.errors import ParseError, UnsupportedSite

PLATFORM = "reddit"
API = "https://oauth.reddit.com"
SITE = "https://www.reddit.com"
URL_PATTERNS = (
    re.compile(r"^https?://(?:(?:www|old|new|np|m|oauth)\.)?reddit\.com/(?:r/[^/?#]+/)?"
               r"comments/[a-z0-9]+(?:/[^?#]*)?(?:[?#].*)?$", re.IGNORECASE),
    re.compile(r"^https?://(?:www\.)?redd\.it/[a-z0-9]+/?(?:[?#].*)?$", re.IGNORECASE),
)
EXAMPLES = (
    "https://www.reddit.com/r/funny/comments/3hahrw/ba_dum_tsss/",
    "https://old.reddit.com/r/AskReddit/comments/ablzuq/people_who_havent_pooped_in_2019/",
    "https://redd.it/3hahrw",
)
# the exports show this platform's comments as their reply tree (siblings in the order read)
TREE_ORDER = True
# the API's answers name the thread's page on www.reddit.com: a canonical URL on another host
CANONICAL_HOSTS = ("www.reddit.com",)

LIMIT = 500  # comments asked for with the tree (Reddit answers up to about 500)
DEPTH = 10  # levels asked for (Reddit's most); deeper ones come as "continue this thread"
BATCH = 100  # ids per /api/morechildren request (Reddit returns at most 100 things a call)
SORT = "confidence"  # Reddit's default order ("best"), the same for the tree and its branches
_ID = re.compile(r"/comments/([a-z0-9]+)", re.IGNORECASE)
_SHORT = re.compile(r"redd\.it/([a-z0-9]+)", re.IGNORECASE)


def matches(html_text: str, url: str) -> bool:
    """Reddit is recognised by its URLs only (its API answers JSON, no markup to sniff)."""
    return False


def post_id(url: str) -> str:
    """The post's id36 in a post URL (``/comments/ID/...`` or ``redd.it/ID``)."""
    found = _ID.search(urlsplit(url).path) or _SHORT.search(url)
    if found is None:
        raise UnsupportedSite(f"{url} is not a Reddit post URL (/r/SUB/comments/ID/...)")
    return found.group(1).lower()


def tree_url(link: str) -> str:
    return f"{API}/comments/{link}?limit={LIMIT}&depth={DEPTH}&sort={SORT}&raw_json=1"


def subtree_url(link: str, comment: str) -> str:
    """"Continue this thread": the tree under one comment (the comment itself first)."""
    return f"{API}/comments/{link}/_/{comment}?limit={LIMIT}&depth={DEPTH}&sort={SORT}&raw_json=1"


def morechildren_url(link: str, ids: Iterable[str]) -> str:
    """The documented GET form of /api/morechildren for these comment ids (id36, no prefix)."""
    children = quote(",".join(ids), safe=",")
    return (f"{API}/api/morechildren?api_type=json&link_id=t3_{link}&children={children}"
            f"&limit_children=false&sort={SORT}&raw_json=1")


def parse_page(text: str, url: str) -> ParsedPage:
    """Read one tree answer (its JSON text; url the answer's): the post, the comments it holds,
    the first request for what it collapsed. ParseError when it is no such answer."""
    try:
        found = list(read_tree(post_id(url) if _ID.search(url) else "", None, Response(
            url=url, status=200, headers=(), content=b"", text=text)))
    except (ValueError, UnsupportedSite) as exc:  # json's JSONDecodeError is a ValueError
        raise ParseError(f"{url}: not a Reddit tree answer ({exc})") from exc
    thread = next(item for item in found if isinstance(item, ParsedThread))
    facts = next(item for item in found if isinstance(item, PageFacts))
    follow = [item.url for item in found if isinstance(item, Request)]
    return ParsedPage(thread=thread, comments=[c for c in found if isinstance(c, ParsedComment)],
                      comments_closed=facts.comments_closed,
                      next_page_url=follow[0] if follow else None)


def start(url: str) -> Request:
    link = post_id(url)
    return Request(tree_url(link), then=partial(read_tree, link, None), accept=JSON)


# -- reading -------------------------------------------------------------------------------


def _when(value: Any) -> datetime | None:  # noqa: ANN401 - a JSON number, or anything
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, ValueError, OSError):  # no date a page could show
            return None
    return None


def _shown(when: datetime | None) -> str:
    """The date as written (Reddit's pages show the exact time in the title of the age)."""
    return when.strftime("%Y-%m-%d %H:%M:%S UTC") if when else ""


def _html(value: Any) -> str:  # noqa: ANN401
    """A *_html field: raw with raw_json=1, HTML-escaped without it."""
    text = value if isinstance(value, str) else ""
    return html.unescape(text) if text.startswith("&lt;") else text


def _author(name: Any) -> tuple[str, str | None]:  # noqa: ANN401
    name = name if isinstance(name, str) and name else "[deleted]"
    return name, None if name == "[deleted]" else f"{SITE}/user/{name}"


def _field(value: Any, key: str) -> Any:  # noqa: ANN401 - JSON of any shape
    return value.get(key) if isinstance(value, dict) else None


def _listing(value: Any) -> list[Any]:  # noqa: ANN401
    """The children of a Listing (``replies`` is "" when there are none)."""
    if isinstance(value, dict) and isinstance(value.get("data"), dict):
        children = value["data"].get("children")
        return children if isinstance(children, list) else []
    return []


def _thread(data: dict[str, Any], url: str) -> ParsedThread:
    permalink = data.get("permalink")
    if not isinstance(permalink, str) or not data.get("id"):
        raise ParseError(f"{url}: the answer's post has no id or permalink")
    when = _when(data.get("created_utc"))
    body = _html(data.get("selftext_html"))
    if not body and isinstance(data.get("url"), str) and not data.get("is_self"):
        link = html.escape(data["url"], quote=True)
        body = f'<p><a href="{link}">{link}</a></p>'
    subreddit = str(data.get("subreddit") or "")
    author, _ = _author(data.get("author"))
    return ParsedThread(
        url=SITE + permalink, title=html.unescape(str(data.get("title") or "")),
        body_html=body, body_text=html_to_text(body) if body else "",
        site_name=f"r/{subreddit}" if subreddit else "Reddit",
        site_url=f"{SITE}/r/{subreddit}/" if subreddit else SITE + "/",
        author=author, published_text=_shown(when), published_at=when,
        permalink=SITE + permalink,
    )


def _closed(data: dict[str, Any]) -> bool:
    return bool(data.get("locked") or data.get("archived"))


def _comment(data: dict[str, Any], depth: int, link: str) -> ParsedComment:
    when = _when(data.get("created_utc"))
    body = _html(data.get("body_html"))
    name, url = _author(data.get("author"))
    parent = str(data.get("parent_id") or "")
    permalink = data.get("permalink")
    if not isinstance(permalink, str):  # the older schema has none
        permalink = f"/comments/{link}/_/{data['id']}/"
    return ParsedComment(
        source_id=str(data["id"]), body_html=body, body_text=html_to_text(body) if body else "",
        author_name=name, author_url=url, published_text=_shown(when), published_at=when,
        permalink=SITE + permalink,
        parent_source_id=parent[3:] if parent.startswith("t1_") else None,
        depth=depth,
    )


def _more(data: dict[str, Any], link: str, depth: int, closed: bool) -> Iterator[Request]:
    """The requests a "more" object stands for: its ids in batches, or the subtree under its
    parent for a "continue this thread" stub (no ids)."""
    listed = data.get("children")
    ids = [c for c in listed if isinstance(c, str) and c] if isinstance(listed, list) else []
    if ids:
        for at in range(0, len(ids), BATCH):
            yield Request(morechildren_url(link, ids[at:at + BATCH]),
                          then=partial(read_more, link, depth, closed), accept=JSON)
        return
    parent = str(data.get("parent_id") or "")
    if parent.startswith("t1_"):  # comments below this one are on its own page
        yield Request(subtree_url(link, parent[3:]),
                      then=partial(read_tree, link, depth - 1), accept=JSON)


def _walk(things: list[Any], depth: int, link: str, closed: bool) -> Iterator[Found]:
    """A tree of things, depth first in the order given: comments, then the requests for
    what is collapsed."""
    stack: list[tuple[Any, int]] = [(thing, depth) for thing in reversed(things)]
    while stack:
        thing, level = stack.pop()
        if not isinstance(thing, dict) or not isinstance(thing.get("data"), dict):
            continue
        data = thing["data"]
        if thing.get("kind") == "t1" and data.get("id"):
            yield _comment(data, level, link)
            replies = _listing(data.get("replies"))
            stack.extend((child, level + 1) for child in reversed(replies))
        elif thing.get("kind") == "more":
            yield from _more(data, link, level, closed)


def read_tree(link: str, root_depth: int | None, response: Response) -> Iterator[Found]:
    """``/comments/ID`` (root_depth None) or a subtree ``/comments/ID/_/C`` (root_depth: the
    depth of C, which is already read: only what is under it is yielded)."""
    answer = response.json()
    if not isinstance(answer, list) or len(answer) < 2:
        raise ParseError(f"{response.url}: not a [post, comments] pair of listings")
    posts = [t for t in _listing(answer[0]) if isinstance(t, dict) and t.get("kind") == "t3"]
    if not posts or not isinstance(posts[0].get("data"), dict):
        raise ParseError(f"{response.url}: the answer shows no post")
    post = posts[0]["data"]
    closed = _closed(post)
    yield _thread(post, response.url)
    things = _listing(answer[1])
    if root_depth is None:
        yield from _walk(things, 0, link, closed)
    else:
        for thing in things:  # the comment continued, then what is under it
            if isinstance(thing, dict) and isinstance(thing.get("data"), dict):
                replies = _listing(thing["data"].get("replies"))
                yield from _walk(replies, root_depth + 1, link, closed)
    yield PageFacts(comments_closed=closed)


def read_more(link: str, depth: int, closed: bool, response: Response) -> Iterator[Found]:
    """An /api/morechildren answer: a flat list of things in display order, each nested under
    its ``parent_id`` (one read before it here, or the comment the "more" object stood under,
    whose children are at depth)."""
    answer = _field(response.json(), "json")
    things = _field(_field(answer, "data"), "things")
    if not isinstance(things, list):
        errors = _field(answer, "errors")
        raise ParseError(f"{response.url}: no things in the answer ({errors or 'no data'})")
    depths: dict[str, int] = {}
    for thing in things:
        if not isinstance(thing, dict) or not isinstance(thing.get("data"), dict):
            continue
        data = thing["data"]
        parent = str(data.get("parent_id") or "")
        level = depths[parent] + 1 if parent in depths else depth
        if thing.get("kind") == "t1" and data.get("id"):
            depths[f"t1_{data['id']}"] = level
            yield _comment(data, level, link)
        elif thing.get("kind") == "more":
            yield from _more(data, link, level, closed)
    yield PageFacts(comments_closed=closed)  # the post's state, as the tree's answer said
