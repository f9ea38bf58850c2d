"""SMF (Simple Machines Forum) 2.0 and 2.1: read a topic's pages (the first post as the thread,
every later post a comment numbered by its "Reply #N") and ask for all of its pages.

Markup read (the default theme's Display template): each post's ``div.post_wrapper`` with
``div.poster h4`` (the author, a profile link ``action=profile;u=N`` for members), the date in
``.keyinfo .smalltext`` (2.0) or ``.postinfo .smalltext`` (2.1): "« Reply #3 on: DATE »", the
subject ``h5#subject_ID`` (2.0) whose link is the post's permalink, the body ``div.inner#msg_ID``.
Pages: ``index.php?topic=ID.OFFSET`` (and the queryless ``index.php/topic,ID.OFFSET.html``) from
the ``div.pagelinks`` pager; a locked topic shows a locked topic icon.
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
    forum_date,
    number_in,
    read_seed,
    resolve,
    text_of,
)
from archiver.adapters.render import render_children
from archiver.errors import ParseError

PLATFORM = "smf"
URL_PATTERNS = (
    re.compile(r"^https?://[^/?#]+(?:/[^?#]*)?/index\.php\?(?:[^#]*[&;])?topic=\d+(?:\.\w+)?",
               re.IGNORECASE),
    re.compile(r"^https?://[^/?#]+(?:/[^?#]*)?/index\.php/topic,\d+(?:\.\w+)?\.html",
               re.IGNORECASE),
)
EXAMPLES = (
    "https://forum.example.org/index.php?topic=115887.0",
    "https://forum.example.org/smf/index.php?topic=42.20",
    "http://example.com/index.php/topic,42.40.html",
)

_SESSION = frozenset({"phpsessid"})
_MSG_ID = re.compile(r"^msg_(\d+)$")
# "« Reply #3 on: Fri, 07 January 2022, 11:21:09 »", "« on: ... »", 2.1: "Reply #3 on: ..."
_STAMP = re.compile(r"^[«\s]*(?:(?:Reply\s*)?#(?P<n>\d+)\s*)?[^:«»]*?:\s*(?P<date>.+?)[\s»]*$",
                    re.IGNORECASE)
# a page's offset in a topic URL: topic=ID.OFFSET or topic,ID.OFFSET.html
_TOPIC = re.compile(r"(topic[=,])(\d+)\.(\d+)")


def matches(html: str, url: str = "") -> bool:
    """Whether the page is an SMF topic page (its script variables and post markup)."""
    head = html[:30000]
    return ("var smf_theme_url" in head or "smf_scripturl" in head) and \
        'class="post_wrapper"' in html


def start(url: str) -> Request:
    """The first request: the page given, whichever of the topic's pages it is."""
    return Request(drop_params(url, _SESSION), then=read_first)


def read_first(response: Response) -> Iterator[Found]:
    """The callback for the page a topic is archived from (archiver.adapters.forumpages)."""
    yield from read_seed(parse_page, response)


def _post_id(wrapper: LexborNode) -> str:
    body = wrapper.css_first('div.inner[id^="msg_"]')
    if body is not None:
        found = _MSG_ID.match(body.id or "")
        if found:
            return found[1]
    subject = wrapper.css_first('h5[id^="subject_"]')
    if subject is not None:
        return (subject.id or "").removeprefix("subject_")
    parent = wrapper.parent  # 2.1: div.windowbg#msgID around the wrapper
    return (parent.id or "").removeprefix("msg") if parent is not None else ""


def _author(wrapper: LexborNode) -> tuple[str, str | None]:
    head = wrapper.css_first(".poster h4")
    if head is None:
        return "", None
    for link in head.css("a[href]"):
        href = link.attributes.get("href") or ""
        if "action=profile" in href:
            return text_of(link), href
    return text_of(head), None  # a guest: the name alone


def _comment(wrapper: LexborNode, base: str) -> ParsedComment:
    post_id = _post_id(wrapper)
    body = wrapper.css_first('div.inner[id^="msg_"]') or wrapper.css_first(".post .inner")
    author, author_url = _author(wrapper)
    stamp = wrapper.css_first(".keyinfo .smalltext, .postinfo .smalltext")
    shown = number = None
    if stamp is not None:
        found = _STAMP.match(text_of(stamp))
        if found:
            shown, number = found["date"].strip(), number_in(found["n"] or "")
    link = wrapper.css_first(f'h5#subject_{post_id} a, .postinfo a[href*="msg"]')
    permalink = resolve(base, link.attributes.get("href") if link is not None else None)
    return ParsedComment(
        source_id=post_id,
        body_html=(body.inner_html or "") if body is not None else "",
        body_text=render_children(body) if body is not None else "",
        author_name=author,
        author_url=drop_params(resolve(base, author_url) or "", _SESSION) or None,
        published_text=shown or "",
        published_at=forum_date(shown or ""),
        number=number,
        permalink=drop_params(permalink, _SESSION) if permalink else None,
    )


