"""Parse benchmark (issue 14): the phpBB adapter against BeautifulSoup+lxml on the same fields.

Cases: the seven real pages of the dostips topic (prosilver-based, 94 posts), the German
prosilver page (myoos) and the two subsilver2 pages (dildano). For each page both extract the
thread's title, its page URLs, whether it is locked, and per post the id, author, profile link,
date as shown and as UTC, the number and the body as text (quotes' cites on their own line);
the two are checked equal, then timed side by side (interleaved rounds, best of each).

    python bench/parse_phpbb.py [--quick] [--json out.json]
"""

from __future__ import annotations

import re
import sys
from urllib.parse import parse_qs, urljoin, urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag
from common import FIXTURES, Row, arg_parser, finish
from forum_bench import Post, Topic, race, topic
from parse_bench import _bs_render

from archiver.adapters import phpbb

DOSTIPS = FIXTURES / "phpbb" / "dostips-topic-7153-all-7-pages"
_POST_ID = re.compile(r"^p(\d+)$")
_NUMBER = re.compile(r"#\s*(\d{1,9})\b")
_LEAD = re.compile(r"^[\s»:|,-]+")
_JUMP = re.compile(r"""base_url\s*=\s*['"]([^'"]*)['"]""")
_PER_PAGE = re.compile(r"""per_page\s*=\s*['"](\d+)['"]""")


# --- the adapter's answer, as a Topic ------------------------------------------------------------

def adapter(html: str, url: str) -> Topic:
    return topic(phpbb.parse_page(html, url))


# --- the same with BeautifulSoup on lxml ------------------------------------------------------

def _text(node: Tag | None) -> str:
    return " ".join(node.get_text().split()) if node is not None else ""


def _body(soup: BeautifulSoup, node: Tag | None) -> str:
    if node is None:
        return ""
    for cite in node.find_all("cite"):  # "X wrote:" on a line of its own
        cite.insert_after(soup.new_tag("br"))
    return _bs_render(node)


def _line_date(line: Tag | None) -> str:
    if line is None:
        return ""
    texts = [_LEAD.sub("", " ".join(str(s).split())).strip()
             for s in line.children if isinstance(s, NavigableString)]
    texts = [t for t in texts if t]
    return texts[-1] if texts else ""


def _author(scope: Tag, line: Tag | None, url: str) -> tuple[str, str | None]:
    classes = ["username", "username-coloured"]
    for where in (line, scope.find(class_="postprofile"), scope):
        node = where.find(["a", "span"], class_=classes) if where is not None else None
        if node is not None:
            href = node.get("href") if node.name == "a" else None
            return _text(node), urljoin(url, href) if href else None
    profile = scope.find("a", href=re.compile("mode=viewprofile"))
    return _text(scope.find("b", class_="postauthor")), (
        urljoin(url, profile["href"]) if profile is not None else None)


def _post(soup: BeautifulSoup, scope: Tag, post_id: str, line: Tag | None, body: Tag | None,
          url: str, number: int | None) -> Post:
    name, profile = _author(scope, line, url)
    date = _line_date(line)
    shown = _NUMBER.search(_text(line)) if line is not None else None
    return Post(post_id, name, profile, date, phpbb.parse_phpbb_date(date) if date else None,
                int(shown[1]) if shown else number, _body(soup, body))


