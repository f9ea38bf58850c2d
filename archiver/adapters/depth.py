"""Cap how deeply block containers nest in HTML before an HTML5 parser reads it.

An HTML5 tree builder checks the stack of open elements at every ``<div>``-like start tag (is a
``<p>`` open in button scope?), so N nested ``<div>`` cost N² steps: 100,000 take lexbor tens of
seconds and nh3 (html5ever) longer. Browsers cap the depth (Blink at 512 levels); so do we,
before parsing: a block container opened deeper than ``MAX_DEPTH`` is not opened (its start tag
becomes ``<br>``, its end tag a space). All text stays, in order, each deeper level on a line of
its own; only the excess nesting goes. A document within the limit is returned unchanged (the
same object), so ordinary pages are parsed exactly as before."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

MAX_DEPTH = 512
# what stands in for a container tag too deep: a line break for the start (the text inside
# starts on its own line, and <br> costs the parser no scan), a space for the end tag
FLAT_START, FLAT_END = b"<br>", b" "
# start tags that close an open <p> (a scan of the open elements) and nest in themselves
CONTAINERS = frozenset(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption "
    "figure footer header hgroup listing main menu nav ol pre search section summary ul".split()
)
# elements whose content is text up to their own end tag: a "<div>" inside is no tag
_RAW_TEXT = ("script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes")
# Scanned: the page's UTF-8 bytes lowered (ASCII letters only, so every offset stays), and only
# the tokens that matter: comments, raw-text elements and containers; every other tag is left to
# lexbor. An attribute value holding "<div" may count, which only errs towards capping.
_NAMES = b"|".join(sorted(name.encode() for name in CONTAINERS | set(_RAW_TEXT)))
_TOKEN = re.compile(rb"<(?:(!--)|(/?)(" + _NAMES + rb")(?=[\t\n\f\r /]|>))")
_OPENER = re.compile(
    b"<(?:" + b"|".join(sorted(n.encode() for n in CONTAINERS)) + rb")(?=[\t\n\f\r /]|>)"
)
_CONTAINER_BYTES = frozenset(name.encode() for name in CONTAINERS)
_RAW_END = {
    name.encode(): re.compile(b"</" + name.encode() + rb"(?=[\t\n\f\r /]|>)") for name in _RAW_TEXT
}
_TAG_REST = re.compile(rb">|=[\t\n\f\r ]*([\"'])")


def cap_depth(html: str, limit: int = MAX_DEPTH) -> str:
    """The document with block containers nested at most ``limit`` deep (see the module)."""
    # cheap bounds first: nothing nests deeper than the document has start tags, or containers
    if html.count("<") - html.count("</") <= limit:
        return html
    raw = html.encode("utf-8", "surrogatepass")
    page = raw.lower()
    if len(_OPENER.findall(page)) <= limit:
        return html
    spans = _excess_tags(page, limit)
    if not spans:
        return html
    pieces: list[bytes] = []
    last = 0
    for start, end in spans:
        pieces.append(raw[last:start])
        pieces.append(FLAT_END if raw[start + 1] == 47 else FLAT_START)  # 47: "/"
        last = end
    pieces.append(raw[last:])
    return b"".join(pieces).decode("utf-8", "surrogatepass")


def _excess_tags(page: bytes, limit: int) -> list[tuple[int, int]]:
    """(start, end) of the container tags opened deeper than limit, and of their end tags.

    Follows the parser's stack of open containers: an end tag closes the innermost open
    element of its name and everything opened inside it; a stray end tag changes nothing.
    """
    stack: list[tuple[bytes, bool]] = []  # open containers: (name, kept)
    open_count = dict.fromkeys(_CONTAINER_BYTES, 0)  # name -> how many are on the stack
    kept_depth = 0  # containers on the stack that were kept
    spans: list[tuple[int, int]] = []
    skip = 0  # tokens before this offset lie in a comment, a raw-text element or a tag skipped
    for token in _TOKEN.finditer(page):
        start = token.start()
        if start < skip:
            continue
        comment, slash, name = token.groups()
        if comment:  # skip to its end (an unclosed comment runs to the end)
            skip = page.find(b"-->", start + 4) + 3
            if skip < 3:
                break
            continue
        if name not in open_count:  # a raw-text element: skip to its end tag
            if not slash:
                close = _RAW_END[name].search(page, token.end())
                if close is None:
                    break
                skip = close.end()
            continue
        if not slash:
            kept = kept_depth < limit
            stack.append((name, kept))
            open_count[name] += 1
            if kept:
                kept_depth += 1
                continue
        elif not open_count[name]:  # a stray end tag: the parser ignores it too
            continue
        else:
            while True:  # the parser closes everything opened inside the matching element
                top, kept = stack.pop()
                open_count[top] -= 1
                if kept:
                    kept_depth -= 1
                if top == name:
                    break
            if kept:
                continue
        end = _tag_end(page, token.end())
        if end < 0:  # an attribute value never closed: the rest is inside the tag
            break
        spans.append((start, end))
        skip = end
    return spans


def _tag_end(page: bytes, pos: int) -> int:
    """Index just past the ``>`` that ends the tag whose name ends at pos (quoted attribute
    values may hold ``>``), or -1 when a quoted value is never closed."""
    while True:
        found = _TAG_REST.search(page, pos)
        if found is None:
            return -1
        quote = found.group(1)
        if quote is None:
            return found.end()
        close = page.find(quote, found.end())
        if close < 0:
            return -1
        pos = close + 1


def parse_html(html: str) -> LexborHTMLParser:
    """A lexbor tree of the document, its block nesting capped first (see the module)."""
    return LexborHTMLParser(cap_depth(html))
