"""phpBB 3 (prosilver and its descendants, subsilver2): read a topic's pages into the post (the
topic's first post) and its comments (every later post), whichever page of it is asked for.

Pages are ``viewtopic.php?t=ID&start=N``. Whatever URL is given (``?f=..&t=..&start=N``,
``?p=ID#pID``, a session id), the topic is read from page 1, which shows the post and leads to
every page: the starts from 0 to the last page link's, in steps of the page size (the gcd of the
starts linked, or the page-jump box's ``data-per-page``), so a pager that shows "1 2 3 … 7" still
leads to page 6. Page URLs are built in phpBB's canonical form (``viewtopic.php?t=ID&start=N``,
what ``<link rel=canonical>`` names: no forum id, which changes when a topic moves, no sid).

A post's number is the "#N" the page shows beside it (styles that show it), else its position in
the topic (1 = the first post, the thread's post; page start + place on the page). Dates are the
bare text after the author (prosilver: ``p.author``; subsilver2: after "Posted:"), or 3.3's
``<time datetime>``; read as UTC when no zone is shown (the board's zone is not on the page).
A locked topic (the reply button's lock, 3.0's ``locked-icon``, subsilver2's locked image) has
its comments closed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.adapters.base import PageFacts, ParsedComment, ParsedPage, ParsedThread
from archiver.adapters.contract import Found, Request, Response
from archiver.adapters.dates import parse_date
from archiver.adapters.depth import parse_html
from archiver.adapters.forum import MAX_DIGITS, body_of, meta, page_requests, resolve, text_of
from archiver.errors import ParseError

PLATFORM = "phpbb"
URL_PATTERNS = (
    re.compile(r"^https?://[^/?#]+/(?:[^?#]*/)?viewtopic\.php\?(?:[^#]*&)?(?:t|p)=\d+",
               re.IGNORECASE),
)
EXAMPLES = (
    "https://www.dostips.com/forum/viewtopic.php?f=3&t=7153&start=45",
    "https://forum.example.org/viewtopic.php?t=167",
    "https://www.phpbb.com/community/viewtopic.php?p=15123456#p15123456",
)

_POST_ID = re.compile(r"^p(\d+)$")
_NUMBER = re.compile(r"#\s*(\d{1,9})\b")
_LEAD = re.compile(r"^[\s»\xbb:|,-]+")


@dataclass(slots=True)
class TopicPage(ParsedPage):
    """One page of a topic as read: the generic page (its comments: every post but the topic's
    first) and its posts in page order, with where it leads."""

    posts: list[ParsedComment] = field(default_factory=list)
    first_page: bool = False  # the page shows the topic's first post (the thread's post)
    page_urls: list[str] = field(default_factory=list)  # every page of the topic, page 1 first
    here: str = ""  # this page's URL in canonical form, when known


def matches(html: str, url: str = "") -> bool:
    """Whether the page is a phpBB topic page (prosilver's body id, subsilver2's post cells)."""
    head = html[:200_000]
    if 'id="phpbb"' not in head and "phpbb" not in head.lower():
        return False
    tree = parse_html(html)
    if tree.css_first("div.post[id^='p'] .postbody, div.post[id^='p'] .content") is not None:
        return True
    return tree.css_first("b.postauthor") is not None and tree.css_first(".postbody") is not None


def _query(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def _one(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    value = values[0].strip() if values else ""
    return value if value.isdecimal() and len(value) <= MAX_DIGITS else None


def _is_viewtopic(href: str) -> bool:
    # viewtopic.php, or an offline mirror's renamed copy (HTTrack: viewtopic9d55.html?t=...)
    return urlsplit(href).path.rsplit("/", 1)[-1].lower().startswith("viewtopic")


# phpBB's jumpto() script (every 3.0 style; 3.1+ keep it in data-base-url): the topic's page URL
# and the page size, which still name the topic where a mirror rewrote every link
_JUMP_BASE = re.compile(r"""base_url\s*=\s*['"]([^'"]*)['"]""")
_JUMP_PER_PAGE = re.compile(r"""per_page\s*=\s*['"](\d{1,9})['"]""")


def _jump_script(html: str) -> tuple[str, str]:
    """The jumpto() script's base_url (entities as written) and per_page, or empty strings."""
    base = _JUMP_BASE.search(html)
    per_page = _JUMP_PER_PAGE.search(html)
    return (base[1].replace("&amp;", "&") if base else ""), (per_page[1] if per_page else "")


