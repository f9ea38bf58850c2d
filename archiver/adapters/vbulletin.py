"""vBulletin 3, 4 and 5: read a topic's pages (the first post as the thread, every later post a
comment numbered as the forum shows it) and ask for all of its pages, from whichever was given.

Markup read (the engines' default templates, never by position): vB3 ``table#postID`` with
``div#post_message_ID``, ``a.bigusername``, the date in the post's first ``td.thead``,
``a#postcountID``; vB4 ``li.postcontainer#post_ID`` (``li.postbitlegacy``, ``li.postbit``),
``.username``, ``span.date`` (or the date in ``dl.userstats``), ``a.postcounter``; vB5
``li.b-post[data-node-id]``, ``.js-post__content-text``, ``time[datetime]``, ``.b-post__count``.
Pages: ``showthread.php?t=ID&page=N``, ``/threads/ID-slug/pageN``, ``showthread.php?ID-slug/pageN``
and vBSEO's ``ID-slug-N.html``, read from the page's own pager (archiver.adapters.forumpages).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.adapters.base import ParsedComment, ParsedThread
from archiver.adapters.contract import Found, Request, Response
from archiver.adapters.depth import parse_html
from archiver.adapters.forumpages import (
    ForumPage,
    base_href,
    drop_params,
    forum_date,
    iso_date,
    number_in,
    page_urls,
    read_page,
    read_seed,
    resolve,
    text_of,
)
from archiver.adapters.render import render_children
from archiver.errors import ParseError

PLATFORM = "vbulletin"
URL_PATTERNS = (
    # showthread.php?t=ID[&page=N], ?p=POSTID, ?ID-slug[/pageN] (any folder the forum lives in)
    re.compile(r"^https?://[^/?#]+(?:/[^?#]*)?/showthread\.php\?(?:[^#]*&)?(?:t|p|threadid|postid)"
               r"=\d+", re.IGNORECASE),
    re.compile(r"^https?://[^/?#]+(?:/[^?#]*)?/showthread\.php\?\d+(?:-[^/#]*)?(?:/page\d+)?"
               r"(?:[&#].*)?$", re.IGNORECASE),
    # vB4 friendly URLs: /threads/ID-slug[/pageN] (XenForo's are /threads/slug.ID/)
    re.compile(r"^https?://[^/?#]+(?:/[^?#]*)?/threads/\d+-[^/?#.]*(?:/page\d+)?/?(?:[?#].*)?$",
               re.IGNORECASE),
)
EXAMPLES = (
    "https://forum.example.com/showthread.php?t=202519",
    "https://forum.example.com/forum/showthread.php?t=202519&page=2",
    "http://example.org/showthread.php?12345-a-thread-title/page3",
    "https://example.org/threads/12345-a-thread-title/page2",
    "https://example.org/forums/threads/987-title",
)

# query parameters that are no part of a page's identity: the session id, a search highlight
_SESSION = frozenset({"s", "highlight"})
_POST_ID = re.compile(r"^post_?(\d+)$")
_OF = re.compile(r"(\d+)\D+?(\d+)\s*$")  # "Seite 34 von 40", "Page 1 of 2", "Страница 1 из 2"
_POST_PARAM = re.compile(r"[?&](?:p|postid)=\d+")  # showthread.php?p=ID: a post's page
_DATE_LIKE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}:\d{2}")


def matches(html: str, url: str = "") -> bool:
    """Whether the page is a vBulletin topic page (its generator or its post markup)."""
    head = html[:20000]
    if re.search(r'<meta[^>]+content="vBulletin', head, re.IGNORECASE) or \
            'id="vbulletin_html"' in head or "vBulletin.version" in head:
        return True
    return ('id="post_message_' in html or 'class="b-post' in html) and "vbulletin" in \
        html.lower()


def start(url: str) -> Request:
    """The first request: the page given, whichever of the topic's pages it is."""
    return Request(drop_params(url, _SESSION), then=read_first)


def read_first(response: Response) -> Iterator[Found]:
    """The callback for the page a topic is archived from (archiver.adapters.forumpages)."""
    yield from read_seed(parse_page, response)


def read_any(response: Response) -> Iterator[Found]:
    """The callback for a page reached by the pager."""
    yield from read_page(parse_page, response)


# --- one post --------------------------------------------------------------------------------


