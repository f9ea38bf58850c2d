"""TypePad: recognise a TypePad post page and read the post, its comments and the next page.

The adapter contract (archiver.adapters.contract): ``PLATFORM``, ``URL_PATTERNS``, ``EXAMPLES``,
``matches``, ``start``; ``read_page`` is the pure callback for every comment page.

Parses by the standard TypePad template structure (``#banner-header``, ``h3.entry-header``,
``div.entry-body``, ``div.comment#comment-ID``, ``p.comment-footer``, ``p.comments-closed``), never
by position. Pagination is read from the page's own pager links.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urldefrag, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.adapters.base import PageFacts, ParsedComment, ParsedPage, ParsedThread
from archiver.adapters.contract import Found, Request, Response
from archiver.adapters.dates import clock_time, parse_date, parse_day
from archiver.adapters.depth import parse_html
from archiver.adapters.render import render_children
from archiver.errors import ParseError, UnsupportedSite

PLATFORM = "typepad"
# hosted blogs (custom domains are found by markup, ``matches``): blog.typepad.com/[name/]Y/M/post
URL_PATTERNS = (
    re.compile(r"^https?://[a-z0-9-]+\.typepad\.com/(?:[^/?#]+/)?\d{4}/\d{2}/[^/?#]+\.html"
               r"(?:[?#].*)?$", re.IGNORECASE),
)
EXAMPLES = (
    "https://example.typepad.com/blog/2018/06/a-post.html",
    "http://someone.typepad.com/my_weblog/2009/01/comments-please.html?cid=6a00d8341c",
    "https://plain.typepad.com/2020/11/post.html",
)


@dataclass(slots=True)
class TypePadThread(ParsedThread):
    """A TypePad post: the generic thread plus what TypePad's template shows beside it."""

    site_tagline: str = ""
    date_header: str = ""
    footer_text: str = ""  # e.g. "Posted by b on June 8, 2018 at 18:39 UTC"

    @property
    def extras(self) -> dict[str, str]:
        return {"site_tagline": self.site_tagline, "date_header": self.date_header,
                "footer_text": self.footer_text}

_SPACES = re.compile(r"\s+")
_POSTED_BY = re.compile(r"^\s*Posted by:?\s*", re.IGNORECASE)
_FOOTER = re.compile(r"^Posted by (?P<author>.+?) on (?P<date>.+?)(?: in .*)?$", re.IGNORECASE)
# templates that show the day in the date header only: "Posted by b at 08:15 PM in Birds"
_FOOTER_AT = re.compile(r"^Posted by (?P<author>.+?) at \d", re.IGNORECASE)
_NEXT_TEXT = re.compile(r"^\s*next\b", re.IGNORECASE)


_CLOSED_TEXT = b"comments to this entry are closed"


def _says_closed(html: str) -> bool:
    """Whether the page says, in any case, that comments are closed.

    Same answer as ``_CLOSED_TEXT in html.lower()`` at a fraction of the cost on a page with
    non-ASCII text: no character outside ASCII lowers to a letter of the phrase (only U+0130 and
    U+212A lower to ASCII at all, to "i" + U+0307 and "k"), so an ASCII-only lowering of the UTF-8
    bytes, whose multi-byte sequences hold no ASCII byte, finds exactly the same matches.
    """
    return _CLOSED_TEXT in html.encode("utf-8", "surrogatepass").lower()


_NOTICE_MAX_CHARS = 200
_MAX_DIGITS = 9  # a comment or page number longer than this is no number (int() refuses 4,300+)
# lexbor finds the elements whose text holds the phrase (any case) without a walk from Python
_NOTICE_SELECTOR = ", ".join(
    f'{tag}:lexbor-contains("{_CLOSED_TEXT.decode()}" i)'
    for tag in ("p", "div", "span", "h2", "h3", "h4", "em", "strong")
)


def _inside_comment(node: LexborNode) -> bool:
    """Whether the node is a comment or lies inside one."""
    parent: LexborNode | None = node
    while parent is not None:
        attrs = parent.attributes
        if "comment" in (attrs.get("class") or "").split() or (attrs.get("id") or "").startswith(
            "comment-"
        ):
            return True
        parent = parent.parent
    return False


def _comments_closed(tree: LexborHTMLParser, html: str) -> bool:
    """Whether the page says comments are closed: its ``.comments-closed`` notice, or, on a
    template without that class, a short element outside every comment saying so. A comment
    that quotes the phrase does not close the thread."""
    if tree.css_first(".comments-closed") is not None:
        return True
    if not _says_closed(html):
        return False
    for node in tree.css(_NOTICE_SELECTOR):
        if len(_text(node)) <= _NOTICE_MAX_CHARS and not _inside_comment(node):
            return True
    return False


