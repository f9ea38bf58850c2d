"""TypePad: recognise a TypePad post page and read the post, its comments and the next page.

Parses by the standard TypePad template structure (``#banner-header``, ``h3.entry-header``,
``div.entry-body``, ``div.comment#comment-ID``, ``p.comment-footer``, ``p.comments-closed``), never
by position. Pagination is read from the page's own pager links.
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.adapters.base import ParsedComment, ParsedPage, ParsedThread
from archiver.adapters.dates import parse_date
from archiver.adapters.render import render_children
from archiver.errors import ParseError

PLATFORM = "typepad"

_SPACES = re.compile(r"\s+")
_POSTED_BY = re.compile(r"^\s*Posted by:?\s*", re.IGNORECASE)
_FOOTER = re.compile(r"^Posted by (?P<author>.+?) on (?P<date>.+?)(?: in .*)?$", re.IGNORECASE)
_NEXT_TEXT = re.compile(r"^\s*next\b", re.IGNORECASE)


def _text(node: LexborNode | None) -> str:
    if node is None:
        return ""
    return _SPACES.sub(" ", node.text(deep=True)).strip()


def matches(html: str, url: str = "") -> bool:
    """Whether the page is a TypePad page (by its generator, its root id, or its template)."""
    head = html[:8192].lower()
    if "typepad.com" in head and ('name="generator"' in head or "typepad-standard" in head):
        return True
    tree = LexborHTMLParser(html)
    return (
        tree.css_first("h3.entry-header") is not None
        and tree.css_first("div.entry-body") is not None
        and tree.css_first("#banner-header") is not None
    )


def _canonical_url(tree: LexborHTMLParser, url: str) -> str:
    sources = (('link[rel="canonical"]', "href"), ('meta[property="og:url"]', "content"))
    for selector, attr in sources:
        node = tree.css_first(selector)
        if node is not None and node.attributes.get(attr):
            return urldefrag(urljoin(url, node.attributes[attr] or ""))[0]
    return urldefrag(url)[0]


def _tagline(tree: LexborHTMLParser) -> str:
    node = tree.css_first("#banner-description")
    if node is None:
        return ""
    text = _text(node)
    if text:
        return text
    img = node.css_first("img")
    return (img.attributes.get("alt") or "").strip() if img is not None else ""


def _parse_thread(tree: LexborHTMLParser, url: str) -> ParsedThread:
    entry = tree.css_first("div.entry")
    scope = entry if entry is not None else tree.body
    if scope is None:
        raise ParseError(f"{url}: no page body")
    header = scope.css_first(".entry-header")
    body = scope.css_first(".entry-body")
    if header is None or body is None:
        raise ParseError(f"{url}: no TypePad post found (entry-header/entry-body missing)")
    bodies = [body]
    more = scope.css_first(".entry-more")
    if more is not None:
        bodies.append(more)
    body_html = "".join(node.inner_html or "" for node in bodies)
    body_text = "\n\n".join(t for t in (render_children(node) for node in bodies) if t)
    footer_node = scope.css_first(".post-footers")
    footer_text = _text(footer_node)
    author = date_text = ""
    found = _FOOTER.match(footer_text)
    if found:
        author, date_text = found["author"].strip(), found["date"].strip()
    permalink_node = scope.css_first("a.permalink")
    site_header = tree.css_first("#banner-header")
    return ParsedThread(
        url=_canonical_url(tree, url),
        title=_text(header),
        body_html=body_html,
        body_text=body_text,
        site_name=_text(site_header),
        site_tagline=_tagline(tree),
        date_header=_text(tree.css_first("h2.date-header")),
        author=author,
        published_text=date_text,
        published_at=parse_date(date_text) if date_text else None,
        permalink=permalink_node.attributes.get("href") if permalink_node is not None else None,
        footer_text=footer_text,
    )


def _parse_comment(node: LexborNode, url: str) -> ParsedComment:
    source_id = (node.attributes.get("id") or "").removeprefix("comment-")
    content = node.css_first(".comment-content")
    footer = node.css_first(".comment-footer")
    body_html = (content.inner_html or "") if content is not None else ""
    body_text = render_children(content) if content is not None else ""
    author_name, author_url, date_text, permalink, number = "", None, "", None, None
    if footer is not None:
        footer_text = _POSTED_BY.sub("", _text(footer))
        links = footer.css("a")
        date_link = None
        for link in links:
            href = link.attributes.get("href") or ""
            if "#comment-" in href or "cid=" in href:
                date_link = link
                break
        if date_link is not None:
            date_text = _text(date_link)
            href = date_link.attributes.get("href") or ""
            permalink = href if href.startswith(("http://", "https://")) else urljoin(url, href)
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
            if link is not date_link and _text(link) == author_name:
                author_url = link.attributes.get("href")
                break
    return ParsedComment(
        source_id=source_id,
        body_html=body_html,
        body_text=body_text,
        author_name=author_name,
        author_url=author_url,
        published_text=date_text,
        published_at=parse_date(date_text) if date_text else None,
        number=number,
        permalink=permalink,
    )


_PAGER_SELECTOR = ", ".join(
    f'{tag}[class*="{key}"]'
    for tag in ("div", "p", "nav", "ul", "span")
    for key in ("comments-nav", "pager", "paginat", "comment-nav")
)


def _pagers(tree: LexborHTMLParser) -> list[LexborNode]:
    return tree.css(_PAGER_SELECTOR)


def _current_page(pagers: list[LexborNode]) -> int:
    for pager in pagers:
        for node in pager.css("span, strong, em, b"):
            text = _text(node)
            if text.isdigit() and node.css_first("a") is None:
                return int(text)
    return 1


def _next_page_url(
    tree: LexborHTMLParser, url: str, current: int, pagers: list[LexborNode]
) -> str | None:
    links = [a for pager in pagers for a in pager.css("a")]
    links += [a for a in tree.css('a[rel~="next"]') if a not in links]
    chosen = None
    for link in links:
        rel = (link.attributes.get("rel") or "").split()
        if "next" in rel or _NEXT_TEXT.match(_text(link)):
            chosen = link
            break
    if chosen is None:
        for link in links:
            if _text(link) == str(current + 1):
                chosen = link
                break
    if chosen is None or not chosen.attributes.get("href"):
        return None
    target = urldefrag(urljoin(url, chosen.attributes["href"] or ""))[0]
    return target if target != urldefrag(url)[0] else None


def parse_page(html: str, url: str) -> ParsedPage:
    """Read one page of a TypePad thread (the post page or a later comment page)."""
    tree = LexborHTMLParser(html)
    thread = _parse_thread(tree, url)
    scope = tree.css_first(".comments") or tree.body
    comments = [
        _parse_comment(node, url)
        for node in (scope.css('div.comment[id^="comment-"]') if scope is not None else [])
    ]
    closed_node = tree.css_first(".comments-closed")
    closed = closed_node is not None or "comments to this entry are closed" in html.lower()
    pagers = _pagers(tree)
    current = _current_page(pagers)
    return ParsedPage(
        thread=thread,
        comments=comments,
        comments_closed=closed,
        next_page_url=_next_page_url(tree, url, current, pagers),
        page_number=current,
    )
