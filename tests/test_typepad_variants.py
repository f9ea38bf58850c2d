"""TypePad template variations: one fixture per quirk, each with its expected result beside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archiver.adapters import typepad
from archiver.adapters.render import html_to_text
from archiver.devserver import serve_fixture
from archiver.errors import ParseError
from tests.conftest import FIXTURES, MOA, MOA_PATH, normalise

VARIANT = FIXTURES / "typepad" / "variant-standard-template"
VARIANT_PATH = "/blog/2019/01/winter-pruning.html"


def test_variant_thread_archives_to_its_expected_dump(data_dir: Path, cli, tmp_path: Path) -> None:
    """Numbers absent (positions used), 12-hour dates, text tagline, entry-more, lists, a
    headline, an image's alt, a pager with only numbered links and a ?page=N scheme, comments
    still open."""
    server = serve_fixture(VARIANT)
    try:
        url = server.url(VARIANT_PATH)
        result = cli("archive", url)
        assert result.code == 0, result.err
        assert "4 comments, 2 pages" in result.out
        out = tmp_path / "variant.txt"
        assert cli("export", "text", url, "-o", str(out)).code == 0
    finally:
        server.stop()
    expected = (VARIANT / "expected.txt").read_text(encoding="utf-8")
    assert normalise(out.read_text(encoding="utf-8")) == normalise(expected)


def test_comment_fields_without_numbers() -> None:
    html = (VARIANT / "winter-pruning.html").read_text(encoding="utf-8")
    page = typepad.parse_page(html, "https://gardennotes.typepad.com" + VARIANT_PATH)
    first, second = page.comments
    assert (first.source_id, first.author_name, first.author_url, first.number) == (
        "6a0001", "Bob", "http://bob.example.net/", None)
    assert first.published_text == "January 14, 2019 at 10:02 AM"
    assert first.published_at is not None and first.published_at.hour == 10
    assert second.author_name == "Чайка" and second.author_url is None
    assert page.thread.author == "Anne Gärtner"
    assert page.thread.published_text == "January 14, 2019 at 09:15 AM"
    assert page.thread.site_tagline == "Weeds, seeds & the occasional rant"
    assert page.comments_closed is False
    assert page.next_page_url == "https://gardennotes.typepad.com" + VARIANT_PATH + "?page=2"


def test_last_page_has_no_next_and_page_number_from_pager() -> None:
    html = (VARIANT / "winter-pruning-page-2.html").read_text(encoding="utf-8")
    page = typepad.parse_page(html, "https://gardennotes.typepad.com" + VARIANT_PATH + "?page=2")
    assert page.page_number == 2
    assert page.next_page_url is None
    assert [c.source_id for c in page.comments] == ["6a0003", "6a0004"]


def test_rel_next_link_wins_over_numbers() -> None:
    html = (MOA / "one-page" / "syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan.html"
            ).read_text(encoding="utf-8")
    html = html.replace(
        '<div class="comments-content">',
        '<div class="comments-nav"><a href="/p/9">9</a> <a rel="next" href="/later?c=2">»</a>'
        '</div><div class="comments-content">', 1)
    page = typepad.parse_page(html, "https://www.moonofalabama.org/x.html")
    assert page.next_page_url == "https://www.moonofalabama.org/later?c=2"


def test_reference_page_fields() -> None:
    html = (MOA / "one-page" / "syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan.html"
            ).read_text(encoding="utf-8")
    page = typepad.parse_page(html, "https://www.moonofalabama.org/2018/06/x.html")
    assert len(page.comments) == 40 and page.comments_closed and page.next_page_url is None
    assert page.thread.site_name == "Moon of Alabama" and page.thread.site_tagline == "Brecht quote"
    assert page.thread.footer_text == "Posted by b on June 8, 2018 at 18:39 UTC"
    first = page.comments[0]
    assert (first.author_name, first.number, first.published_text) == ("jayc", 1,
                                                                       "Jun 8 2018 18:52 utc")
    assert first.published_at is not None and first.published_at.isoformat() == (
        "2018-06-08T18:52:00+00:00")
    assert typepad.matches(html)


def test_not_typepad_is_not_matched() -> None:
    assert not typepad.matches("<html><body><article><p>hi</p></article></body></html>")


@pytest.mark.parametrize("html", [
    "<html><body><div class='entry'><p>no header or body</p></div></body></html>",
    "",
])
def test_page_without_a_post_is_a_parse_error(html: str) -> None:
    with pytest.raises(ParseError):
        typepad.parse_page(html, "https://example.typepad.com/x.html")


def test_malformed_html_still_parses() -> None:
    html = (VARIANT / "winter-pruning.html").read_text(encoding="utf-8")
    broken = html.replace("</p>", "").replace("</div>\n<p class=\"comment-footer", "<p class=\""
                                                 "comment-footer")
    page = typepad.parse_page(broken, "https://gardennotes.typepad.com" + VARIANT_PATH)
    assert len(page.comments) == 2
    assert page.comments[0].author_name == "Bob"


@pytest.mark.parametrize(("html", "text"), [
    ("<p>a   b\n c</p>", "a b c"),
    ("<p>x&nbsp;&nbsp;y</p>", "x\xa0\xa0y"),
    ("<p>one<br>two</p><p>three</p>", "one\ntwo\n\nthree"),
    ("<ul><li>a</li><li>b</li></ul>", "- a\n- b"),
    ("<ol start='3'><li>c</li><li>d</li></ol>", "3. c\n4. d"),
    ("<ol start='i'><li>c</li><li>d</li></ol>", "1. c\n2. d"),  # not a number: from 1
    ("<ol start=' 7 '><li>c</li></ol>", "7. c"),
    ("<h2>Title</h2><p>body</p>", "Title\n\nbody"),
    ("<p><a href='x'>link text</a> and <img alt='pic' src='y'> <img alt='' src='z'></p>",
     "link text and pic"),
    ("<blockquote><p>q</p></blockquote><p>r</p>", "q\n\nr"),
    ("<p>a<script>alert(1)</script>b</p>", "ab"),
])
def test_render_rules(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_a_comment_quoting_the_closed_notice_leaves_the_thread_open() -> None:
    html = (VARIANT / "winter-pruning.html").read_text(encoding="utf-8")
    marker = '<div class="comment-content font-entrybody" id="comment-6a0001-content">'
    assert marker in html
    quoted = html.replace(marker, marker + "<p>The comments to this entry are closed.</p>", 1)
    page = typepad.parse_page(quoted, "https://gardennotes.typepad.com" + VARIANT_PATH)
    assert page.comments_closed is False
    assert "The comments to this entry are closed." in page.comments[0].body_html


def test_a_closed_notice_without_its_class_still_closes_the_thread() -> None:
    page_file = MOA / "one-page" / "syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan.html"
    html = page_file.read_text(encoding="utf-8")
    assert 'class="comments-closed' in html
    plain = html.replace('class="comments-closed', 'class="notice')
    page = typepad.parse_page(plain, "https://www.moonofalabama.org" + "/2018/06/x.html")
    assert page.comments_closed is True


@pytest.mark.parametrize("tail", ["²", "1" * 5000])
def test_a_footer_number_in_superscript_digits_or_absurdly_long_is_no_number(tail: str) -> None:
    html = (VARIANT / "winter-pruning.html").read_text(encoding="utf-8")
    footer = '<a href="http://bob.example.net/" rel="nofollow">Bob</a> |'
    assert footer in html
    page = typepad.parse_page(html.replace("January 14, 2019 at 10:02 AM</a>",
                                           f"January 14, 2019 at 10:02 AM</a> | {tail}", 1),
                              "https://gardennotes.typepad.com" + VARIANT_PATH)
    assert page.comments[0].number is None and page.comments[0].author_name == "Bob"


def test_rel_next_to_the_next_post_is_not_a_comment_page() -> None:
    """TypePad's entry navigation links the next post; with rel="next" on it, it must not be
    taken for the next page of comments (its comments would merge into this thread)."""
    path = MOA / "paged" / "syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan.html"
    html = path.read_text(encoding="utf-8")
    post = '<a href="https://www.moonofalabama.org/2018/06/open-thread-2018-28.html">'
    assert post in html
    html = html.replace(post, post.replace("<a ", '<a rel="next" '), 1)
    url = "https://www.moonofalabama.org" + MOA_PATH
    page = typepad.parse_page(html, url)
    assert page.next_page_url == url.removesuffix(".html") + "/comments/page/2/"
    # the last page has no comment pager link onwards: still no next page
    last = (MOA / "paged" / "syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan" / "comments"
            / "page" / "3" / "index.html").read_text(encoding="utf-8")
    if post in last:
        last = last.replace(post, post.replace("<a ", '<a rel="next" '), 1)
    else:
        last = last.replace("</body>", f'{post.replace("<a ", "<a rel=next ")}x</a></body>')
    page3 = typepad.parse_page(last, url.removesuffix(".html") + "/comments/page/3/")
    assert page3.next_page_url is None


def test_rel_next_outside_the_pager_to_this_threads_page_counts() -> None:
    html = (VARIANT / "winter-pruning.html").read_text(encoding="utf-8")
    url = "https://gardennotes.typepad.com" + VARIANT_PATH
    for pager in ('class="comments-nav', 'class="pager'):
        html = html.replace(pager, 'class="other')
    html = html.replace("</body>", '<a rel="next" href="?page=2">more</a></body>')
    assert typepad.parse_page(html, url).next_page_url == url + "?page=2"


@pytest.mark.parametrize("path", ["/", "/2024/03/index.html", "/page/2/"])
def test_a_front_or_archive_page_is_not_archived_as_a_thread(
    path: str, data_dir: Path, cli
) -> None:
    """A blog's front page and monthly archive list several posts: exit 5 with a hint, and
    nothing stored as a thread (they used to become a 'thread' of the first post's title)."""
    import json
    import sqlite3

    blog = FIXTURES / "typepad" / "synthetic-blog"
    routes = json.loads((blog / "routes.json").read_text())["routes"]
    assert path in routes
    server = serve_fixture(blog)
    try:
        result = cli("archive", server.url(path))
    finally:
        server.stop()
    assert result.code == 5 and "is a list of" in result.err and "not a thread" in result.err
    db = sqlite3.connect(data_dir / "archiver.db")
    assert db.execute("select count(*) from thread").fetchone()[0] == 0


def test_rel_next_on_a_later_page_without_canonical_link_still_counts() -> None:
    """Page 2 with no canonical/og:url (so the thread URL is read as page 2's own) and a pager
    of a class we do not know: its rel="next" to page 3 is still this thread's."""
    base = "https://www.moonofalabama.org" + MOA_PATH.removesuffix(".html")
    page2 = (MOA / "paged" / "syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan" / "comments"
             / "page" / "2" / "index.html").read_text(encoding="utf-8")
    html = re.sub(r'<link rel="canonical"[^>]*>|<meta property="og:url"[^>]*>', "", page2)
    html = html.replace('class="comments-nav pager-inline"', 'class="other"')
    html = html.replace("</body>", f'<a rel="next" href="{base}/comments/page/3/">more</a></body>')
    page = typepad.parse_page(html, base + "/comments/page/2/")
    assert page.next_page_url == base + "/comments/page/3/"
