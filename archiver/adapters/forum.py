"""What the forum adapters (phpBB, XenForo) share: text of a node, URL helpers, a post's body
with its quotes kept as quotes, and the page requests of a topic (every page, this one aside)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.adapters.contract import Callback, Request
from archiver.adapters.render import html_to_text, render_children

MAX_DIGITS = 9  # a post or page number longer than this is no number
_CITE_END = re.compile(r"</cite>", re.IGNORECASE)


def text_of(node: LexborNode | None) -> str:
    """The node's text, whitespace folded ("" for no node)."""
    return " ".join(node.text(deep=True).split()) if node is not None else ""


def resolve(base: str, href: str | None) -> str | None:
    """href made absolute against base, or None for no href or one urllib cannot read."""
    if not href:
        return None
    try:
        joined = urljoin(base, href.strip())
        urlsplit(joined)
    except ValueError:
        return None
    return joined


def link_base(tree: LexborHTMLParser, url: str) -> str:
    """What the page's relative links are relative to: its ``<base href>`` (XenForo 1 sets one
    to the board's root), else its own URL."""
    node = tree.css_first("base[href]")
    return (resolve(url, node.attributes.get("href")) or url) if node is not None else url


def body_of(node: LexborNode | None) -> tuple[str, str]:
    """A post body's HTML (as served: quotes stay ``<blockquote>``) and its plain text. A
    quote's ``<cite>`` ("X wrote:") stands on a line of its own in the text, as it does on the
    page (render would run it into the quoted words, a cite being inline)."""
    if node is None:
        return "", ""
    html = node.inner_html or ""
    if "<cite" in html:
        return html, html_to_text(_CITE_END.sub("</cite><br>", html))
    return html, render_children(node)


def meta(tree: LexborHTMLParser, selector: str, attr: str = "content") -> str:
    node = tree.css_first(selector)
    return (node.attributes.get(attr) or "").strip() if node is not None else ""


def page_requests(pages: Iterable[str], here: str, then: Callback) -> Iterator[Request]:
    """A request for every page URL but this one's, each once, in the order seen."""
    seen = {here}
    for url in pages:
        if url not in seen:
            seen.add(url)
            yield Request(url, then=then)
