"""XenForo 1 and 2: read a thread's pages into the post (the thread's first post) and its
comments (every later post), whichever page of it is asked for.

Pages are ``/threads/slug.ID/`` and ``/threads/slug.ID/page-N``. Whatever page is given, the
thread is read from page 1, which shows the post and leads to pages 2 to the last the pager
names (so a pager that shows "1 2 3 … 9" still leads to page 6).
XenForo 2: ``article.message--post[data-content=post-ID]``, ``data-author``, the date in the
attribution's ``time[datetime]``, the "#N" link or label beside it, the body ``.bbWrapper``.
XenForo 1: ``li.message#post-ID[data-author]``, the date an ``abbr.DateTime[data-time]`` (or a
``span.DateTime[title]`` for older posts), the number ``a.postNumber``, the body
``blockquote.messageText``. A thread not open for replies (XF2's ``blockStatus-message--locked``,
XF1's ``lockedAlert``) has its comments closed. Quotes stay quotes in the body.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.adapters.base import PageFacts, ParsedComment, ParsedPage, ParsedThread
from archiver.adapters.contract import Found, Request, Response
from archiver.adapters.dates import parse_date
from archiver.adapters.depth import parse_html
from archiver.adapters.forum import (
    MAX_DIGITS,
    body_of,
    link_base,
    meta,
    page_requests,
    resolve,
    text_of,
)
from archiver.errors import ParseError

PLATFORM = "xenforo"
# /threads/slug.ID/ (or /threads/ID/), at the root or below a folder (/forums/, /community/)
URL_PATTERNS = (
    re.compile(r"^https?://[^/?#]+/(?:[^?#]*/)?threads/(?:[^/?#]*\.)?\d+/?"
               r"(?:page-\d+/?)?(?:[?#].*)?$", re.IGNORECASE),
)
EXAMPLES = (
    "https://www.katzen-forum.net/threads/jede-nacht-verliert-pepe-soviel-dreck-aus-dem-fell.230143/",
    "https://villagersandheroes.com/forums/threads/patchnotes-4-47-4.3976/page-2",
    "https://xenforo.com/community/threads/12345/",
)

_THREAD_PATH = re.compile(r"^(?P<thread>(?P<base>.*?/)threads/(?:[^/]*\.)?(?P<id>\d+))"
                          r"(?:/(?:page-(?P<page>\d+))?)?/?$", re.IGNORECASE)
_HASH_NUMBER = re.compile(r"^#\s*(\d{1,9})$")
_POST_ID = re.compile(r"^(?:js-)?post-(\d+)$")


@dataclass(slots=True)
class ThreadPage(ParsedPage):
    """One page of a thread as read: the generic page (its comments: every post but the
    thread's first) and its posts in page order, with where it leads."""

    posts: list[ParsedComment] = field(default_factory=list)
    page_urls: list[str] = field(default_factory=list)  # page 1 first, then 2..last


def matches(html: str, url: str = "") -> bool:
    """Whether the page is a XenForo thread page (XF2's html#XF, XF1's html#XenForo)."""
    head = html[:4096]
    if 'id="XF"' not in head and 'id="XenForo"' not in head:
        return False
    tree = parse_html(html)
    return tree.css_first(
        'article.message--post[data-content], li.message[id^="post-"]') is not None


def _split(url: str) -> tuple[str, str, int] | None:
    """(the thread's URL with a closing slash, the forum's base URL, the page) of a thread
    page's URL, or None for another URL."""
    parts = urlsplit(url)
    found = _THREAD_PATH.match(parts.path)
    if found is None:
        return None
    page = int(found["page"]) if found["page"] and len(found["page"]) <= MAX_DIGITS else 1
    root = f"{parts.scheme}://{parts.netloc}"
    return root + found["thread"] + "/", root + found["base"], page


def _page_url(thread_url: str, page: int) -> str:
    return thread_url if page <= 1 else f"{thread_url}page-{page}"


def _canonical(tree: LexborHTMLParser, url: str) -> tuple[str, str, int]:
    """The thread's URL, the forum's base and this page's number: the page's own URL says the
    page; the canonical link (or og:url) names the thread when it is a thread URL."""
    here = _split(url)
    for selector, attr in (('link[rel="canonical"]', "href"), ('meta[property="og:url"]',
                                                               "content")):
        node = tree.css_first(selector)
        named = _split(resolve(url, node.attributes.get(attr)) or "") if node is not None else None
        if named is not None:
            page = here[2] if here is not None else named[2]
            return named[0], named[1], page
    if here is not None:
        return here
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), \
        f"{parts.scheme}://{parts.netloc}/", 1


def _last_page(tree: LexborHTMLParser, url: str, thread_url: str) -> int:
    """The highest page of this thread the pager links to (XF1's PageNav also says data-last)."""
    last = 1
    node = tree.css_first(".PageNav[data-last]")
    value = (node.attributes.get("data-last") or "") if node is not None else ""
    if value.isdecimal() and len(value) <= MAX_DIGITS:
        last = int(value)
    thread_path = urlsplit(thread_url).path
    for link in tree.css('a[href*="page-"]'):
        target = _split(resolve(url, link.attributes.get("href")) or "")
        if target is not None and urlsplit(target[0]).path == thread_path:
            last = max(last, target[2])
    return last


def _unix(value: str | None) -> datetime | None:
    value = (value or "").strip()
    if not value.isdecimal() or len(value) > 12:
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


def _iso(value: str | None) -> datetime | None:
    try:
        stamp = datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).astimezone(UTC)


def _hash_number(nodes: list[LexborNode]) -> int | None:
    for node in nodes:
        found = _HASH_NUMBER.match(text_of(node))
        if found:
            return int(found[1])
    return None


