"""Parse benchmark for Blogger post pages: our adapter against BeautifulSoup on lxml.

On the real pages (luxuryhaven: 24 threaded comments; derpapierplanet: 13 of which 9 replies;
the legacy dl#comments-block case: 4) and on a 2,000-comment page built from luxuryhaven's (its
comment list repeated, ids made unique), both extract the same fields: the post's title, author
and blog name, and for every comment its id, parent, depth, author, author URL, the date as
shown, the exact time from the permalink, the permalink and the body text. The results are
checked equal first; then each runs several rounds, interleaved, and the best round counts.

    python bench/parse_blogger.py [--quick] [--json out.json]
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

from common import FIXTURES, item_differences, race_main, race_speedups

from archiver.adapters import blogger

try:
    from bs4 import BeautifulSoup, Tag
except ImportError:  # pragma: no cover - the `test` extra brings it
    BeautifulSoup = None  # type: ignore[assignment,misc]

CASES = FIXTURES / "blogger"
LUXURY_URL = ("https://www.luxuryhaven.co/2019/05/"
              "nam-nghi-phu-quoc-unbound-collection-by-hyatt-officially-opens.html")
PAGES = {
    "luxuryhaven (24)": (CASES / "luxuryhaven-custom-domain-threaded" / "page.html", LUXURY_URL),
    "derpapierplanet (13)": (CASES / "derpapierplanet-custom-domain-replies" / "page.html",
                             "https://www.derpapierplanet.de/2015/06/"
                             "through-booking-glass-juni-genre.html"),
    "legacy dl (4)": (CASES / "legacy-comments-block" / "page.html",
                      "http://tidewatch.blogspot.com/2008/03/spring-tides.html"),
}
Comment = tuple[str, str | None, int, str, str | None, str, datetime | None, str | None, str]
Result = tuple[tuple[str, str, str], list[Comment]]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def squash(text: str) -> str:
    """Text without its whitespace: the two renderings differ only in where they break lines."""
    return "".join(text.split())


def ours(html: str, url: str) -> Result:
    page = blogger.parse_page(html, url)
    thread = page.thread
    return ((thread.title, thread.author, thread.site_name),
            [(c.source_id, c.parent_source_id, c.depth, c.author_name, c.author_url,
              c.published_text, c.published_at, c.permalink, squash(c.body_text))
             for c in page.comments])


# --- the same with BeautifulSoup on lxml: straightforward, by the same markup -----------------

SHOW = re.compile(r"[?&]showComment=(\d+)")


def _text(node: Tag | None) -> str:
    return " ".join(node.get_text(" ").split()) if node is not None else ""


def _when(href: str | None) -> datetime | None:
    found = SHOW.search(href or "")
    return EPOCH + timedelta(milliseconds=int(found[1])) if found else None


def _thread(soup: BeautifulSoup) -> tuple[str, str, str]:
    title = _text(soup.select_one(".post .post-title") or soup.select_one(".post-title"))
    author_node = soup.select_one(".post-author .fn") or soup.select_one(".post-author")
    author = re.sub(r"^Posted by\s*", "", _text(author_node))
    name = _text(soup.select_one("#Header1 h1"))
    if not name:
        image = soup.select_one("#Header1 img")
        name = str(image.get("alt", "")).strip() if image is not None else ""
    return title, author, name


def _threaded(holder: Tag, url: str) -> list[Comment]:
    found: list[Comment] = []
    for li in holder.select("li.comment"):
        ident = str(li.get("id", ""))
        if not re.fullmatch(r"c\d+", ident):
            continue
        parents = [p for p in li.parents if p.name == "li" and "comment" in p.get("class", [])]
        cite = li.select_one(".comment-header cite")
        link = cite.find("a") if cite is not None else None
        stamp = li.select_one(".datetime a")
        href = urljoin(url, str(stamp["href"])) if stamp is not None else None
        body = li.select_one(".comment-content")
        found.append((ident[1:], str(parents[0]["id"])[1:] if parents else None, len(parents),
                      _text(cite), str(link["href"]) if link is not None else None,
                      _text(stamp), _when(href), href,
                      squash(body.get_text()) if body is not None else ""))
    return found


def _legacy(block: Tag, url: str) -> list[Comment]:
    found: list[Comment] = []
    for dt in block.find_all("dt", class_="comment-author"):
        body = dt.find_next_sibling("dd")
        foot = body.find_next_sibling("dd") if body is not None else None
        links = [a for a in dt.find_all("a", href=True)
                 if not a.find_parent(class_="avatar-image-container")]
        own = [s.strip() for s in dt.find_all(string=True, recursive=False) if s.strip()]
        name = _text(links[0]) if links else own[0].splitlines()[0].strip()
        stamp = foot.select_one(".comment-timestamp a") if foot is not None else None
        href = urljoin(url, str(stamp["href"])) if stamp is not None else None
        found.append((str(dt["id"])[1:], None, 0, name,
                      str(links[0]["href"]) if links else None, _text(stamp), _when(href), href,
                      squash(body.get_text()) if body is not None else ""))
    return found


def bs4(html: str, url: str) -> Result:
    soup = BeautifulSoup(html, "lxml")
    holder = soup.select_one("#comment-holder")
    block = soup.select_one("dl#comments-block")
    if holder is not None:
        comments = _threaded(holder, url)
    elif block is not None:
        comments = _legacy(block, url)
    else:
        comments = []
    return _thread(soup), comments


# --- a big page ----------------------------------------------------------------------------------

def big_page(count: int = 2000) -> tuple[str, str]:
    """luxuryhaven's page with its comment list repeated until it holds count comments."""
    html = PAGES["luxuryhaven (24)"][0].read_text(encoding="utf-8")
    start = html.index('<ol id="top-ra">') + len('<ol id="top-ra">')
    end = html.index('</ol><div id="top-continue"')
    items = html[start:end]
    copies = []
    for n in range(count // 24 + 1):
        copies.append(re.sub(r"(c|data-comment-id=\"|#c|postID=)(\d{6})(\d+)",
                             lambda m, n=n: f"{m[1]}{n:06d}{m[3]}", items))
    return html[:start] + "".join(copies) + html[end:], LUXURY_URL


def differences(mine: Result, theirs: Result) -> list[str]:
    """Where the BS4 reading differs: the post, then comment by comment."""
    post = [f"the post: {mine[0]} != {theirs[0]}"] if mine[0] != theirs[0] else []
    return post + item_differences(mine[1], theirs[1], "comment")


def main(argv: list[str] | None = None) -> int:
    if BeautifulSoup is None:
        print("BeautifulSoup (bs4) and lxml are needed: pip install -e .[test]")
        return 2
    cases = [(name, (path.read_text(encoding="utf-8"), url)) for name, (path, url) in PAGES.items()]
    cases.append(("synthetic (2,000+)", big_page()))
    return race_main(argv, __doc__ or "", (3, 10), lambda rounds: race_speedups(
        "parse_blogger", cases, ours, bs4, rounds, count=lambda found: len(found[1]),
        differences=differences))


if __name__ == "__main__":
    raise SystemExit(main())
