"""Blogger (blogspot.com and custom domains): read a post page, its comments and the post's
comment feed.

The adapter contract (archiver.adapters.contract): ``PLATFORM``, ``URL_PATTERNS``, ``EXAMPLES``,
``matches``, ``start``; ``read_page`` is the callback for a post page (``parse_page`` reads its
HTML alone), ``blogger_feed.FeedReader`` the one for a page of the comment feed.

The post page is always the first request, so its HTML is stored as a capture like every answer
whatever the feed does. When the page shows a comment section and names its post (the comment
feed's ``link rel=alternate``, ``post-body-ID``, ``data-post-id``), the comments come from the
feed ``/feeds/POSTID/comments/default?alt=json`` (complete: every comment past the ~200 the page
renders, parents of replies, exact times), requested as an optional request whose ``fallback``
is what the page itself shows. The HTML path reads the two comment templates: threaded
(``li.comment#cID``, replies in ``div.comment-replies``) and legacy (``dl#comments-block``,
``dt``/``dd`` pairs, paged by ``?commentPage=N`` links). Blogger's ``p.comment-footer`` holds the
comment form, never a comment. A threaded page that renders fewer comments than the post has (its
"Load more..." shown) cannot give the rest without the feed: its fallback asks the feed for them
once more, as a required request, so the read is complete only if they are had.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from urllib.parse import parse_qs, urldefrag, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.adapters.base import PageFacts, ParsedComment, ParsedPage, ParsedThread
from archiver.adapters.blogger_feed import FeedReader, feed_url
from archiver.adapters.contract import JSON, Found, Request, Response
from archiver.adapters.dates import parse_date
from archiver.adapters.depth import parse_html
from archiver.adapters.render import render_children
from archiver.errors import ParseError, UnsupportedSite

PLATFORM = "blogger"
# posts on blogspot, NAME.blogspot.TLD/YYYY/MM/post.html (custom domains: by markup, matches)
URL_PATTERNS = (
    re.compile(r"^https?://[a-z0-9-]+\.blogspot\.[a-z]{2,3}(?:\.[a-z]{2})?/\d{4}/\d{2}/"
               r"[^/?#]+\.html(?:[?#].*)?$", re.IGNORECASE),
)
EXAMPLES = (
    "https://abookshelffullofsunshine.blogspot.com/2013/10/news-viertes-eigenes-blog-interview.html",
    "http://flesler.blogspot.co.uk/2007/10/jqueryscrollto.html?showComment=1193166060000",
    "https://bumsbutzener-gumpfen.blogspot.com/2020/04/tach-auch.html?m=1",
)

_GENERATOR = re.compile(
    r"<meta\b[^>]*(?:name=[\"']generator[\"'][^>]*content=[\"']blogger[\"']"
    r"|content=[\"']blogger[\"'][^>]*name=[\"']generator[\"'])", re.IGNORECASE)
# what a Blogger template leaves in a page besides its generator tag; two of them make it one
_MARKERS = ("www.blogger.com/static/v1/", "_widgetmanager._init", "google.com/2005/gml/b",
            "blogger.com/feeds/", "blogger.com/comment", "blogblog.com/")
_POST_ID = re.compile(r"(\d{5,})")
_COMMENT_FEED = re.compile(r"/feeds/(\d+)/comments/default")
_LEADING_COUNT = re.compile(r"^\s*(\d[\d.,\s]*)")
_SHOW_COMMENT = re.compile(r"[?&]showComment=(\d{1,15})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_WEEKDAY = re.compile(r"^[^\W\d_]+day,\s*", re.IGNORECASE)
_MAX_DIGITS = 9


def _text(node: LexborNode | None) -> str:
    return " ".join(node.text(deep=True).split()) if node is not None else ""


def matches(html: str, url: str = "") -> bool:
    """Whether the page is a Blogger page: its generator tag, else two of Blogger's own traces
    (its static widget CSS, the widget manager, the b: template namespace, blogger.com feeds
    or comment links, blogblog.com images)."""
    head = html[:65536]
    if _GENERATOR.search(head):
        return True
    low = html.lower()
    return sum(marker in low for marker in _MARKERS) >= 2


def start(url: str) -> Request:
    """The first request: the post page (stored as a capture; it leads to the feed)."""
    return Request(url, then=read_page)


def _resolve(base: str, href: str) -> str | None:
    """href made absolute against base (an absolute one as it is), or None when it is no URL
    urllib can read."""
    if href.startswith(("http://", "https://")) and "\\" not in href:
        return href
    try:
        joined = urljoin(base, href)
        urlsplit(joined)
    except ValueError:
        return None
    return joined


def _canonical(tree: LexborHTMLParser, url: str) -> str:
    for selector, attr in (('link[rel="canonical"]', "href"), ('meta[property="og:url"]',
                                                               "content")):
        node = tree.css_first(selector)
        href = node.attributes.get(attr) if node is not None else None
        target = _resolve(url, href) if href else None
        if target:
            return urldefrag(target)[0]
    return urldefrag(url)[0]


def _site_name(tree: LexborHTMLParser) -> str:
    """The blog's name: its header's title, the header image's alt text, the title of its Atom
    feed link ("NAME - Atom"), or og:site_name."""
    for selector in ("#Header1 h1", ".Header h1", "#header h1", ".titlewrapper .title"):
        name = _text(tree.css_first(selector))
        if name:
            return name
    image = tree.css_first("#Header1 img, .Header img")
    alt = (image.attributes.get("alt") or "").strip() if image is not None else ""
    if alt:
        return alt
    for link in tree.css('link[rel="alternate"][type="application/atom+xml"]'):
        title, href = link.attributes.get("title") or "", link.attributes.get("href") or ""
        if title and "/feeds/posts/" in href:
            return title.removesuffix(" - Atom").strip()
    site = tree.css_first('meta[property="og:site_name"]')
    return (site.attributes.get("content") or "").strip() if site is not None else ""


def _site_url(thread_url: str) -> str:
    """A Blogger blog lives at the root of its host."""
    parts = urlsplit(thread_url)
    return f"{parts.scheme}://{parts.netloc}/"


def _published(scope: LexborNode, tree: LexborHTMLParser) -> tuple[str, datetime | None]:
    """The post's date as shown (its date header and timestamp) and, when the page states one,
    the exact time (``abbr.published[title]``, ``time[datetime]``, itemprop datePublished)."""
    stamp = _text(scope.css_first(".post-timestamp"))
    header = _text(tree.css_first("h2.date-header") or scope.css_first(".date-header")
                   or tree.css_first(".date-header"))
    shown = f"{header} {stamp}".strip() if header and stamp and header not in stamp else (
        stamp or header)
    exact: datetime | None = None
    for node, attr in ((scope.css_first("abbr.published"), "title"),
                       (scope.css_first("time.published, .post-timestamp time"), "datetime"),
                       (tree.css_first('[itemprop="datePublished"]'), "content")):
        value = node.attributes.get(attr) if node is not None else None
        if value:
            try:
                when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            exact = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
            break
    if exact is None and shown:  # "Thursday, May 30, 2019": the day, read as UTC midnight
        exact = parse_date(_WEEKDAY.sub("", shown.removeprefix("on ").removeprefix("at ")))
    return shown, exact


def _author(scope: LexborNode) -> str:
    node = scope.css_first(".post-author .fn") or scope.css_first(".post-author")
    name = _text(node)
    return re.sub(r"^(?:Posted by|Publicado por|Eingestellt von|Publié par)\s*", "", name,
                  flags=re.IGNORECASE)


def _parse_thread(tree: LexborHTMLParser, url: str) -> ParsedThread:
    bodies = tree.css(".post-body")
    if len(bodies) > 1:  # the blog's front page or an archive: a list of posts, no thread
        raise UnsupportedSite(
            f"{url} is a list of {len(bodies)} posts (a blog's front or archive page), not a"
            " thread: archive one post's URL, or let `archiver run` find the posts")
    if not bodies:
        raise ParseError(f"{url}: no Blogger post found (no .post-body)")
    body = bodies[0]
    scope = body.parent
    while scope is not None and not ({"post", "hentry", "post-outer"}
                                     & set((scope.attributes.get("class") or "").split())):
        scope = scope.parent
    scope = scope or tree.body or body
    title = _text(scope.css_first(".post-title")) or _text(tree.css_first("h1.post-title"))
    if not title:
        og = tree.css_first('meta[property="og:title"]')
        title = (og.attributes.get("content") or "").strip() if og is not None else ""
    canonical = _canonical(tree, url)
    shown, exact = _published(scope, tree)
    return ParsedThread(
        url=canonical, title=title, body_html=body.inner_html or "",
        body_text=render_children(body), site_name=_site_name(tree),
        site_url=_site_url(canonical), author=_author(scope), published_text=shown,
        published_at=exact, permalink=canonical,
    )


def _comment_time(permalink: str | None, shown: str) -> datetime | None:
    """A comment's time: exact from its permalink's ``showComment=EPOCH_MS``, else the shown
    text read as UTC (the page does not state the blog's zone)."""
    found = _SHOW_COMMENT.search(permalink or "")
    if found is not None:
        return _EPOCH + timedelta(milliseconds=int(found[1]))
    return parse_date(shown) if shown else None


def _comment_body(node: LexborNode | None) -> tuple[str, str]:
    return ((node.inner_html or "", render_children(node)) if node is not None else ("", ""))


def _threaded(root: LexborNode, url: str) -> list[ParsedComment]:
    """``li.comment#cID`` in page order; a reply's parent is the comment whose
    ``div.comment-replies`` holds it."""
    found: list[ParsedComment] = []
    depths: dict[str, int] = {}
    for node in root.css("li.comment"):
        ident = node.attributes.get("id") or ""
        if not ident.startswith("c") or not ident[1:].isdecimal():
            continue
        parent_id, depth = None, 0
        up = node.parent  # up to the comment whose replies hold it, or the list's root
        while up is not None and up is not root:
            if up.tag == "li" and "comment" in (up.attributes.get("class") or "").split():
                parent_id = (up.attributes.get("id") or "")[1:] or None
                depth = depths.get(parent_id or "", 0) + 1
                break
            up = up.parent
        depths[ident[1:]] = depth
        cite = node.css_first("cite")
        link = cite.css_first("a") if cite is not None else None
        stamp = node.css_first(".datetime a")
        href = stamp.attributes.get("href") if stamp is not None else None
        permalink = _resolve(url, href) if href else None
        shown = _text(stamp)
        body_html, body_text = _comment_body(node.css_first(".comment-content"))
        found.append(ParsedComment(
            source_id=ident[1:], body_html=body_html, body_text=body_text,
            author_name=_text(cite), author_url=link.attributes.get("href") if link else None,
            published_text=shown, published_at=_comment_time(permalink, shown),
            permalink=permalink, parent_source_id=parent_id, depth=depth))
    return found


def _legacy_author(dt: LexborNode) -> tuple[str, str | None]:
    """A legacy ``dt.comment-author``: the author's link, or the first line of its own text
    (the line after it is the localised "said...")."""
    for link in dt.css("a[href]"):
        up, in_avatar = link.parent, False
        while up is not None and up is not dt:
            in_avatar = in_avatar or "avatar-image-container" in (up.attributes.get("class") or "")
            up = up.parent
        if not in_avatar:
            return _text(link), link.attributes.get("href")
    child = dt.child
    while child is not None:
        if child.tag == "-text":
            for line in (child.text_content or "").splitlines():
                if line.strip():
                    return " ".join(line.split()), None
        child = child.next
    return "", None


def _legacy(block: LexborNode, url: str) -> list[ParsedComment]:
    """``dl#comments-block``: each ``dt.comment-author#cID`` with the ``dd.comment-body`` and
    ``dd.comment-footer`` after it."""
    found: list[ParsedComment] = []
    current: ParsedComment | None = None
    child = block.child
    while child is not None:
        classes = (child.attributes.get("class") or "").split() if child.tag != "-text" else []
        if child.tag == "dt" and "comment-author" in classes:
            ident = (child.attributes.get("id") or "").removeprefix("c")
            if not ident:
                anchor = child.css_first("a[name]")
                ident = (anchor.attributes.get("name") or "").removeprefix("c") if anchor else ""
            name, link = _legacy_author(child)
            current = ParsedComment(source_id=ident, body_html="", author_name=name,
                                    author_url=link)
            if ident:
                found.append(current)
        elif current is not None and child.tag == "dd" and "comment-body" in classes:
            inner = child.css_first("span.deleted-comment")
            if inner is not None:
                current.body_html, current.body_text = inner.html or "", render_children(inner)
            else:
                paragraph = child.css_first("p")
                current.body_html, current.body_text = _comment_body(paragraph or child)
        elif current is not None and child.tag == "dd" and "comment-footer" in classes:
            stamp = child.css_first(".comment-timestamp a") or child.css_first("a")
            href = stamp.attributes.get("href") if stamp is not None else None
            current.permalink = _resolve(url, href) if href else None
            current.published_text = _text(stamp)
            current.published_at = _comment_time(current.permalink, current.published_text)
        child = child.next
    return found


def _has_form(section: LexborNode) -> bool:
    """Whether the comment section lets a reader comment: Blogger's embedded form (its editor
    iframe and source link) or its link to the comment page or popup."""
    return section.css_first(
        "#comment-editor, #comment-editor-src, .comment-form, "
        'a[href*="blogger.com/comment"], a[href*="comment-iframe.g"], a[href*="/comment.g"]'
    ) is not None


def _shown_count(section: LexborNode) -> int | None:
    """The comment count the section's heading states ("24 comments:"), if it states one."""
    found = _LEADING_COUNT.match(_text(section.css_first("h4")))
    digits = re.sub(r"\D", "", found[1]) if found else ""
    return int(digits) if digits and len(digits) <= _MAX_DIGITS else None


def _post_id(tree: LexborHTMLParser) -> str | None:
    for link in tree.css('link[rel="alternate"]'):
        found = _COMMENT_FEED.search(link.attributes.get("href") or "")
        if found:
            return found[1]
    body = tree.css_first('.post-body[id^="post-body-"]')
    if body is not None:
        return (body.attributes.get("id") or "").removeprefix("post-body-") or None
    for selector, attr in (("[data-post-id]", "data-post-id"),
                           ('meta[itemprop="postId"]', "content"),
                           (".post[data-id]", "data-id")):
        node = tree.css_first(selector)
        found = _POST_ID.fullmatch((node.attributes.get(attr) or "").strip()) if node else None
        if found:
            return found[1]
    return None


def _comment_feed(tree: LexborHTMLParser, thread_url: str, page_url: str) -> str | None:
    """The post's comment feed (JSON, first page): the one the page links, else built from its
    post id on the blog's host; None when the page names no post."""
    for link in tree.css('link[rel="alternate"]'):
        href = link.attributes.get("href") or ""
        if _COMMENT_FEED.search(href):
            target = _resolve(page_url, href)
            if target:
                return feed_url(target, 1)
    post = _post_id(tree)
    return feed_url(f"{_site_url(thread_url)}feeds/{post}/comments/default", 1) if post else None


def _paging_links(section: LexborNode, url: str) -> list[str]:
    """Legacy comment pages (``?commentPage=N``) the section links."""
    links: list[str] = []
    for node in section.css(".paging-control-container a[href], a.paging-control[href]"):
        target = _resolve(url, node.attributes.get("href") or "")
        if target and "commentPage=" in target:
            target = urldefrag(target)[0]
            if target != urldefrag(url)[0] and target not in links:
                links.append(target)
    return links


def _from_page(comments: Iterable[Found], facts: PageFacts,
               requests: Iterable[Request]) -> Iterator[Found]:
    """What the page shows, yielded directly or as the feed's fallback."""
    yield from comments
    yield facts
    yield from requests


@dataclass(slots=True)
class _PostPage:
    """What a post page (or a legacy comment page) shows and where its comments can be had."""

    thread: ParsedThread
    comments: list[ParsedComment] = field(default_factory=list)
    closed: bool = False
    number: int = 1
    pages: list[str] = field(default_factory=list)  # legacy comment pages it links
    feed: str | None = None  # the comment feed's first page, when the page names its post
    truncated: bool = False  # it renders fewer comments than the post has


def _read(html: str, url: str) -> _PostPage:
    tree = parse_html(html)
    page = _PostPage(thread=_parse_thread(tree, url))
    section = tree.css_first("#comments") or tree.css_first(".comments")
    if section is None:  # no comment section: comments are off for this post
        page.closed = True
        return page
    holder = section.css_first("#comment-holder") or section
    block = section.css_first("#comments-block") or tree.css_first("dl#comments-block")
    threaded = holder.css_first("li.comment") is not None or block is None
    page.comments = _threaded(holder, url) if threaded or block is None else _legacy(block, url)
    page.closed = not _has_form(section) and not _has_form(tree.body or section)
    page.number = _page_number(url)
    page.pages = _paging_links(section, url)
    listed = holder is not section or block is not None  # a comment list, even an empty one
    if page.number == 1 and listed:
        page.feed = _comment_feed(tree, page.thread.url, url)
    # a paged legacy page reaches the rest through its own comment pages
    page.truncated = not page.pages and _truncated(section, len(page.comments),
                                                   threaded=threaded)
    return page


def parse_page(html: str, url: str) -> ParsedPage:
    """What the page itself shows (the HTML path alone: no feed): the post, its comments,
    whether they are closed, its comment page number and the next legacy comment page."""
    page = _read(html, url)
    return ParsedPage(thread=page.thread, comments=page.comments, comments_closed=page.closed,
                      next_page_url=page.pages[0] if page.pages else None,
                      page_number=page.number)


def read_page(response: Response) -> Iterator[Found]:
    """The callback for a post page (or a legacy comment page): the post, then the comments
    from the feed (the page's own as its fallback), or from the page when it names no feed."""
    page = _read(response.text, response.url)
    yield page.thread
    facts = PageFacts(number=page.number, comments_closed=page.closed)
    requests = [Request(link, then=read_page) for link in page.pages]
    if page.feed is None:
        yield from _from_page(page.comments, facts, requests)
        return
    if page.truncated:  # the rest lies only in the feed: asked for, required, if the feed fails
        requests.append(Request(feed_url(page.feed, len(page.comments) + 1), accept=JSON,
                                then=FeedReader(closed=page.closed)))
    yield Request(page.feed, accept=JSON,
                  then=FeedReader(closed=page.closed, shown=len(page.comments)),
                  fallback=partial(_from_page, tuple(page.comments), facts, tuple(requests)))


def _truncated(section: LexborNode, shown: int, *, threaded: bool) -> bool:
    """Whether the page renders fewer comments than the post has: its heading states more than
    it shows or, threaded, its "Load more..." is shown (not ``hidden``). (A paged legacy page
    reaches the rest through its own comment pages: the caller asks only of an unpaged one.)"""
    stated = _shown_count(section)
    if stated is not None and stated > shown:
        return True
    loadmore = section.css_first(".loadmore") if threaded else None
    return loadmore is not None and "hidden" not in (loadmore.attributes.get("class") or "").split()


def _page_number(url: str) -> int:
    values = parse_qs(urlsplit(url).query).get("commentPage") or ["1"]
    value = values[0].strip()
    return int(value) if value.isdecimal() and len(value) <= _MAX_DIGITS else 1
