"""WordPress comments as a page's HTML shows them: ``wp_list_comments`` markup of any theme
(classic or HTML5, ``li`` or ``div``, replies nested) and the wpDiscuz plugin's; the dates they
print. Pure functions for archiver.adapters.wordpress."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.adapters.base import ParsedComment
from archiver.adapters.dates import parse_date
from archiver.adapters.render import render_children

_DEPTH = re.compile(r"^depth-(\d{1,4})$")
_ITEM_ID = re.compile(r"^(?:li-)?comment-(\d+)$")
_INNER_ID = re.compile(r"^(?:div-)?comment-(\d+)$")
_WPDISCUZ_ID = re.compile(r"^(?:wc|wpd)-comm-(\d+)_(\d+)$")
_WPDISCUZ_LEVEL = re.compile(r"^(?:wc_comment_level|wpd_comment_level)-(\d{1,4})$")
_SAYS = re.compile(r"\s+\S+\s?:$")  # "says:", "sagt:", "dit :", ... after the author's name
_KINDS = ("pingback", "trackback")
_AUTHORS = (".comment-author .fn", ".fn", ".comment-author cite", "cite.fn")


def text_of(node: LexborNode | None) -> str:
    """The node's text, whitespace folded."""
    return "" if node is None else " ".join(node.text(deep=True).split())


def classes_of(node: LexborNode) -> list[str]:
    return (node.attributes.get("class") or "").split()


def resolve(base: str, href: str) -> str | None:
    """href made absolute against base, or None when it is no URL."""
    try:
        joined = urljoin(base, href.strip())
        urlsplit(joined)
    except ValueError:
        return None
    return joined


def read_comments(tree: LexborHTMLParser, url: str) -> list[ParsedComment]:
    """The page's comments and pings in page order: wpDiscuz's when it has them, else those of
    wp_list_comments."""
    return _wpdiscuz_comments(tree, url) or _list_comments(tree, url)


_GERMAN_MONTHS = {name: number for number, names in enumerate((
    ("januar", "jänner"), ("februar",), ("märz",), ("april",), ("mai",), ("juni",), ("juli",),
    ("august",), ("september",), ("oktober",), ("november",), ("dezember",)), 1) for name in names}
_GERMAN_DATE = re.compile(r"(\d{1,2})\.\s*([a-zä]+)\s+(\d{4})(?:,?\s+(?:um\s+)?(\d{1,2}):(\d{2}))?",
                          re.IGNORECASE)


def read_date(text: str) -> datetime | None:
    """A date as a page shows it, in UTC when it names no zone (as archiver.adapters.dates):
    German sites' "19. Februar 2017 20:00" / "11. Dezember 2012 um 11:07" too."""
    found = _GERMAN_DATE.match(text)
    if found is not None and found[2].lower() in _GERMAN_MONTHS:
        try:
            return datetime(int(found[3]), _GERMAN_MONTHS[found[2].lower()], int(found[1]),
                            int(found[4] or 0), int(found[5] or 0), tzinfo=UTC)
        except ValueError:
            return None
    return parse_date(text)


def iso_date(stamp: str) -> datetime | None:
    """An ISO 8601 date (``time[datetime]``, ``article:published_time``) in UTC."""
    try:
        when = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
        return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    except ValueError:
        return read_date(stamp)
    except OverflowError:  # year 1 with a zone east of UTC: no datetime holds it in UTC
        return None


# --- comments: wp_list_comments markup ---------------------------------------------------------

def _items(tree: LexborHTMLParser) -> list[LexborNode]:
    """The comment elements of wp_list_comments (class comment/pingback/trackback and depth-N),
    in page order; for a theme without depth classes, the ``li``/``div`` with a comment id."""
    found = []
    for node in tree.css('[class*="depth-"]'):
        classes = classes_of(node)
        if any(_DEPTH.match(c) for c in classes) and (
                "comment" in classes or "pingback" in classes or "trackback" in classes):
            found.append(node)
    if found:
        return found
    return [n for n in tree.css('li[id^="comment-"], li[id^="li-comment-"], '
                                'div.comment[id^="comment-"]') if _ITEM_ID.match(n.id or "")]


def _owner(node: LexborNode, items: dict[int, str]) -> int | None:
    """The mem_id of the comment element the node belongs to (its nearest one above)."""
    parent = node.parent
    while parent is not None:
        if parent.mem_id in items:
            return parent.mem_id
        parent = parent.parent
    return None


def _own(item: LexborNode, selector: str, items: dict[int, str]) -> LexborNode | None:
    """The first node matching selector that belongs to this comment, not to a reply in it."""
    for node in item.css(selector):
        if _owner(node, items) == item.mem_id:
            return node
    return None


def _source_id(item: LexborNode) -> str | None:
    found = _ITEM_ID.match(item.id or "")
    if found:
        return found[1]
    for node in item.css('[id^="comment-"], [id^="div-comment-"]'):
        inner = _INNER_ID.match(node.id or "")
        if inner:
            return inner[1]
    link = item.css_first("[data-commentid]")
    value = (link.attributes.get("data-commentid") or "") if link is not None else ""
    return value if value.isdecimal() else None


