"""Render an HTML fragment (a lexbor node) as plain text, the way the text dump shows bodies.

Rules: paragraphs, blockquotes, lists, headings and other blocks are separated by a blank line;
``<br>`` is a line break; links show their text; images show their alt text; list items are
``- item`` or ``1. item``, one per line; runs of spaces collapse as a browser would; non-breaking
spaces stay.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

BLOCK_TAGS = frozenset(
    "address article aside blockquote center dd details div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody "
    "thead tfoot tr ul".split()
)
SKIP_TAGS = frozenset("script style template head title noscript iframe object embed".split())
_SPACES = re.compile(r"[ \t\n\r\f]+")
_RUNS = re.compile(r" {2,}")
# common inline tags that visit() only descends into (none is a block, skipped, br or img)
_PLAIN_INLINE = frozenset("a span b i em strong u s small sub sup code q cite abbr font".split())


class _Renderer:
    __slots__ = ("blocks", "inline", "pre")

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.inline: list[str] = []
        self.pre = 0

    def flush(self) -> None:
        inline = self.inline
        if not inline:
            return
        text = "".join(inline) if len(inline) > 1 else inline[0]
        inline.clear()
        if not self.pre:
            if "  " in text:
                text = _RUNS.sub(" ", text)
            if "\n" in text:
                text = "\n".join([line.strip(" ") for line in text.split("\n")])
            else:
                text = text.strip(" ")
        if text.strip(" \n"):
            self.blocks.append(text)

    def visit_children(self, node: LexborNode) -> None:
        # visit() inlined for every child (the same branches in the same order): a body is
        # mostly text nodes and inline tags, and a method call per node was most of the cost
        inline = self.inline
        append = inline.append
        fold = not self.pre  # pre does not change while the children are visited
        child = node.child
        while child is not None:
            tag = child.tag
            if tag == "-text":
                text = child.text_content or ""
                if fold:
                    if text == "\n":
                        text = " "
                    elif not (text.isprintable() and "  " not in text):
                        text = _SPACES.sub(" ", text)
                append(text)
            elif tag == "br":
                append("\n")
            elif tag in _PLAIN_INLINE:
                self.visit_children(child)
            else:
                self.visit(child)
            child = child.next

    def visit(self, node: LexborNode) -> None:
        tag = node.tag
        if tag == "-text":
            text = node.text_content or ""
            if not self.pre and not (text.isprintable() and "  " not in text):
                text = _SPACES.sub(" ", text)
            self.inline.append(text)
        elif tag == "br":
            self.inline.append("\n")
        elif tag == "img":
            self.inline.append((node.attributes.get("alt") or "").strip())
        elif tag in ("ul", "ol"):
            self.flush()
            self.blocks.append(_render_list(node, ordered=tag == "ol"))
        elif tag == "pre":
            self.flush()
            self.pre += 1
            self.visit_children(node)
            self.flush()
            self.pre -= 1
        elif tag in BLOCK_TAGS:
            self.flush()
            self.visit_children(node)
            self.flush()
        elif tag in SKIP_TAGS or tag == "-comment" or tag is None:
            return
        else:
            self.visit_children(node)


def _list_start(value: str | None) -> int:
    """An <ol start=...> as browsers read it: a whole number, else 1."""
    try:
        return int((value or "1").strip())
    except ValueError:
        return 1


def _render_list(node: LexborNode, *, ordered: bool) -> str:
    items: list[str] = []
    number = _list_start(node.attributes.get("start")) if ordered else 0
    child = node.child
    while child is not None:
        if child.tag == "li":
            body = render_children(child).replace("\n\n", "\n")
            marker = f"{number}. " if ordered else "- "
            items.append(marker + body)
            number += 1
        child = child.next
    return "\n".join(items)


def render_children(node: LexborNode) -> str:
    """Plain text of the node's contents (the node's own tag adds no break)."""
    renderer = _Renderer()
    renderer.visit_children(node)
    renderer.flush()
    return "\n\n".join(renderer.blocks)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment."""
    tree = LexborHTMLParser(f"<div id='archiver-root'>{html}</div>")
    root = tree.css_first("#archiver-root")
    return render_children(root) if root is not None else ""