def _containers(tree: LexborHTMLParser) -> list[tuple[str, LexborNode]]:
    """The page's posts in page order, each (post id, its element): vB5 ``li.b-post``, else the
    elements whose id is postID / post_ID (vB3 table, vB4 li, a styled div)."""
    found: list[tuple[str, LexborNode]] = []
    for node in tree.css("li.b-post[data-node-id], div.b-post[data-node-id]"):
        found.append((node.attributes.get("data-node-id") or "", node))
    if found:
        return found
    for node in tree.css('li[id^="post_"], table[id^="post"], div[id^="post"]'):
        match = _POST_ID.match(node.id or "")
        if match and node.css_first(f"#post_message_{match[1]}") is not None:
            found.append((match[1], node))
    first: dict[str, LexborNode] = {}  # an id given twice (a broken page): its first element
    for pid, node in found:
        first.setdefault(pid, node)
    return list(first.items())


def _body(node: LexborNode, post_id: str) -> LexborNode | None:
    body = node.css_first(".js-post__content-text") or node.css_first(f"#post_message_{post_id}")
    if body is None:
        return None
    quoted = body.css_first("blockquote.postcontent")  # vB4: the message inside its wrapper
    return quoted or body


def _author(node: LexborNode) -> tuple[str, str | None]:
    for selector in (".b-userinfo__details .author a", ".b-userinfo__details .author",
                     '[itemprop="author"] [itemprop="name"]', "a.username", ".username",
                     "a.bigusername", ".bigusername", ".author a"):
        found = node.css_first(selector)
        if found is not None and text_of(found):
            link = found if found.tag == "a" else found.css_first("a")
            href = link.attributes.get("href") if link is not None else None
            return text_of(found), href
    return "", None


def _date(node: LexborNode) -> tuple[str, str | None]:
    """The date as shown and an ISO stamp when the page gives one (vB5 <time datetime>)."""
    stamp = node.css_first("time[datetime]")
    if stamp is not None:
        shown = node.css_first(".b-post__timestamp")
        return text_of(shown or stamp), stamp.attributes.get("datetime")
    for selector in (".postdate .date", "span.date", ".b-post__timestamp"):
        found = node.css_first(selector)
        if found is not None and text_of(found):
            return text_of(found), None
    for dd in node.css("dl.userstats dd, .userinfo_extra dd"):  # styles that move it there
        text = text_of(dd)
        if _DATE_LIKE.search(text) and len(text) < 60:
            return text, None
    head = node.css_first("td.thead")  # vB3: the post's first header cell
    if head is not None:
        return text_of(head), None
    return "", None


def _number(node: LexborNode) -> tuple[int | None, str | None]:
    for selector in ("a.postcounter", ".b-post__count", 'a[id^="postcount"]'):
        found = node.css_first(selector)
        if found is not None:
            number = number_in(text_of(found))
            if number is None and found.attributes.get("name"):
                number = number_in(found.attributes.get("name") or "")
            return number, found.attributes.get("href")
    return None, None


def _comment(post_id: str, node: LexborNode, base: str) -> ParsedComment:
    body = _body(node, post_id)
    author, author_url = _author(node)
    shown, stamp = _date(node)
    number, link = _number(node)
    permalink = resolve(base, link)
    return ParsedComment(
        source_id=post_id,
        body_html=(body.inner_html or "") if body is not None else "",
        body_text=render_children(body) if body is not None else "",
        author_name=author,
        author_url=drop_params(resolve(base, author_url) or "", _SESSION) or None,
        published_text=shown,
        published_at=iso_date(stamp) or forum_date(shown),
        number=number,
        permalink=drop_params(permalink, _SESSION) if permalink else None,
    )


# --- the page --------------------------------------------------------------------------------


def _title(tree: LexborHTMLParser) -> str:
    for selector in ("#pagetitle .threadtitle", "span.threadtitle", "li.lastnavbit",
                     "h1.main-title", "td.navbar strong", ".b-post__title"):
        nodes = tree.css(selector)
        if nodes and text_of(nodes[-1]):
            return text_of(nodes[-1])
    og = tree.css_first('meta[property="og:title"]')
    if og is not None and og.attributes.get("content"):
        return " ".join((og.attributes.get("content") or "").split())
    return text_of(tree.css_first("title"))


_PAGERS = (".pagination, .pagenav, .pagination_top, .pagination_bottom, .threadpagenav,"
           " .js-pagenav, .pagenav-controls")


