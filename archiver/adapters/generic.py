"""Generic: any page whose comments are described as schema.org ``Comment`` items, in JSON-LD or
microdata (read with extruct), is archived: the post from its Article/BlogPosting/
DiscussionForumPosting (else the page's own metadata), the comments from its ``comment``
property, replies from a comment's own ``comment`` property or its ``parentItem``.

Last in the registry: it reads a page only when no platform adapter knows it. A page with no
schema.org comments is refused (UnsupportedSite, exit 5) unless its post states it has none.
"""

from __future__ import annotations

import functools
import hashlib
import html as html_lib
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urldefrag, urljoin

import lxml.etree
import lxml.html
from selectolax.lexbor import LexborHTMLParser

from archiver.adapters import pagemeta
from archiver.adapters.base import PageFacts, ParsedComment, ParsedPage
from archiver.adapters.contract import Found, Request, Response
from archiver.adapters.depth import cap_depth
from archiver.adapters.render import html_to_text
from archiver.errors import UnsupportedSite

PLATFORM = "generic"
URL_PATTERNS: tuple[re.Pattern[str], ...] = ()  # any site: found by its markup only
EXAMPLES: tuple[str, ...] = ()

COMMENT_TYPES = frozenset(("comment", "usercomments"))  # any case: pages write "schema.org/comment"
_TEXT_PROPS = ("text", "commentText", "articleBody", "description")
_HINT = re.compile(r"schema\.org/(?:comment|usercomments)\b|[\"']@?type[\"']\s*:\s*\[?\s*[\"']"
                   r"(?:https?://schema\.org/)?comment[\"']", re.IGNORECASE)


_TEXT = lxml.etree.XPath(".//text()[not(ancestor::script) and not(ancestor::style)]")


@functools.cache
def _extractors() -> tuple[Any, Any]:
    """extruct's JSON-LD and microdata readers, imported on first use: importing extruct loads
    its every format's dependencies (bs4, rdflib, mf2py: about 0.3 s), which no other command
    than a generic read should pay at start-up."""
    from extruct.jsonld import JsonLdExtractor
    from extruct.w3cmicrodata import MicrodataExtractor

    class Microdata(MicrodataExtractor):  # type: ignore[misc]
        """extruct's microdata reader, but a ``<time content=...>`` without ``datetime`` gives
        its content (as extruct does for every other element, "used in schema.org examples"),
        then its text, as the microdata spec says for a time element, instead of nothing; and a
        property's text is its text nodes (scripts and styles left out) with whitespace folded,
        where extruct cleans a deep copy of the element first (two thirds of the time on a long
        article)."""

        def _extract_textContent(self, node: Any) -> str:  # noqa: ANN401 - an lxml element
            return " ".join(" ".join(_TEXT(node)).split())

        def _extract_property_value(self, node: Any, items_seen: Any,  # noqa: ANN401
                                    base_url: Any, itemids: Any,  # noqa: ANN401
                                    force: bool = False) -> Any:  # noqa: ANN401
            if node.tag == "time" and not node.get("datetime") and node.get("itemscope") is None:
                return node.get("content") or self._extract_textContent(node)
            return super()._extract_property_value(node, items_seen, base_url, itemids, force)

    return JsonLdExtractor, Microdata


def matches(html: str, url: str = "") -> bool:
    """Whether the page describes comments as schema.org data (JSON-LD or microdata)."""
    return _HINT.search(html) is not None


def start(url: str) -> Request:
    return Request(url, then=read_page)


def _normal(item: Any) -> Any:  # noqa: ANN401 - JSON/microdata of any shape
    """A microdata item (``type``/``properties``, extruct's shape) as JSON-LD is written
    (``@type`` and the properties beside it); the element it came from under ``_node``."""
    if isinstance(item, list):
        return [_normal(v) for v in item]
    if not isinstance(item, dict):
        return item
    if "properties" in item and "type" in item and "@type" not in item:
        out: dict[str, Any] = {"@type": item["type"]}
        if item.get("id"):
            out["@id"] = item["id"]
        if item.get("htmlNode") is not None:
            out["_node"] = item["htmlNode"]
        for key, value in (item.get("properties") or {}).items():
            out[key] = _normal(value)
        return out
    return {k: (_normal(v) if k != "_node" else v) for k, v in item.items()}