def _topic_id(tree: LexborHTMLParser, url: str, jump_base: str = "") -> str | None:
    """The topic's id: from the URL, the canonical link, the title link, the search form's
    hidden field, the reply button or the jumpto script."""
    found = _one(_query(url), "t")
    if found:
        return found
    for selector, attr in (('link[rel="canonical"]', "href"), ("h2.topic-title a", "href"),
                           ("#page-body h2 a", "href"), ("#pageheader h2 a", "href"),
                           ('a[href*="mode=reply"]', "href")):
        node = tree.css_first(selector)
        if node is not None:
            found = _one(_query(node.attributes.get(attr) or ""), "t")
            if found:
                return found
    hidden = tree.css_first('input[name="t"]')
    if hidden is not None:
        value = (hidden.attributes.get("value") or "").strip()
        if value.isdecimal() and len(value) <= MAX_DIGITS:
            return value
    return _one(_query(jump_base), "t")


def forum_base(url: str) -> str:
    """The board's base URL: the folder viewtopic.php is served from."""
    parts = urlsplit(url)
    return urljoin(f"{parts.scheme}://{parts.netloc}{parts.path}", "./")


def topic_url(base: str, topic: str, start: int = 0) -> str:
    """A topic page's URL in phpBB's canonical form."""
    return f"{base}viewtopic.php?t={topic}" + (f"&start={start}" if start else "")


def _page_starts(tree: LexborHTMLParser, topic: str) -> list[int]:
    """The starts of the topic's pages linked from this page (pager, title, arrows). Read from
    the raw href (a relative link's query is the resolved one's): a page holds hundreds of
    links, and resolving each costs more than the rest of the page."""
    starts: set[int] = set()
    for link in tree.css('a[href*="t="]'):
        href = link.attributes.get("href") or ""
        path, _, query_text = href.partition("?")
        name = path.rsplit("/", 1)[-1].lower()
        if name and not name.startswith("viewtopic"):
            continue
        query = parse_qs(query_text.split("#", 1)[0])
        if _one(query, "t") != topic or {"p", "view", "mode"} & query.keys():
            continue
        start = _one(query, "start")
        starts.add(int(start) if start else 0)
    return sorted(starts)


def _per_page(tree: LexborHTMLParser, starts: list[int], scripted: str = "") -> int | None:
    node = tree.css_first("[data-per-page]")
    value = (node.attributes.get("data-per-page") or "") if node is not None else scripted
    if value.isdecimal() and 0 < int(value) and len(value) <= MAX_DIGITS:
        return int(value)
    step = 0
    for start in starts:
        step = math.gcd(step, start)
    return step or None


def _page_of(tree: LexborHTMLParser) -> tuple[int, int] | None:
    """The pager's "Page <strong>N</strong> of <strong>M</strong>" (any language: an element
    with exactly two numbers in strong), as (N, M)."""
    for holder in tree.css(".pagination, .pagination a, .pagination span, td.nav"):
        numbers = []
        child = holder.child
        while child is not None:
            if child.tag == "strong":
                text = text_of(child)
                if not (text.isdecimal() and len(text) <= MAX_DIGITS):
                    break
                numbers.append(int(text))
            child = child.next
        if len(numbers) == 2 and 1 <= numbers[0] <= numbers[1]:
            return numbers[0], numbers[1]
    return None


def _current_page(tree: LexborHTMLParser) -> int | None:
    """The page number the pager marks as current (3.1+: li.active; 3.0 and subsilver2:
    "Page <strong>N</strong> of M"; 3.0's pager list: its strong)."""
    node = tree.css_first(".pagination li.active span") or tree.css_first(
        ".pagination li.active")
    text = text_of(node)
    if text.isdecimal() and len(text) <= MAX_DIGITS:
        return int(text)
    page_of = _page_of(tree)
    if page_of is not None:
        return page_of[0]
    text = text_of(tree.css_first(".pagination span strong"))
    return int(text) if text.isdecimal() and len(text) <= MAX_DIGITS else None


def _date_from(line: LexborNode | None) -> tuple[str, datetime | None]:
    """The date a post shows: 3.3's <time datetime>, else the last bare text of the line."""
    if line is None:
        return "", None
    stamp = line.css_first("time[datetime]")
    if stamp is not None:
        text = text_of(stamp)
        return text, _iso(stamp.attributes.get("datetime") or "") or parse_phpbb_date(text)
    text = ""
    child = line.child
    while child is not None:
        if child.tag == "-text":
            bare = " ".join((child.text_content or "").split())
            bare = _LEAD.sub("", bare).strip()
            if bare:
                text = bare
        child = child.next
    return text, parse_phpbb_date(text) if text else None


def _iso(value: str) -> datetime | None:
    try:
        stamp = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).astimezone(UTC)


