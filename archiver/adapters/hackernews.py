"""Hacker News: an item page (``item?id=N``) and its "More" pages, or the whole tree at once from
the Algolia items API (one request), with the HTML pages as the fall-back.

The item page is read first (the post, whether it is still open, and its comments in HN's
order); on news.ycombinator.com the adapter then asks ``hn.algolia.com/api/v1/items/N`` for the
whole tree and falls back to what the HTML pages show when that answer cannot be had or read.
HN's rows are flat: a comment's depth is its indent (``td.ind[indent]``, or the spacer image's
width / 40 on older pages) and its parent the nearest shallower comment before it (or the
page's own "parent" link). Markup of 2015 (``tr.athing`` without id, ``span.comment``), 2020
(``span.commtext``, ``span.age`` without title) and today (``div.commtext``, ``span.age[title]``)
is read alike. Dead, flagged and deleted comments are kept as the page shows them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.adapters.base import PageFacts, ParsedComment, ParsedPage, ParsedThread
from archiver.adapters.contract import JSON, Found, Request, Response
from archiver.adapters.dates import parse_date
from archiver.adapters.depth import parse_html
from archiver.adapters.render import html_to_text, render_children
from archiver.errors import ParseError

PLATFORM = "hackernews"
URL_PATTERNS = (
    re.compile(r"^https?://news\.ycombinator\.com/item\?(?:[^#]*&)?id=\d+(?:[&#].*)?$",
               re.IGNORECASE),
)
EXAMPLES = (
    "https://news.ycombinator.com/item?id=48350598",
    "https://news.ycombinator.com/item?id=9681697&p=2",
    "http://news.ycombinator.com/item?id=1#15",
)
SITE_NAME = "Hacker News"
HN_HOST = "news.ycombinator.com"  # the one site the Algolia index covers
ALGOLIA_ITEM = "https://hn.algolia.com/api/v1/items/{id}"
INDENT_PX = 40  # older pages give the depth only as the spacer image's width: 40 px a level
# what HN prints beside a comment it does not show as a live one (in the comhead or the body)
MARKS = ("[dead]", "[flagged]", "[deleted]")
_ITEM_ID = re.compile(r"item\?id=(\d+)")
_YEAR = re.compile(r"\d{4}")


def matches(html: str, url: str = "") -> bool:
    """Whether the page is a Hacker News item page (``<html op="item">`` and its table)."""
    head = html[:4096]
    return 'op="item"' in head and ("hnmain" in html[:20000] or "athing" in html)


def item_id(url: str) -> str | None:
    """The id in an ``item?id=N`` URL, or None."""
    values = parse_qs(urlsplit(url).query).get("id") or []
    return values[0] if values and values[0].isdecimal() else None


def item_url(url: str, page: int = 1) -> str:
    """The item page's own URL (the thread's): ``item?id=N``, with ``&p=P`` past page 1."""
    parts = urlsplit(url)
    found = item_id(url)
    if found is None:
        raise ParseError(f"{url}: no item id in the URL (item?id=N)")
    tail = f"&p={page}" if page > 1 else ""
    return f"{parts.scheme}://{parts.netloc}/item?id={found}{tail}"


def _page_number(url: str) -> int:
    values = parse_qs(urlsplit(url).query).get("p") or []
    return int(values[0]) if values and values[0].isdecimal() and len(values[0]) < 7 else 1


def start(url: str) -> Request:
    """The first request: the item page (its first page, or the page the URL names). The
    callbacks are told the origin asked for: a mirror (fetch.origin_map) answers from another
    address, yet the thread, its links and the Algolia question stay news.ycombinator.com's."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return Request(item_url(url, _page_number(url)),
                   then=functools.partial(read_item, origin=origin))


def _as_asked(response: Response, origin: str | None) -> str:
    """The answer's URL on the origin that was asked for (see ``start``)."""
    if not origin:
        return response.url
    parts = urlsplit(response.url)
    return origin + parts.path + (f"?{parts.query}" if parts.query else "")


def _text(node: LexborNode | None) -> str:
    return " ".join(node.text(deep=True).split()) if node is not None else ""


def _absolute(base: str, href: str | None) -> str | None:
    """href made absolute; HN's pages all sit at the site's root, so a relative link (the usual
    ``user?id=x``) is the root plus the link: the same as urljoin, without its cost per row."""
    if not href:
        return None
    if href.startswith(("http://", "https://", "/", "#", "?", ".")) or ":" in href.split("?")[0]:
        return urljoin(base, href)
    parts = urlsplit(base)
    if parts.path.count("/") == 1:  # the page itself is at the root
        return f"{parts.scheme}://{parts.netloc}/{href}"
    return urljoin(base, href)