def _offset_url(url: str, offset: int) -> str:
    return _TOPIC.sub(lambda m: f"{m[1]}{m[2]}.{offset}", url, count=1)


def _pager(tree: LexborHTMLParser, base: str, own: str) -> tuple[int, int, dict[int, str]]:
    """(this page's number, the last page's, every page's URL) from the pager's links, whose
    URLs carry the first post's offset (topic=ID.20 is page 2 at 20 posts a page)."""
    current, last = 0, 1
    seen: dict[int, str] = {}
    for pager in tree.css(".pagelinks, .pagesection .pagelinks"):
        for node in pager.css("strong, span.current_page"):
            number = number_in(text_of(node))
            if number is not None and current == 0:
                current = number
        for link in pager.css("a[href]"):
            number = number_in(text_of(link))
            href = resolve(base, link.attributes.get("href"))
            if number is None or href is None or not _TOPIC.search(href):
                continue
            seen[number] = drop_params(href, _SESSION)
    current = current or 1
    last = max([current, *seen])
    per_page = 0
    for number, href in seen.items():
        offset = int(_TOPIC.search(href)[3])  # type: ignore[index]
        if number > 1 and offset:
            per_page = offset // (number - 1)
            template = href
            break
    urls = dict(seen)
    if per_page:
        for number in range(1, last + 1):
            urls.setdefault(number, _offset_url(template, (number - 1) * per_page))
    if current == 1:
        urls[1] = own if _TOPIC.search(own) else urls.get(1, own)
    return current, last, urls


def _title(tree: LexborHTMLParser) -> str:
    crumbs = tree.css(".navigate_section li.last")
    if crumbs and text_of(crumbs[-1]):
        return text_of(crumbs[-1])
    subject = tree.css_first("#top_subject")
    if subject is not None:
        return re.sub(r"\s*\(.*?\)\s*$", "", text_of(subject)).removeprefix("Topic: ").strip()
    return text_of(tree.css_first("title"))


def _closed(tree: LexborHTMLParser) -> bool:
    """A locked topic: its icon in the topic header (2.0) or the lock icon (2.1)."""
    return (tree.css_first('#forumposts .cat_bar img[src*="locked"]') is not None
            or tree.css_first("#forumposts .cat_bar .main_icons.lock, #forumposts .lock")
            is not None)


def _root(url: str) -> str:
    """The forum's base URL: its index.php's folder."""
    return url.split("?", 1)[0].removesuffix("index.php")


def parse_page(html: str, url: str) -> ForumPage:
    """Read one page of an SMF topic."""
    tree = parse_html(html)
    own = drop_params(url, _SESSION).split("#", 1)[0]
    current, last, urls = _pager(tree, url, own)
    canonical = tree.css_first('link[rel="canonical"]')
    first = urls.get(1)
    if first is None and canonical is not None and current == 1:
        first = resolve(url, canonical.attributes.get("href"))
    if first is None:
        first = _offset_url(own, 0)
    urls[1] = first
    wrappers = tree.css("div.post_wrapper")
    if not wrappers:
        raise ParseError(f"{url}: no SMF posts found (div.post_wrapper)")
    comments = [_comment(w, url) for w in wrappers]
    forum = tree.css_first(".navigate_section li a")
    home = resolve(url, forum.attributes.get("href")) if forum is not None else None
    page = ForumPage(thread_url=first, title=_title(tree), number=current, last=last,
                     page_urls=urls, closed=_closed(tree), site_name=text_of(forum),
                     site_url=_root(drop_params(home, _SESSION)) if home else "")
    lead = comments[0]
    if current == 1 and lead.number is None:  # the topic's post: no "Reply #"
        comments = comments[1:]
        page.thread = ParsedThread(
            url=first, title=page.title, body_html=lead.body_html, body_text=lead.body_text,
            site_name=page.site_name, site_url=page.site_url, author=lead.author_name,
            published_text=lead.published_text, published_at=lead.published_at,
            permalink=lead.permalink)
    page.comments = comments
    return page

