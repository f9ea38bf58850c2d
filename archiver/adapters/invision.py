"""Invision Community (IPS 4): read a topic's pages (the first post as the thread, every later
post a comment) and ask for all of its pages, from whichever was given.

Markup read (the default theme's topic and post templates): ``article[id^=elComment_]``, the
comment id in ``[data-commentid]``, the author in ``aside.ipsComment_author .cAuthorPane_author``,
the date in ``.ipsComment_meta time[datetime]``, the body in ``[data-role=commentContent]``, the
permalink ``?do=findComment&comment=ID``. Pages: ``/topic/ID-slug/page/N/`` from the
``ul.ipsPagination`` pager (``data-pages``, ``li.ipsPagination_active``, ``a[data-page]``); a
locked topic's reply button is ``ipsButton_negative``. IPS shows no post numbers: none is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.adapters.base import ParsedComment, ParsedThread
from archiver.adapters.contract import Found, Request, Response
from archiver.adapters.depth import parse_html
from archiver.adapters.forumpages import (
    ForumPage,
    drop_params,
    iso_date,
    number_in,
    page_urls,
    read_seed,
    resolve,
    text_of,
)
from archiver.adapters.render import render_children
from archiver.errors import ParseError

PLATFORM = "invision"
URL_PATTERNS = (
    # /topic/ID-slug/[page/N/] (friendly URLs), index.php?/topic/ID-slug/ (without rewriting)
    re.compile(r"^https?://[^/?#]+(?:/[^?#]*)?(?:/index\.php\?)?/topic/\d+-[^/?#]*"
               r"(?:/page/\d+)?/?(?:[?#].*)?$", re.IGNORECASE),
    re.compile(r"^https?://[^/?#]+(?:/[^?#]*)?/index\.php\?/topic/\d+", re.IGNORECASE),
)
EXAMPLES = (
    "https://community.example.com/topic/4242-a-topic/",
    "https://community.example.com/forums/topic/4242-a-topic/page/3/",
    "https://example.org/index.php?/topic/17-title/",
)

_SESSION = frozenset({"csrfkey"})
_PAGE_PATH = re.compile(r"/page/\d+/?(?=$|\?|#)")


def matches(html: str, url: str = "") -> bool:
    """Whether the page is an Invision Community topic page."""
    head = html[:40000]
    return ("ipsLayout" in head or "ips_" in head or "data-ipsPagination" in html) and \
        'id="elComment_' in html.replace("id='elComment_", 'id="elComment_')


def start(url: str) -> Request:
    """The first request: the page given, whichever of the topic's pages it is."""
    return Request(drop_params(url, _SESSION), then=read_first)


def read_first(response: Response) -> Iterator[Found]:
    """The callback for the page a topic is archived from (archiver.adapters.forumpages)."""
    yield from read_seed(parse_page, response)


def _author(node: LexborNode) -> tuple[str, str | None]:
    found = node.css_first(".cAuthorPane_author") or node.css_first(".ipsComment_author")
    if found is None:
        return "", None
    link = found.css_first("a[href]")
    if link is not None and text_of(link):
        return text_of(link), link.attributes.get("href")
    return text_of(found), None


def _comment(node: LexborNode, base: str) -> ParsedComment:
    holder = node.css_first("[data-commentid]")
    post_id = ((holder.attributes.get("data-commentid") if holder is not None else None)
               or (node.id or "").removeprefix("elComment_"))
    body = node.css_first('[data-role="commentContent"]')
    author, author_url = _author(node)
    stamp = node.css_first(".ipsComment_meta time[datetime]") or node.css_first("time[datetime]")
    link = node.css_first('.ipsComment_meta a[href*="do=findComment"]') or node.css_first(
        'a[href*="do=findComment"]')
    permalink = resolve(base, link.attributes.get("href") if link is not None else None)
    return ParsedComment(
        source_id=post_id,
        body_html=(body.inner_html or "") if body is not None else "",
        body_text=render_children(body) if body is not None else "",
        author_name=author,
        author_url=resolve(base, author_url),
        published_text=text_of(stamp),
        published_at=iso_date(stamp.attributes.get("datetime")) if stamp is not None else None,
        permalink=permalink,
    )


def _pager(tree: LexborHTMLParser, base: str) -> tuple[int, int, list[tuple[int, str]]]:
    current, last = 0, 1
    links: list[tuple[int, str]] = []
    for pager in tree.css("ul.ipsPagination"):
        last = max(last, number_in(pager.attributes.get("data-pages") or "") or 1)
        active = pager.css_first("li.ipsPagination_active a, li.ipsPagination_active")
        if active is not None and current == 0:
            current = number_in(active.attributes.get("data-page") or text_of(active)) or 0
        for link in pager.css("a[data-page][href]"):
            number = number_in(link.attributes.get("data-page") or "")
            href = resolve(base, link.attributes.get("href"))
            if number is not None and href is not None:
                links.append((number, href))
    return current or 1, last, links


def _title(tree: LexborHTMLParser) -> str:
    title = tree.css_first("h1.ipsType_pageTitle")
    if title is not None and text_of(title):
        return text_of(title)
    og = tree.css_first('meta[property="og:title"]')
    if og is not None and og.attributes.get("content"):
        return " ".join((og.attributes.get("content") or "").split())
    return text_of(tree.css_first("title"))


def _closed(tree: LexborHTMLParser) -> bool:
    """A locked topic: its reply button marked negative ("Reply to this topic (Locked)")."""
    return tree.css_first('a[data-action="replyToTopic"].ipsButton_negative') is not None


def parse_page(html: str, url: str) -> ForumPage:
    """Read one page of an Invision Community topic."""
    tree = parse_html(html)
    own = drop_params(url, _SESSION).split("#", 1)[0]
    current, last, links = _pager(tree, url)
    first = next((href for number, href in links if number == 1), None)
    if first is None:
        first = _PAGE_PATH.sub("/", own) if current > 1 else own
    urls = page_urls(links, last, first)
    articles = tree.css('article[id^="elComment_"]')
    if not articles:
        raise ParseError(f"{url}: no Invision posts found (article#elComment_ID)")
    comments = [_comment(node, url) for node in articles]
    site = tree.css_first('meta[property="og:site_name"]')
    home = tree.css_first("#elSiteTitle, a#elLogo, nav.ipsBreadcrumb a")
    page = ForumPage(thread_url=first, title=_title(tree), number=current, last=last,
                     page_urls=urls, closed=_closed(tree),
                     site_name=(site.attributes.get("content") or "") if site is not None else "",
                     site_url=resolve(url, home.attributes.get("href")) or "" if home else "")
    if current == 1:  # the topic's first post: the thread
        lead, comments = comments[0], comments[1:]
        page.thread = ParsedThread(
            url=first, title=page.title, body_html=lead.body_html, body_text=lead.body_text,
            site_name=page.site_name, site_url=page.site_url, author=lead.author_name,
            published_text=lead.published_text, published_at=lead.published_at,
            permalink=lead.permalink)
    page.comments = comments
    return page
