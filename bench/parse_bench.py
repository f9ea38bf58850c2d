"""Parse benchmark (issue 6, item 1): our TypePad adapter against the lexbor floor and BS4+lxml.

On the reference page (the one-page fixture, 40 comments) and on a synthetic 2,000-comment page:
(a) floor: lexbor parses the page and selects the comment nodes, no extraction;
(b) BeautifulSoup on lxml doing the same extraction as our adapter (checked field by field);
(c) ``archiver.adapters.typepad.parse_page``.
The three run interleaved, round after round, in one process; figures are medians.

    python bench/parse_bench.py [--quick] [--json out.json]
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from urllib.parse import urldefrag, urljoin

from common import (
    BS4_TARGET,
    MOA,
    MOA_PATH,
    Row,
    Timing,
    arg_parser,
    finish,
    fmt_rate,
    timed,
    verdict,
)

from archiver.adapters import typepad
from archiver.adapters.base import ParsedComment, ParsedPage, ParsedThread
from archiver.adapters.dates import parse_date

try:
    from bs4 import BeautifulSoup, Comment, NavigableString, Tag
except ImportError:  # pragma: no cover - reported in the table instead
    BeautifulSoup = None  # type: ignore[assignment,misc]

from selectolax.lexbor import LexborHTMLParser

FLOOR_TARGET = 0.40  # adapter at least 40% of the floor's speed


# --- (a) the floor -----------------------------------------------------------------------------

def floor(html: str, url: str) -> int:
    """Parse and select the comment nodes: the least any lexbor-based adapter must do."""
    tree = LexborHTMLParser(html)
    return len(tree.css('div.comment[id^="comment-"]'))


def floor_with_bodies(html: str, url: str) -> int:
    """The floor plus serialising each comment's body (inner_html): context, not a contender."""
    tree = LexborHTMLParser(html)
    size = 0
    for node in tree.css('div.comment[id^="comment-"]'):
        content = node.css_first(".comment-content")
        size += len(content.inner_html or "") if content is not None else 0
    return size


# --- (b) the same extraction with BeautifulSoup on lxml ----------------------------------------

_SPACES = re.compile(r"\s+")
_WS = re.compile(r"[ \t\n\r\f]+")
_RUNS = re.compile(r" {2,}")
_POSTED_BY = re.compile(r"^\s*Posted by:?\s*", re.IGNORECASE)
_FOOTER = re.compile(r"^Posted by (?P<author>.+?) on (?P<date>.+?)(?: in .*)?$", re.IGNORECASE)
_NEXT = re.compile(r"^\s*next\b", re.IGNORECASE)
_BLOCKS = frozenset(
    "address article aside blockquote center dd details div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody "
    "thead tfoot tr ul".split()
)
_SKIP = frozenset("script style template head title noscript iframe object embed".split())


def _bs_text(node: Tag | None) -> str:
    return "" if node is None else _SPACES.sub(" ", node.get_text()).strip()