# the board's date format is each user's choice: phpBB's defaults and the common presets
_DATE_FORMATS = (
    "%a %b %d, %Y %I:%M %p",  # D M d, Y g:i a (phpBB's default): Mon Jul 18, 2016 8:51 am
    "%a %b %d, %Y %H:%M",
    "%a %d %b %Y, %H:%M",  # D d M Y, H:i
    "%d %b %Y %H:%M",  # d M Y H:i: 18 Jul 2016 08:51
    "%d %b %Y, %H:%M",
    "%d %B %Y, %H:%M",
    "%d.%m.%Y, %H:%M",  # d.m.Y, H:i (German boards)
    "%d.%m.%Y %H:%M",
    "%b %d, %Y %I:%M %p",
    "%B %d, %Y, %I:%M %p",
    "%Y-%m-%d %H:%M",
)


def parse_phpbb_date(text: str) -> datetime | None:
    """The UTC datetime a phpBB date string names, when its format is a known one (relative
    forms, "Today, 08:51", and other languages' month names are kept as text only)."""
    cleaned = " ".join(text.replace("\xa0", " ").split())
    first = _LAST_FORMAT[0]  # a board prints every date alike: its format first
    for index in (first, *range(len(_DATE_FORMATS))):
        try:
            stamp = datetime.strptime(cleaned, _DATE_FORMATS[index]).replace(tzinfo=UTC)
        except ValueError:
            continue
        _LAST_FORMAT[0] = index
        return stamp
    return parse_date(cleaned)


_LAST_FORMAT = [0]  # the index of the format that read the last date (only an order to try)


def _author(scope: LexborNode, line: LexborNode | None, url: str) -> tuple[str, str | None]:
    """The poster's name and profile URL (a guest has a name and no profile)."""
    selectors = ("a.username, a.username-coloured, span.username, span.username-coloured",)
    for where in (line, scope.css_first(".postprofile"), scope):
        if where is None:
            continue
        node = where.css_first(selectors[0])
        if node is not None:
            href = node.attributes.get("href") if node.tag == "a" else None
            return text_of(node), resolve(url, href)
    name = text_of(scope.css_first("b.postauthor"))  # subsilver2: the name, the profile apart
    profile = scope.css_first('a[href*="mode=viewprofile"]')
    return name, resolve(url, profile.attributes.get("href")) if profile is not None else None


def _number(line: LexborNode | None) -> int | None:
    """The "#N" a style shows beside the post (a link or a span in the author line)."""
    if line is None:
        return None
    found = _NUMBER.search(text_of(line))
    return int(found[1]) if found else None


def _post_line(scope: LexborNode, post_id: str) -> LexborNode | None:
    """The element holding the author and the date: prosilver's p.author; subsilver2's cell
    around the post's own link (viewtopic.php?p=ID#pID) with "Posted: DATE" beside it."""
    line = scope.css_first("p.author")
    if line is not None:
        return line
    for link in scope.css(f'a[href*="#p{post_id}"]'):
        href = link.attributes.get("href") or ""
        if not href.startswith("#"):
            return link.parent
    return None


def _read_post(scope: LexborNode, post_id: str, url: str, body: LexborNode | None
               ) -> ParsedComment:
    line = _post_line(scope, post_id)
    name, profile = _author(scope, line, url)
    date_text, date = _date_from(line)
    body_html, body_text = body_of(body)
    return ParsedComment(
        source_id=post_id, body_html=body_html, body_text=body_text, author_name=name,
        author_url=profile, published_text=date_text, published_at=date,
        number=_number(line), permalink=None,
    )


def _prosilver_posts(tree: LexborHTMLParser, url: str) -> list[ParsedComment]:
    posts = []
    for node in tree.css("div.post[id]"):
        found = _POST_ID.match(node.attributes.get("id") or "")
        if found is None:
            continue
        posts.append(_read_post(node, found[1], url, node.css_first("div.content")))
    return posts


def _subsilver_posts(tree: LexborHTMLParser, url: str) -> list[ParsedComment]:
    """subsilver2: a post is a table.tablebg whose first row holds ``<a name="pID">`` and the
    poster's name, its next row the message (div.postbody)."""
    posts = []
    for anchor in tree.css("a[name]"):
        found = _POST_ID.match(anchor.attributes.get("name") or "")
        if found is None:
            continue
        row = anchor.parent
        while row is not None and row.tag != "tr":
            row = row.parent
        if row is None:
            continue
        scope = row.parent  # the tbody (or table) holding the post's rows
        rows = [row]
        sibling = row.next
        while sibling is not None and len(rows) < 3:
            if sibling.tag == "tr":
                if sibling.css_first('a[name^="p"]') is not None:
                    break
                rows.append(sibling)
            sibling = sibling.next
        body = next((r.css_first("div.postbody") for r in rows
                     if r.css_first("div.postbody") is not None), None)
        post = _read_post(scope or row, found[1], url, body)
        if scope is not None and len(scope.css("a[name]")) > 1:  # rows of several posts
            name = text_of(row.css_first("b.postauthor"))
            post.author_name = name or post.author_name
        posts.append(post)
    return posts


