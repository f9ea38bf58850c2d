"""Parse benchmark for WordPress (issue 13): our adapter against BeautifulSoup on lxml doing the
same extraction, on the real fixture pages.

Both read the same fields: the post (URL, title, author, date, site name and URL, body text),
every comment (id, author and link, date as shown and in UTC, permalink, parent, depth, kind,
body text), the page's number, closed flag and comment-page links. The BS4 version is written
the straightforward way (CSS selectors, a walk up the parents); it is checked equal to the
adapter's output first, then both run interleaved, several rounds; best-of is reported.

    python bench/parse_wordpress.py [--quick] [--json out.json]
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urldefrag, urljoin, urlsplit

from common import BS4_TARGET, FIXTURES, Row, arg_parser, finish, race_cases, verdict
from parse_bench import _bs_render

from archiver.adapters import wordpress
from archiver.adapters.base import ParsedComment, ParsedThread
from archiver.urls import normalise_url

try:
    from bs4 import BeautifulSoup, Doctype, Tag
except ImportError:  # pragma: no cover - reported instead
    BeautifulSoup = None  # type: ignore[assignment,misc]

WP = FIXTURES / "wordpress"
PAGES = [
    ("gormulus (wpcom, 45 + pings)", WP / "gormulus-wpcom-threaded" / "page.html",
     "https://gormulus.wordpress.com/2012/12/11/das-wird-man-ja-wohl-noch-sagen-durfen/"),
    ("netzpolitik (html5, 74 nested)", WP / "netzpolitik-wp-html5-comment-list" / "page.html",
     "https://netzpolitik.org/2016/die-cider-connection-abmahnungen-gegen-nutzer-von-"
     "creative-commons-bildern/"),
    ("backenmachtgluecklich (wpDiscuz, 25)",
     WP / "backenmachtgluecklich-wpdiscuz-comment-page-1-of-5" / "page.html",
     "https://www.backenmachtgluecklich.de/rezepte/saftiger-zitronenkuchen-vom-blech.html"),
    ("standuptothegrownups p2 (Twenty Twenty, 6)",
     WP / "standuptothegrownups-twentytwenty-comment-pages-1-2-3" / "comment-page-2.html",
     "https://standuptothegrownups.net/comment-page-2/"),
]

_DEPTH = re.compile(r"^depth-(\d{1,4})$")
_ITEM_ID = re.compile(r"^(?:li-)?comment-(\d+)$")
_INNER_ID = re.compile(r"^(?:div-)?comment-(\d+)$")
_WPD_ID = re.compile(r"^(?:wc|wpd)-comm-(\d+)_(\d+)$")
_WPD_LEVEL = re.compile(r"^(?:wc|wpd)_comment_level-(\d{1,4})$")
_SAYS = re.compile(r"\s+\S+\s?:$")


def _t(node: Tag | None) -> str:
    return "" if node is None else " ".join(node.get_text().split())


def _iso(stamp: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
    except ValueError:
        return wordpress.read_date(stamp)
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def _join(base: str, href: str) -> str:
    return urljoin(base, href.strip())


class Bs4Page:
    """The same fields as wordpress.parse_page, read with BeautifulSoup on lxml."""

    def __init__(self, html: str, url: str) -> None:
        soup = BeautifulSoup(html, "lxml")
        for stray in soup.find_all(string=lambda s: isinstance(s, Doctype)):
            stray.extract()  # lxml keeps a <!DOCTYPE> met inside the body as text; lexbor drops it
        self.url = url
        self.thread = self._thread(soup, url)
        self.comments = self._wpdiscuz(soup, url) or self._core(soup, url)
        self.number = self._number(soup, url)
        self.closed = self._closed(soup)
        self.links = self._links(soup, url)

    def _thread(self, soup: BeautifulSoup, url: str) -> ParsedThread:
        canonical = soup.select_one('link[rel="canonical"]')
        target = _join(url, canonical["href"]) if canonical else url  # type: ignore[arg-type,index]
        thread_url = wordpress._post_url(target)
        comments = soup.select_one("#comments")
        body = None
        for selector in (".entry-content", ".post-content", ".entry-body", ".post-body"):
            for node in soup.select(selector):
                if comments is None or not any(p is comments for p in node.parents):
                    body = node
                    break
            if body is not None:
                break
        title = _t(soup.select_one("h1.entry-title, .entry-title, h1.post-title, .post-title"))
        author = _t(soup.select_one(
            'a[rel="author"], .entry-meta .author .fn, .byline .author, .author.vcard .fn,'
            " .entry-author-name, .entry-author-text a, .post-author a"))
        date = soup.select_one("time.entry-date, time.published, .entry-meta time[datetime],"
                               " .post-date a, .entry-time")
        shown = _t(date)
        meta = soup.select_one('meta[property="article:published_time"]')
        stamp = (date.get("datetime") if date is not None else None) or (
            " ".join(str(meta["content"]).split()) if meta else "")
        home = soup.select_one('a[rel="home"], .site-title a')
        parts = urlsplit(url)
        site_url = f"{parts.scheme}://{parts.netloc}/"
        if home is not None:
            link = _join(url, str(home.get("href") or ""))
            if urlsplit(link).netloc.lower() == parts.netloc.lower():
                site_url = urldefrag(link)[0]
        og = soup.select_one('meta[property="og:site_name"]')
        name = " ".join(str(og["content"]).split()) if og else _t(soup.select_one(".site-title"))
        return ParsedThread(
            url=thread_url, title=title, body_html="",
            body_text=_bs_render(body) if body is not None else "",
            site_name=name, site_url=site_url, author=author,
            published_text=shown or str(stamp or ""),
            published_at=_iso(str(stamp)) if stamp else wordpress.read_date(shown),
            permalink=thread_url)

    def _wpdiscuz(self, soup: BeautifulSoup, url: str) -> list[ParsedComment]:
        found = []
        for node in soup.select('div[id^="wc-comm-"], div[id^="wpd-comm-"]'):
            ids = _WPD_ID.match(str(node.get("id")))
            if ids is None:
                continue
            prefix = "wpd" if str(node.get("id")).startswith("wpd") else "wc"
            level = next((int(m[1]) for c in node.get("class", []) if (m := _WPD_LEVEL.match(c))),
                         1)
            own = node.find(class_=f"{prefix}-comment-right", recursive=False) or node
            author = own.select_one(f".{prefix}-comment-author")
            link = author.select_one("a[href]") if author is not None else None
            date = own.select_one(f".{prefix}-comment-date")
            body = own.select_one(f".{prefix}-comment-text")
            anchor = own.select_one("[data-comment-url]")
            found.append(ParsedComment(
                source_id=ids[1], body_html="", body_text=_bs_render(body) if body else "",
                author_name=_t(author),
                author_url=_join(url, str(link["href"])) if link else None,
                published_text=_t(date), published_at=wordpress.read_date(_t(date)),
                permalink=str(anchor["data-comment-url"]) if anchor else None,
                parent_source_id=ids[2] if ids[2] != "0" else None, depth=max(level - 1, 0)))
        return found

    def _core(self, soup: BeautifulSoup, url: str) -> list[ParsedComment]:
        items = [n for n in soup.select('[class*="depth-"]')
                 if any(_DEPTH.match(c) for c in n.get("class", []))
                 and {"comment", "pingback", "trackback"} & set(n.get("class", []))]
        keys = {id(n) for n in items}

        def owner(node: Tag) -> Tag | None:
            return next((p for p in node.parents if id(p) in keys), None)

        def own(item: Tag, selector: str) -> Tag | None:
            return next((n for n in item.select(selector) if owner(n) is item), None)

        ids: dict[int, str] = {}
        for item in items:
            found_id = _ITEM_ID.match(str(item.get("id") or ""))
            if found_id:
                ids[id(item)] = found_id[1]
                continue
            inner = next((m[1] for n in item.select('[id^="comment-"], [id^="div-comment-"]')
                          if (m := _INNER_ID.match(str(n.get("id"))))), "")
            ids[id(item)] = inner
        out = []
        depths: dict[int, int] = {}
        for item in items:
            source_id = ids[id(item)]
            if not source_id:
                continue
            classes = item.get("class", [])
            kind = next((k for k in ("pingback", "trackback") if k in classes), "comment")
            above = owner(item)
            parent = ids[id(above)] or None if above is not None else None
            depth = depths.get(id(above), 0) + 1 if above is not None else max(
                next((int(m[1]) for c in classes if (m := _DEPTH.match(c))), 1) - 1, 0)
            depths[id(item)] = depth
            node = next((n for s in (".comment-author .fn", ".fn", ".comment-author cite",
                                     "cite.fn") if (n := own(item, s)) is not None), None)
            name, author_url = "", None
            if node is None:
                block = own(item, ".comment-author")
                if block is not None:
                    name = _t(block)
                    says = block.select_one(".says")
                    if says is not None and name.endswith(_t(says)):
                        name = name[: len(name) - len(_t(says))].strip()
                    node, name = block, _SAYS.sub("", name).strip()
            else:
                name = _t(node)
            if node is not None:
                link = node if node.name == "a" else node.select_one("a[href]")
                author_url = _join(url, str(link["href"])) if link and link.get("href") else None
            time = own(item, "time[datetime]")
            link = own(item, '.comment-meta a[href*="#comment-"], .commentmetadata '
                             'a[href*="#comment-"], a[href*="#comment-"]')
            permalink = _join(url, str(link.get("href") or "")) if link is not None else None
            if time is not None:
                shown, when = _t(time), _iso(str(time["datetime"]))
            else:
                shown = _t(link) if link is not None else _t(
                    own(item, ".comment-meta, .commentmetadata, .comment-date"))
                when = wordpress.read_date(shown) if shown else None
            if kind != "comment" and not name:
                ping = own(item, "a.url, a[href]")
                name = _t(ping)
                author_url = _join(url, str(ping.get("href") or "")) if ping else None
            body = own(item, ".comment-content, .comment-text, .comment-entry")
            if body is None:
                body = own(item, ".comment-body") or item
                if kind == "comment":
                    for meta in body.select(".comment-author, .comment-meta, .commentmetadata,"
                                            " .reply, .comment-awaiting-moderation"):
                        if owner(meta) is item:
                            meta.decompose()
            out.append(ParsedComment(
                source_id=source_id, body_html="", body_text=_bs_render(body), author_name=name,
                author_url=author_url, published_text=shown, published_at=when,
                permalink=permalink, parent_source_id=parent, depth=depth, kind=kind))
        return out

    def _number(self, soup: BeautifulSoup, url: str) -> int:
        found = wordpress._page_number_of(url)
        if found is not None:
            return found
        for node in soup.select('#comments .current, [class*="comment"] .current'):
            text = _t(node)
            if text.isdecimal() and len(text) <= 6:
                return int(text)
        return 1

    def _closed(self, soup: BeautifulSoup) -> bool:
        if soup.select_one('#commentform, form.comment-form, #respond form, form.wc_comm_form, '
                           'form[action*="wp-comments-post"]') is not None:
            return False
        if soup.select_one(".no-comments, .nocomments, .comments-closed, .comments-are-closed"):
            return True
        return any(len(_t(n)) <= 200 and wordpress._CLOSED.search(_t(n))
                   for n in soup.select("p, div, span, em, h3, h4"))

    def _links(self, soup: BeautifulSoup, url: str) -> list[str]:
        here = normalise_url(url)
        posts = {wordpress._post_url(here), wordpress._post_url(normalise_url(self.thread.url))}
        found: list[str] = []
        for link in soup.select('a[href*="comment-page-"], a[href*="cpage="]'):
            target = _join(url, str(link.get("href") or ""))
            number = wordpress._page_number_of(target)
            if number in (None, self.number) or "replytocom" in target:
                continue
            target = normalise_url(target)
            if (urlsplit(target).netloc == urlsplit(here).netloc
                    and wordpress._post_url(target) in posts and target != here
                    and target not in found):
                found.append(target)
        return found


COMMENT_FIELDS = ("source_id", "author_name", "author_url", "published_text", "published_at",
                  "permalink", "parent_source_id", "depth", "kind", "body_text")
THREAD_FIELDS = ("url", "title", "author", "published_text", "published_at", "site_name",
                 "site_url", "body_text")


OURS = {"number": "page_number", "closed": "comments_closed"}  # the adapter's names for them


def differences(ours: wordpress.Page, theirs: Bs4Page) -> list[str]:
    problems = []
    if len(ours.comments) != len(theirs.comments):
        return [f"{len(ours.comments)} comments vs {len(theirs.comments)}"]
    for a, b in zip(ours.comments, theirs.comments, strict=True):
        problems += [f"comment {a.source_id} {f}: {getattr(a, f)!r} vs {getattr(b, f)!r}"
                     for f in COMMENT_FIELDS if getattr(a, f) != getattr(b, f)]
    problems += [f"thread {f}: {getattr(ours.thread, f)!r} vs {getattr(theirs.thread, f)!r}"
                 for f in THREAD_FIELDS if getattr(ours.thread, f) != getattr(theirs.thread, f)]
    problems += [f"{f}: {getattr(ours, OURS.get(f, f))!r} vs {getattr(theirs, f)!r}"
                 for f in ("number", "closed", "links")
                 if getattr(ours, OURS.get(f, f)) != getattr(theirs, f)]
    return problems


def main(argv: list[str] | None = None) -> int:
    args = arg_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    if BeautifulSoup is None:
        raise SystemExit("beautifulsoup4 and lxml are needed (pip install '.[test]')")
    rounds = 3 if args.quick else 15
    cases = [(case, (path.read_text(encoding="utf-8"), url)) for case, path, url in PAGES]
    rows: list[Row] = []
    total = {"archiver adapter": 0.0, "BeautifulSoup+lxml": 0.0}
    for race in race_cases(cases, wordpress.parse_page, Bs4Page, rounds, differences):
        best = {"archiver adapter": race.best_ours, "BeautifulSoup+lxml": race.best_theirs}
        for name, seconds in best.items():
            total[name] += seconds
            rows.append(Row("parse_wordpress", race.case, f"{name}: ms/page",
                            f"{seconds * 1000:.1f}", note=f"best of {rounds}"))
        rows.append(Row("parse_wordpress", race.case, "adapter speed / BS4 speed",
                        f"{race.ratio:.1f}x", f">= {BS4_TARGET:.0f}x",
                        verdict(race.ratio >= BS4_TARGET),
                        f"{len(race.found.comments)} comments; BS4 output checked equal"))
    ratio = total["BeautifulSoup+lxml"] / total["archiver adapter"]
    rows.append(Row("parse_wordpress", "all four pages", "adapter speed / BS4 speed",
                    f"{ratio:.1f}x", f">= {BS4_TARGET:.0f}x", verdict(ratio >= BS4_TARGET),
                    f"{total['archiver adapter'] * 1000:.1f} ms vs "
                    f"{total['BeautifulSoup+lxml'] * 1000:.1f} ms"))
    return finish(rows, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