class _BsRenderer:
    """Body to plain text with the rules of archiver.adapters.render, on a BS4 tree."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.inline: list[str] = []
        self.pre = 0

    def flush(self) -> None:
        if not self.inline:
            return
        text = "".join(self.inline)
        self.inline.clear()
        if not self.pre:
            text = "\n".join(line.strip(" ") for line in _RUNS.sub(" ", text).split("\n"))
        if text.strip(" \n"):
            self.blocks.append(text)

    def children(self, node: Tag) -> None:
        for child in node.children:
            self.visit(child)

    def visit(self, node: object) -> None:
        if isinstance(node, Comment):
            return
        if isinstance(node, NavigableString):
            self.inline.append(str(node) if self.pre else _WS.sub(" ", str(node)))
            return
        if not isinstance(node, Tag):
            return
        name = node.name
        if name == "br":
            self.inline.append("\n")
        elif name == "img":
            self.inline.append((node.get("alt") or "").strip())  # type: ignore[union-attr]
        elif name in ("ul", "ol"):
            self.flush()
            self.blocks.append(_bs_list(node, ordered=name == "ol"))
        elif name == "pre":
            self.flush()
            self.pre += 1
            self.children(node)
            self.flush()
            self.pre -= 1
        elif name in _BLOCKS:
            self.flush()
            self.children(node)
            self.flush()
        elif name in _SKIP:
            return
        else:
            self.children(node)


def _bs_list(node: Tag, *, ordered: bool) -> str:
    items: list[str] = []
    number = int(node.get("start") or 1) if ordered else 0  # type: ignore[arg-type]
    for child in node.children:
        if isinstance(child, Tag) and child.name == "li":
            marker = f"{number}. " if ordered else "- "
            items.append(marker + _bs_render(child).replace("\n\n", "\n"))
            number += 1
    return "\n".join(items)


def _bs_render(node: Tag) -> str:
    renderer = _BsRenderer()
    renderer.children(node)
    renderer.flush()
    return "\n\n".join(renderer.blocks)


def _bs_comment(node: Tag, url: str) -> ParsedComment:
    source_id = str(node.get("id") or "").removeprefix("comment-")
    content = node.find(class_="comment-content")
    footer = node.find(class_="comment-footer")
    author_name, author_url, date_text, permalink, number = "", None, "", None, None
    if footer is not None:
        footer_text = _POSTED_BY.sub("", _bs_text(footer))
        links = footer.find_all("a")
        date_link = next(
            (a for a in links if "#comment-" in (a.get("href") or "") or "cid=" in
             (a.get("href") or "")), None,
        )
        if date_link is not None:
            date_text = _bs_text(date_link)
            permalink = urljoin(url, date_link.get("href") or "")
            before, _, after = footer_text.partition(date_text)
            author_name = before.strip().rstrip("|").strip()
            tail = after.strip().lstrip("|").strip()
        else:
            parts = [p.strip() for p in footer_text.split("|")]
            author_name = parts[0]
            date_text = parts[1] if len(parts) > 1 else ""
            tail = parts[2] if len(parts) > 2 else ""
        if tail.isdigit():
            number = int(tail)
        for link in links:
            if link is not date_link and _bs_text(link) == author_name:
                author_url = link.get("href")
                break
    return ParsedComment(
        source_id=source_id,
        body_html=content.decode_contents() if content is not None else "",
        body_text=_bs_render(content) if content is not None else "",
        author_name=author_name,
        author_url=author_url,
        published_text=date_text,
        published_at=parse_date(date_text) if date_text else None,
        number=number,
        permalink=permalink,
    )


def _bs_thread(soup: BeautifulSoup, url: str) -> ParsedThread:
    entry = soup.find("div", class_="entry") or soup.body
    header = entry.find(class_="entry-header")
    body = entry.find(class_="entry-body")
    bodies = [b for b in (body, entry.find(class_="entry-more")) if b is not None]
    footer_text = _bs_text(entry.find(class_="post-footers"))
    found = _FOOTER.match(footer_text)
    author, date_text = (found["author"].strip(), found["date"].strip()) if found else ("", "")
    canonical = soup.find("link", rel="canonical")
    thread_url = urldefrag(urljoin(url, canonical["href"]))[0] if canonical else url
    tagline_node = soup.find(id="banner-description")
    tagline = _bs_text(tagline_node)
    if not tagline and tagline_node is not None and tagline_node.img is not None:
        tagline = (tagline_node.img.get("alt") or "").strip()
    permalink = entry.find("a", class_="permalink")
    # TypePad's own fields live on its thread class (generic ParsedThread before the contract)
    thread_class = getattr(typepad, "TypePadThread", ParsedThread)
    return thread_class(
        url=thread_url,
        title=_bs_text(header),
        body_html="".join(b.decode_contents() for b in bodies),
        body_text="\n\n".join(t for t in (_bs_render(b) for b in bodies) if t),
        site_name=_bs_text(soup.find(id="banner-header")),
        site_tagline=tagline,
        date_header=_bs_text(soup.find("h2", class_="date-header")),
        author=author,
        published_text=date_text,
        published_at=parse_date(date_text) if date_text else None,
        permalink=permalink.get("href") if permalink is not None else None,
        footer_text=footer_text,
    )


def bs4_parse(html: str, url: str) -> ParsedPage:
    """What most scrapers write: BeautifulSoup on lxml, find/find_all, the same fields."""
    soup = BeautifulSoup(html, "lxml")
    thread = _bs_thread(soup, url)
    scope = soup.find(class_="comments") or soup
    nodes = scope.find_all("div", class_="comment", id=re.compile("^comment-"))
    comments = [_bs_comment(node, url) for node in nodes]
    closed = soup.find(class_="comments-closed") is not None
    pagers = soup.find_all(
        ["div", "p", "nav", "ul", "span"],
        class_=lambda c: c is not None and any(
            k in c for k in ("comments-nav", "pager", "paginat", "comment-nav")
        ),
    )
    current = 1
    for pager in pagers:
        spans = [s for s in pager.find_all(["span", "strong", "em", "b"]) if s.find("a") is None]
        digits = [int(t) for t in (_bs_text(s) for s in spans) if t.isdigit()]
        if digits:
            current = digits[0]
            break
    links = [a for pager in pagers for a in pager.find_all("a")]
    chosen = next((a for a in links if _NEXT.match(_bs_text(a))), None)
    if chosen is None:
        chosen = next((a for a in links if _bs_text(a) == str(current + 1)), None)
    next_url = None
    if chosen is not None and chosen.get("href"):
        target = urldefrag(urljoin(url, chosen["href"]))[0]
        next_url = target if target != urldefrag(url)[0] else None
    return ParsedPage(thread=thread, comments=comments, comments_closed=closed,
                      next_page_url=next_url, page_number=current)


# --- checks and timing -------------------------------------------------------------------------

def same_extraction(ours: ParsedPage, theirs: ParsedPage) -> list[str]:
    """Fields where the BS4 extraction differs from the adapter's (bodies compared as text)."""
    problems: list[str] = []
    if len(ours.comments) != len(theirs.comments):
        return [f"{len(ours.comments)} comments vs {len(theirs.comments)}"]
    for a, b in zip(ours.comments, theirs.comments, strict=True):
        for name in ("source_id", "author_name", "author_url", "published_text", "published_at",
                     "number", "permalink", "body_text"):
            if getattr(a, name) != getattr(b, name):
                problems.append(f"comment {a.source_id} {name}: {getattr(a, name)!r} vs "
                                f"{getattr(b, name)!r}")
    for name in ("url", "title", "body_text", "site_name", "site_tagline", "date_header",
                 "author", "published_text", "permalink"):
        if getattr(ours.thread, name) != getattr(theirs.thread, name):
            problems.append(f"thread {name} differs")
    for name in ("comments_closed", "next_page_url", "page_number"):
        if getattr(ours, name) != getattr(theirs, name):
            problems.append(f"{name}: {getattr(ours, name)!r} vs {getattr(theirs, name)!r}")
    return problems


