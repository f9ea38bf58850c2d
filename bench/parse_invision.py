"""Parse benchmark (issue 14, item 5): the Invision Community adapter against BeautifulSoup+lxml.

On the two synthetic IPS 4 pages and a page of 300 posts built from page 2, both read per post
its comment id, author and profile link (the author pane), date as shown and its datetime, the
findComment permalink and the body text, and per page its number and last page (ipsPagination),
the title, the page URLs (data-page links), whether replying is refused and the topic's own post
(page 1's first). Compared field by field and timed by bench/forum_race.py (best and median of
interleaved rounds).

    python bench/parse_invision.py [--quick] [--json out.json]
"""

from __future__ import annotations

import re
import sys

from common import FIXTURES, Row, arg_parser, finish
from forum_race import bench, bs_text, repeated
from parse_bench import _bs_render

from archiver.adapters import invision
from archiver.adapters.forumpages import iso_date, number_in, page_urls, resolve

try:
    from bs4 import BeautifulSoup, Tag
except ImportError:  # pragma: no cover
    raise SystemExit("beautifulsoup4 and lxml are needed: pip install '.[test]'") from None

CASE = FIXTURES / "invision" / "synthetic-ips4"
TOPIC = "https://forum.example.com/topic/915-rigging-a-gaff-sail/"
PAGE_PATH = re.compile(r"/page/\d+/?(?=$|\?|#)")


def bs_post(node: Tag, base: str) -> dict:
    holder = node.select_one("[data-commentid]")
    post_id = (holder.get("data-commentid") if holder is not None else None) or (
        node.get("id") or "").removeprefix("elComment_")
    body = node.select_one('[data-role="commentContent"]')
    pane = node.select_one(".cAuthorPane_author") or node.select_one(".ipsComment_author")
    author, author_url = "", None
    if pane is not None:
        link = pane.select_one("a[href]")
        author, author_url = (bs_text(link), link["href"]) if link is not None and bs_text(
            link) else (bs_text(pane), None)
    stamp = node.select_one(".ipsComment_meta time[datetime]") or node.select_one(
        "time[datetime]")
    link = node.select_one('.ipsComment_meta a[href*="do=findComment"]') or node.select_one(
        'a[href*="do=findComment"]')
    return {"source_id": post_id, "number": None, "author_name": author,
            "author_url": resolve(base, author_url), "published_text": bs_text(stamp),
            "published_at": iso_date(stamp.get("datetime")) if stamp is not None else None,
            "permalink": resolve(base, link.get("href") if link is not None else None),
            "body_text": _bs_render(body) if body is not None else ""}


def bs4_parse(html: str, url: str) -> dict:
    soup = BeautifulSoup(html, "lxml")
    current, last, links = 0, 1, []
    for pager in soup.select("ul.ipsPagination"):
        last = max(last, number_in(pager.get("data-pages") or "") or 1)
        active = pager.select_one("li.ipsPagination_active a, li.ipsPagination_active")
        if active is not None and current == 0:
            current = number_in(active.get("data-page") or bs_text(active)) or 0
        for link in pager.select("a[data-page][href]"):
            number, href = number_in(link.get("data-page") or ""), resolve(url, link["href"])
            if number is not None and href is not None:
                links.append((number, href))
    current = current or 1
    first = next((h for n, h in links if n == 1), None) or (
        PAGE_PATH.sub("/", url) if current > 1 else url)
    posts = [bs_post(a, url) for a in soup.select('article[id^="elComment_"]')]
    thread = None
    if current == 1:
        lead, posts = posts[0], posts[1:]
        thread = {k: lead[k] for k in ("author_name", "published_text", "published_at",
                                        "body_text", "permalink")}
    closed = soup.select_one('a[data-action="replyToTopic"].ipsButton_negative') is not None
    return {"number": current, "last": last,
            "title": bs_text(soup.select_one("h1.ipsType_pageTitle")), "thread_url": first,
            "page_urls": page_urls(links, last, first), "closed": closed, "thread": thread,
            "posts": posts}


def big(posts: int) -> str:
    """Page 2 with its posts repeated (new ids) to ``posts``."""
    html = (CASE / "page2.html").read_text(encoding="utf-8")
    start, end = html.index("\n<article"), html.rindex("</article>") + len("</article>")
    items = re.split(r"(?=\n<article)", html[start:end])[1:]
    return html[:start] + repeated(items, posts, r'id="elComment_(\d+)"', 800000) + html[end:]


def main(argv: list[str] | None = None) -> int:
    args = arg_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    rounds = 5 if args.quick else 31
    rows: list[Row] = []
    page1 = (CASE / "page1.html").read_text(encoding="utf-8")
    page2 = (CASE / "page2.html").read_text(encoding="utf-8")
    for case, html, url, n in (
        ("synthetic IPS 4 page 1 (2 posts)", page1, TOPIC, rounds),
        ("synthetic IPS 4 page 2 (2 posts)", page2, TOPIC + "page/2/", rounds),
        ("synthetic IPS 4 page (300 posts)", big(300), TOPIC + "page/2/", max(3, rounds // 4)),
    ):
        rows += bench("parse_invision", case, html, url, n, invision.parse_page, bs4_parse)
    return finish(rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
