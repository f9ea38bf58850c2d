"""Parse benchmark (issue 14, item 5): the vBulletin adapter against BeautifulSoup+lxml.

The same fields are extracted both ways from each page (the real vB4 page 34, the real vB3 page,
the synthetic vB4 and vB5 pages, and a synthetic vB4 page of 400 posts): per post its id,
number, author, author URL, date as shown and read, permalink and body text (rendered by the
same rules: bench/parse_bench.py's BS4 renderer); per page its number, last page, title, page
URLs, closed flag and the thread's post. The two are checked equal first, then timed round after
round, interleaved; figures are the best and the median of the rounds.

    python bench/parse_vbulletin.py [--quick] [--json out.json]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from common import FIXTURES, Row, arg_parser, finish
from forum_race import bench, repeated
from parse_bench import _bs_render

from archiver.adapters import vbulletin
from archiver.adapters.forumpages import (
    drop_params,
    forum_date,
    iso_date,
    number_in,
    page_urls,
    resolve,
)
from archiver.fetch.charset import choose_encoding, decode_text

try:
    from bs4 import BeautifulSoup, Tag
except ImportError:  # pragma: no cover
    raise SystemExit("beautifulsoup4 and lxml are needed: pip install '.[test]'") from None

VB = FIXTURES / "vbulletin"
SESSION = frozenset({"s", "highlight"})
POST_ID = re.compile(r"^post_?(\d+)$")
OF = re.compile(r"(\d+)\D+?(\d+)\s*$")
DATE_LIKE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}:\d{2}")


# --- the same extraction with BeautifulSoup on lxml ---------------------------------------------

def text(node: Tag | None) -> str:
    return "" if node is None else " ".join(node.get_text().replace("\xa0", " ").split())


def bs_containers(soup: BeautifulSoup) -> list[tuple[str, Tag]]:
    found = [(n.get("data-node-id") or "", n)
             for n in soup.select("li.b-post[data-node-id], div.b-post[data-node-id]")]
    if found:
        return found
    seen: set[str] = set()
    for node in soup.select('li[id^="post_"], table[id^="post"], div[id^="post"]'):
        match = POST_ID.match(node.get("id") or "")
        if match and match[1] not in seen and node.select_one(f"#post_message_{match[1]}"):
            seen.add(match[1])
            found.append((match[1], node))
    return found


def bs_author(node: Tag) -> tuple[str, str | None]:
    for selector in (".b-userinfo__details .author a", ".b-userinfo__details .author",
                     '[itemprop="author"] [itemprop="name"]', "a.username", ".username",
                     "a.bigusername", ".bigusername", ".author a"):
        found = node.select_one(selector)
        if found is not None and text(found):
            link = found if found.name == "a" else found.find("a")
            return text(found), (link.get("href") if link is not None else None)
    return "", None


def bs_date(node: Tag) -> tuple[str, str | None]:
    stamp = node.select_one("time[datetime]")
    if stamp is not None:
        shown = node.select_one(".b-post__timestamp")
        return text(shown or stamp), stamp.get("datetime")
    for selector in (".postdate .date", "span.date", ".b-post__timestamp"):
        found = node.select_one(selector)
        if found is not None and text(found):
            return text(found), None
    for dd in node.select("dl.userstats dd, .userinfo_extra dd"):
        value = text(dd)
        if DATE_LIKE.search(value) and len(value) < 60:
            return value, None
    head = node.select_one("td.thead")
    return (text(head), None) if head is not None else ("", None)


def bs_number(node: Tag) -> tuple[int | None, str | None]:
    for selector in ("a.postcounter", ".b-post__count", 'a[id^="postcount"]'):
        found = node.select_one(selector)
        if found is not None:
            number = number_in(text(found))
            if number is None and found.get("name"):
                number = number_in(found.get("name") or "")
            return number, found.get("href")
    return None, None


def bs_post(post_id: str, node: Tag, base: str) -> dict:
    body = node.select_one(".js-post__content-text") or node.select_one(f"#post_message_{post_id}")
    if body is not None:
        body = body.select_one("blockquote.postcontent") or body
    author, author_url = bs_author(node)
    shown, stamp = bs_date(node)
    number, link = bs_number(node)
    permalink = resolve(base, link)
    return {
        "source_id": post_id, "number": number, "author_name": author,
        "author_url": drop_params(resolve(base, author_url) or "", SESSION) or None,
        "published_text": shown, "published_at": iso_date(stamp) or forum_date(shown),
        "permalink": drop_params(permalink, SESSION) if permalink else None,
        "body_text": _bs_render(body) if body is not None else "",
    }


def bs_title(soup: BeautifulSoup) -> str:
    for selector in ("#pagetitle .threadtitle", "span.threadtitle", "li.lastnavbit",
                     "h1.main-title", "td.navbar strong", ".b-post__title"):
        nodes = soup.select(selector)
        if nodes and text(nodes[-1]):
            return text(nodes[-1])
    og = soup.select_one('meta[property="og:title"]')
    if og is not None and og.get("content"):
        return " ".join(og["content"].split())
    return text(soup.title)


def bs_pager(soup: BeautifulSoup, base: str) -> tuple[int, int, list[tuple[int, str]],
                                                      str | None]:
    current = last = 0
    links: list[tuple[int, str]] = []
    first = None
    for pager in soup.select(".pagination, .pagenav, .pagination_top, .pagination_bottom,"
                             " .threadpagenav, .js-pagenav, .pagenav-controls"):
        for label in pager.select(".popupctrl, td.vbmenu_control"):
            found = OF.search(text(label))
            if found:
                current, last = current or int(found[1]), max(last, int(found[2]))
        for total in pager.select(".pagetotal"):
            last = max(last, number_in(text(total)) or 0)
        for node in pager.select("span.selected, td.alt2 strong, strong, .pagenav-item.active,"
                                 " input.js-pagenum"):
            number = number_in(text(node) or (node.get("value") or ""))
            if number is not None and not [a for a in node.select("a[href]")
                                           if not a["href"].startswith("javascript")]:
                current = current or number
                break
        for link in pager.select("a[href]"):
            href = resolve(base, link.get("href"))
            if href is None:
                continue
            href = drop_params(href, SESSION)
            rel = link.get("rel") or []
            if "start" in rel or "first" in rel:
                first = first or href
            number = number_in(text(link)) or number_in(link.get("data-page") or "")
            if number is not None:
                links.append((number, href))
                last = max(last, number)
    return current or 1, max(last, current or 1), links, first


def bs4_parse(html: str, url: str) -> dict:
    soup = BeautifulSoup(html, "lxml")
    tag = soup.select_one("base[href]")
    base = (resolve(url, tag.get("href")) or url) if tag is not None else url
    own = drop_params(url, SESSION)
    current, last, links, first = bs_pager(soup, base)
    if current == 1:
        first = own
    elif first is None:
        first = next((h for n, h in links if n == 1), None) or own
    posts = [bs_post(pid, node, base) for pid, node in bs_containers(soup)]
    thread = None
    if current == 1 and posts[0]["number"] in (None, 1):
        thread, posts = posts[0], posts[1:]
    closed = bool(soup.select_one('img[src*="threadclosed"]')
                  or soup.select_one("span#newreplylink_top, span#newreplylink_bottom")
                  or soup.select_one(".js-topic-closed, .b-topic-closed"))
    return {"number": current, "last": last, "title": bs_title(soup), "thread_url": first,
            "page_urls": page_urls(links, last, first), "closed": closed, "thread": thread,
            "posts": posts}


# --- the cases ----------------------------------------------------------------------------------

def load(path: Path, content_type: str = "text/html") -> str:
    body = path.read_bytes()
    return decode_text(body, choose_encoding(body, content_type))


def big_vb4(posts: int) -> str:
    """The synthetic vB4 page with its posts repeated (new ids and numbers) to ``posts``."""
    html = load(VB / "synthetic-vb4-closed" / "page1.html")
    start, end = html.index('<li class="postbitlegacy'), html.rindex("</li>") + 5
    block = html[start:end]
    items = block.split('\n<li class="postbitlegacy')
    items = [items[0]] + ['\n<li class="postbitlegacy' + i for i in items[1:]]
    return html[:start] + repeated(
        items, posts, r'id="post_(\d+)"', 900000,
        lambda item, n: re.sub(r'class="postcounter">#\d+', f'class="postcounter">#{n + 1}',
                               item)) + html[end:]


def main(argv: list[str] | None = None) -> int:
    args = arg_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    rounds = 5 if args.quick else 31
    pocket = VB / "pocketpc-vb4-page-34-of-40"
    domen = VB / "domenforum-vb384-t202519"
    cases = [
        ("real vB4 page 34 (20 posts, 191 KB, windows-1252)", load(pocket / "page.html"),
         "https://www.pocketpc.ch/windows-phone-7-allgemein/"
         "122760-microsoft-beginnt-auslieferung-vorbereitungsupdate-34.html"),
        ("real vB3.8 page 1 (10 posts, 107 KB)",
         load(domen / "showthread_t202519_page1.html", "text/html; charset=utf-8"),
         "https://domenforum.net/showthread.php?t=202519&highlight=annews.ru"),
        ("synthetic vB5 page 1 (2 posts)", load(VB / "synthetic-vb5" / "page1.html"),
         "https://community.example.net/forum/general-discussion/777-moving-the-boat-club-forum"),
        ("synthetic vB4 page (400 posts)", big_vb4(400),
         "https://tides.example.org/threads/4242-reading-the-tide-tables"),
    ]
    rows: list[Row] = []
    for case, html, url in cases:
        rows += bench("parse_vbulletin", case, html, url,
                      rounds if "400" not in case else max(3, rounds // 4),
                      vbulletin.parse_page, bs4_parse)
    return finish(rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
