"""The text rules of archiver.adapters.render, pinned (issue 10, Found 5: a list item of several
paragraphs was not folded as the rules say, and no test noticed).

The rules: blocks are separated by a blank line; a list is one block, each item on its own
line as ``- item`` or ``N. item`` (``<ol start>`` read as browsers do); an item's own paragraphs
and other blocks are folded onto consecutive lines, never a blank line inside an item.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.adapters import typepad
from archiver.adapters.render import html_to_text
from tests.conftest import FIXTURES


@pytest.mark.parametrize(
    ("html", "text"),
    [
        # an item of several paragraphs: one line each, no blank line inside the item
        ("<ul><li><p>one</p><p>two</p></li><li>three</li></ul>", "- one\ntwo\n- three"),
        ("<p>before</p><ol start='3'><li><p>a</p><p>b</p><p>c</p></li><li>d</li></ol>"
         "<p>after</p>", "before\n\n3. a\nb\nc\n4. d\n\nafter"),
        ("<ol start=' 7 '><li><p>a</p>\n\n<p>b</p></li><li></li><li><p>c</p></li></ol>",
         "7. a\nb\n8. \n9. c"),
        # line breaks and other blocks inside an item fold the same way
        ("<ul><li>one<br>two<blockquote>q</blockquote>tail</li></ul>", "- one\ntwo\nq\ntail"),
        # a list inside an item: its items are lines of the outer item
        ("<ul><li><p>x</p><ul><li><p>y</p><p>z</p></li></ul><p>w</p></li></ul>",
         "- x\n- y\nz\nw"),
        ("<ol start='x'><li>a</li></ol>", "1. a"),
    ],
)
def test_list_items_fold_their_paragraphs_onto_lines(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_a_comment_with_a_list_of_paragraphs_in_the_dump() -> None:
    """The same rule where it matters: a TypePad comment's body_text (what the dump shows)."""
    path = FIXTURES / "typepad" / "synthetic-paged" / "2024_03_long-thread.html"
    html = path.read_text(encoding="utf-8")
    first = re.search(r'<span id="comment-[0-9a-f]+-content">(.*?)</span>', html)
    assert first is not None
    body = ("<p>Three points:</p><ol><li><p>the tide</p><p>turns at six</p></li>"
            "<li><p>the ferry</p></li></ol><ul><li><p>and</p><p>then</p></li></ul><p>done</p>")
    html = html[: first.start(1)] + body + html[first.end(1):]
    page = typepad.parse_page(html, "https://harbour.example.org/2024/03/long-thread.html")
    assert page.comments[0].body_text == (
        "Three points:\n\n1. the tide\nturns at six\n2. the ferry\n\n- and\nthen\n\ndone"
    )


# --- nothing lost: every word of the page is in its text, in order -----------------------------

WORDS = st.from_regex(r"[a-z]{1,6}", fullmatch=True)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    inline = st.builds(lambda tag, kids: f"<{tag}>{' '.join(kids)}</{tag}>",
                       st.sampled_from(["span", "b", "a", "em", "code", "p", "div", "blockquote",
                                        "pre", "h2", "section", "td"]),
                       st.lists(children, max_size=4))
    listing = st.builds(lambda tag, items: f"<{tag}>" + "".join(f"<li>{' '.join(i)}</li>"
                                                                for i in items) + f"</{tag}>",
                        st.sampled_from(["ul", "ol"]),
                        st.lists(st.lists(children, max_size=3), max_size=3))
    return inline | listing


FRAGMENTS = st.recursive(WORDS | st.just("<br>"), _element, max_leaves=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FRAGMENTS, max_size=5).map(" ".join))
def test_every_word_is_rendered_in_order(html: str) -> None:
    expected = re.findall(r"[a-z]+", re.sub(r"<[^>]*>", " ", html))
    assert re.findall(r"[a-z]+", html_to_text(html)) == expected
