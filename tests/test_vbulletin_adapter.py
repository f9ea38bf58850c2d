"""vBulletin 3/4/5 (issue 14): the adapter's callbacks on the real and synthetic pages, one test
per quirk, and whole topics archived end to end from any of their pages on 127.0.0.1."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

from archiver.adapters import ADAPTERS, adapter_for, adapter_for_url, vbulletin
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import Found, Request, Response
from archiver.devserver import serve_fixture
from archiver.fetch.charset import choose_encoding, decode_text
from tests.conftest import FIXTURES

VB = FIXTURES / "vbulletin"
POCKETPC = VB / "pocketpc-vb4-page-34-of-40"
POCKETPC_URL = ("https://www.pocketpc.ch/windows-phone-7-allgemein/"
                "122760-microsoft-beginnt-auslieferung-vorbereitungsupdate-34.html")
POCKETPC_FIRST = POCKETPC_URL.replace("-34.html", ".html")
DOMEN = VB / "domenforum-vb384-t202519"
DOMEN_URL = "https://domenforum.net/showthread.php?t=202519&highlight=annews.ru"
# the saved copy was transcoded to UTF-8 but keeps its <meta charset=windows-1251>: served, as
# the devserver serves it, with the HTTP label its bytes need (see its SOURCE.txt)
DOMEN_TYPE = "text/html; charset=utf-8"
VB4 = VB / "synthetic-vb4-closed"
VB4_URL = "https://tides.example.org/threads/4242-reading-the-tide-tables"
VB5 = VB / "synthetic-vb5"
VB5_URL = "https://community.example.net/forum/general-discussion/777-moving-the-boat-club-forum"


def response(path: Path, url: str, content_type: str = "text/html") -> Response:
    """The answer as the engine hands it over: the bytes, and the text decoded the way the
    fetcher decodes (archiver.fetch.charset)."""
    body = path.read_bytes()
    text = decode_text(body, choose_encoding(body, content_type))
    return Response(url=url, status=200, headers=(("Content-Type", content_type),),
                    content=body, text=text)


def split(found: Iterable[Found]) -> tuple[list[ParsedThread], list[ParsedComment],
                                          list[PageFacts], list[Request]]:
    items = list(found)
    return ([f for f in items if isinstance(f, ParsedThread)],
            [f for f in items if isinstance(f, ParsedComment)],
            [f for f in items if isinstance(f, PageFacts)],
            [f for f in items if isinstance(f, Request)])


# --- the real pages ----------------------------------------------------------------------------


def test_vb4_real_page_34_posts_numbered_as_shown() -> None:
    page = vbulletin.parse_page(response(POCKETPC / "page.html", POCKETPC_URL).text, POCKETPC_URL)
    assert page.thread is None  # page 34: the topic's first post is on page 1
    assert (page.number, page.last) == (34, 40)
    assert [c.number for c in page.comments] == list(range(661, 681))
    assert page.comments[0].source_id == "949757"
    assert page.comments[0].author_name == "Predator"
    assert page.comments[0].published_text == "03.03.2011, 14:17"  # day.month.year
    assert page.comments[0].published_at is not None
    assert page.comments[0].published_at.isoformat() == "2011-03-03T14:17:00+00:00"
    assert page.thread_url == POCKETPC_FIRST  # the topic's URL: its first page, no session id
    assert page.title == "Microsoft beginnt mit der Auslieferung des Vorbereitungsupdate!"


def test_vb4_quotes_are_kept_in_the_body() -> None:
    page = vbulletin.parse_page(response(POCKETPC / "page.html", POCKETPC_URL).text, POCKETPC_URL)
    quoting = next(c for c in page.comments if c.source_id == "949763")
    assert 'class="bbcode_quote"' in quoting.body_html
    assert quoting.body_text.startswith("Zitat Zitat von Predator")
    assert "Starte mal Zune" in quoting.body_text  # the reply after the quote


@pytest.mark.parametrize("content_type", ["text/html", "text/html; charset=ISO-8859-1",
                                          "text/html; charset=utf-8"])
def test_vb4_iso_8859_1_page_decodes_right(content_type: str) -> None:
    """The page is windows-1252 bytes labelled ISO-8859-1 by its <meta>; a wrong HTTP label
    (utf-8) does not win over bytes that are no UTF-8."""
    answer = response(POCKETPC / "page.html", POCKETPC_URL, content_type)
    page = vbulletin.parse_page(answer.text, POCKETPC_URL)
    bodies = {c.source_id: c.body_text for c in page.comments}
    assert bodies["949853"].startswith("das jetzige ist das für gebrandete Geräte.")
    assert "\ufffd" not in "".join(bodies.values())


def test_vb3_first_post_is_the_thread() -> None:
    answer = response(DOMEN / "showthread_t202519_page1.html", DOMEN_URL, DOMEN_TYPE)
    threads, comments, facts, requests = split(vbulletin.read_first(answer))
    [thread] = threads
    assert thread.url == "https://domenforum.net/showthread.php?t=202519"  # highlight dropped
    assert thread.title == "AnNews.ru - Агентство национальных новостей, Тиц2300"
    assert (thread.author, thread.published_text) == ("MrKIM", "03.05.2016, 17:33")
    assert thread.body_text.startswith("Домен: AnNews.ru")
    assert [c.number for c in comments] == list(range(2, 11))
    assert comments[0].source_id == "1373017"
    assert [c.author_name for c in comments[:3]] == ["MrKIM", "DacaGroup", "MrKIM"]
    assert facts == [PageFacts(number=1, comments_closed=False)]
    assert [r.url for r in requests] == ["https://domenforum.net/showthread.php?t=202519&page=2"]


def test_vb3_quote_kept() -> None:
    answer = response(DOMEN / "showthread_t202519_page1.html", DOMEN_URL, DOMEN_TYPE)
    _, comments, _, _ = split(vbulletin.read_first(answer))
    quoting = next(c for c in comments if c.number == 5)
    assert quoting.body_text.startswith("Сообщение от MrKIM")
    assert "Нет, я доменер" in quoting.body_text


# --- the topic from any page: page 1 first, the asked page carried ---------------------------


def test_a_later_page_asks_for_page_one_first() -> None:
    answer = response(VB4 / "page2.html", VB4_URL + "/page2")
    threads, comments, facts, requests = split(vbulletin.read_first(answer))
    assert (threads, comments, facts) == ([], [], [])  # nothing stored before page 1
    [first] = requests
    assert first.url == VB4_URL
    assert first.fallback is not None
    # page 1's answer: the post, page 1's comments, then page 2's (carried), then page 3 only
    threads, comments, facts, requests = split(first.then(response(VB4 / "page1.html", VB4_URL)))
    assert [t.url for t in threads] == [VB4_URL]
    assert [c.number for c in comments] == [2, 3, 4, 5, 6, 7, 8]
    assert [r.url for r in requests] == [VB4_URL + "/page3"]
    # page 3 is the last: no request after it, so the engine reads "closed" from it
    threads, comments, facts, requests = split(
        requests[0].then(response(VB4 / "page3.html", VB4_URL + "/page3")))
    assert [c.number for c in comments] == [9, 10]
    assert requests == []
    assert facts == [PageFacts(number=3, comments_closed=True)]


def test_page_one_gone_stores_the_asked_page_as_it_is() -> None:
    answer = response(POCKETPC / "page.html", POCKETPC_URL)
    [first] = list(vbulletin.read_first(answer))
    assert isinstance(first, Request) and first.url == POCKETPC_FIRST
    assert first.fallback is not None
    threads, comments, facts, requests = split(first.fallback())
    [thread] = threads
    assert (thread.url, thread.body_html, thread.author) == (POCKETPC_FIRST, "", "")
    assert len(comments) == 20
    urls = [r.url for r in requests]
    assert len(urls) == 39 and POCKETPC_URL not in urls  # every other page, in order
    assert urls[0] == POCKETPC_FIRST and urls[-1] == POCKETPC_URL.replace("-34.", "-40.")
    assert all("s=" not in u for u in urls)  # the guest session id is dropped


def test_the_last_page_asked_carries_its_closed_notice() -> None:
    answer = response(VB4 / "page3.html", VB4_URL + "/page3")
    [first] = list(vbulletin.read_first(answer))
    _, _, _, requests = split(first.then(response(VB4 / "page1.html", VB4_URL)))
    [page2] = requests
    _, comments, facts, requests = split(page2.then(response(VB4 / "page2.html", page2.url)))
    assert [c.number for c in comments] == [5, 6, 7, 8, 9, 10]  # page 2's, then page 3's
    assert requests == []  # page 3 was read already
    assert facts == [PageFacts(number=2, comments_closed=True)]


def test_vb4_closed_and_open() -> None:
    closed = vbulletin.parse_page(response(VB4 / "page1.html", VB4_URL).text, VB4_URL)
    assert closed.closed
    open_ = vbulletin.parse_page(response(VB5 / "page1.html", VB5_URL).text, VB5_URL)
    assert not open_.closed


def test_windows_1252_letters_beyond_latin_1() -> None:
    """Bytes 0x80, 0x93, 0x94 under an ISO-8859-1 label are €, “ and ” (as browsers read it)."""
    answer = response(VB4 / "page1.html", VB4_URL)
    threads, comments, _, _ = split(vbulletin.read_page(vbulletin.parse_page, answer))
    assert threads[0].author == "Zoë Müller"
    assert "€ 5" in threads[0].body_text
    assert comments[0].body_text == "Thanks – “neap” tides are the small ones?"


def test_vb5_posts() -> None:
    page = vbulletin.parse_page(response(VB5 / "page2.html", VB5_URL + "/page2").text,
                                VB5_URL + "/page2")
    assert (page.number, page.last, page.thread) == (2, 2, None)
    assert [(c.source_id, c.number, c.author_name) for c in page.comments] == [
        ("9004", 3, "Ines"), ("9007", 4, "Mette")]
    assert page.comments[0].published_text == "Jan 6th, 2021, 09:10 AM"
    assert page.comments[0].published_at is not None
    assert page.comments[0].published_at.isoformat() == "2021-01-06T09:10:00+00:00"
    assert page.comments[0].author_url == "https://community.example.net/member/31"
    assert page.thread_url == VB5_URL


def test_urls_and_markup_claim_vbulletin() -> None:
    for url in vbulletin.EXAMPLES:
        assert adapter_for_url(url) is vbulletin, url
    for url in ("https://xf.example.com/threads/a-title.123/", "https://x.example/forum/1-a"):
        assert adapter_for_url(url) is not vbulletin, url
    for path, url in ((POCKETPC / "page.html", POCKETPC_URL), (VB5 / "page1.html", VB5_URL),
                      (DOMEN / "showthread_t202519_page1.html", DOMEN_URL)):
        assert adapter_for(response(path, url, DOMEN_TYPE).text, url) is vbulletin
    assert vbulletin in ADAPTERS


# --- end to end: `archiver archive URL` on 127.0.0.1 ------------------------------------------


def _served(server_requests: list[tuple[str, str, dict[str, str]]]) -> list[str]:
    return [path for method, path, _ in server_requests if method == "GET"
            and not path.startswith("/robots.txt")]


def test_any_page_archives_the_whole_topic_in_order(data_dir: Path, cli) -> None:
    server = serve_fixture(VB4)
    try:
        url = server.url("/threads/4242-reading-the-tide-tables/page3")
        result = cli("archive", url)
        assert result.code == 0, result.err
        assert "9 comments, 3 pages" in result.out and "comments closed" in result.out
        exported = cli("export", "jsonl", url, "-o", "-")
        paths = _served(server.requests)
    finally:
        server.stop()
    path = "/threads/4242-reading-the-tide-tables"
    assert paths == [path + "/page3", path, path + "/page2"]  # each page once
    thread = json.loads(exported.out)
    assert thread["url"].endswith(path)
    assert [c["number"] for c in thread["comments"]] == list(range(2, 11))


def test_iso_8859_1_page_exports_as_utf8(data_dir: Path, cli, tmp_path: Path) -> None:
    server = serve_fixture(VB4)
    try:
        url = server.url("/threads/4242-reading-the-tide-tables")
        assert cli("archive", url).code == 0
        out = tmp_path / "topic.jsonl"
        assert cli("export", "jsonl", url, "-o", str(out)).code == 0
        text_out = tmp_path / "topic.txt"
        assert cli("export", "text", url, "-o", str(text_out)).code == 0
    finally:
        server.stop()
    raw = out.read_bytes()
    thread = json.loads(raw.decode("utf-8"))  # strict: fails on anything but UTF-8
    assert thread["author"] == "Zoë Müller"
    assert "€ 5" in thread["body_text"]
    dump = text_out.read_bytes().decode("utf-8")
    assert "Posted by: Zoë Müller | 03-04-2011, 09:00 AM | 4" in dump
    assert "Merci – très utile." in dump


def test_real_page_34_alone_is_an_incomplete_read(data_dir: Path, cli) -> None:
    """The saved page 34 of 40, served alone: its 20 posts are stored (page 1 is gone, so the
    page is stored as it is), page 1 and the 38 other pages are reported, the read is not
    complete."""
    server = serve_fixture(POCKETPC)
    try:
        url = server.url(POCKETPC_URL.removeprefix("https://www.pocketpc.ch"))
        result = cli("archive", url)
        exported = cli("export", "jsonl", url, "-o", "-")
    finally:
        server.stop()
    assert result.code == 3, result.err
    assert "39 page(s) could not be fetched" in result.out  # page 1 (the post) and 38 more
    assert re.search(r"incomplete read .*\.html: HTTP 404.*\(and 38 more pages\)", result.err)
    thread = json.loads(exported.out)
    assert thread["pages"] == 40  # the asked page, page 1 (gone) and the 38 others tried
    assert [c["number"] for c in thread["comments"]] == list(range(661, 681))
    geraete = next(c for c in thread["comments"] if c["source_id"] == "949853")
    assert geraete["body_text"].startswith("das jetzige ist das für gebrandete Geräte.")


def _vb4_pages(posts: int) -> dict[str, bytes]:
    """The synthetic vB4 topic's pages with its first ``posts`` posts (make_synthetic's data)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("vb_synth", VB / "make_synthetic.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.VB4_POSTS = module.VB4_POSTS[:posts]
    pages = -(-posts // module.VB4_PER_PAGE)
    return {module.VB4_PATH + (f"/page{n}" if n > 1 else ""):
            module.vb4_page(n, pages).encode("cp1252") for n in range(1, pages + 1)}


def test_a_topic_that_gains_posts_reads_only_the_changed_pages(data_dir: Path, cli) -> None:
    """Refresh: page 1 unchanged answers 304 (not parsed again), page 2 gained two posts and
    page 3 is new; the new posts are added, nothing else changes."""
    from archiver.devserver import FixtureServer

    def serve(server: FixtureServer, posts: int, version: str) -> None:
        for path, body in _vb4_pages(posts).items():
            tag = '"p1"' if path.endswith("tide-tables") else f'"{version}-{path[-5:]}"'
            server.set_page(path, body, headers={"ETag": tag})

    with FixtureServer(origin="https://tides.example.org") as server:
        serve(server, 6, "v1")  # 2 pages: 4 + 2 posts
        url = server.url("/threads/4242-reading-the-tide-tables")
        first = cli("archive", url)
        assert first.code == 0, first.err
        assert "5 comments, 2 pages" in first.out
        serve(server, 10, "v2")  # page 2 now holds 4 posts, page 3 two more
        server.requests.clear()
        again = cli("archive", url)
        assert again.code == 0, again.err
        exported = cli("export", "jsonl", url, "-o", "-")
        asked = [(path, headers.get("If-None-Match")) for _, path, headers in server.requests
                 if not path.startswith("/robots.txt")]
    assert "9 comments, 3 pages, 1 unchanged, 4 new, 0 edited, 0 removed" in again.out
    assert asked[0] == ("/threads/4242-reading-the-tide-tables", '"p1"')  # answered 304
    assert [p for p, _ in asked[1:]] == ["/threads/4242-reading-the-tide-tables/page2",
                                         "/threads/4242-reading-the-tide-tables/page3"]
    assert [c["number"] for c in json.loads(exported.out)["comments"]] == list(range(2, 11))


def test_a_post_link_finds_its_thread_from_the_pager() -> None:
    """showthread.php?p=POSTID shows the page holding that post: the thread's URL comes from
    the pager's links (t=ID), not from the post's URL."""
    url = "https://domenforum.net/showthread.php?p=1373017"
    answer = response(DOMEN / "showthread_t202519_page1.html", url, DOMEN_TYPE)
    page = vbulletin.parse_page(answer.text, url)
    assert page.thread_url == "https://domenforum.net/showthread.php?t=202519"
    assert page.page_urls[2] == "https://domenforum.net/showthread.php?t=202519&page=2"


def test_page_one_without_a_link_to_the_asked_page_still_brings_its_posts() -> None:
    """When page 1's pager cannot lead to the page before the asked one, the asked page's
    posts come with page 1's answer (out of order rather than lost)."""
    answer = response(VB4 / "page3.html", VB4_URL + "/page3")
    [first] = list(vbulletin.read_first(answer))
    lone = (VB4 / "page1.html").read_bytes().replace(b'class="pagination_top"', b'class="x"')
    lone = lone.replace(b'class="pagination popupmenu', b'class="popupmenu')  # no pager
    lone_page = Response(url=VB4_URL, status=200, headers=(), content=lone,
                         text=lone.decode("cp1252"))
    _, comments, _, requests = split(first.then(lone_page))
    assert [c.number for c in comments] == [2, 3, 4, 9, 10]
    assert requests == []