def _author_url(scope: LexborNode, url: str) -> str | None:
    link = scope.css_first(
        ".message-name a.username, .messageUserInfo a.username, .userText a.username")
    return resolve(url, link.attributes.get("href")) if link is not None else None


def _xf2_posts(tree: LexborHTMLParser, url: str) -> list[ParsedComment]:
    posts = []
    for node in tree.css("article.message--post[data-content]"):
        content = node.attributes.get("data-content") or ""
        found = _POST_ID.match(content)
        if found is None:
            continue
        stamp = node.css_first(".message-attribution time[datetime]") or node.css_first(
            "time[datetime]")
        shown = text_of(stamp)
        published = (_iso(stamp.attributes.get("datetime")) or _unix(
            stamp.attributes.get("data-time"))) if stamp is not None else None
        opposite = node.css_first(".message-attribution-opposite")
        number = _hash_number(opposite.css("a, span")) if opposite is not None else None
        body_html, body_text = body_of(node.css_first(".message-body .bbWrapper")
                                       or node.css_first(".bbWrapper"))
        posts.append(ParsedComment(
            source_id=found[1], body_html=body_html, body_text=body_text,
            author_name=(node.attributes.get("data-author") or "").strip(),
            author_url=_author_url(node, url), published_text=shown,
            published_at=published or (parse_date(shown) if shown else None), number=number,
        ))
    return posts


def _xf1_posts(tree: LexborHTMLParser, url: str) -> list[ParsedComment]:
    posts = []
    for node in tree.css('li.message[id^="post-"]'):
        found = _POST_ID.match(node.attributes.get("id") or "")
        body = node.css_first("blockquote.messageText")
        if found is None or body is None:  # a deleted post's placeholder shows no message
            continue
        marker = body.css_first(".messageTextEndMarker")  # an empty block closing the text
        if marker is not None:
            marker.decompose()
        meta_node = node.css_first(".messageMeta") or node
        stamp = meta_node.css_first(".DateTime")
        shown = text_of(stamp)
        published = None
        if stamp is not None:
            published = _unix(stamp.attributes.get("data-time")) or parse_date(
                stamp.attributes.get("title") or shown)
        body_html, body_text = body_of(body)
        posts.append(ParsedComment(
            source_id=found[1], body_html=body_html, body_text=body_text,
            author_name=(node.attributes.get("data-author") or "").strip(),
            author_url=_author_url(node, url), published_text=shown, published_at=published,
            number=_hash_number(meta_node.css("a.postNumber, a.hashPermalink")),
        ))
    return posts


def _title(tree: LexborHTMLParser) -> str:
    for selector in ("h1.p-title-value", ".titleBar h1"):
        text = text_of(tree.css_first(selector))
        if text:
            return text
    return meta(tree, 'meta[property="og:title"]') or text_of(tree.css_first("title"))


def _site_name(tree: LexborHTMLParser) -> str:
    return meta(tree, 'meta[property="og:site_name"]') or text_of(
        tree.css_first(".boardTitle strong"))


def parse_page(html: str, url: str) -> ThreadPage:
    """Read one page of a XenForo thread."""
    tree = parse_html(html)
    links = link_base(tree, url)
    posts = _xf2_posts(tree, links) or _xf1_posts(tree, links)
    if not posts:
        raise ParseError(f"{url}: no XenForo posts found (article.message--post, li.message)")
    thread_url, base, page = _canonical(tree, url)
    if page == 1:  # numbers the style does not show: the position in the thread
        for place, post in enumerate(posts, 1):
            post.number = post.number if post.number is not None else place
    last = _last_page(tree, links, thread_url)
    first = posts[0] if page == 1 else None
    for post in posts:
        post.permalink = f"{thread_url}post-{post.source_id}"
    thread = ParsedThread(
        url=thread_url, title=_title(tree), site_name=_site_name(tree), site_url=base,
        body_html=first.body_html if first else "", body_text=first.body_text if first else "",
        author=first.author_name if first else "",
        published_text=first.published_text if first else "",
        published_at=first.published_at if first else None,
        permalink=first.permalink if first else None,
    )
    closed = tree.css_first(".blockStatus-message--locked, dd.lockedAlert") is not None
    urls = [_page_url(thread_url, n) for n in range(1, max(last, page) + 1)]
    return ThreadPage(thread=thread, comments=posts[1:] if page == 1 else posts,
                      comments_closed=closed, page_number=page,
                      next_page_url=urls[page] if page < len(urls) else None,
                      posts=posts, page_urls=urls)


def start(url: str) -> Request:
    """The first request: the thread's page 1 when the URL names the thread, else the URL."""
    named = _split(url)
    if named is not None:
        return Request(named[0], then=read_first)
    return Request(url.split("#", 1)[0], then=read_first)


def read_first(response: Response) -> Iterator[Found]:
    """The first answer: page 1 shows the post and leads to every other page; any other page
    (a post's permalink redirects to its page) leads to page 1."""
    page = parse_page(response.text, response.url)
    if page.page_number != 1:
        yield Request(page.page_urls[0], then=read_first)
        return
    yield from _found(page)
    yield from page_requests(page.page_urls, page.page_urls[0], read_page)


def read_page(response: Response) -> Iterator[Found]:
    """Any later page: its posts, all comments (page 1's first post aside), and its facts."""
    yield from _found(parse_page(response.text, response.url))


def _found(page: ThreadPage) -> Iterator[Found]:
    if page.page_number == 1:
        yield page.thread
    yield from page.comments
    yield PageFacts(number=page.page_number, comments_closed=page.comments_closed)