def _pager(tree: LexborHTMLParser, base: str) -> tuple[int, int, list[tuple[int, str]],
                                                         str | None]:
    """(this page's number, the last page's, the numbered links seen, page 1's link)."""
    current = last = 0
    links: list[tuple[int, str]] = []
    first = None
    for pager in tree.css(_PAGERS):
        for label in pager.css(".popupctrl, td.vbmenu_control"):
            found = _OF.search(text_of(label))
            if found:
                current, last = current or int(found[1]), max(last, int(found[2]))
        for total in pager.css(".pagetotal"):  # vB5: "page [N] of [M]"
            last = max(last, number_in(text_of(total)) or 0)
        for node in pager.css("span.selected, td.alt2 strong, strong, .pagenav-item.active,"
                              " input.js-pagenum"):
            number = number_in(text_of(node) or (node.attributes.get("value") or ""))
            if number is not None and node.css_first("a[href]:not([href^=javascript])") is None:
                current = current or number
                break
        for link in pager.css("a[href]"):
            href = resolve(base, link.attributes.get("href"))
            if href is None:
                continue
            href = drop_params(href, _SESSION)
            rel = (link.attributes.get("rel") or "").split()
            if "start" in rel or "first" in rel:
                first = first or href
            number = number_in(text_of(link)) or number_in(link.attributes.get("data-page") or "")
            if number is not None:
                links.append((number, href))
                last = max(last, number)
    return current or 1, max(last, current or 1), links, first


_PAGE_PARAM = re.compile(r"([?&])page=\d+(&|$)")
_PAGE_PATH = re.compile(r"/page\d+/?$")


def _page_one_of(url: str) -> str:
    """Page 1's URL as a later page's URL names it (page=N or /pageN dropped)."""
    parts = urlsplit(url)
    query = _PAGE_PARAM.sub(lambda m: m[1] if m[2] else "", parts.query).rstrip("&?")
    query = _PAGE_PATH.sub("", query)
    path = _PAGE_PATH.sub("", parts.path)
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def _page_one(links: list[tuple[int, str]], own: str) -> str:
    """Page 1's URL when the pager links no page 1: a later page's link without its page=N or
    /pageN (that link names the thread even when the page was asked for by a post, ?p=ID),
    else the page's own URL without it."""
    for number, href in links:
        if number >= 2 and _page_one_of(href) != href.split("#", 1)[0]:
            return _page_one_of(href)
    return _page_one_of(own)


def _closed(tree: LexborHTMLParser) -> bool:
    """Whether the page shows the topic closed: vB3/vB4's "closed thread" button image, vB4's
    reply control as text, not a link, or vB5's closed-topic notice."""
    return (tree.css_first('img[src*="threadclosed"]') is not None
            or tree.css_first("span#newreplylink_top, span#newreplylink_bottom") is not None
            or tree.css_first(".js-topic-closed, .b-topic-closed") is not None)


def _site(tree: LexborHTMLParser, base: str) -> tuple[str, str]:
    """The forum's name and home URL (the first breadcrumb link), when the page shows them."""
    meta = tree.css_first('meta[name="vb_meta_bburl"]')
    home = (meta.attributes.get("content") or "") if meta is not None else ""
    crumb = tree.css_first("#breadcrumb a, .breadcrumb a, span.navbar a, .b-breadcrumbs a")
    name = text_of(crumb)
    if not home and crumb is not None:
        home = resolve(base, crumb.attributes.get("href")) or ""
    return name, (home.rstrip("/") + "/") if home else ""


def parse_page(html: str, url: str) -> ForumPage:
    """Read one page of a vBulletin topic."""
    tree = parse_html(html)
    base = base_href(tree.css_first("base[href]"), url)
    own = drop_params(url, _SESSION)
    current, last, links, first = _pager(tree, base)
    if current == 1:  # the page's canonical link, else its URL (a post's: the thread's)
        canonical = tree.css_first('link[rel="canonical"]')
        href = resolve(base, canonical.attributes.get("href")) if canonical is not None else None
        first = drop_params(href, _SESSION) if href else (
            _page_one(links, own) if _POST_PARAM.search(own) else own)
    elif first is None:
        first = next((href for number, href in links if number == 1), None) or _page_one(
            links, own)
    urls = page_urls(links, last, first)
    posts = _containers(tree)
    if not posts:
        raise ParseError(f"{url}: no vBulletin posts found (post_message / b-post)")
    comments = [_comment(pid, node, base) for pid, node in posts]
    site_name, site_url = _site(tree, base)
    page = ForumPage(thread_url=first, title=_title(tree), number=current, last=last,
                     page_urls=urls, closed=_closed(tree), site_name=site_name,
                     site_url=site_url)
    lead = comments[0]
    if current == 1 and lead.number in (None, 1):  # the topic's first post: the thread
        comments = comments[1:]
        page.thread = ParsedThread(
            url=first, title=page.title, body_html=lead.body_html, body_text=lead.body_text,
            site_name=site_name, site_url=site_url, author=lead.author_name,
            published_text=lead.published_text, published_at=lead.published_at,
            permalink=lead.permalink)
    page.comments = comments
    return page