def bench_page(
    case: str, html: str, url: str, rounds: int
) -> tuple[list[Row], dict[str, float]]:
    contenders: dict[str, Callable[[str, str], object]] = {
        "lexbor floor (parse + select)": floor,
        "lexbor parse + select + body inner_html": floor_with_bodies,
        "archiver adapter": typepad.parse_page,
    }
    if BeautifulSoup is not None:
        contenders["BeautifulSoup+lxml"] = bs4_parse
    ours = typepad.parse_page(html, url)
    n = len(ours.comments)
    if floor(html, url) != n:
        raise SystemExit(f"{case}: the floor selects {floor(html, url)} nodes, adapter {n}")
    note = ""
    if BeautifulSoup is not None:
        problems = same_extraction(ours, bs4_parse(html, url))
        if problems:
            raise SystemExit(f"{case}: BS4 extraction differs: " + "; ".join(problems[:5]))
        note = "BS4 output checked equal to the adapter's"
    timings = {name: Timing() for name in contenders}
    names = list(contenders)
    for index in range(rounds):
        order = names[index % len(names):] + names[: index % len(names)]  # rotate the order
        for name in order:
            elapsed, _ = timed(lambda f=contenders[name]: f(html, url))
            timings[name].runs.append(elapsed)
    med = {name: t.median for name, t in timings.items()}
    rows = [
        Row("parse", case, f"{name}: comments/s", fmt_rate(n / med[name]),
            note=f"median {med[name] * 1000:.1f} ms of {rounds}")
        for name in names
    ]
    of_floor = med["lexbor floor (parse + select)"] / med["archiver adapter"]
    rows.append(Row("parse", case, "adapter speed / floor speed", f"{of_floor:.0%}",
                    f">= {FLOOR_TARGET:.0%}", verdict(of_floor >= FLOOR_TARGET)))
    if BeautifulSoup is not None:
        vs_bs4 = med["BeautifulSoup+lxml"] / med["archiver adapter"]
        rows.append(Row("parse", case, "adapter speed / BS4 speed", f"{vs_bs4:.1f}x",
                        f">= {BS4_TARGET:.0f}x", verdict(vs_bs4 >= BS4_TARGET), note))
    else:
        rows.append(Row("parse", case, "adapter speed / BS4 speed", "n/a", f">= {BS4_TARGET}x",
                        "", "beautifulsoup4/lxml not installed (pip install '.[test]')"))
    return rows, med


def main(argv: list[str] | None = None) -> int:
    from gen_thread import make_thread

    args = arg_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    reference = (MOA / "one-page" / MOA_PATH.rsplit("/", 1)[-1]).read_text(encoding="utf-8")
    ref_url = "https://www.moonofalabama.org" + MOA_PATH
    big = make_thread(2000, 2000, seed=1)
    big_html = big.pages[big.post_path]
    rows: list[Row] = []
    small_rounds, big_rounds = (5, 2) if args.quick else (41, 7)
    r, _ = bench_page("reference page (40 comments, 54 KB)", reference, ref_url, small_rounds)
    rows += r
    size = len(big_html.encode()) / 1e6
    r, _ = bench_page(f"synthetic page (2,000 comments, {size:.1f} MB)", big_html, big.url(),
                      big_rounds)
    rows += r
    return finish(rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
