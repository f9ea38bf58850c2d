"""Render an HTML fragment (a lexbor node) as plain text, the way the text dump shows bodies.

Rules: paragraphs, blockquotes, lists, headings and other blocks are separated by a blank line;
``<br>`` is a line break; links show their text; images show their alt text; list items are
``- item`` or ``1. item``, one per line, an item's own paragraphs and blocks folded onto the
lines after it (no blank line inside an item), items inside a wrapper in the list (an ``<a>``
around ``<li>``s, a list right inside a list) and loose text in a list kept as lines of it;
runs of spaces collapse as a browser would; non-breaking spaces stay. The tree is walked with
an explicit stack, never a recursion on its depth (tests/test_render.py pins the rules).
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

from archiver.adapters.depth import parse_html

BLOCK_TAGS = frozenset(
    "address article aside blockquote center dd details div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody "
    "thead tfoot tr ul".split()
)
SKIP_TAGS = frozenset("script style template head title noscript iframe object embed".split())
_SPACES = re.compile(r"[ \t\n\r\f]+")
_RUNS = re.compile(r" {2,}")


# what the walk does after an element's children (pushed on its stack before them)
_NEXT, _FLUSH, _END_PRE, _ITEMS, _END_ITEM, _END_LIST = range(6)


class _Renderer:
    """Text of one flow of content: the blocks finished so far and the inline run being read."""

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


class _List:
    """A list being rendered: its items so far and the next item's number."""

    __slots__ = ("items", "number", "ordered")

    def __init__(self, node: LexborNode, ordered: bool) -> None:
        self.items: list[str] = []
        self.ordered = ordered
        self.number = _list_start(node.attributes.get("start")) if ordered else 0


def _render(node: LexborNode) -> str:
    """The text of node's children, walked with an explicit stack: never a recursion on depth.

    Each list item is rendered as a flow of its own (its paragraphs then folded onto lines), and
    the list as one block of the flow around it.
    """
    renderer = _Renderer()
    flows = [renderer]  # the flow being written to is the last one
    stack: list[tuple[int, object]] = [(_NEXT, node.child)]
    pop, push = stack.pop, stack.append
    while stack:
        action, item = pop()
        if action == _NEXT:  # item: the next sibling to read, and those after it
            child: LexborNode | None = item  # type: ignore[assignment]
            append = renderer.inline.append
            fold = not renderer.pre  # pre changes only inside a child element, restored after
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
                elif tag == "img":
                    append((child.attributes.get("alt") or "").strip())
                elif tag in SKIP_TAGS or tag == "-comment" or tag is None:
                    pass
                else:  # an element with content: read it, then come back for its siblings
                    if child.next is not None:
                        push((_NEXT, child.next))
                    if tag in ("ul", "ol"):
                        renderer.flush()
                        listing = _List(child, tag == "ol")
                        push((_END_LIST, listing))
                        push((_ITEMS, (child.child, listing)))
                        break
                    if tag == "pre":
                        renderer.flush()
                        renderer.pre += 1
                        push((_END_PRE, None))
                    elif tag in BLOCK_TAGS:
                        renderer.flush()
                        push((_FLUSH, None))
                    push((_NEXT, child.child))
                    break
                child = child.next
        elif action == _FLUSH:
            renderer.flush()
        elif action == _END_PRE:
            renderer.flush()
            renderer.pre -= 1
        elif action == _ITEMS:  # item: (the next child of a list to look at, the list)
            child, listing = item  # type: ignore[misc]
            while child is not None and child.tag != "li":
                tag = child.tag
                if tag == "-text":  # loose text in a list: a line of its own, never dropped
                    text = " ".join((child.text_content or "").split())
                    if text:
                        listing.items.append(text)
                elif tag not in SKIP_TAGS and tag != "-comment" and tag is not None:
                    # an element around items (a link or div wrapping <li>s, a list right inside
                    # a list): its items are this list's, its loose text too
                    push((_ITEMS, (child.next, listing)))
                    push((_ITEMS, (child.child, listing)))
                    break
                child = child.next
            if child is not None and child.tag == "li":
                push((_ITEMS, (child.next, listing)))
                push((_END_ITEM, listing))
                renderer = _Renderer()
                flows.append(renderer)
                push((_NEXT, child.child))
        elif action == _END_ITEM:  # item: the list the finished item belongs to
            listing = item  # type: ignore[assignment]
            flows.pop()
            renderer.flush()
            body = "\n\n".join(renderer.blocks).replace("\n\n", "\n")
            listing.items.append(f"{listing.number}. " + body if listing.ordered else "- " + body)
            listing.number += 1
            renderer = flows[-1]
        else:  # _END_LIST, item: the finished list
            renderer.blocks.append("\n".join(item.items))  # type: ignore[attr-defined]
    renderer.flush()
    return "\n\n".join(renderer.blocks)


def _list_start(value: str | None) -> int:
    """An <ol start=...> as browsers read it: a whole number, else 1."""
    try:
        return int((value or "1").strip())
    except ValueError:
        return 1


def render_children(node: LexborNode) -> str:
    """Plain text of the node's contents (the node's own tag adds no break)."""
    return _render(node)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment."""
    tree = parse_html(f"<div id='archiver-root'>{html}</div>")
    root = tree.css_first("#archiver-root")
    return render_children(root) if root is not None else ""
