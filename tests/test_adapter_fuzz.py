"""Issue 10, generated tests: random and mutated HTML into every adapter raises nothing but a
parse error (archiver.errors.ParseError or UnsupportedSite); anything else is an adapter's bug.

Two sources of pages: HTML-ish strings built from the markup adapters look for (so the parser
gets past its first checks), and the real fixture pages mutated (truncated, tags deleted,
duplicated or swapped, attributes dropped, deep nesting, garbage bytes, NUL and odd unicode,
comment numbers and ids that are no numbers). Examples are bounded (see SETTINGS) so the file
runs in seconds; hypothesis keeps the failing examples it finds in .hypothesis/ and replays them.
"""

from __future__ import annotations

import os
import re
from dataclasses import fields
from functools import cache
from types import ModuleType

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from archiver.adapters import ADAPTERS
from archiver.adapters.base import KINDS, ParsedComment, ParsedPage, ParsedThread
from archiver.errors import ParseError, UnsupportedSite
from tests.conftest import FIXTURES

SETTINGS = settings(
    # ARCHIVER_FUZZ_EXAMPLES=3000 for a longer hunt; the suite runs 200 per test
    max_examples=int(os.environ.get("ARCHIVER_FUZZ_EXAMPLES", "200")),
    deadline=None,  # a busy machine is no failure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
URL = "https://blog.example.org/2024/03/a-post.html"
ADAPTER_IDS = [adapter.PLATFORM for adapter in ADAPTERS]


def feed(adapter: ModuleType, html: str, url: str = URL) -> None:
    """matches() and parse_page() on html: a parse error is an answer, anything else a bug.

    What parse_page returns must be well formed too (the store relies on its types)."""
    assert isinstance(adapter.matches(html, url), bool)
    try:
        page = adapter.parse_page(html, url)
    except (ParseError, UnsupportedSite) as exc:
        assert str(exc)  # a message for the user
        _event(f"refused: {type(exc).__name__}")
        return
    _event("read, with comments" if page.comments else "read, no comment")
    assert isinstance(page, ParsedPage)
    assert isinstance(page.thread, ParsedThread)
    _check_strings(page.thread, optional={"permalink", "published_at"})
    assert page.next_page_url is None or isinstance(page.next_page_url, str)
    assert isinstance(page.page_number, int) and isinstance(page.comments_closed, bool)
    for comment in page.comments:
        assert isinstance(comment, ParsedComment)
        _check_strings(comment, optional={"author_url", "permalink", "published_at", "number",
                                          "parent_source_id", "depth"})  # None: the post itself
        assert comment.number is None or isinstance(comment.number, int)
        assert isinstance(comment.depth, int) and comment.depth >= 0
        assert comment.kind in KINDS


def _event(label: str) -> None:
    """Count the outcome in hypothesis's statistics (--hypothesis-show-statistics)."""
    if currently_in_test_context():
        event(label)


def _check_strings(item: object, optional: set[str]) -> None:
    for f in fields(item):  # type: ignore[arg-type]
        value = getattr(item, f.name)
        if f.name in optional and value is None:
            continue
        if f.name in ("published_at", "number", "depth"):
            continue
        assert isinstance(value, str), (f.name, value)


# --- the fixture pages and their tags -----------------------------------------------------------

_TAG = re.compile(r"<[^<>]*>")


@cache
def fixture_pages() -> tuple[str, ...]:
    paths = sorted((FIXTURES / "typepad").rglob("*.html"))
    assert len(paths) >= 20
    return tuple(path.read_text(encoding="utf-8") for path in paths)


def _smaller_pages() -> tuple[int, ...]:
    """Indices of the fixture pages, the big reference pages less often (they parse slower)."""
    pages = fixture_pages()
    return tuple(i for i, page in enumerate(pages) if len(page) < 60_000)


GARBAGE = st.sampled_from([
    "\x00", "\x00\x00<\x00div>", "\ufffd", "\ufeff", "\u202e", "\u200b", "\u0301\u0301",
    "\ud800", "\udfff", "\U0001f600", "\uffff", "\x1b[0m", "\x85", "\u2028", "\r", "&#0;",
    "&#x110000;", "&#99999999999;", "&amp", "<", ">", "</", "<!--", "-->", "<![CDATA[", "]]>",
    "<!DOCTYPE x>", "<?xml?>", "\"'", "=\"", "<script>", "</script>", "<plaintext>",
    "<textarea>", "<svg><foreignObject>", "<math><mi>", "<table><td>", "<template>",
    "ÿþ", "Ã©", "\xa0", "٣", "½", "Ⅻ", "𝟗", "1e5", "-1", "0x1F", "9" * 40, "9" * 5000,
])
NOT_A_NUMBER = st.sampled_from(
    ["", "x", "١٢", "½", "Ⅻ", "𝟗", "1e5", "-3", "+7", "0x1F", "3.5", " 4 ", "9" * 30, "9" * 5000,
     "\x00", "∞", "NaN"]
)


@st.composite
def mutated_page(draw: st.DrawFn) -> str:
    pages = fixture_pages()
    html = pages[draw(st.sampled_from(_smaller_pages()) | st.integers(0, len(pages) - 1))]
    for _ in range(draw(st.integers(1, 5))):
        html = draw(st.sampled_from(MUTATIONS))(draw, html)
    return html


def _tags(html: str) -> list[re.Match[str]]:
    return list(_TAG.finditer(html))


def truncate(draw: st.DrawFn, html: str) -> str:
    return html[: draw(st.integers(0, len(html)))]


def delete_tag(draw: st.DrawFn, html: str) -> str:
    tags = _tags(html)
    if not tags:
        return html
    tag = tags[draw(st.integers(0, len(tags) - 1))]
    return html[: tag.start()] + html[tag.end():]


def duplicate_tag(draw: st.DrawFn, html: str) -> str:
    tags = _tags(html)
    if not tags:
        return html
    tag = tags[draw(st.integers(0, len(tags) - 1))]
    return html[: tag.end()] + tag.group() * draw(st.integers(1, 3)) + html[tag.end():]


def swap_tags(draw: st.DrawFn, html: str) -> str:
    tags = _tags(html)
    if len(tags) < 2:
        return html
    i, j = sorted(draw(st.lists(st.integers(0, len(tags) - 1), min_size=2, max_size=2,
                                unique=True)))
    a, b = tags[i], tags[j]
    return (html[: a.start()] + b.group() + html[a.end(): b.start()] + a.group()
            + html[b.end():])


def drop_attributes(draw: st.DrawFn, html: str) -> str:
    tags = [t for t in _tags(html) if " " in t.group() and not t.group().startswith("</")]
    if not tags:
        return html
    tag = tags[draw(st.integers(0, len(tags) - 1))]
    name = tag.group()[1:].split(None, 1)[0].rstrip("/>")
    keep = draw(st.sampled_from(["", ' class=""', ' id="comment-"', ' class="comment"']))
    return html[: tag.start()] + f"<{name}{keep}>" + html[tag.end():]


def nest_deeply(draw: st.DrawFn, html: str) -> str:
    at = draw(st.integers(0, len(html)))
    tag = draw(st.sampled_from(["div", "span", "ul", "li", "blockquote", "a", "b", "table",
                                "p", "pre", "ol"]))
    depth = draw(st.integers(1, 3000))
    closed = draw(st.booleans())
    inner = f"<{tag}>" * depth + "deep" + (f"</{tag}>" * depth if closed else "")
    return html[:at] + inner + html[at:]


def insert_garbage(draw: st.DrawFn, html: str) -> str:
    at = draw(st.integers(0, len(html)))
    junk = draw(GARBAGE | st.text(max_size=20) | st.binary(max_size=20).map(
        lambda b: b.decode("latin-1")))
    return html[:at] + junk + html[at:]


def odd_comment_number(draw: st.DrawFn, html: str) -> str:
    # the footer ends "| 12" (TypePad's comment number): make some of them anything but a number
    spots = list(re.finditer(r"\| (\d+)\s*</p>", html))
    if not spots:
        return html
    spot = spots[draw(st.integers(0, len(spots) - 1))]
    return html[: spot.start(1)] + draw(NOT_A_NUMBER) + html[spot.end(1):]


def odd_page_number(draw: st.DrawFn, html: str) -> str:
    spots = list(re.finditer(r"<span>(\d+)</span>", html))
    if not spots:
        return html
    spot = spots[draw(st.integers(0, len(spots) - 1))]
    return html[: spot.start(1)] + draw(NOT_A_NUMBER) + html[spot.end(1):]


def odd_ids_and_links(draw: st.DrawFn, html: str) -> str:
    value = draw(NOT_A_NUMBER | GARBAGE | st.sampled_from(
        ["javascript:x", "//", "http://[::1", "http://a:99999/", "#", "?cid=", "mailto:"]))
    target = draw(st.sampled_from(['id="comment-', 'href="', "start=\"", 'cid=', '#comment-']))
    spots = [m.end() for m in re.finditer(re.escape(target), html)]
    if not spots:
        return html
    at = spots[draw(st.integers(0, len(spots) - 1))]
    return html[:at] + value + html[at:]


MUTATIONS = (truncate, delete_tag, duplicate_tag, swap_tags, drop_attributes, nest_deeply,
             insert_garbage, odd_comment_number, odd_page_number, odd_ids_and_links)


# --- HTML-ish strings from the pieces adapters look for -----------------------------------------

PIECES = st.sampled_from([
    '<html id="typepad-standard">', '<meta name="generator" content="http://www.typepad.com/">',
    '<h1 id="banner-header">', '<h2 id="banner-description">', '<h2 class="date-header">',
    '<div class="entry">', '<h3 class="entry-header">', '<div class="entry-body">',
    '<div class="entry-more">', '<span class="post-footers">', "Posted by b on June 8, 2018",
    '<a class="permalink" href="x">', '<div class="comments">', '<div class="comment" id="comment-',
    '<div class="comment-content">', '<p class="comment-footer">', "Posted by:", " | ",
    '<a href="?cid=1#comment-1">', '<a href="#comment-', '<p class="comments-closed">',
    "The comments to this entry are closed.", '<div class="comments-nav">', '<span>2</span>',
    '<a rel="next" href="', '<a href="/2024/03/a-post/comments/page/2/">', "Next &raquo;",
    '<link rel="canonical" href="', '<meta property="og:url" content="', "<ol start=\"",
    "<ul>", "<li>", "<p>", "<br>", "<pre>", "<blockquote>", "<img alt=\"", "<b>", "<a>",
    '">', "</div>", "</p>", "</a>", "</span>", "</li>", "</ol>", "</h3>", "Jun 8, 2018 6:39:00 PM",
    "Friday, 08 June 2018 at 18:39", "12", "2", "https://", "http://", "/comments/page/3/",
])
HTMLISH = st.lists(
    PIECES | GARBAGE | NOT_A_NUMBER | st.text(max_size=12), min_size=0, max_size=60
).map("".join)
BITS = st.lists(PIECES | GARBAGE | NOT_A_NUMBER | st.text(max_size=8), max_size=8).map("".join)


@st.composite
def typepadish(draw: st.DrawFn) -> str:
    """A page in TypePad's template shape whose every part is random pieces: it gets past the
    adapter's first checks, so the comment, footer, pager and date readers see the noise."""
    comments = "".join(
        f'<div class="comment" id="comment-{draw(BITS)}"><div class="comment-content">'
        f'{draw(BITS)}</div><p class="comment-footer">Posted by: {draw(BITS)} | '
        f'<a href="{draw(BITS)}#comment-{draw(BITS)}">{draw(BITS)}</a> | {draw(BITS)}</p>'
        f"{draw(BITS)}</div>"
        for _ in range(draw(st.integers(0, 5)))
    )
    return (
        f'<html><head>{draw(BITS)}</head><body><h1 id="banner-header">{draw(BITS)}</h1>'
        f'<div class="entry"><h3 class="entry-header">{draw(BITS)}</h3>'
        f'<div class="entry-body">{draw(BITS)}</div><span class="post-footers">{draw(BITS)}'
        f'</span></div><div class="comments">{comments}<div class="comments-nav">'
        f"{draw(BITS)}</div>{draw(BITS)}</div></body></html>"
    )


# --- the tests ----------------------------------------------------------------------------------

@pytest.mark.parametrize("adapter", ADAPTERS, ids=ADAPTER_IDS)
@SETTINGS
@given(html=HTMLISH | typepadish(), url=st.sampled_from([URL, "", "http://[::1]/x", "https://h/p?cid=1#c"]))
def test_random_htmlish_raises_only_parse_errors(adapter: ModuleType, html: str, url: str) -> None:
    feed(adapter, html, url)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=ADAPTER_IDS)