def _text(node: LexborNode | None) -> str:
    if node is None:
        return ""
    # the same as _SPACES.sub(" ", text).strip(): str.split() and re's \s both split on
    # exactly the characters str.isspace() accepts, and split() drops the ends; 7x faster
    return " ".join(node.text(deep=True).split())


def matches(html: str, url: str = "") -> bool:
    """Whether the page is a TypePad page (by its generator, its root id, or its template)."""
    head = html[:8192].lower()
    if "typepad.com" in head and ('name="generator"' in head or "typepad-standard" in head):
        return True
    tree = parse_html(html)
    return (
        tree.css_first("h3.entry-header") is not None
        and tree.css_first("div.entry-body") is not None
        and tree.css_first("#banner-header") is not None
    )


def _resolve(base: str, href: str) -> str | None:
    """href made absolute against base, or None when it is no URL urllib can read (a page may
    hold anything in an href: ``http://[::1`` is refused with ValueError)."""
    try:
        joined = urljoin(base, href)
        urlsplit(joined)
    except ValueError:
        return None
    return joined


def _canonical_url(tree: LexborHTMLParser, url: str) -> str:
    sources = (('link[rel="canonical"]', "href"), ('meta[property="og:url"]', "content"))
    for selector, attr in sources:
        node = tree.css_first(selector)
        if node is not None and node.attributes.get(attr):
            target = _resolve(url, node.attributes[attr] or "")
            if target is not None:
                return urldefrag(target)[0]
    return urldefrag(url)[0]


_DATED_PATH = re.compile(r"/\d{4}/\d{2}/")


def _site_url(tree: LexborHTMLParser, thread_url: str) -> str:
    """The blog's base URL: the banner's link when it is absolute and the post lies below it,
    else the post URL's path up to its /YYYY/MM/ (TypePad serves blogs at host/blogname/),
    else the host's root."""
    parts = urlsplit(thread_url)
    root = f"{parts.scheme}://{parts.netloc}/"
    link = tree.css_first("#banner-header a")
    href = (link.attributes.get("href") or "") if link is not None else ""
    if href.startswith(("http://", "https://")):
        base = href.split("#", 1)[0].split("?", 1)[0]
        base = base if base.endswith("/") else base.rsplit("/", 1)[0] + "/"
        if thread_url.lower().startswith(base.lower()):
            return base
    dated = _DATED_PATH.search(parts.path)
    return root + parts.path[1:dated.start() + 1] if dated else root


def _tagline(tree: LexborHTMLParser) -> str:
    node = tree.css_first("#banner-description")
    if node is None:
        return ""
    text = _text(node)
    if text:
        return text
    img = node.css_first("img")
    return (img.attributes.get("alt") or "").strip() if img is not None else ""


def _parse_thread(tree: LexborHTMLParser, url: str) -> TypePadThread:
    posts = len(tree.css("h3.entry-header"))
    if posts > 1:  # a front page or a monthly archive: its posts are threads, it is none
        raise UnsupportedSite(
            f"{url} is a list of {posts} posts (a blog's front or archive page), not a thread:"
            " archive one post's URL, or let `archiver run` find the posts"
        )
    entry = tree.css_first("div.entry")
    scope = entry if entry is not None else tree.body
    if scope is None:
        raise ParseError(f"{url}: no page body")
    header = scope.css_first(".entry-header")
    body = scope.css_first(".entry-body")
    if header is None or body is None:
        raise ParseError(f"{url}: no TypePad post found (entry-header/entry-body missing)")
    bodies = [body]
    more = scope.css_first(".entry-more")
    if more is not None:
        bodies.append(more)
    body_html = "".join(node.inner_html or "" for node in bodies)
    body_text = "\n\n".join(t for t in (render_children(node) for node in bodies) if t)
    footer_node = scope.css_first(".post-footers")
    footer_text = _text(footer_node)
    author = date_text = ""
    found = _FOOTER.match(footer_text)
    if found:
        author, date_text = found["author"].strip(), found["date"].strip()
    else:
        found = _FOOTER_AT.match(footer_text)
        author = found["author"].strip() if found else ""
    date_header = _text(tree.css_first("h2.date-header"))
    published_at, precision = _post_date(date_text, date_header, footer_text)
    if not date_text and published_at is not None:
        date_text = date_header  # the date the page shows for the post
    permalink_node = scope.css_first("a.permalink")
    site_header = tree.css_first("#banner-header")
    canonical = _canonical_url(tree, url)
    return TypePadThread(
        url=canonical,
        site_url=_site_url(tree, canonical),
        title=_text(header),
        body_html=body_html,
        body_text=body_text,
        site_name=_text(site_header),
        site_tagline=_tagline(tree),
        date_header=date_header,
        author=author,
        published_text=date_text,
        published_at=published_at,
        published_precision=precision,
        permalink=permalink_node.attributes.get("href") if permalink_node is not None else None,
        footer_text=footer_text,
    )