def structured(html: str, url: str) -> list[Any]:
    """The page's JSON-LD blocks and microdata items, in one (JSON-LD) shape (html: its block
    nesting capped already, archiver.adapters.depth)."""
    try:
        doc = lxml.html.fromstring(html.encode("utf-8", "surrogatepass"),
                                   parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (lxml.etree.ParserError, ValueError):  # an empty document: nothing described
        return []
    jsonld, microdata = _extractors()
    found: list[Any] = list(jsonld().extract_items(doc, base_url=url))
    found.extend(_normal(i) for i in microdata(add_html_node=True).extract_items(doc, url))
    return found


def _as_list(value: Any) -> list[Any]:  # noqa: ANN401
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _ref(value: Any) -> str | None:  # noqa: ANN401
    """The id an item names another by (``{"@id": ...}``, a URL, an item with an id)."""
    for one in _as_list(value):
        if isinstance(one, dict):
            got = one.get("@id") or one.get("identifier") or one.get("url")
            if got:
                return _id_text(got)
        elif isinstance(one, str) and one.strip():
            return _id_text(one)
    return None


def _id_text(value: Any) -> str:  # noqa: ANN401
    text = pagemeta.first_text(value)
    if "#" in text:  # a comment's URL on its page: its fragment is its id there
        fragment = urldefrag(text)[1]
        return fragment or text
    return text


def _body(item: dict[str, Any]) -> tuple[str, str]:
    """The comment's HTML and text: the text property's own markup when it came from microdata,
    else its JSON-LD value (HTML when it holds tags, else escaped text)."""
    node = item.get("_node")
    if node is not None:
        for prop in _TEXT_PROPS:
            for el in node.iter():
                if prop in (el.get("itemprop") or "").split() and _owner(el, node):
                    inner_html = html_lib.escape(el.text or "") + "".join(
                        lxml.html.tostring(child, encoding="unicode") for child in el)
                    return inner_html, html_to_text(inner_html)
    for prop in _TEXT_PROPS:
        raw = pagemeta.first_text(item.get(prop))
        if raw:
            markup = raw if re.search(r"<[a-zA-Z/][^>]*>", raw) else "".join(
                f"<p>{html_lib.escape(p)}</p>" for p in re.split(r"\n\s*\n", raw) if p.strip())
            return markup, html_to_text(markup)
    return "", ""


def _owner(el: Any, item_node: Any) -> bool:  # noqa: ANN401 - lxml elements
    """Whether el's nearest item (itemscope ancestor) is item_node (not a nested comment)."""
    parent = el.getparent()
    while parent is not None and parent is not item_node:
        if parent.get("itemscope") is not None:
            return False
        parent = parent.getparent()
    return parent is item_node


def _comment_id(item: dict[str, Any], author: str, date: str, text: str) -> str:
    """The comment's id: its @id, identifier or URL (a URL's fragment, on its page); else one
    made of who wrote it when ("sha1-" and 16 hex digits of author and date joined by U+001F;
    the text too when neither is stated), the same on every read of an unchanged comment."""
    for key in ("@id", "identifier", "url"):
        if item.get(key):
            return _id_text(item[key])
    seed = f"{author}\x1f{date}" if author or date else text
    return "sha1-" + hashlib.sha1(seed.encode("utf-8")).hexdigest()[:16]


def _absolute(base: str, url: str) -> str | None:
    """url made absolute against base, its fragment kept (a comment's anchor on its page)."""
    try:
        return urljoin(base, url.strip())
    except ValueError:
        return None


def _is_comment(item: Any) -> bool:  # noqa: ANN401
    return isinstance(item, dict) and any(
        t.lower() in COMMENT_TYPES for t in pagemeta.types_of(item))


def _walk_comments(items: list[Any], base: str) -> Iterator[ParsedComment]:
    """Every comment in page order: those in a post's (or the page's) ``comment`` lists and the
    replies nested in each, or pointing at their parent with ``parentItem``."""
    seen: set[str] = set()
    # (item, parent id, depth), depth first so replies follow the comment they answer
    stack: list[tuple[dict[str, Any], str | None, int]] = [
        (c, None, 0) for c in reversed(_top_comments(items))]
    while stack:
        item, parent, depth = stack.pop()
        author, author_url = pagemeta.person(item.get("author") or item.get("creator"))
        date = pagemeta.first_text(item.get("dateCreated") or item.get("datePublished")
                                   or item.get("commentTime") or "")
        body_html, body_text = _body(item)
        source_id = _comment_id(item, author, date, body_text)
        if source_id in seen:
            continue
        seen.add(source_id)
        stated = _ref(item.get("parentItem"))
        parent_id = stated if stated and stated != source_id else parent
        url = pagemeta.first_text(item.get("url")) or None
        yield ParsedComment(
            source_id=source_id, body_html=body_html, body_text=body_text, author_name=author,
            author_url=author_url, published_text=date, published_at=pagemeta.read_date(date),
            permalink=_absolute(base, url) if url else None,
            parent_source_id=parent_id, depth=depth,
        )
        replies = [c for c in _as_list(item.get("comment")) if _is_comment(c)]
        stack.extend((c, source_id, depth + 1) for c in reversed(replies))


def _top_comments(items: list[Any]) -> list[dict[str, Any]]:
    """The page's first-level comments: each item's ``comment`` list (the post's), and Comment
    items standing alone, in page order."""
    found: list[dict[str, Any]] = []
    for block in items:
        for item in pagemeta.items(block) if not _is_comment(block) else [block]:
            if _is_comment(item):
                if item is block:
                    found.append(item)
                continue
            found.extend(c for c in _as_list(item.get("comment")) if _is_comment(c))
    return found


def _states_no_comments(items: list[Any]) -> bool:
    post = pagemeta.post_item(items)
    if post is None:
        return False
    count = post.get("commentCount")
    return ("comment" in post and not _as_list(post.get("comment"))) or str(count) == "0"


def parse_page(html: str, url: str) -> ParsedPage:
    """Read a page (read_page's findings as one ParsedPage)."""
    response = Response(url=url, status=200, headers=(), content=b"", text=html)
    return pagemeta.page_of(read_page(response))


def read_page(response: Response) -> Iterator[Found]:
    """The callback for a page: its post, every schema.org comment on it, its facts."""
    page = cap_depth(response.text)  # once, for both parsers
    items = structured(page, response.url)
    comments = list(_walk_comments(items, response.url))
    if not comments and not _states_no_comments(items):
        raise UnsupportedSite(
            f"{response.url} has no comments described as schema.org data (JSON-LD or microdata)"
            " and is not a page of a supported platform")
    tree = LexborHTMLParser(page)
    yield pagemeta.post_thread(tree, response.url, [i for i in items if isinstance(i, dict | list)])
    yield from _fix_depths(comments)
    yield PageFacts(number=1)


def _fix_depths(comments: list[ParsedComment]) -> Iterator[ParsedComment]:
    """Depths from the parents stated (a reply found by its parentItem sits under its parent)."""
    depth: dict[str, int] = {}
    for comment in comments:
        parent = comment.parent_source_id
        comment.depth = depth.get(parent, 0) + 1 if parent is not None else 0
        depth[comment.source_id] = comment.depth
        yield comment