@SETTINGS
@given(html=mutated_page())
def test_mutated_fixture_pages_raise_only_parse_errors(adapter: ModuleType, html: str) -> None:
    feed(adapter, html)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=ADAPTER_IDS)
@SETTINGS
@given(text=st.text(max_size=300))
def test_any_text_raises_only_parse_errors(adapter: ModuleType, text: str) -> None:
    feed(adapter, text)


def test_every_fixture_page_parses_unmutated() -> None:
    """The mutations start from pages each adapter reads (or refuses) cleanly."""
    for adapter in ADAPTERS:
        for html in fixture_pages():
            feed(adapter, html)



# --- what the generated tests found, each fixed in the adapter and kept as an example ----------

SYNTHETIC = FIXTURES / "typepad" / "synthetic-paged" / "2024_03_long-thread_comments_page_2.html"
PAGE_URL = "https://harbour.example.org/2024/03/long-thread/comments/page/2/"


def test_a_date_link_without_text_is_no_crash() -> None:
    # str.partition("") raised ValueError: empty separator, and the whole page was lost
    html = SYNTHETIC.read_text(encoding="utf-8")
    html, count = re.subn(r'(#comment-[0-9a-f]+">)[^<]+(</a>)', r"\1\2", html, count=1)
    assert count == 1
    from archiver.adapters import typepad

    page = typepad.parse_page(html, PAGE_URL)
    assert len(page.comments) == 10
    first = page.comments[0]
    assert first.author_name and first.published_text == "" and first.number == 11
    assert first.permalink and first.permalink.endswith("#comment-" + first.source_id)
    assert page.comments[1].published_text  # the others as before