def _post_date(
    date_text: str, date_header: str, footer_text: str
) -> tuple[datetime | None, str]:
    """The post's date and its precision: the footer's date and time when it shows them; else
    the date header's day, with the footer's time of day when it shows one ("Posted at 08:15
    PM"), or as a day only (precision "day": midnight UTC, no time claimed)."""
    if date_text:
        stamp = parse_date(date_text)
        if stamp is not None:
            return stamp, "time" if clock_time(date_text) is not None else "day"
        day = parse_day(date_text)
        if day is not None:
            return day, "day"
    day = parse_day(date_header) if date_header else None
    if day is None:
        return None, "time"
    clock = clock_time(footer_text) if not date_text else None
    if clock is not None:
        return day.replace(hour=clock[0], minute=clock[1], second=clock[2]), "time"
    return day, "day"


_UNKNOWN: LexborNode = object()  # type: ignore[assignment]


def _content_and_footer(node: LexborNode) -> tuple[LexborNode | None, LexborNode | None]:
    """``node.css_first(".comment-content")`` and ``node.css_first(".comment-footer")``, read
    from the comment's direct children in the usual template without compiling two selectors.

    Exact, or it defers to lexbor: the content is taken only when it is the first element child
    (nothing before it can hold a match), with the class token spelled exactly; anything else
    falls back to css_first. The footer is taken when it is the next element child after that
    content; it is returned as ``_UNKNOWN`` (the caller asks lexbor) whenever another element
    stands in between. The content's own subtree could hold a ``comment-footer`` too, found
    first by css_first: parse_page checks the page once for ``.comment-content .comment-footer``
    and, when there is one, _parse_comment asks lexbor for every footer.
    """
    child = node.child
    while child is not None and child.tag in ("-text", "-comment"):
        child = child.next
    if child is None:
        return None, None
    if "comment-content" not in (child.attributes.get("class") or "").split():
        return node.css_first(".comment-content"), _UNKNOWN
    content = child
    if "footer" in (content.attributes.get("class") or "").lower():
        return content, _UNKNOWN
    child = content.next
    while child is not None:
        tag = child.tag
        if tag not in ("-text", "-comment"):
            if "comment-footer" in (child.attributes.get("class") or "").split():
                return content, child
            return content, _UNKNOWN
        child = child.next
    return content, None


def _links(node: LexborNode) -> list[LexborNode]:
    """``node.css("a")``: the node's ``a`` descendants in document order, walked with a stack
    (a footer is small, but its nesting is the page's to choose)."""
    found: list[LexborNode] = []
    pending: list[LexborNode] = []  # where to go on once the current node's subtree is done
    child = node.child
    while child is not None:
        tag = child.tag
        if tag == "a":
            found.append(child)
        if tag != "-text" and child.child is not None:
            if child.next is not None:
                pending.append(child.next)
            child = child.child
            continue
        child = child.next
        if child is None and pending:
            child = pending.pop()
    return found


def _parse_comment(node: LexborNode, url: str, nested_footers: bool = True) -> ParsedComment:
    source_id = (node.id or "").removeprefix("comment-")
    content, footer = _content_and_footer(node)
    body_html = (content.inner_html or "") if content is not None else ""
    body_text = render_children(content) if content is not None else ""
    if footer is _UNKNOWN or (nested_footers and content is not None):
        footer = node.css_first(".comment-footer")
    author_name, author_url, date_text, permalink, number = "", None, "", None, None
    if footer is not None:
        footer_text = _POSTED_BY.sub("", _text(footer))
        links = _links(footer)
        date_link = None
        for link in links:
            href = link.attributes.get("href") or ""
            if "#comment-" in href or "cid=" in href:
                date_link = link
                break
        if date_link is not None:
            date_text = _text(date_link)
            href = date_link.attributes.get("href") or ""
            permalink = href if href.startswith(("http://", "https://")) else _resolve(url, href)
        if date_text:  # the footer read around the date link's text
            before, _, after = footer_text.partition(date_text)
            author_name = before.strip().rstrip("|").strip()
            tail = after.strip().lstrip("|").strip()
        else:
            parts = [p.strip() for p in footer_text.split("|")]
            author_name = parts[0]
            date_text = parts[1] if len(parts) > 1 else ""
            tail = parts[2] if len(parts) > 2 else ""
        if tail.isdecimal() and len(tail) <= _MAX_DIGITS:
            number = int(tail)
        for link in links:
            if link is not date_link and _text(link) == author_name:
                author_url = link.attributes.get("href")
                break
    return ParsedComment(
        source_id=source_id,
        body_html=body_html,
        body_text=body_text,
        author_name=author_name,
        author_url=author_url,
        published_text=date_text,
        published_at=parse_date(date_text) if date_text else None,
        number=number,
        permalink=permalink,
    )


