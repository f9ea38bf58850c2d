"""What the forum adapters (vBulletin, SMF, Invision) share: reading a topic from any of its
pages, page URLs built from one pager link, session ids dropped, forum date strings read.

A forum topic is paged: its first post (the thread) is on page 1 only. ``read_seed`` reads the
page asked for; when it is a later page it asks for page 1 first (so the post is stored and the
comments come in page order: 1, 2, ... last) and carries what the asked page showed to the answer
of the page before it (the engine reads each URL once per run, so the asked page is not read
again). When page 1 cannot be had, its ``fallback`` stores the asked page as it is: a thread with
the title only, its posts, and requests for every other page; the read is incomplete all the same
(page 1 is needed: ``optional=False``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborNode

from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import Found, Request, Response


@dataclass(slots=True)
class ForumPage:
    """One page of a forum topic as an adapter read it."""

    thread_url: str  # the topic's own URL (its first page, no session id)
    title: str
    number: int  # the page's number (1 for the first)
    last: int  # the last page's number the page shows
    page_urls: dict[int, str] = field(default_factory=dict)  # page number -> its URL
    thread: ParsedThread | None = None  # the first post, when the page shows it (page 1)
    comments: list[ParsedComment] = field(default_factory=list)
    closed: bool = False
    site_name: str = ""
    site_url: str = ""

    def orphan_thread(self) -> ParsedThread:
        """The thread as a later page shows it: its URL and title, no post (page 1 holds it)."""
        return ParsedThread(url=self.thread_url, title=self.title, body_html="",
                            site_name=self.site_name, site_url=self.site_url)


Parse = Callable[[str, str], ForumPage]


@dataclass(frozen=True, slots=True)
class Carry:
    """What the page asked for first showed, brought in by the answer of the page before it."""

    page: int  # the asked page's number
    comments: tuple[ParsedComment, ...]
    closed: bool


def _requests(parse: Parse, page: ForumPage, carry: Carry | None,
              after: int | None) -> Iterator[Request]:
    """Requests for the pages after ``after`` (every other page when None), in page order. The
    asked page (carried) is left out: the engine read it already."""
    then = partial(read_page, parse, carry=carry)
    for number in sorted(page.page_urls):
        if number == page.number or (carry is not None and number == carry.page):
            continue
        if after is None or number > after:
            yield Request(page.page_urls[number], then=then)


def read_page(parse: Parse, response: Response, carry: Carry | None = None) -> Iterator[Found]:
    """Any page of a topic reached by its pager: the post (page 1), the page's posts (and the
    asked page's, after the page before it), its facts and the pages after it."""
    page = parse(response.text, response.url)
    if page.thread is not None:
        yield page.thread
    yield from page.comments
    closed = page.closed
    if carry is not None and (page.number == carry.page - 1 or (
            page.number == 1 and carry.page - 1 not in page.page_urls)):
        # after the page before it; on page 1 when that page cannot be asked for (out of
        # order, but never lost)
        yield from carry.comments
        closed = closed or carry.closed
    yield PageFacts(number=page.number, comments_closed=closed)
    yield from _requests(parse, page, carry, after=page.number)


def _as_it_is(parse: Parse, response: Response) -> Iterator[Found]:
    """A later page stored as it is (page 1 could not be had): the title, its posts, every
    other page."""
    page = parse(response.text, response.url)
    yield page.thread or page.orphan_thread()
    yield from page.comments
    yield PageFacts(number=page.number, comments_closed=page.closed)
    yield from _requests(parse, page, None, after=None)


def read_seed(parse: Parse, response: Response) -> Iterator[Found]:
    """The page a topic is archived from: page 1 is read as every page is; a later page asks
    for page 1 first and hands on what it showed (see the module)."""
    page = parse(response.text, response.url)
    first = page.page_urls.get(1)
    if page.thread is not None or page.number <= 1 or first is None:
        if page.thread is None and page.number > 1:  # no way to page 1: as it is
            yield from _as_it_is(parse, response)
            return
        yield from read_page(parse, response)
        return
    if first.split("#", 1)[0] == response.url.split("#", 1)[0]:  # the pager is confused
        yield from _as_it_is(parse, response)
        return
    carry = Carry(page=page.number, comments=tuple(page.comments), closed=page.closed)
    yield Request(first, then=partial(read_page, parse, carry=carry),
                  fallback=partial(_as_it_is, parse, response), optional=False)


# --- page URLs ---------------------------------------------------------------------------------

_DIGITS = re.compile(r"\d+")


def template_of(href: str, number: int) -> tuple[str, str] | None:
    """href split around its page number (the last run of digits that is exactly ``number``),
    so that ``before + str(n) + after`` is page n's URL; None when the number is not in it."""
    found = None
    for run in _DIGITS.finditer(href):
        if int(run.group()) == number:
            found = run
    if found is None:
        return None
    return href[:found.start()], href[found.end():]


