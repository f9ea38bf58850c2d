"""Parse benchmark for Hacker News item pages: our adapter against BeautifulSoup on lxml.

On the real pages (2026: 124 comments, 2015: 69 over 14 levels, item 1 of 2020: 19 with dead
ones) and on a 2,000-comment page built from the 2026 one (its rows repeated, ids made unique),
both extract the same fields of every comment: id, parent, depth, author, author URL, the date
as the page gives it, and the body text (whitespace folded). The results are checked equal
first; then each runs several rounds, interleaved, and the best round counts.

    python bench/parse_hackernews.py [--quick] [--json out.json]
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

from common import FIXTURES, race_main, race_speedups

from archiver.adapters import hackernews
from archiver.adapters.depth import parse_html

try:
    from bs4 import BeautifulSoup, Tag
except ImportError:  # pragma: no cover - the `test` extra brings it
    BeautifulSoup = None  # type: ignore[assignment,misc]

HN = FIXTURES / "hackernews"
PAGES = {
    "2026 (124)": (HN / "item-48350598-2026" / "item.html", "https://news.ycombinator.com/item?id=48350598"),
    "2015 (69)": (HN / "item-9681697-2015" / "item_9681697.html", "https://news.ycombinator.com/item?id=9681697"),
    "2020 (19)": (HN / "item-1-2020-with-algolia" / "item_1.html", "https://news.ycombinator.com/item?id=1"),
}
Fields = tuple[str, str | None, int, str, str | None, str, str]


def fold(text: str) -> str:
    return " ".join(text.split())


def ours(html: str, url: str) -> list[Fields]:
    tree = parse_html(html)
    hackernews.parse_thread(tree, url)
    return [(c.source_id, c.parent_source_id, c.depth, c.author_name, c.author_url,
             c.published_text, fold(c.body_text))
            for c in hackernews.parse_comments(tree, url)]


# --- the same with BeautifulSoup on lxml: straightforward, by the same markup -----------------

ITEM = re.compile(r"item\?id=(\d+)")


def _text(node: Tag | None) -> str:
    return fold(node.get_text(" ")) if node is not None else ""


def _item_id(href: str) -> str | None:
    values = parse_qs(urlsplit(href).query).get("id") or []
    return values[0] if values else None


def _body_text(body: Tag | None) -> str:
    if body is None:
        return ""
    for reply in body.select("div.reply"):
        reply.decompose()
    for block in body.find_all(["p", "pre"]):
        block.insert_before(" ")
    return fold(body.get_text(""))


def bs4(html: str, url: str) -> list[Fields]:
    soup = BeautifulSoup(html, "lxml")
    own = soup.select_one("table.fatitem tr.athing") or next(
        (r for r in soup.select("tr.athing") if r.select_one("td.title")), None)
    found: list[Fields] = []
    above: list[str] = []
    for row in soup.select("tr.athing"):
        ind = row.select_one("td.ind")
        if row is own or ind is None:
            continue
        head = row.select_one("span.comhead")
        age = head.select_one("span.age") if head else None
        if age is None and head is not None:
            age = next((a for a in head.find_all("a") if ITEM.match(a.get("href", ""))), None)
        cid = row.get("id")
        if not cid and age is not None:
            link = age if age.name == "a" else age.find("a")
            cid = _item_id(link["href"])
        indent = ind.get("indent")
        img = ind.find("img")
        depth = int(indent) if indent else int(img["width"]) // 40 if img else 0
        del above[depth:]
        parent = None
        for link in head.select("span.navs a, span.par a") if head else []:
            if _text(link) == "parent":
                parent = link["href"].lstrip("#")
        parent = parent or (above[depth - 1] if 0 < depth <= len(above) else None)
        while len(above) < depth:
            above.append("")
        above.append(cid)
        user = head.select_one("a.hnuser") if head else None
        if user is None and head is not None:
            user = next((a for a in head.find_all("a") if a.get("href", "").startswith("user?id=")),
                        None)
        title = (age.get("title") or "").split() if age is not None else []
        date = title[0] if title else _text(age)
        body = row.select_one(".commtext") or row.select_one("span.comment")
        text = _body_text(body)
        marks = [m for m in hackernews.MARKS if m in _text(head)]
        if body is None or not text:
            marks += [m for m in ("[deleted]",) if m not in marks]
        if marks and not text.startswith(marks[0]):
            text = fold(" ".join(marks) + " " + text)
        found.append((cid, parent or None, depth, _text(user),
                      urljoin(url, user["href"]) if user else None, date, text))
    return found


def big_page(count: int = 2000) -> tuple[str, str]:
    """The 2026 page with its comment rows repeated up to `count` comments (ids made unique)."""
    path, url = PAGES["2026 (124)"]
    html = path.read_text(encoding="utf-8")
    head, rest = html.split('<table border="0" class="comment-tree">', 1)
    last = rest.rfind('class="athing comtr"')
    end = rest.find("</table></td></tr>", last) + len("</table></td></tr>")
    rows, tail = rest[:end], rest[end:]
    copies = []
    for n in range(count // 124 + 1):
        copies.append(re.sub(r'(id="|id=|href="#)(\d{8})', lambda m, n=n: f"{m[1]}{m[2]}{n:03d}",
                             rows))
    return head + '<table border="0" class="comment-tree">' + "".join(copies) + tail, url


def main(argv: list[str] | None = None) -> int:
    if BeautifulSoup is None:
        print("BeautifulSoup (bs4) and lxml are needed: pip install -e .[test]")
        return 2
    cases = [(name, (path.read_text(encoding="utf-8"), url)) for name, (path, url) in PAGES.items()]
    cases.append(("synthetic (2,000+)", big_page()))
    return race_main(argv, __doc__ or "", (3, 10), lambda rounds: race_speedups(
        "parse_hackernews", cases, ours, bs4, rounds, count=len))


if __name__ == "__main__":
    raise SystemExit(main())
