"""Parse benchmark (issue 14, item 5): the SMF adapter against BeautifulSoup+lxml.

On the two synthetic SMF 2.0 pages of the locked topic and a page of 300 posts built from page 2,
both read per post its msg id, the "Reply #N" number, author and profile link (PHPSESSID
dropped), date as shown and read, permalink and body text, and per page its number and last page
(the .pagelinks), the title (last breadcrumb), the page URLs (topic=ID.OFFSET), the lock icon
and the topic's own post (page 1's first, unnumbered). Compared field by field and timed by
bench/forum_race.py (best and median of interleaved rounds).

    python bench/parse_smf.py [--quick] [--json out.json]
"""

from __future__ import annotations

import re
import sys

from common import FIXTURES, Row, arg_parser, finish
from forum_race import bench, bs_text, repeated
from parse_bench import _bs_render

from archiver.adapters import smf
from archiver.adapters.forumpages import drop_params, forum_date, number_in, resolve
from archiver.fetch.charset import choose_encoding, decode_text

try:
    from bs4 import BeautifulSoup, Tag
except ImportError:  # pragma: no cover
    raise SystemExit("beautifulsoup4 and lxml are needed: pip install '.[test]'") from None

CASE = FIXTURES / "smf" / "synthetic-smf20-locked"
URL = "https://boats.example.org/index.php?topic=4711.{}"
SESSION = frozenset({"phpsessid"})
STAMP = re.compile(r"^[«\s]*(?:(?:Reply\s*)?#(?P<n>\d+)\s*)?[^:«»]*?:\s*(?P<date>.+?)[\s»]*$",
                   re.IGNORECASE)
TOPIC = re.compile(r"(topic[=,])(\d+)\.(\d+)")


def bs_post(wrapper: Tag, base: str) -> dict:
    body = wrapper.select_one('div.inner[id^="msg_"]')
    post_id = (body.get("id") or "").removeprefix("msg_") if body is not None else ""
    author, author_url = "", None
    head = wrapper.select_one(".poster h4")
    if head is not None:
        link = next((a for a in head.select("a[href]") if "action=profile" in a["href"]), None)
        author, author_url = (bs_text(link), link["href"]) if link else (bs_text(head), None)
    shown, number = "", None
    stamp = wrapper.select_one(".keyinfo .smalltext, .postinfo .smalltext")
    found = STAMP.match(bs_text(stamp)) if stamp is not None else None
    if found:
        shown, number = found["date"].strip(), number_in(found["n"] or "")
    link = wrapper.select_one(f'h5#subject_{post_id} a, .postinfo a[href*="msg"]')
    permalink = resolve(base, link.get("href") if link is not None else None)
    return {"source_id": post_id, "number": number, "author_name": author,
            "author_url": drop_params(resolve(base, author_url) or "", SESSION) or None,
            "published_text": shown, "published_at": forum_date(shown),
            "permalink": drop_params(permalink, SESSION) if permalink else None,
            "body_text": _bs_render(body) if body is not None else ""}


def bs4_parse(html: str, url: str) -> dict:
    soup = BeautifulSoup(html, "lxml")
    current, seen = 0, {}
    for pager in soup.select(".pagelinks"):
        for node in pager.select("strong, span.current_page"):
            number = number_in(bs_text(node))
            if number is not None and current == 0:
                current = number
        for link in pager.select("a[href]"):
            number, href = number_in(bs_text(link)), resolve(url, link.get("href"))
            if number is not None and href is not None and TOPIC.search(href):
                seen[number] = drop_params(href, SESSION)
    current = current or 1
    last = max([current, *seen])
    urls = dict(seen)
    for number, href in seen.items():
        offset = int(TOPIC.search(href)[3])  # type: ignore[index]
        if number > 1 and offset:
            per = offset // (number - 1)
            for n in range(1, last + 1):
                urls.setdefault(n, TOPIC.sub(
                    lambda m, n=n, per=per: f"{m[1]}{m[2]}.{(n - 1) * per}", href, count=1))
            break
    own = drop_params(url, SESSION)
    if current == 1:
        urls[1] = own
    posts = [bs_post(w, url) for w in soup.select("div.post_wrapper")]
    thread = None
    if current == 1 and posts[0]["number"] is None:
        thread, posts = posts[0], posts[1:]
        thread = {k: thread[k] for k in ("author_name", "published_text", "published_at",
                                          "body_text", "permalink")}
    crumbs = soup.select(".navigate_section li.last")
    closed = bool(soup.select_one('#forumposts .cat_bar img[src*="locked"]')
                  or soup.select_one("#forumposts .cat_bar .main_icons.lock, #forumposts .lock"))
    return {"number": current, "last": last, "title": bs_text(crumbs[-1]) if crumbs else "",
            "thread_url": urls[1], "page_urls": urls, "closed": closed, "thread": thread,
            "posts": posts}


def load(page: int) -> str:
    body = (CASE / f"topic-4711-page{page}.html").read_bytes()
    return decode_text(body, choose_encoding(body, "text/html"))


def big(posts: int) -> str:
    """Page 2 with its posts repeated (new ids, reply numbers) to ``posts``."""
    html = load(2)
    start = html.index('\n\t\t\t\t<a id="msg')
    end = html.rindex('<hr class="post_separator" />') + len('<hr class="post_separator" />')
    items = re.split(r'(?=\n\t\t\t\t<a id="msg)', html[start:end])[1:]
    return html[:start] + repeated(
        items, posts, r'id="msg(\d+)"', 700000,
        lambda item, n: re.sub(r"Reply #\d+", f"Reply #{n + 3}", item)) + html[end:]


def main(argv: list[str] | None = None) -> int:
    args = arg_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    rounds = 5 if args.quick else 31
    rows: list[Row] = []
    for case, html, url, n in (
        ("synthetic SMF 2.0 page 1 (3 posts)", load(1), URL.format(0), rounds),
        ("synthetic SMF 2.0 page 2 (3 posts)", load(2), URL.format(3), rounds),
        ("synthetic SMF 2.0 page (300 posts)", big(300), URL.format(3), max(3, rounds // 4)),
    ):
        rows += bench("parse_smf", case, html, url, n, smf.parse_page, bs4_parse)
    return finish(rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
