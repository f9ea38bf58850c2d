"""Parse benchmark (issue 14): the XenForo adapter against BeautifulSoup+lxml on the same fields.

Cases: the two real XenForo 2 threads (katzen-forum, villagersandheroes) and the XenForo 1
thread written from its templates (2 pages). For each page both extract the thread's title, its
page URLs, whether it is locked, and per post the id, author, profile link, date as shown and as
UTC, the "#N" and the body as text; the two are checked equal, then timed side by side
(interleaved rounds, best of each).

    python bench/parse_xenforo.py [--quick] [--json out.json]
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag
from common import FIXTURES, Row, arg_parser, finish
from forum_bench import Post, Topic, race, topic
from parse_bench import _bs_render

from archiver.adapters import xenforo
from archiver.adapters.dates import parse_date

_THREAD = re.compile(r"^(?P<thread>.*?/threads/(?:[^/]*\.)?\d+)(?:/(?:page-(?P<page>\d+))?)?/?$")
_HASH = re.compile(r"^#\s*(\d{1,9})$")


def adapter(html: str, url: str) -> Topic:
    return topic(xenforo.parse_page(html, url))


def _text(node: Tag | None) -> str:
    return " ".join(node.get_text().split()) if node is not None else ""


def _split(url: str) -> tuple[str, int] | None:
    parts = urlsplit(url)
    found = _THREAD.match(parts.path)
    if found is None:
        return None
    return f"{parts.scheme}://{parts.netloc}{found['thread']}/", int(found["page"] or 1)


def _when(stamp: Tag | None) -> datetime | None:
    if stamp is None:
        return None
    if stamp.get("datetime"):
        return datetime.fromisoformat(stamp["datetime"]).astimezone(UTC)
    if stamp.get("data-time"):
        return datetime.fromtimestamp(int(stamp["data-time"]), tz=UTC)
    return parse_date(stamp.get("title") or _text(stamp))


def _number(nodes: list[Tag]) -> int | None:
    for node in nodes:
        found = _HASH.match(_text(node))
        if found:
            return int(found[1])
    return None


def bs4_parse(html: str, url: str) -> Topic:
    """What a scraper would write with BeautifulSoup: the same rules, find/find_all/select."""
    soup = BeautifulSoup(html, "lxml")
    base = soup.find("base", href=True)
    links = urljoin(url, base["href"]) if base is not None else url
    canonical = soup.find("link", rel="canonical")
    named = _split(urljoin(url, canonical["href"])) if canonical is not None else None
    here = _split(url)
    thread_url = named[0] if named else here[0]  # type: ignore[index]
    page = here[1] if here else (named[1] if named else 1)
    posts: list[Post] = []
    for node in soup.select("article.message--post[data-content]"):
        stamp = node.select_one(".message-attribution time[datetime]")
        opposite = node.select_one(".message-attribution-opposite")
        author = node.select_one(".message-name a.username")
        posts.append(Post(
            node["data-content"].removeprefix("post-"), node.get("data-author", "").strip(),
            urljoin(links, author["href"]) if author is not None else None, _text(stamp),
            _when(stamp), _number(opposite.find_all(["a", "span"])) if opposite else None,
            _bs_render(node.select_one(".message-body .bbWrapper"))))
    if not posts:
        for node in soup.select('li.message[id^="post-"]'):
            body = node.find("blockquote", class_="messageText")
            if body is None:
                continue
            marker = body.find(class_="messageTextEndMarker")
            if marker is not None:
                marker.decompose()
            meta = node.find(class_="messageMeta")
            stamp = meta.find(class_="DateTime")
            author = node.select_one(".messageUserInfo a.username")
            posts.append(Post(
                node["id"].removeprefix("post-"), node.get("data-author", "").strip(),
                urljoin(links, author["href"]) if author is not None else None, _text(stamp),
                _when(stamp), _number(meta.find_all("a", class_="postNumber")),
                _bs_render(body)))
    if page == 1:
        for place, post in enumerate(posts, 1):
            post.number = post.number if post.number is not None else place
    last = 1
    nav = soup.find(class_="PageNav", attrs={"data-last": True})
    if nav is not None:
        last = int(nav["data-last"])
    for link in soup.find_all("a", href=re.compile("page-")):
        target = _split(urljoin(links, link["href"]))
        if target is not None and target[0] == thread_url:
            last = max(last, target[1])
    urls = [thread_url] + [f"{thread_url}page-{n}" for n in range(2, max(last, page) + 1)]
    title = _text(soup.select_one("h1.p-title-value")) or _text(soup.select_one(".titleBar h1"))
    closed = soup.select_one(".blockStatus-message--locked, dd.lockedAlert") is not None
    return Topic(title, closed, urls, posts)


def main(argv: list[str] | None = None) -> int:
    args = arg_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    folder = FIXTURES / "xenforo"
    katzen = [((folder / "katzen-forum-thread-230143" / "page.html").read_text("utf-8"),
               "https://www.katzen-forum.net/threads/"
               "jede-nacht-verliert-pepe-soviel-dreck-aus-dem-fell.230143/")]
    villagers = [((folder / "villagersandheroes-thread-3976" / "page.html").read_text("utf-8"),
                  "https://villagersandheroes.com/forums/threads/"
                  "patchnotes-4-47-4-tagundnachtgleiche-bugfix-build.3976/")]
    xf1_url = "https://forum.example.org/threads/tide-tables-for-the-north-quay.4242/"
    xf1 = [((folder / "xf1-template-locked-thread" / name).read_text("utf-8"), xf1_url + suffix)
           for name, suffix in (("page1.html", ""), ("page2.html", "page-2"))]
    rounds = 3 if args.quick else 15
    rows: list[Row] = []
    rows += race("parse xenforo", "katzen-forum, XenForo 2 (18 posts)", katzen, adapter,
                 bs4_parse, rounds)
    rows += race("parse xenforo", "villagersandheroes, XenForo 2 (9 posts)", villagers, adapter,
                 bs4_parse, rounds)
    rows += race("parse xenforo", "XenForo 1 from its templates (2 pages)", xf1, adapter,
                 bs4_parse, rounds)
    return finish(rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
