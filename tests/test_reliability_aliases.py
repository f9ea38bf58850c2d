"""Issue 10, Found 1 / must-show 1 and Found 4 / must-show 3, on a real server and a real store:
a thread reached by an alias URL is still whole after a 304 refresh of its own URL; two blogs on
one host (TypePad's host/blogname/) each export their own banner."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.devserver import serve_fixture
from tests.conftest import FIXTURES, MOA_PATH, REFERENCE, normalise
from tests.reliability_helpers import (
    ONE_PAGE,
    PAGED,
    etag_of,
    fixture_server,
    number_before,
    query,
    requested,
    set_body,
)

ALIASES = {
    "slow-path": "/slow/2018/06/post.html",  # another path serving the same page
    "utm": MOA_PATH + "?utm_source=x",  # the same URL with a tracking parameter
}


@pytest.mark.parametrize("alias", list(ALIASES))
@pytest.mark.parametrize("folder", [ONE_PAGE, PAGED], ids=["one-page", "paged"])
def test_304_refresh_after_an_alias_keeps_every_comment(
    folder: Path, alias: str, data_dir: Path, cli, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """Archive at the URL, again at an alias whose page names the URL as canonical, then the URL
    again: the server answers 304 and all 40 comments are still there, none flagged removed."""
    server = fixture_server(folder, etags=True)
    try:
        page = server.routes[MOA_PATH]
        server.routes["/slow/2018/06/post.html"] = page  # same bytes, same ETag
        url = server.url(MOA_PATH)
        alias_url = server.url(ALIASES[alias])

        first = cli("archive", url)
        assert first.code == 0, first.err
        assert number_before("comments", first.out) == 40, first.out

        second = cli("archive", alias_url)
        assert second.code == 0, second.err
        assert number_before("comments", second.out) == 40, second.out
        assert number_before("removed", second.out) == 0, second.out

        since = len(server.requests)
        third = cli("archive", url)
        assert third.code == 0, third.err
        # the page was asked for conditionally, with the ETag it has: the server said 304
        asked = [h for _, p, h in server.requests[since:] if p == MOA_PATH]
        assert asked and asked[0].get("If-None-Match") == etag_of(page.body), asked
        assert requested(server, since)[0] == MOA_PATH
        assert number_before("comments", third.out) == 40, third.out
        assert number_before("removed", third.out) == 0, third.out

        db = data_dir / "archiver.db"
        assert query(db, "select count(*), count(distinct source_id) from comment") == [(40, 40)]
        assert query(db, "select count(*) from comment where removed_at is not null") == [(0,)]
        assert query(db, "select count(*) from thread") == [(1,)]

        expected = normalise(REFERENCE.read_text(encoding="utf-8"))
        for asked_by in (url, alias_url):  # the thread is found by every URL it was reached by
            out = tmp_path / "dump.txt"
            dump = cli("export", "text", asked_by, "-o", str(out))
            assert dump.code == 0, dump.err
            assert normalise(out.read_text(encoding="utf-8")) == expected
    finally:
        server.stop()


TWO_BLOGS = FIXTURES / "typepad" / "two-blogs-one-host"
BLOG_A = "/blog-a/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan.html"
BLOG_B = "/blog-b/2024/03/tide-tables.html"
BANNER_A = "Moon of Alabama Brecht quote"
BANNER_B = "The Tidewater Almanac Soundings from the estuary"


def test_two_blogs_on_one_host_each_export_their_own_banner(
    data_dir: Path, cli  # type: ignore[no-untyped-def]
) -> None:
    """TypePad serves many blogs at host/blogname/: a thread of each, archived from one
    127.0.0.1 server, dumps with the banner (site name and tagline) its own page showed, whatever
    order they were archived in."""
    server = serve_fixture(TWO_BLOGS)
    try:
        url_a, url_b = server.url(BLOG_A), server.url(BLOG_B)

        def first_line(url: str) -> str:
            dump = cli("export", "text", url, "-o", "-")
            assert dump.code == 0, dump.err
            return dump.out.splitlines()[0]

        assert cli("archive", url_a).code == 0
        assert first_line(url_a) == BANNER_A
        archived_b = cli("archive", url_b)
        assert archived_b.code == 0, archived_b.err
        assert number_before("comments", archived_b.out) == 4, archived_b.out
        assert first_line(url_b) == BANNER_B
        assert first_line(url_a) == BANNER_A  # blog B's archive did not rename blog A
        assert cli("archive", url_a).code == 0
        assert first_line(url_b) == BANNER_B  # nor the other way round
        assert first_line(url_a) == BANNER_A
        whole_a = cli("export", "text", url_a, "-o", "-")
        assert normalise(whole_a.out) == normalise(REFERENCE.read_text(encoding="utf-8"))
    finally:
        server.stop()


def test_a_304_on_the_last_page_keeps_the_thread_closed(
    data_dir: Path, cli, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """The same rule for the thread's state: only the last comment page says "comments closed";
    a refresh in which page 1 changed (200) and the last page answered 304 leaves it closed
    (found beside Found 1: the paged alias case loses the line from its dump)."""
    server = fixture_server(PAGED, etags=True)
    try:
        url = server.url(MOA_PATH)
        assert cli("archive", url).code == 0
        db = data_dir / "archiver.db"
        assert query(db, "select comments_closed, status from thread") == [(1, "closed")]
        changed = server.routes[MOA_PATH].body.replace(b"</body>", b"<!-- changed --></body>")
        set_body(server, MOA_PATH, changed)
        result = cli("archive", url)
        assert result.code == 0, result.err
        assert number_before("unchanged", result.out) == 2, result.out  # pages 2 and 3: 304
        assert query(db, "select comments_closed, status from thread") == [(1, "closed")]
        dump = cli("export", "text", url, "-o", "-")
        assert dump.out.rstrip().endswith("The comments to this entry are closed.")
    finally:
        server.stop()