def _stamp(node: LexborNode | None) -> tuple[str, datetime | None]:
    """(published_text, published_at) from an ``span.age`` (or the age link of old pages).

    The title (``"2026-06-01T00:51:16 1780275076"``: the time in UTC and as epoch seconds) is
    taken when the page gives it: the shown "4 hours ago" changes with every visit, and a
    changed date would count as an edit on every refresh. Older pages show only the text.
    """
    if node is None:
        return "", None
    title = (node.attributes.get("title") or "").split()
    if title:
        when: datetime | None = None
        if len(title) > 1 and title[1].isdecimal():
            when = datetime.fromtimestamp(int(title[1]), UTC)
        else:
            when = parse_date(title[0])
        return title[0], when
    shown = _text(node)
    return shown, _shown_date(shown)


def _shown_date(shown: str) -> datetime | None:
    """An absolute date as older pages show it ("on Jan 28, 2009"); "3 hours ago" is none."""
    day = shown.removeprefix("on ").strip()
    if not _YEAR.search(day):  # "3 hours ago": no date to read (and 16 formats not to try)
        return None
    try:
        return datetime.strptime(day, "%b %d, %Y").replace(tzinfo=UTC)
    except ValueError:
        return parse_date(day) if day else None


def _comhead_age(comhead: LexborNode | None) -> LexborNode | None:
    if comhead is None:
        return None
    age = comhead.css_first("span.age")
    if age is not None:
        return age
    for link in comhead.css("a"):  # 2015: the age is the link to the item itself
        if _ITEM_ID.match(link.attributes.get("href") or ""):
            return link
    return None


def _author(scope: LexborNode | None, base: str) -> tuple[str, str | None]:
    if scope is None:
        return "", None
    link = scope.css_first("a.hnuser")
    if link is None:
        link = next((a for a in scope.css("a")
                     if (a.attributes.get("href") or "").startswith("user?id=")), None)
    if link is None:
        return "", None
    return _text(link), _absolute(base, link.attributes.get("href"))


def _site_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _story_row(tree: LexborHTMLParser) -> LexborNode | None:
    """The row of the item itself: the first ``tr.athing`` of ``table.fatitem`` (today) or the
    first ``tr.athing`` holding a ``td.title`` (2015)."""
    row = tree.css_first("table.fatitem tr.athing")
    if row is not None:
        return row
    return next((r for r in tree.css("tr.athing") if r.css_first("td.title") is not None), None)


def parse_thread(tree: LexborHTMLParser, url: str) -> ParsedThread:
    """The item (a story, or a comment on its own page) from an item page."""
    row = _story_row(tree)
    if row is None:
        raise ParseError(f"{url}: no Hacker News item on the page (no tr.athing)")
    thread_id = row.attributes.get("id") or item_id(url)
    if not thread_id:
        raise ParseError(f"{url}: the item row has no id")
    thread_url = item_url(urljoin(url, f"item?id={thread_id}"))
    title_link = row.css_first("span.titleline > a") or row.css_first("td.title > a")
    subtext = None
    sub_row = row.next
    while sub_row is not None and sub_row.tag != "tr":
        sub_row = sub_row.next
    if sub_row is not None:
        subtext = sub_row.css_first("td.subtext")
    if title_link is not None:  # a story, poll or job
        title = _text(title_link)
        author, _ = _author(subtext, url)
        published_text, published_at = _stamp(_comhead_age(subtext))
        body_node = tree.css_first("div.toptext")
    else:  # a comment's own page: the comment is the post, titled by the story it is on
        comhead = row.css_first("span.comhead")
        onstory = row.css_first("span.onstory a")
        author, _ = _author(comhead, url)
        title = f"Comment by {author}" + (f" on: {_text(onstory)}" if onstory is not None else "")
        published_text, published_at = _stamp(_comhead_age(comhead))
        body_node = _body_node(row)
    return ParsedThread(
        url=thread_url,
        title=title,
        body_html=_inner_html(body_node),
        body_text=render_children(body_node) if body_node is not None else "",
        site_name=SITE_NAME,
        site_url=_site_url(url),
        author=author,
        published_text=published_text,
        published_at=published_at,
        permalink=thread_url,
    )


def _body_node(row: LexborNode) -> LexborNode | None:
    """The comment's text: ``.commtext`` (2016 on), else ``span.comment`` (2015)."""
    return row.css_first(".commtext") or row.css_first("span.comment")