@pytest.mark.parametrize("bad", ["http://[::1", "//[oops/x", "https://host]/", "http://[zz]/"])
def test_an_href_urllib_refuses_is_no_crash(bad: str) -> None:
    # urljoin/urlsplit raise ValueError ("Invalid IPv6 URL") on such hrefs: a canonical link,
    # a comment permalink or a pager link holding one lost the page
    from archiver.adapters import typepad

    html = SYNTHETIC.read_text(encoding="utf-8")
    html = html.replace('<link rel="canonical" href="https://harbour.example.org/2024/03/'
                        'long-thread.html" />', f'<link rel="canonical" href="{bad}" />')
    html = re.sub(r'href="https://harbour.example.org/2024/03/long-thread.html\?cid=',
                  f'href="{bad}?cid=', html, count=1)
    html = html.replace("Next &raquo;", "Next &raquo;</a><a rel=\"next\" href=\"" + bad + '">x')
    page = typepad.parse_page(html, PAGE_URL)
    assert page.thread.url == "https://harbour.example.org/2024/03/long-thread.html"  # og:url
    assert len(page.comments) == 10
    assert page.next_page_url == "https://harbour.example.org/2024/03/long-thread/comments/page/3/"
    html = html.replace('<a href="https://harbour.example.org/2024/03/long-thread/comments/page/3/'
                        '#comments">Next', f'<a href="{bad}">Next')
    assert typepad.parse_page(html, PAGE_URL).next_page_url is None
