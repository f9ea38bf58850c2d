"""SMF 2.0/2.1 (issue 14): the adapter's callbacks on the synthetic topic written from SMF's
default Display template (no real saved topic page could be copied: fixtures/smf/make_synthetic.py
says why), one test per quirk, and the whole topic archived end to end from a later page."""

from __future__ import annotations

import json
from pathlib import Path

from archiver.adapters import adapter_for, adapter_for_url, smf
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import Request, Response
from archiver.devserver import serve_fixture
from archiver.fetch.charset import choose_encoding, decode_text
from tests.conftest import FIXTURES

CASE = FIXTURES / "smf" / "synthetic-smf20-locked"
ORIGIN = "https://boats.example.org"
URL = ORIGIN + "/index.php?topic=4711.{}"


def answer(page: int, session: str = "") -> Response:
    body = (CASE / f"topic-4711-page{page}.html").read_bytes()
    text = decode_text(body, choose_encoding(body, "text/html"))
    return Response(url=URL.format((page - 1) * 3) + session, status=200,
                    headers=(("Content-Type", "text/html"),), content=body, text=text)


def test_first_post_is_the_thread_and_replies_keep_their_number() -> None:
    found = list(smf.read_first(answer(1)))
    [thread] = [f for f in found if isinstance(f, ParsedThread)]
    comments = [f for f in found if isinstance(f, ParsedComment)]
    assert (thread.url, thread.title) == (URL.format(0), "Winter storage for wooden dinghies")
    assert (thread.author, thread.published_text) == ("Søren", "Fri, 07 January 2022, 11:21:09")
    assert thread.published_at is not None and thread.published_at.hour == 11
    assert [(c.source_id, c.number) for c in comments] == [("30004", 1), ("30007", 2)]
    assert comments[0].permalink == ORIGIN + "/index.php?topic=4711.msg30004"
    assert [r.url for r in found if isinstance(r, Request)] == [URL.format(3), URL.format(6)]


def test_quote_is_kept_and_guests_have_no_profile() -> None:
    page = smf.parse_page(answer(1).text, URL.format(0))
    assert page.comments[1].body_text.startswith("Quote from: Hélène on Fri, 07 January 2022")
    assert 'class="bbc_standard_quote"' in page.comments[1].body_html
    guest = smf.parse_page(answer(2).text, URL.format(3)).comments[0]
    assert (guest.author_name, guest.author_url, guest.number) == ("guest_rower", None, 3)


def test_pages_by_offset_and_session_id_dropped() -> None:
    page = smf.parse_page(answer(2).text, URL.format(3) + ";PHPSESSID=abc")
    assert (page.number, page.last) == (2, 3)
    assert page.page_urls == {1: URL.format(0), 2: URL.format(3), 3: URL.format(6)}
    assert page.thread is None and page.thread_url == URL.format(0)


def test_a_later_page_asks_for_page_one_and_is_carried() -> None:
    [first] = list(smf.read_first(answer(2)))
    assert isinstance(first, Request) and first.url == URL.format(0)
    found = list(first.then(answer(1)))
    numbers = [f.number for f in found if isinstance(f, ParsedComment)]
    assert numbers == [1, 2, 3, 4, 5]  # page 1's replies, then page 2's (read already)
    assert [r.url for r in found if isinstance(r, Request)] == [URL.format(6)]


def test_locked_topic_is_closed() -> None:
    found = list(smf.read_first(answer(3)))
    [first] = found
    page3 = [f for f in first.fallback() if isinstance(f, PageFacts)]  # type: ignore[misc]
    assert page3 == [PageFacts(number=3, comments_closed=True)]


def test_urls_and_markup() -> None:
    for url in smf.EXAMPLES:
        assert adapter_for_url(url) is smf, url
    assert adapter_for_url("https://example.org/index.php?board=3.0") is None
    assert adapter_for(answer(1).text, URL.format(0)) is smf


def test_whole_topic_from_a_later_page(data_dir: Path, cli) -> None:
    server = serve_fixture(CASE)
    try:
        url = server.url("/index.php?topic=4711.3")
        result = cli("archive", url)
        assert result.code == 0, result.err
        assert "7 comments, 3 pages" in result.out and "comments closed" in result.out
        exported = cli("export", "jsonl", url, "-o", "-")
        text = cli("export", "text", url, "-o", "-")
    finally:
        server.stop()
    thread = json.loads(exported.out)
    assert thread["author"] == "Søren"  # ISO-8859-1 bytes, exported as UTF-8
    assert [c["number"] for c in thread["comments"]] == list(range(1, 8))
    assert "Posted by: Hélène | Sat, 08 January 2022, 10:00:00 | 4" in text.out