def _inner_html(node: LexborNode | None) -> str:
    """A body's HTML without the reply link HN puts inside ``span.commtext`` on some pages."""
    if node is None:
        return ""
    if node.css_first("div.reply") is None:
        return (node.inner_html or "").strip()
    clone = LexborHTMLParser(f"<div id='hn-body'>{node.inner_html or ''}</div>")
    for reply in clone.css("div.reply"):
        reply.decompose()
    root = clone.css_first("#hn-body")
    return (root.inner_html or "").strip() if root is not None else ""


def _depth(row: LexborNode) -> int:
    ind = row.css_first("td.ind")
    if ind is None:
        return 0
    indent = (ind.attributes.get("indent") or "").strip()
    if indent.isdecimal() and len(indent) < 6:
        return int(indent)
    img = ind.css_first("img")
    width = ((img.attributes.get("width") or "") if img is not None else "").strip()
    return int(width) // INDENT_PX if width.isdecimal() and len(width) < 8 else 0


def _marks(comhead: LexborNode | None, body: LexborNode | None) -> list[str]:
    head = _text(comhead)
    shown = [mark for mark in MARKS if mark in head]
    if body is None or not _text(body):
        shown += [mark for mark in ("[deleted]",) if mark not in shown]
    return shown


def _parent_link(comhead: LexborNode | None) -> str | None:
    """The id the page's own "parent" link names (``<a href="#ID">parent</a>``), if any."""
    if comhead is None:
        return None
    for link in comhead.css("span.navs a, span.par a"):
        if _text(link) == "parent":
            href = link.attributes.get("href") or ""
            target = href.removeprefix("#") if href.startswith("#") else item_id(urljoin(
                "https://x/", href)) or ""
            return target if target.isdecimal() else None
    return None


def parse_comments(tree: LexborHTMLParser, url: str) -> list[ParsedComment]:
    """Every comment row of an item page, in the page's order, with depth and parent."""
    story = _story_row(tree)
    skip = story.mem_id if story is not None else None
    rows = [row for row in tree.css("tr.athing")
            if row.mem_id != skip and row.css_first("td.ind") is not None]
    comments: list[ParsedComment] = []
    ancestors: list[str] = []  # ancestors[d]: the last comment seen at depth d
    for row in rows:
        comhead = row.css_first("span.comhead")
        age = _comhead_age(comhead)
        source_id = row.attributes.get("id")
        if not source_id and age is not None:  # 2015: the id is only in the age link
            link = age if age.tag == "a" else age.css_first("a")
            href = link.attributes.get("href") if link is not None else None
            source_id = item_id(urljoin(url, href)) if href else None
        if not source_id:
            continue  # a row HN shows without any id is no comment we can keep apart
        depth = _depth(row)
        del ancestors[depth:]
        parent = _parent_link(comhead) or (ancestors[depth - 1] if 0 < depth <= len(ancestors)
                                           else None)
        while len(ancestors) < depth:  # a page that starts deep (a "More" page): unknown above
            ancestors.append("")
        ancestors.append(source_id)
        body = _body_node(row)
        author_name, author_url = _author(comhead, url)
        published_text, published_at = _stamp(age)
        body_html = _inner_html(body)
        if body is None:
            body_text = ""
        elif body.css_first("div.reply") is None:
            body_text = render_children(body)
        else:  # the reply link inside the body (2015-2020 pages, a <p> left open): left out
            body_text = html_to_text(body_html)
        marks = _marks(comhead, body)
        if marks and not body_text.startswith(marks[0]):
            label = " ".join(marks)
            body_html = f"<p>{label}</p>{body_html}" if body_html else f"<p>{label}</p>"
            body_text = f"{label}\n\n{body_text}" if body_text else label
        comments.append(ParsedComment(
            source_id=source_id,
            body_html=body_html,
            body_text=body_text,
            author_name=author_name,
            author_url=author_url,
            published_text=published_text,
            published_at=published_at,
            permalink=_absolute(url, f"item?id={source_id}"),
            parent_source_id=parent or None,
            depth=depth,
        ))
    return comments


def more_url(tree: LexborHTMLParser, url: str) -> str | None:
    """The next page of the item's comments (``a.morelink``, "More"), if the page has one."""
    link = tree.css_first("a.morelink")
    href = link.attributes.get("href") if link is not None else None
    return urljoin(url, href) if href else None


def comments_closed(tree: LexborHTMLParser) -> bool:
    """Whether the item takes no more comments: its page offers no comment form (HN drops it
    once a thread is archived, for everyone, logged in or not)."""
    return tree.css_first('form[action="comment"]') is None


def parse_page(html: str, url: str) -> ParsedPage:
    """Read one item page (the item, its comments, whether it is closed, its "More" page)."""
    tree = parse_html(html)
    return ParsedPage(
        thread=parse_thread(tree, url),
        comments=parse_comments(tree, url),
        comments_closed=comments_closed(tree),
        next_page_url=more_url(tree, url),
        page_number=_page_number(url),
    )


