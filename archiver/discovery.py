"""Discovery: read a site's feed (Atom/RSS/RDF) or index pages and queue the threads not yet known.

Feeds and index pages are fetched with the Fetcher and stored as Captures like every other
response; what they list goes into the DiscoveredUrl queue, which the scheduler archives from.
"""

from __future__ import annotations

import calendar
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urldefrag, urljoin, urlsplit

import feedparser
from selectolax.lexbor import LexborHTMLParser, LexborNode
from sqlmodel import Session, select

from archiver.adapters import discourse
from archiver.adapters.dates import parse_date
from archiver.config import SiteConfig
from archiver.errors import ArchiverError, FetchError, ParseError, describe
from archiver.fetch import Fetcher, FetchResult
from archiver.store import captures as captures_store
from archiver.store import repo, schedule_repo
from archiver.store.db import Store
from archiver.store.models import Capture, DiscoveredUrl, UrlState
from archiver.urls import normalise_url

log = logging.getLogger("archiver.discovery")

# Links to posts on blog index and archive pages (TypePad, WordPress, Blogger and most themes),
# and to topics on forum board listings: phpBB's a.topictitle (every style), XenForo 2's
# .structItem-title and XenForo 1's .discussionListItem titles (their prefix labels link to
# filters, not threads: only links into /threads/ count), vBulletin 3/4's a#thread_title_ID and
# vBulletin 5's a.topic-title, SMF's span#msg_ID > a (the message index), Invision 4's
# .ipsDataItem_title links into /topic/
DEFAULT_LINK_SELECTOR = (
    ".entry-header a, a.permalink, a[rel~='bookmark'], .entry-title a, .post-title a, "
    "article h2 a, article h1 a, a.topictitle, .structItem-title a[href*='threads/'], "
    ".discussionListItem h3.title a[href*='threads/'], a[id^='thread_title_'], a.topic-title, "
    "span[id^='msg_'] > a, .ipsDataItem_title a[href*='/topic/']"
)
# Date headings on index pages (TypePad's h2.date-header, HTML5 <time datetime>).
DATE_SELECTOR = "h2.date-header, .date-header, time[datetime]"
_NEXT_TEXT = re.compile(r"^\W*(next|older|earlier)\b", re.IGNORECASE)
_URL_DATE = re.compile(r"/((?:19|20)\d\d)/(0[1-9]|1[0-2])(?:/(0[1-9]|[12]\d|3[01]))?/")


@dataclass(slots=True)
class Found:
    """A thread URL a feed or index page lists."""

    url: str
    title: str = ""
    published_at: datetime | None = None
    latest: datetime | None = None  # the latest it can have been published (index pages)

    def newest_possible(self) -> datetime | None:
        return self.published_at or self.latest or url_period_end(self.url)


@dataclass(slots=True)
class DiscoveryReport:
    """What one discovery run of a site did."""

    site: str
    queued: list[str] = field(default_factory=list)
    listed: int = 0  # links seen on the feed/index pages
    pages: int = 0  # feed/index pages fetched
    not_modified: int = 0
    errors: list[str] = field(default_factory=list)
    known: int = 0  # listed links skipped: already archived or queued
    old: int = 0  # listed links skipped: published before the site's `since`
    over_cap: int = 0  # listed links skipped: past max_threads for this run
    not_web: int = 0  # listed links skipped: not http(s) (mailto:, ftp:)
    since: datetime | None = None

    def skipped(self) -> list[str]:
        """Why listed links were not queued, e.g. ["3 older than since (2026-10-31)"]."""
        reasons = []
        if self.old:
            day = f" ({self.since:%Y-%m-%d})" if self.since is not None else ""
            reasons.append(f"{self.old} older than since{day}")
        if self.known:
            reasons.append(f"{self.known} already archived or queued")
        if self.over_cap:
            reasons.append(f"{self.over_cap} over max_threads (next run)")
        if self.not_web:
            reasons.append(f"{self.not_web} not http(s) links")
        return reasons

    def summary(self) -> str:
        text = f"{self.site}: {self.listed} listed, {len(self.queued)} new"
        if self.skipped():
            text += f" (skipped: {', '.join(self.skipped())})"
        if self.errors:
            text += f", {len(self.errors)} error(s): {self.errors[0]}"
        return text


