"""Invision Community (issue 14): the adapter's callbacks on the synthetic topic written from
IPS 4's default templates (no real saved topic page was found: fixtures/invision/
make_synthetic.py says so), one test per quirk, and the whole topic archived end to end."""

from __future__ import annotations

import json
from pathlib import Path

from archiver.adapters import adapter_for, adapter_for_url, invision
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import Request, Response
from archiver.devserver import serve_fixture
from tests.conftest import FIXTURES

CASE = FIXTURES / "invision" / "synthetic-ips4"
TOPIC = "https://forum.example.com/topic/915-rigging-a-gaff-sail/"


def answer(page: int, html: str | None = None) -> Response:
    text = html or (CASE / f"page{page}.html").read_text(encoding="utf-8")
    url = TOPIC + (f"page/{page}/" if page > 1 else "")
    return Response(url=url, status=200, headers=(("Content-Type", "text/html"),),
                    content=text.encode(), text=text)


def test_first_post_is_the_thread() -> None:
    found = list(invision.read_first(answer(1)))
    [thread] = [f for f in found if isinstance(f, ParsedThread)]
    comments = [f for f in found if isinstance(f, ParsedComment)]
    assert (thread.url, thread.title, thread.author) == (
        TOPIC, "Rigging a gaff sail – first attempt", "Åsa")
    assert thread.published_at is not None and thread.published_at.isoformat() == \
        "2023-03-02T09:00:00+00:00"
    assert [(c.source_id, c.author_name, c.published_text) for c in comments] == [
        ("5502", "Tomás", "March 2, 2023")]
    assert comments[0].permalink == TOPIC + "?do=findComment&comment=5502"
    assert comments[0].number is None  # IPS shows no post numbers
    assert [r.url for r in found if isinstance(r, Request)] == [TOPIC + "page/2/",
                                                               TOPIC + "page/3/"]


def test_quote_kept_and_guest_without_profile() -> None:
    page = invision.parse_page(answer(2).text, TOPIC + "page/2/")
    quoting, guest = page.comments
    assert quoting.body_text.startswith("Tomás said:\n\nHoist the throat first")
    assert 'class="ipsQuote"' in quoting.body_html
    assert (guest.author_name, guest.author_url) == ("Guest Sailor", None)


def test_a_later_page_asks_for_page_one_and_is_carried() -> None:
    [first] = list(invision.read_first(answer(2)))
    assert isinstance(first, Request) and first.url == TOPIC
    found = list(first.then(answer(1)))
    assert [f.source_id for f in found if isinstance(f, ParsedComment)] == [
        "5502", "5507", "5510"]
    assert [r.url for r in found if isinstance(r, Request)] == [TOPIC + "page/3/"]


def test_locked_topic_is_closed() -> None:
    html = (CASE / "page3.html").read_text(encoding="utf-8")
    assert [f for f in invision.read_first(answer(3, html)) if isinstance(f, PageFacts)] == []
    page = invision.parse_page(html, TOPIC + "page/3/")
    assert not page.closed
    locked = html.replace("ipsButton ipsButton_important", "ipsButton ipsButton_negative")
    assert invision.parse_page(locked, TOPIC + "page/3/").closed


def test_urls_and_markup() -> None:
    for url in invision.EXAMPLES:
        assert adapter_for_url(url) is invision, url
    assert adapter_for(answer(1).text, TOPIC) is invision


def test_whole_topic_from_a_later_page(data_dir: Path, cli) -> None:
    server = serve_fixture(CASE)
    try:
        url = server.url("/topic/915-rigging-a-gaff-sail/page/3/")
        result = cli("archive", url)
        assert result.code == 0, result.err
        assert "4 comments, 3 pages" in result.out
        exported = cli("export", "jsonl", url, "-o", "-")
    finally:
        server.stop()
    thread = json.loads(exported.out)
    assert thread["author"] == "Åsa" and not thread["comments_closed"]
    assert [c["source_id"] for c in thread["comments"]] == ["5502", "5507", "5510", "5512"]