def _html_pages(comments: list[ParsedComment], facts: PageFacts,
                more: str | None) -> Iterator[Found]:
    """What one HTML page gives: its comments, its facts and its "More" page."""
    yield from comments
    yield facts
    if more is not None:
        yield Request(more, then=functools.partial(read_more, origin=_origin(more)))


def read_item(response: Response, *, origin: str | None = None) -> Iterator[Found]:
    """The item page: the post, then the Algolia tree (on news.ycombinator.com) with this
    page's comments and "More" pages as its fall-back, or those pages straight away."""
    url = _as_asked(response, origin)
    tree = parse_html(response.text)
    thread = parse_thread(tree, url)
    yield thread
    comments = parse_comments(tree, url)
    facts = PageFacts(number=_page_number(url), comments_closed=comments_closed(tree))
    more = more_url(tree, url)
    if urlsplit(thread.url).hostname == HN_HOST:
        root = item_id(thread.url) or ""
        yield Request(
            ALGOLIA_ITEM.format(id=root), accept=JSON,
            then=functools.partial(read_algolia, thread=thread, closed=facts.comments_closed),
            fallback=functools.partial(_html_pages, comments, facts, more),
        )
    else:  # HN's software elsewhere (or a saved copy): the pages are all there is
        yield from _html_pages(comments, facts, more)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def read_more(response: Response, *, origin: str | None = None) -> Iterator[Found]:
    """A "More" page (``item?id=N&p=P``): the post again, its comments, the next page."""
    url = _as_asked(response, origin)
    tree = parse_html(response.text)
    yield parse_thread(tree, url)
    yield from _html_pages(
        parse_comments(tree, url),
        PageFacts(number=_page_number(url), comments_closed=comments_closed(tree)),
        more_url(tree, url),
    )


def _algolia_stamp(item: dict[str, Any]) -> tuple[str, datetime | None]:
    """The same (published_text, published_at) the item page's ``span.age[title]`` gives."""
    epoch = item.get("created_at_i")
    created = str(item.get("created_at") or "")
    text = created.split(".", 1)[0].removesuffix("Z")
    when = datetime.fromtimestamp(int(epoch), UTC) if isinstance(epoch, int) else parse_date(text)
    return text, when


def algolia_comments(root: dict[str, Any], site_url: str) -> list[ParsedComment]:
    """The tree under an Algolia item, depth first in the API's order (children as listed).

    A deleted comment (no author, no text) is kept as "[deleted]" when replies hang below it,
    as HN's page shows it; a deleted one without replies is left out, as HN leaves it out.
    """
    found: list[ParsedComment] = []
    root_id = root.get("id")
    pending: list[tuple[dict[str, Any], int, Any]] = [
        (child, 0, root_id) for child in reversed(root.get("children") or [])]
    while pending:
        item, depth, above = pending.pop()
        if not isinstance(item, dict) or item.get("id") is None:
            raise ParseError("an Algolia item without an id")
        children = item.get("children") or []
        author = item.get("author")
        text = item.get("text")
        if author is None and not text and not children:
            continue
        source_id = str(item["id"])
        parent = item.get("parent_id", above)
        body_html = text or "<p>[deleted]</p>"
        published_text, published_at = _algolia_stamp(item)
        found.append(ParsedComment(
            source_id=source_id,
            body_html=body_html,
            body_text=html_to_text(body_html),
            author_name=author or "",
            author_url=urljoin(site_url, f"user?id={author}") if author else None,
            published_text=published_text,
            published_at=published_at,
            permalink=urljoin(site_url, f"item?id={source_id}"),
            parent_source_id=None if parent in (None, root_id) else str(parent),
            depth=depth,
        ))
        pending.extend((child, depth + 1, item["id"]) for child in reversed(children))
    return found


def read_algolia(response: Response, *, thread: ParsedThread,
                 closed: bool = False) -> Iterable[Found]:
    """The Algolia items answer: the post (as its item page showed it) and the whole tree."""
    data = response.json()
    if not isinstance(data, dict) or "children" not in data:
        raise ParseError(f"{response.url}: not an Algolia item (no children)")
    if str(data.get("id")) != (item_id(thread.url) or ""):
        raise ParseError(f"{response.url}: item {data.get('id')} is not {thread.url}")
    found: list[Found] = [thread]
    found.extend(algolia_comments(data, thread.site_url or _site_url(thread.url)))
    found.append(PageFacts(number=1, comments_closed=closed))
    return found