def _closed(tree: LexborHTMLParser) -> bool:
    return tree.css_first(
        'a[href*="mode=reply"] .fa-lock, div.locked-icon, img[src*="button_topic_locked"]'
    ) is not None


def _title(tree: LexborHTMLParser, first: ParsedComment | None) -> str:
    for selector in ("h2.topic-title", "#page-body h2", "#pageheader h2"):
        text = text_of(tree.css_first(selector))
        if text:
            return text
    return meta(tree, 'meta[property="og:title"]') or text_of(tree.css_first("title"))


def _site_name(tree: LexborHTMLParser) -> str:
    for selector in ("#site-description h1", ".site-description h1", "#logodesc h1"):
        text = text_of(tree.css_first(selector))
        if text:
            return text
    return meta(tree, 'meta[property="og:site_name"]')


def parse_page(html: str, url: str) -> TopicPage:
    """Read one page of a phpBB topic."""
    tree = parse_html(html)
    posts = _prosilver_posts(tree, url) or _subsilver_posts(tree, url)
    if not posts:
        raise ParseError(f"{url}: no phpBB posts found (div.post#pID, a[name=pID])")
    base = forum_base(url)
    jump_base, jump_per_page = _jump_script(html)
    topic = _topic_id(tree, url, jump_base)
    starts = _page_starts(tree, topic) if topic else []
    per_page = _per_page(tree, starts, jump_per_page)
    page_of = _page_of(tree)
    if page_of is not None and per_page:  # the last page, where no link leads (a mirror's)
        starts = sorted(set(starts) | {(page_of[1] - 1) * per_page})
    query = _query(url)
    start: int | None = None
    if topic and _one(query, "t") == topic and "p" not in query:
        start = int(_one(query, "start") or 0)
    else:
        current = _current_page(tree)
        if current == 1 or not [s for s in starts if s]:
            start = 0
        elif current is not None and per_page:
            start = (current - 1) * per_page
    numbers_shown = any(post.number is not None for post in posts)
    if start is not None and not numbers_shown:
        for place, post in enumerate(posts, 1):
            post.number = start + place
    first_page = start == 0 or (numbers_shown and posts[0].number == 1)
    page_number = start // per_page + 1 if start is not None and per_page else (
        _current_page(tree) or 1)
    urls: list[str] = []
    here = ""
    if topic:
        last = max(starts, default=0)
        step = per_page or last or 1
        urls = [topic_url(base, topic, s) for s in range(0, last + 1, step)]
        if start is not None:
            here = topic_url(base, topic, start)
    thread_url = topic_url(base, topic) if topic else url.split("#", 1)[0]
    first = posts[0] if first_page else None
    thread = ParsedThread(
        url=thread_url, title=_title(tree, first), site_name=_site_name(tree), site_url=base,
        body_html=first.body_html if first else "", body_text=first.body_text if first else "",
        author=first.author_name if first else "",
        published_text=first.published_text if first else "",
        published_at=first.published_at if first else None,
        permalink=f"{thread_url}#p{first.source_id}" if first else None,
    )
    for post in posts:
        post.permalink = f"{base}viewtopic.php?p={post.source_id}#p{post.source_id}"
    after = urls[urls.index(here) + 1:] if here in urls else []
    return TopicPage(thread=thread, comments=posts[1:] if first_page else posts,
                     comments_closed=_closed(tree), next_page_url=after[0] if after else None,
                     page_number=page_number, posts=posts, first_page=first_page,
                     page_urls=urls, here=here)


def start(url: str) -> Request:
    """The first request: the topic's page 1 when the URL names the topic, else the URL itself
    (a post's link, ?p=ID), whose answer leads to page 1."""
    topic = _one(_query(url), "t")
    if topic and _is_viewtopic(url):
        return Request(topic_url(forum_base(url), topic), then=read_first)
    return Request(url.split("#", 1)[0], then=read_first)


def read_first(response: Response) -> Iterator[Found]:
    """The first answer: page 1 shows the post and leads to every other page; any other page
    leads to page 1 (the engine reads the thread from there)."""
    page = parse_page(response.text, response.url)
    if not page.first_page and page.page_urls:
        yield Request(page.page_urls[0], then=read_first)
        return
    yield from _found(page, with_thread=True)
    yield from page_requests(page.page_urls, page.here or response.url, read_page)


def read_page(response: Response) -> Iterator[Found]:
    """Any later page: its posts (all comments, but page 1's first) and its facts."""
    yield from _found(parse_page(response.text, response.url), with_thread=False)


def _found(page: TopicPage, with_thread: bool) -> Iterator[Found]:
    if with_thread or page.first_page:
        yield page.thread
    yield from page.comments
    yield PageFacts(number=page.page_number, comments_closed=page.comments_closed)