def _clean(url: str) -> str:
    return urldefrag(url.strip())[0]


def _struct_to_dt(value: object) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> list[Found]:
    """The entries of an Atom, RSS or RDF feed, in feed order. ParseError if it is no feed."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers)
    if not parsed.entries and (parsed.bozo or not parsed.version):
        why = parsed.get("bozo_exception") or "no Atom/RSS/RDF feed found"
        raise ParseError(f"{url}: not a readable feed: {why}")
    found: list[Found] = []
    for entry in parsed.entries:
        link = entry.get("feedburner_origlink") or entry.get("link")
        if not link:
            alternates = [
                x.get("href") for x in entry.get("links", []) if x.get("rel") == "alternate"
            ]
            link = next((a for a in alternates if a), None)
        if not link:
            continue
        published = _struct_to_dt(entry.get("published_parsed") or entry.get("updated_parsed"))
        found.append(Found(_clean(urljoin(url, link)), entry.get("title", ""), published))
    return found


def url_period_end(url: str) -> datetime | None:
    """The latest moment a post whose URL carries /YYYY/MM/(DD/) can have been published."""
    match = _URL_DATE.search(urlsplit(url).path)
    if match is None:
        return None
    year, month = int(match[1]), int(match[2])
    day = int(match[3]) if match[3] else calendar.monthrange(year, month)[1]
    try:
        return datetime(year, month, day, 23, 59, 59, tzinfo=UTC)
    except ValueError:
        return None


def parse_index(
    html: str,
    url: str,
    *,
    hosts: set[str],
    link_selector: str | None = None,
    link_pattern: str | None = None,
    next_selector: str | None = None,
) -> tuple[list[Found], str | None]:
    """Post links on an index/archive page (same hosts only), and its "older posts" link."""
    tree = LexborHTMLParser(html)
    pattern = re.compile(link_pattern) if link_pattern else None
    links = link_selector or (DEFAULT_LINK_SELECTOR if not pattern else "a[href]")
    found: list[Found] = []
    seen: set[str] = set()
    here = _clean(url)
    day: datetime | None = None  # the date heading the posts that follow it
    for node in tree.css(f"{links}, {DATE_SELECTOR}"):
        if node.tag != "a" or node.attributes.get("datetime"):
            day = _day_end(node) or day
            continue
        href = node.attributes.get("href")
        if not href:
            continue
        link = _clean(urljoin(url, href))
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() not in hosts:
            continue
        if link == here or link in seen or (pattern and not pattern.search(link)):
            continue
        seen.add(link)
        title = re.sub(r"\s+", " ", node.text(deep=True)).strip()
        found.append(Found(link, title, None, day))
    return found, _next_link(tree, url, next_selector)


def _is_json(result: FetchResult) -> bool:
    return (result.header("content-type") or "").split(";")[0].strip().lower() == (
        "application/json")


def parse_json_index(text: str, url: str) -> tuple[list[Found], str | None]:
    """The topics of a Discourse listing (``/latest.json``, ``/c/slug/ID.json``) and the URL of
    its next page. ValueError when the answer is no JSON, ParseError when it lists nothing."""
    topics, next_url = discourse.topic_list(json.loads(text), url)
    return [Found(t.url, t.title, t.created_at) for t in topics], next_url


def _day_end(node: LexborNode) -> datetime | None:
    """The end of the day a date heading (or <time datetime>) names."""
    text = node.attributes.get("datetime") or re.sub(r"\s+", " ", node.text(deep=True)).strip()
    when = parse_date(text) if text else None
    if when is None and text:
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if when is None:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.replace(hour=23, minute=59, second=59) if not (when.hour or when.minute) else when


def _next_link(tree: LexborHTMLParser, url: str, selector: str | None) -> str | None:
    candidates = tree.css(selector) if selector else tree.css("a[rel~='next'], link[rel~='next']")
    if not candidates and not selector:
        candidates = [
            a for a in tree.css("a[href]") if _NEXT_TEXT.match(a.text(deep=True).strip())
        ]
    for node in candidates:
        href = node.attributes.get("href")
        if href:
            target = _clean(urljoin(url, href))
            if target != _clean(url):
                return target
    return None


Clock = Callable[[], datetime]


class Discoverer:
    """Runs discovery for configured sites with one fetcher and one store."""

    def __init__(self, store: Store, fetcher: Fetcher, *, clock: Clock = repo.utcnow) -> None:
        self.store = store
        self.fetcher = fetcher
        self.clock = clock

    # -- fetching ---------------------------------------------------------------------------

    def _fetch(self, session: Session, url: str) -> tuple[FetchResult, UrlState, Capture]:
        state = repo.url_state(session, url)
        session.commit()
        captures: list[Capture] = []
        result = self.fetcher.fetch(
            url, etag=state.etag, last_modified=state.last_modified,
            record=captures_store.capture_recorder(session, captures),
            record_robots=captures_store.capture_recorder(session),
        )
        if not captures:
            captures.append(captures_store.save_capture(session, result))
            session.commit()
        return result, state, captures[-1]

    def _read(
        self, session: Session, url: str, parse: Callable[[FetchResult], tuple[list[Found],
                                                                              str | None]],
        report: DiscoveryReport,
    ) -> tuple[list[Found], str | None] | None:
        """Fetch and parse one feed/index page; None when it is unchanged (304)."""
        result, state, capture = self._fetch(session, url)
        report.pages += 1
        now = capture.fetched_at
        if result.status == 304 and state.last_capture_id is not None:
            report.not_modified += 1
            state.last_status, state.last_fetched_at = 304, now
            session.commit()
            return None
        if result.status >= 300:
            state.last_status, state.failures = result.status, state.failures + 1
            state.last_error = f"HTTP {result.status}"
            session.commit()
            raise FetchError(f"{url}: HTTP {result.status} {result.reason}".rstrip(),
                             url=url, status=result.status)
        try:
            links, next_url = parse(result)
        except (ParseError, ValueError) as exc:
            capture.parsed_ok, capture.parse_error = False, str(exc)
            state.last_error = describe(exc, 2000)
            session.commit()
            raise ParseError(str(exc)) from None
        capture.parsed_ok = True
        state.etag = result.header("etag")
        state.last_modified = result.header("last-modified")
        state.last_status, state.last_fetched_at = result.status, now
        state.last_capture_id, state.next_page_url = capture.id, next_url
        state.failures, state.last_error = 0, None
        session.commit()
        return links, next_url

    # -- queueing ---------------------------------------------------------------------------

    @staticmethod
    def is_known(session: Session, url: str) -> bool:
        if session.exec(select(DiscoveredUrl.id).where(DiscoveredUrl.url == url)).first():
            return True
        return repo.find_thread(session, url) is not None

    def _known_as_listed(self, session: Session, listed: str) -> bool | None:
        """Whether a listed link's thread is known (None: the link is no web page)."""
        try:
            url = normalise_url(listed)
        except ValueError:
            return None
        return self.is_known(session, url) or (url != listed and self.is_known(session, listed))

    def _queue(
        self, session: Session, site: SiteConfig, links: list[Found], source: str,
        report: DiscoveryReport, now: datetime,
    ) -> tuple[int, bool]:
        """Queue the unknown links, in their normalised form (a link with tracking parameters
        or to a comment is its thread); (how many were new and in range, whether the cap is hit)."""
        d = site.discovery
        report.since = d.since
        fresh = 0
        for i, link in enumerate(links):
            if d.max_threads is not None and len(report.queued) >= d.max_threads:
                for rest in links[i:]:
                    report.listed += 1
                    known = self._known_as_listed(session, rest.url)
                    if known is None:
                        report.not_web += 1
                    elif known:
                        report.known += 1
                    else:
                        report.over_cap += 1
                return fresh, True
            report.listed += 1
            try:
                url = normalise_url(link.url)
            except ValueError:  # a feed may list anything (mailto:, ftp:): no thread to archive
                report.not_web += 1
                continue
            if self.is_known(session, url) or (url != link.url
                                                and self.is_known(session, link.url)):
                report.known += 1
                continue  # (the URL as listed: queued by a version that did not normalise)
            if d.since is not None:
                when = link.newest_possible()
                if when is not None and when < d.since:
                    report.old += 1
                    continue
            fresh += 1
            session.add(
                DiscoveredUrl(
                    url=url, site=site.name, source_url=source, title=link.title[:500],
                    published_at=link.published_at, found_at=now, state="queued",
                    next_attempt_at=now,
                )
            )
            session.commit()
            report.queued.append(url)
        capped = d.max_threads is not None and len(report.queued) >= d.max_threads
        return fresh, capped

    # -- one site ---------------------------------------------------------------------------

    def discover(self, site: SiteConfig) -> DiscoveryReport:
        """Read the site's feed, index pages and (once) its archive pages; queue new threads."""
        report = DiscoveryReport(site=site.name)
        d = site.discovery
        now = self.clock()
        hosts = site.hosts()
        with self.store.session() as session:
            check = schedule_repo.get_or_create_site_check(session, site.name)
            check.last_run_at = now
            session.commit()

            def index_parser(page_url: str) -> Callable[[FetchResult], tuple[list[Found],
                                                                             str | None]]:
                def parse(result: FetchResult) -> tuple[list[Found], str | None]:
                    if _is_json(result):  # a forum's JSON listing (Discourse's /latest.json)
                        return parse_json_index(result.text, result.url)
                    return parse_index(
                        result.text, result.url, hosts=hosts | {urlsplit(page_url).netloc.lower()},
                        link_selector=d.link_selector, link_pattern=d.link_pattern,
                        next_selector=d.next_selector,
                    )
                return parse

            if d.feed:
                try:
                    read = self._read(
                        session, d.feed,
                        lambda r: (parse_feed(r.body, r.url, r.header("content-type")), None),
                        report,
                    )
                    if read is not None:
                        self._queue(session, site, read[0], d.feed, report, now)
                except ArchiverError as exc:
                    report.errors.append(str(exc))
            for start in d.index:
                self._walk(session, site, start, index_parser(start), report, now, backfill=False)
            if d.backfill and check.backfilled_at is None:
                done = all(
                    self._walk(session, site, start, index_parser(start), report, now,
                               backfill=True)
                    for start in d.backfill
                )
                if done:
                    check.backfilled_at = now
            check.last_found = len(report.queued)
            check.last_error = "; ".join(report.errors)[:2000] or None
            if not report.errors:
                check.last_ok_at = now
            session.commit()
        for error in report.errors:
            log.warning("discovery of %s: %s", site.name, error)
        return report

    def _walk(
        self, session: Session, site: SiteConfig, start: str,
        parse: Callable[[FetchResult], tuple[list[Found], str | None]],
        report: DiscoveryReport, now: datetime, *, backfill: bool,
    ) -> bool:
        """Walk index pages from start following "older" links; True when the walk finished.

        A regular index walk stops at the first page with nothing new on it; a backfill walk goes
        on until max_pages, max_threads, `since` or the last page stops it.
        """
        d = site.discovery
        url: str | None = start
        visited: set[str] = set()
        while url is not None and url not in visited and len(visited) < d.max_pages:
            visited.add(url)
            try:
                read = self._read(session, url, parse, report)
            except ArchiverError as exc:
                report.errors.append(str(exc))
                return False
            if read is None:  # unchanged since last time: follow what it linked to then
                if not backfill:
                    return True
                state = repo.url_state(session, url)
                url = state.next_page_url
                continue
            links, next_url = read
            fresh, capped = self._queue(session, site, links, url, report, now)
            if capped:
                return True
            if not backfill and fresh == 0:
                return True
            if backfill and d.since is not None and links:
                dates = [x.newest_possible() for x in links]
                if all(when is not None and when < d.since for when in dates):
                    return True
            url = next_url
        return True