def page_urls(links: list[tuple[int, str]], last: int, first: str | None) -> dict[int, str]:
    """Every page's URL, 1 to last: the links seen (number, URL), the rest built from the
    template of the last link seen past page 1; page 1 is ``first`` when given."""
    urls = dict(links)
    if first is not None:
        urls[1] = first
    template = None
    for number, href in links:
        if number >= 2:
            template = template_of(href, number) or template
    if template is not None:
        for number in range(2, last + 1):
            urls.setdefault(number, f"{template[0]}{number}{template[1]}")
    return {n: u for n, u in urls.items() if 1 <= n <= max(last, 1) or n in dict(links)}


def drop_params(url: str, names: frozenset[str]) -> str:
    """url without the query parameters named (a session id, a search highlight); the rest of
    the query as it was."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in names]
    query = urlencode(pairs, safe="/:,.-_~") if pairs else ""
    if len(pairs) == len(parse_qsl(parts.query, keep_blank_values=True)):
        return url  # nothing dropped: keep the query exactly as given
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def resolve(base: str, href: str | None) -> str | None:
    """href made absolute against base; None for none, a script link or one urllib refuses."""
    if not href or href.lower().startswith(("javascript:", "#", "mailto:")):
        return None
    try:
        joined = urljoin(base, href)
        urlsplit(joined).port  # noqa: B018 - ValueError for a port out of range
    except ValueError:
        return None
    return joined.split("#", 1)[0]


def base_href(tree_base: LexborNode | None, url: str) -> str:
    """The URL relative links of a page resolve against: its <base href>, else its own URL."""
    if tree_base is not None:
        href = resolve(url, tree_base.attributes.get("href"))
        if href:
            return href
    return url


# --- text and dates ----------------------------------------------------------------------------


def text_of(node: LexborNode | None) -> str:
    """A node's text, whitespace folded (no-break spaces too)."""
    if node is None:
        return ""
    return " ".join(node.text(deep=True).replace("\xa0", " ").split())


def number_in(text: str) -> int | None:
    """The number a post counter or pager shows ("#661", "1,234", "2"), or None."""
    digits = re.sub(r"[,.\s\u00a0'’]", "", text.strip().lstrip("#"))
    if digits.isdecimal() and len(digits) <= 9:
        return int(digits)
    return None


_DMY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}),?\s+(\d{1,2}):(\d{2})")
_MDY = re.compile(r"(\d{1,2})[-/](\d{1,2})[-/](\d{4}),?\s+(\d{1,2}):(\d{2})\s*([AaPp][Mm])?")
_YMD = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?")
_MONTH_NAMES = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
# "March 03, 2011, 02:27:10 PM" (SMF), "Mar 3 2011, 2:27 PM"
_NAMED = re.compile(r"([A-Za-z]{3})[a-z]*\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4}),?(?: at)? "
                    r"(\d{1,2}):(\d{2})"
                    r"(?::(\d{2}))?\s*([AaPp][Mm])?")
# "Fri, 07 January 2022, 11:21:09" (SMF 2.0), "7 Jan 2022 11:21"
_DAY_FIRST = re.compile(r"(\d{1,2}) ([A-Za-z]{3})[a-z]*\.?,? (\d{4}),?(?: at)? (\d{1,2}):(\d{2})"
                        r"(?::(\d{2}))?\s*([AaPp][Mm])?")


def _hour(hour: int, meridiem: str | None) -> int:
    if not meridiem:
        return hour
    return hour % 12 + (12 if meridiem.lower() == "pm" else 0)


def forum_date(text: str) -> datetime | None:
    """The time a forum's date string names, read as UTC (the page rarely states its zone; the
    string is kept beside it), or None (relative dates like "Today, 10:15" are not read).
    Dotted dates are day.month.year (German, Russian...), dashed or slashed ones month-day-year
    (vBulletin's default "m-d-Y")."""
    text = text.replace("\xa0", " ")
    try:
        if found := _YMD.search(text):
            y, m, d, hh, mm, ss = (int(g or 0) for g in found.groups())
            return datetime(y, m, d, hh, mm, ss, tzinfo=UTC)
        if found := _DMY.search(text):
            d, m, y, hh, mm = (int(g) for g in found.groups())
            return datetime(y, m, d, hh, mm, tzinfo=UTC)
        if found := _MDY.search(text):
            m, d, y, hh, mm = (int(g) for g in found.groups()[:5])
            return datetime(y, m, d, _hour(hh, found[6]), mm, tzinfo=UTC)
        if (found := _DAY_FIRST.search(text)) and found[2].lower() in _MONTH_NAMES:
            return datetime(int(found[3]), _MONTH_NAMES[found[2].lower()], int(found[1]),
                            _hour(int(found[4]), found[7]), int(found[5]), int(found[6] or 0),
                            tzinfo=UTC)
        if (found := _NAMED.search(text)) and found[1].lower() in _MONTH_NAMES:
            return datetime(int(found[3]), _MONTH_NAMES[found[1].lower()], int(found[2]),
                            _hour(int(found[4]), found[7]), int(found[5]), int(found[6] or 0),
                            tzinfo=UTC)
    except ValueError:  # a day or hour out of range: not a date after all
        return None
    return None


def iso_date(value: str | None) -> datetime | None:
    """An ISO 8601 timestamp (a <time datetime>), in UTC, or None."""
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)