def _query(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def bs4_parse(html: str, url: str) -> Topic:
    """What a scraper would write with BeautifulSoup: the same rules, find/find_all."""
    soup = BeautifulSoup(html, "lxml")
    base = urljoin(url, "./")
    topic = (_query(url).get("t") or [None])[0]
    if topic is None:
        for node, attr in ((soup.find("link", rel="canonical"), "href"),
                           (soup.find("h2", class_="topic-title"), None)):
            href = (node.get(attr) if attr else (node.a or {}).get("href")) if node else None
            topic = topic or ((_query(href or "").get("t") or [None])[0])
    jump = _JUMP.search(html)
    if topic is None and jump:
        topic = (_query(jump[1].replace("&amp;", "&")).get("t") or [None])[0]
    starts: set[int] = set()
    for link in soup.find_all("a", href=re.compile("t=")):  # the raw href, as the adapter
        path, _, query_text = link["href"].partition("?")
        name = path.rsplit("/", 1)[-1].lower()
        query = parse_qs(query_text.split("#", 1)[0])
        if (not name or name.startswith("viewtopic")) and query.get("t") == [topic] \
                and not {"p", "view", "mode"} & query.keys():
            starts.add(int((query.get("start") or ["0"])[0]))
    jumper = soup.find(attrs={"data-per-page": True})
    per_page_text = jumper["data-per-page"] if jumper else (
        _PER_PAGE.search(html)[1] if _PER_PAGE.search(html) else "")
    step = 0
    for start in starts:
        step = step and _gcd(step, start) or start
    per_page = int(per_page_text) if per_page_text else (step or None)
    pager = soup.find("td", class_="nav")
    strongs = [s for s in (pager.find_all("strong", recursive=False) if pager else [])]
    if len(strongs) == 2 and per_page:
        starts.add((int(_text(strongs[1])) - 1) * per_page)
    start = int((_query(url).get("start") or ["0"])[0])
    posts: list[Post] = []
    for node in soup.find_all("div", class_="post", id=_POST_ID):
        post_id = node["id"][1:]
        posts.append(_post(soup, node, post_id, node.find("p", class_="author"),
                           node.find("div", class_="content"), url, start + len(posts) + 1))
    if not posts:  # subsilver2: a table per post, <a name="pID"> in its first row
        for anchor in soup.find_all("a", attrs={"name": _POST_ID}):
            post_id = anchor["name"][1:]
            table = anchor.find_parent("table")
            line = next((a.parent for a in table.find_all("a", href=re.compile(f"#p{post_id}$"))
                         if not a["href"].startswith("#")), None)
            posts.append(_post(soup, table, post_id, line, table.find("div", class_="postbody"),
                               url, start + len(posts) + 1))
    last = max(starts, default=0)
    urls = [f"{base}viewtopic.php?t={topic}" + (f"&start={s}" if s else "")
            for s in range(0, last + 1, per_page or last or 1)]
    title = next((t for t in (_text(soup.find("h2", class_="topic-title")),
                              _text(soup.select_one("#pageheader h2"))) if t), "")
    closed = soup.select_one('a[href*="mode=reply"] .fa-lock, div.locked-icon, '
                             'img[src*="button_topic_locked"]') is not None
    return Topic(title, closed, urls, posts)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def main(argv: list[str] | None = None) -> int:
    args = arg_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    forum = "https://www.dostips.com/forum/viewtopic.php?f=3&t=7153"
    dostips = [((DOSTIPS / name).read_text(encoding="utf-8"),
                forum + (f"&start={15 * i}" if i else ""))
               for i, name in enumerate(sorted(p.name for p in DOSTIPS.glob("page*.html")))]
    myoos = [((FIXTURES / "phpbb" / "myoos-topic-167" / "page.html").read_text("utf-8"),
              "https://foren.myoos.de/viewtopic.php?t=167")]
    dildano_dir = FIXTURES / "phpbb" / "dildano-subsilver2-topic-8"
    dildano = [((dildano_dir / name).read_text("utf-8"),
                "http://dildano.co.uk/phpBB3/viewtopic.php?f=3&t=8" + suffix)
               for name, suffix in (("viewtopic-27953.php", ""),
                                    ("viewtopic-35177.php", "&start=10"))]
    rounds = 3 if args.quick else 15
    rows: list[Row] = []
    rows += race("parse phpbb", "dostips topic, prosilver style (7 pages)", dostips, adapter,
                 bs4_parse, rounds)
    rows += race("parse phpbb", "myoos, prosilver (1 page)", myoos, adapter, bs4_parse, rounds)
    rows += race("parse phpbb", "dildano, subsilver2 (2 pages)", dildano, adapter, bs4_parse,
                 rounds)
    return finish(rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
