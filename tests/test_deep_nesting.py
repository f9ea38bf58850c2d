"""Issue 11, Found 2: a comment nested 100,000 levels deep loses nothing and stops nothing.

Rendering walks the tree with its own stack (no recursion on the document's depth), and block
containers nested deeper than archiver.adapters.depth.MAX_DEPTH are flattened before lexbor or
nh3 parse (both are quadratic in that depth), every piece of text kept.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sqlite3
import sys
import time
from html import escape
from pathlib import Path
from types import ModuleType

import pytest
from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.adapters import typepad
from archiver.adapters.depth import MAX_DEPTH, cap_depth, parse_html
from archiver.adapters.render import html_to_text
from archiver.devserver import serve_fixture
from archiver.export.html import sanitize
from tests.conftest import FIXTURES

LEVELS = 100_000
MARKED = (0, 1, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 50_000, LEVELS - 1)


def deep_html(levels: int = LEVELS, tag: str = "div") -> str:
    """levels nested elements; a marker word at a few levels and at the core."""
    opening = "".join(
        f"<{tag}>level-{i} " if i in MARKED else f"<{tag}>" for i in range(levels)
    )
    return opening + "deep-core" + f"</{tag}>" * levels


def markers(levels: int = LEVELS) -> list[str]:
    return [f"level-{i}" for i in MARKED if i < levels] + ["deep-core"]


def tree_depth(node: LexborNode) -> int:
    """Deepest element below node, measured without recursion."""
    deepest, stack = 0, [(node, 0)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        child = current.child
        while child is not None:
            if child.tag != "-text":
                stack.append((child, depth + 1))
            child = child.next
    return deepest


def found(text: str) -> list[str]:
    """The marker words of text, in order (a short list to compare, whatever the text's size)."""
    return [word for word in text.split() if word.startswith(("level-", "deep-core"))]


# --- the cap ------------------------------------------------------------------------------------

def test_a_document_within_the_limit_is_returned_unchanged() -> None:
    within = deep_html(MAX_DEPTH) + "<p>" * 2000
    assert cap_depth(within) is within
    page = (FIXTURES / "typepad" / "synthetic-paged" / "2024_03_long-thread.html").read_text()
    assert cap_depth(page) is page


@pytest.mark.parametrize("tag", ["div", "DIV", "Blockquote", "section", "ul"])
def test_deeper_containers_are_flattened_and_every_word_kept(tag: str) -> None:
    html = deep_html(5_000, tag)
    capped = cap_depth(html)
    assert capped is not html
    tree = LexborHTMLParser(capped)
    assert MAX_DEPTH <= tree_depth(tree.body) <= MAX_DEPTH + 1  # the text node's parent
    assert found(tree.body.text()) == markers(5_000)
    assert tree.body.text().split() == LexborHTMLParser(html).body.text().split()


def test_the_scan_follows_the_parser_not_the_characters() -> None:
    # tags inside comments, scripts, raw text and quoted attribute values are no tags; an end
    # tag closes what was opened inside its element; a stray end tag changes nothing
    noise = (
        '<!-- <div><div><div> -->'
        "<script>var s = '" + "<div>" * 2000 + "';</script>"
        "<textarea>" + "<div>" * 2000 + "</textarea>"
        '<div title="a > b <div>">x </div>'
        + "</ul>" * 3000
        + "<div><section>" * 200 + "</div>" * 200
    )
    assert cap_depth(noise) is noise
    deep = noise + deep_html(2_000)
    tree = LexborHTMLParser(cap_depth(deep))
    assert tree_depth(tree.body) <= MAX_DEPTH + 1
    assert found(tree.body.text()) == markers(2_000)


def test_an_unclosed_comment_or_attribute_ends_the_scan_as_it_ends_the_parse() -> None:
    for tail in ("<!-- never closed", '<div class="never closed'):
        html = deep_html(1_000) + tail + "<div>" * 1_000
        tree = LexborHTMLParser(cap_depth(html))
        assert tree_depth(tree.body) <= MAX_DEPTH + 1
        assert found(tree.body.text()) == markers(1_000)


# --- rendering, the adapter and the sanitiser at 100,000 levels ----------------------------------

@pytest.mark.parametrize("tag", ["div", "span", "blockquote", "b"])
def test_render_keeps_every_word_at_100000_levels(tag: str) -> None:
    text = html_to_text(deep_html(tag=tag))
    assert found(text) == markers()


def test_render_of_a_tree_deeper_than_the_recursion_limit() -> None:
    # below the cap, so the tree really is this deep: rendering must not recurse on it
    html = "".join(f"<span><div><p>w{i}</p>" for i in range(400)) + "</div></span>" * 400
    tree = parse_html(f"<div id='r'>{html}</div>")
    assert tree_depth(tree.body) > 800
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        from archiver.adapters.render import render_children

        text = render_children(tree.css_first("#r"))
    finally:
        sys.setrecursionlimit(old)
    assert text.split() == [f"w{i}" for i in range(400)]


def test_sanitiser_keeps_the_text_of_100000_levels() -> None:
    capped = LexborHTMLParser(sanitize(deep_html(5_000), "https://example.org/"))
    assert tree_depth(capped.body) <= MAX_DEPTH + 1  # html5ever, too, gets a flattened tree
    cleaned = sanitize(deep_html(), "https://example.org/")
    assert found(LexborHTMLParser(cleaned).body.text()) == markers()


def test_footer_nested_deeply_is_read() -> None:
    page = (FIXTURES / "typepad" / "synthetic-paged" / "2024_03_long-thread.html").read_text()
    footer = '<p class="comment-footer font-entryfooter">\nPosted by:\n'
    assert footer in page
    page = page.replace(footer, footer + "<span>" * 5_000, 1)
    parsed = typepad.parse_page(page, "https://harbour.example.org/2024/03/long-thread.html")
    assert len(parsed.comments) == 10
    assert parsed.comments[0].published_text  # the date link found below 5,000 spans


# --- end to end: a 3-page thread, the deep comment on page 2 ------------------------------------

def _synthetic() -> ModuleType:
    """fixtures/typepad/make_synthetic.py, the generator of the synthetic TypePad fixtures."""
    name = "make_synthetic"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, FIXTURES / "typepad" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look their module up while being made
        spec.loader.exec_module(module)
    return sys.modules[name]


def write_deep_thread(folder: Path) -> tuple[str, list[str], str, bytes]:
    """A TypePad thread of 30 comments on 3 pages, comment 15 (page 2) holding deep_html().
    Returns (post path, every comment id, the deep one's id, page 2 as served)."""
    syn = _synthetic()
    from datetime import UTC, datetime

    published = datetime(2024, 4, 2, 10, 0, tzinfo=UTC)
    post = syn.Post("/2024/04/deep-thread.html", "A Thread With A Deep Comment", published,
                    [syn.sentence(41, 12)], syn.make_comments(7, 30, published), per_page=10)
    files, routes = syn.post_files(post)
    deep = post.comments[14]
    page2 = routes[post.page_path(2)]
    marker = f'<span id="comment-{deep.source_id}-content">'
    body = "".join(f"<p>{escape(p)}</p>" for p in deep.paragraphs)
    assert files[page2].count(marker + body + "</span>") == 1
    files[page2] = files[page2].replace(marker + body + "</span>", marker + deep_html() + "</span>")
    syn.write(folder, files)

    (folder / "routes.json").write_text(json.dumps({"origin": syn.ORIGIN, "routes": routes}))
    served = files[page2].replace(syn.ORIGIN, "{base}").encode()
    return post.path, [c.source_id for c in post.comments], deep.source_id, served


def test_deep_comment_on_page_2_of_3_archived_end_to_end(
    data_dir: Path, cli, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    record_property,  # type: ignore[no-untyped-def]
) -> None:
    path, ids, deep_id, page2 = write_deep_thread(tmp_path / "site")
    server = serve_fixture(tmp_path / "site")
    try:
        url = server.url(path)
        started = time.perf_counter()
        result = cli("archive", url)
        elapsed = time.perf_counter() - started
        record_property("archive_seconds", round(elapsed, 2))  # measured, never asserted
        with capsys.disabled():
            print(f"\narchive of 3 pages, one comment {LEVELS:,} levels deep: {elapsed:.2f} s")
        assert result.code == 0, result.err
        assert "3 pages" in result.out and "30 comments" in result.out
        assert "failed" not in result.out + result.err
        asked = [p for _, p, _ in server.requests if p != "/robots.txt"]
        assert asked == [path, path.removesuffix(".html") + "/comments/page/2/",
                         path.removesuffix(".html") + "/comments/page/3/"]

        db = sqlite3.connect(data_dir / "archiver.db")
        stored = dict(db.execute("select source_id, body_text from comment").fetchall())
        assert sorted(stored) == sorted(ids)
        assert found(stored[deep_id]) == markers()
        assert db.execute("select count(*) from capture where parsed_ok = 0").fetchone()[0] == 0
        # the page as it came, 100,000 levels and all, is what the store keeps
        raw = page2.replace(b"{base}", server.base_url.encode())
        digests = [row[0] for row in db.execute("select body_sha256 from capture")]
        assert hashlib.sha256(raw).hexdigest() in digests

        text = cli("export", "text", url, "-o", "-")
        assert text.code == 0, text.err
        assert found(text.out) == markers()
        assert text.out.count("Posted by: ") == 30

        mirror = tmp_path / "mirror"
        html = cli("export", "html", url, "-o", str(mirror))
        assert html.code == 0, html.err
        page = next(p for p in mirror.rglob("*.html") if p.parent != mirror and
                    p.name != "index.html")
        shown = LexborHTMLParser(page.read_text(encoding="utf-8")).body.text()
        assert found(shown) == markers()
    finally:
        server.stop()