def _author(item: LexborNode, items: dict[int, str], url: str) -> tuple[str, str | None]:
    node = next((n for selector in _AUTHORS if (n := _own(item, selector, items))), None)
    if node is None:
        block = _own(item, ".comment-author", items)
        if block is None:
            return "", None
        says = block.css_first(".says")
        name = text_of(block)
        if says is not None and name.endswith(text_of(says)):
            name = name[: len(name) - len(text_of(says))].strip()
        node, name = block, _SAYS.sub("", name).strip()
    else:
        name = text_of(node)
    link = node if node.tag == "a" else node.css_first("a[href]")
    href = (link.attributes.get("href") or "") if link is not None else ""
    return name, (resolve(url, href) if href else None)


def _date(item: LexborNode, items: dict[int, str], url: str) -> tuple[str, datetime | None,
                                                                      str | None]:
    """(the date as shown, in UTC, the comment's permalink)."""
    time = _own(item, "time[datetime]", items)
    link = _own(item, '.comment-meta a[href*="#comment-"], .commentmetadata a[href*="#comment-"],'
                      ' a[href*="#comment-"]', items)
    permalink = resolve(url, link.attributes.get("href") or "") if link is not None else None
    if time is not None:
        return text_of(time), iso_date(time.attributes.get("datetime") or ""), permalink
    shown = text_of(link) if link is not None else text_of(
        _own(item, ".comment-meta, .commentmetadata, .comment-date", items))
    return shown, read_date(shown) if shown else None, permalink


_NOT_BODY = ".comment-author, .comment-meta, .commentmetadata, .reply, .comment-awaiting-moderation"


def _body(item: LexborNode, items: dict[int, str], kind: str) -> LexborNode:
    content = _own(item, ".comment-content, .comment-text, .comment-entry", items)
    if content is not None:
        return content
    body = _own(item, ".comment-body", items) or item
    if kind == "comment":  # classic markup: the text sits beside the byline in comment-body
        for node in body.css(_NOT_BODY):
            if _owner(node, items) == item.mem_id:
                node.decompose()
    return body


def _list_comments(tree: LexborHTMLParser, url: str) -> list[ParsedComment]:
    nodes = _items(tree)
    items = {node.mem_id: _source_id(node) or "" for node in nodes}
    owners = {node.mem_id: _owner(node, items) for node in nodes}
    depths: dict[int, int] = {}  # page order: a comment's owner is read before it
    found = []
    for node in nodes:
        source_id = items[node.mem_id]
        if not source_id:
            continue
        classes = classes_of(node)
        kind = next((k for k in _KINDS if k in classes), "comment")
        parent = None
        above = owners[node.mem_id]
        if above is not None:
            parent = items[above] or None
            depth = depths.get(above, 0) + 1
        else:
            level = next((int(m[1]) for c in classes if (m := _DEPTH.match(c))), 1)
            depth = max(level - 1, 0)  # a flat theme showing a reply: its depth, no parent
        depths[node.mem_id] = depth
        name, author_url = _author(node, items, url)
        shown, when, permalink = _date(node, items, url)
        if kind != "comment" and not name:
            link = _own(node, "a.url, a[href]", items)
            name = text_of(link)
            author_url = resolve(url, link.attributes.get("href") or "") if link else None
        body = _body(node, items, kind)
        found.append(ParsedComment(
            source_id=source_id, body_html=(body.inner_html or "").strip(),
            body_text=render_children(body), author_name=name, author_url=author_url,
            published_text=shown, published_at=when, permalink=permalink,
            parent_source_id=parent, depth=depth, kind=kind,
        ))
    return found


# --- comments: wpDiscuz ------------------------------------------------------------------------

def _wpdiscuz_comments(tree: LexborHTMLParser, url: str) -> list[ParsedComment]:
    found = []
    for node in tree.css('div[id^="wc-comm-"], div[id^="wpd-comm-"]'):
        ids = _WPDISCUZ_ID.match(node.id or "")
        if ids is None:
            continue
        prefix = "wpd" if (node.id or "").startswith("wpd") else "wc"
        level = next((int(m[1]) for c in classes_of(node) if (m := _WPDISCUZ_LEVEL.match(c))), 1)
        own = next((c for c in _children(node) if f"{prefix}-comment-right" in classes_of(c)), node)
        author = own.css_first(f".{prefix}-comment-author")
        link = author.css_first("a[href]") if author is not None else None
        date = own.css_first(f".{prefix}-comment-date")
        shown = text_of(date)
        body = own.css_first(f".{prefix}-comment-text")
        anchor = own.css_first("[data-comment-url]")
        found.append(ParsedComment(
            source_id=ids[1], body_html=(body.inner_html or "") if body is not None else "",
            body_text=render_children(body) if body is not None else "",
            author_name=text_of(author),
            author_url=resolve(url, link.attributes.get("href") or "") if link else None,
            published_text=shown,
            published_at=iso_date(date.attributes.get("title") or "") if date is not None and (
                date.attributes.get("title") or "")[:1].isdigit() else read_date(shown),
            permalink=anchor.attributes.get("data-comment-url") if anchor is not None else None,
            parent_source_id=ids[2] if ids[2] != "0" else None, depth=max(level - 1, 0),
        ))
    return found


def _children(node: LexborNode) -> Iterator[LexborNode]:
    child = node.child
    while child is not None:
        if child.tag not in ("-text", "-comment"):
            yield child
        child = child.next