_PAGER_TAGS = frozenset(("div", "p", "nav", "ul", "span"))
# one attribute test per class fragment, the tag checked after: 4 selectors instead of 20
_PAGER_SELECTOR = ", ".join(
    f'[class*="{key}"]' for key in ("comments-nav", "pager", "paginat", "comment-nav")
)


def _pagers(tree: LexborHTMLParser) -> list[LexborNode]:
    """div, p, nav, ul or span elements whose class names a pager, in document order."""
    return [node for node in tree.css(_PAGER_SELECTOR) if node.tag in _PAGER_TAGS]


def _current_page(pagers: list[LexborNode]) -> int:
    for pager in pagers:
        for node in pager.css("span, strong, em, b"):
            text = _text(node)
            if text.isdecimal() and len(text) <= _MAX_DIGITS and node.css_first("a") is None:
                return int(text)
    return 1


def _same_thread(target: str | None, thread_url: str) -> bool:
    """Whether target is thread_url's page: the same path (another query), or below it with
    the file extension dropped (/2018/06/post.html -> /2018/06/post/comments/page/2/)."""
    if target is None:
        return False
    there, here = urlsplit(target), urlsplit(thread_url)
    if there.netloc.lower() != here.netloc.lower():
        return False
    # thread_url may be a later comment page itself (no canonical link): its post's stem
    post = here.path.split("/comments/", 1)[0]
    stem = post.rsplit(".", 1)[0] if "." in post.rsplit("/", 1)[-1] else post
    return there.path == here.path or there.path.startswith(stem.rstrip("/") + "/")


def _next_page_url(
    tree: LexborHTMLParser, url: str, current: int, pagers: list[LexborNode], thread_url: str
) -> str | None:
    links = [a for pager in pagers for a in pager.css("a")]
    # a rel="next" outside the comment pager may be the blog's link to the next post: it counts
    # only when it leads to a page of this same thread
    links += [
        a for a in tree.css('a[rel~="next"]')
        if a not in links
        and _same_thread(_resolve(url, a.attributes.get("href") or ""), thread_url)
    ]
    chosen = None
    for link in links:
        rel = (link.attributes.get("rel") or "").split()
        if "next" in rel or _NEXT_TEXT.match(_text(link)):
            chosen = link
            break
    if chosen is None:
        for link in links:
            if _text(link) == str(current + 1):
                chosen = link
                break
    if chosen is None or not chosen.attributes.get("href"):
        return None
    target = _resolve(url, chosen.attributes["href"] or "")
    if target is None:
        return None
    target = urldefrag(target)[0]
    return target if target != urldefrag(url)[0] else None


def parse_page(html: str, url: str) -> ParsedPage:
    """Read one page of a TypePad thread (the post page or a later comment page)."""
    tree = parse_html(html)
    thread = _parse_thread(tree, url)
    scope = tree.css_first(".comments") or tree.body
    nested = scope is not None and scope.css_first(".comment-content .comment-footer") is not None
    comments = [
        _parse_comment(node, url, nested)
        for node in (scope.css('div.comment[id^="comment-"]') if scope is not None else [])
    ]
    closed = _comments_closed(tree, html)
    pagers = _pagers(tree)
    current = _current_page(pagers)
    return ParsedPage(
        thread=thread,
        comments=comments,
        comments_closed=closed,
        next_page_url=_next_page_url(tree, url, current, pagers, thread.url),
        page_number=current,
    )


def start(url: str) -> Request:
    """The first request for a thread: its post page, read like every comment page."""
    return Request(url, then=read_page)


def read_page(response: Response) -> Iterator[Found]:
    """The callback for any page of a thread: the post, its comments, the page's facts and the
    next comment page, if there is one."""
    page = parse_page(response.text, response.url)
    yield page.thread
    yield from page.comments
    yield PageFacts(number=page.page_number, comments_closed=page.comments_closed)
    if page.next_page_url is not None:
        yield Request(page.next_page_url, then=read_page)
