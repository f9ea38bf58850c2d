"""Issue 18, `archiver serve` over HTTP (uvicorn on 127.0.0.1, httpx): thread pages with replies,
removals and histories, permalinks, paging of a 5,000-comment thread, downloads, status; the
guards: the token (401), the listening address, CSRF, the form's address checks (SSRF)."""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from warcio.archiveiterator import ArchiveIterator

from archiver.devserver import FixtureServer, serve_fixture
from archiver.store.models import Comment, Heartbeat
from archiver.web.jobs import UrlRefused, check_form_url, form_policy
from tests.conftest import MOA, MOA_PATH, run_cli_subprocess
from tests.test_pictures import two_hosts  # noqa: F401  (a fixture)
from tests.web_helpers import T0, LiveServer, big_thread, conversation, settings_for, write_thread

URL = "http://127.0.0.1:9/2024/03/tide-tables.html"


@pytest.fixture
def small(data_dir: Path) -> Iterator[tuple[LiveServer, int]]:
    """A served store with one thread read twice: Bob's reply edited, Erin's comment removed."""
    settings = settings_for(data_dir)
    live = LiveServer(settings)
    write_thread(live.store, URL, "Reading The Tide Tables", conversation())
    thread_id = write_thread(live.store, URL, "Reading The Tide Tables",
                             conversation(edited=True, removed=True), now=T0 + timedelta(days=1))
    live.start()
    yield live, thread_id
    live.stop()


def soup(response: httpx.Response) -> BeautifulSoup:
    assert response.status_code == 200, response.text[:500]
    return BeautifulSoup(response.text, "lxml")


def comment_id(live: LiveServer, source_id: str) -> int:
    from sqlmodel import select

    with live.store.session() as session:
        found = session.exec(select(Comment).where(Comment.source_id == source_id)).one()
        return found.id or 0


def test_thread_page_replies_removals_history_permalinks(small: tuple[LiveServer, int]) -> None:
    live, thread_id = small
    page = soup(httpx.get(f"{live.url}/threads/{thread_id}"))
    articles = page.select("article.comment")
    assert [a["id"] for a in articles] == [f"comment-c{i}" for i in range(1, 6)]
    assert [a["data-depth"] for a in articles] == ["0", "1", "2", "0", "0"]
    assert "depth-2" in articles[2]["class"] and "reply" in articles[2]["class"]
    reply = articles[2].select_one(".reply-to a")
    assert reply.get_text() == "Bob (#2)" and reply["href"] == "#comment-c2"
    assert "4 comments (1 removed upstream)" in page.select_one("section.comments h2").get_text()
    removed = page.select_one("#comment-c5")
    assert "removed" in removed["class"]
    assert "Removed upstream" in removed.get_text()
    bob = page.select_one("#comment-c2")
    assert "politely" in bob.select_one(".body").get_text()
    assert "I disagree with Alice." in bob.select_one("details.history").get_text()
    history = soup(httpx.get(live.url + bob.select_one("a.history-link")["href"]))
    versions = history.select("div.version")
    assert len(versions) == 1 and "Version 1" in versions[0].get_text()
    assert "I disagree with Alice.</p>" in str(versions[0])
    assert "politely" in history.select_one("article.comment .body").get_text()
    # a permalink leads to the page showing the comment, at its anchor
    permalink = bob.select_one("a.permalink")["href"]
    assert permalink == f"/comments/{comment_id(live, 'c2')}"
    answer = httpx.get(live.url + permalink)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/threads/{thread_id}?page=1#comment-c2"
    assert httpx.get(f"{live.url}/comments/999999").status_code == 404


def test_sites_and_thread_list_filter_sort_counts(small: tuple[LiveServer, int]) -> None:
    live, thread_id = small
    write_thread(live.store, "http://127.0.0.1:9/2024/04/moon.html", "Moon Phases",
                 conversation()[:2])
    home = soup(httpx.get(live.url + "/"))
    row = home.select_one("table.sites tbody tr")
    assert "Test Blog" in row.get_text()
    assert [td.get_text() for td in row.select("td.count")] == ["2", "6"]  # threads, comments
    listing = soup(httpx.get(live.url + row.select_one("a")["href"] + "&sort=comments"))
    titles = [a.get_text() for a in listing.select("tr.thread td.title a")]
    assert titles == ["Reading The Tide Tables", "Moon Phases"]
    assert [td.get_text() for td in listing.select("tr.thread td.count")] == ["4", "2"]
    by_title = soup(httpx.get(live.url + "/threads", params={"sort": "title"}))
    assert [a.get_text() for a in by_title.select("tr.thread td.title a")] == \
        ["Moon Phases", "Reading The Tide Tables"]
    filtered = soup(httpx.get(live.url + "/threads", params={"q": "tide", "status": "open"}))
    assert [a.get_text() for a in filtered.select("tr.thread td.title a")] == \
        ["Reading The Tide Tables"]
    assert soup(httpx.get(live.url + "/threads", params={"status": "gone"})
                ).select("tr.thread") == []


def test_five_thousand_comments_are_paged(data_dir: Path) -> None:
    live = LiveServer(settings_for(data_dir))
    thread_id = big_thread(live.store)
    live.start()
    try:
        first = httpx.get(f"{live.url}/threads/{thread_id}")
        page = soup(first)
        comments = page.select("article.comment")
        assert len(comments) == 200
        assert comments[0]["id"] == "comment-b1" and comments[-1]["id"] == "comment-b200"
        assert "Comment 201:" not in first.text
        assert "5000 comments, page 1 of 25" in page.select_one("section.comments h2").get_text()
        assert page.select_one('nav.pages a[rel="next"]')["href"] == \
            f"/threads/{thread_id}?page=2"
        second = soup(httpx.get(f"{live.url}/threads/{thread_id}", params={"page": 2}))
        opener = second.select_one("#comment-b201")
        assert opener.select_one(".reply-to a")["href"] == "?page=1#comment-b200"
        last = soup(httpx.get(f"{live.url}/threads/{thread_id}", params={"page": 25}))
        assert [a["id"] for a in last.select("article.comment")][-1] == "comment-b5000"
        answer = httpx.get(f"{live.url}/comments/{comment_id(live, 'b4321')}")
        assert answer.headers["location"] == f"/threads/{thread_id}?page=22#comment-b4321"
        beyond = soup(httpx.get(f"{live.url}/threads/{thread_id}", params={"page": 99}))
        assert beyond.select("article.comment")[-1]["id"] == "comment-b5000"
    finally:
        live.stop()


def test_downloads_and_status(data_dir: Path, moa_one_page: FixtureServer, cli) -> None:
    assert cli("archive", moa_one_page.url(MOA_PATH)).code == 0
    live = LiveServer(settings_for(data_dir)).start()
    try:
        with live.store.session() as session:
            session.add(Heartbeat(pid=4242, hostname="elsewhere", started_at=T0, beat_at=T0,
                                  note="2 in flight"))
            session.commit()
        text = httpx.get(f"{live.url}/threads/1/export/text")
        assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
        assert "attachment" in text.headers["content-disposition"]
        assert "Abu Kamal" in text.text and "Red Ryder" in text.text
        line = httpx.get(f"{live.url}/threads/1/export/jsonl").text.splitlines()
        assert len(line) == 1 and len(json.loads(line[0])["comments"]) == 40
        warc = httpx.get(f"{live.url}/threads/1/export/warc")
        kinds = [r.rec_type for r in ArchiveIterator(io.BytesIO(warc.content))]
        assert kinds[0] == "warcinfo" and "response" in kinds and "request" in kinds
        wacz = zipfile.ZipFile(io.BytesIO(httpx.get(f"{live.url}/threads/1/export/wacz").content))
        assert "datapackage.json" in wacz.namelist()
        assert any(name.endswith(".warc.gz") for name in wacz.namelist())
        assert httpx.get(f"{live.url}/threads/1/export/pdf").status_code == 404
        status = soup(httpx.get(f"{live.url}/status")).select_one("pre.status").get_text()
        assert "Scheduler: running (pid 4242 on elsewhere)" in status
        assert "Threads: 1 archived (0 open, 1 closed, 0 gone)" in status
    finally:
        live.stop()


def test_every_answer_forbids_scripts(small: tuple[LiveServer, int]) -> None:
    live, thread_id = small
    for path in ("/", f"/threads/{thread_id}", "/archive", "/nowhere",
                 f"/threads/{thread_id}/export/text"):
        csp = httpx.get(live.url + path).headers["content-security-policy"]
        assert "script-src 'none'" in csp and "default-src 'none'" in csp
        assert "connect-src 'none'" in csp and "frame-ancestors 'none'" in csp
    # another name for 127.0.0.1 (DNS rebinding of the archive itself) is not answered
    assert httpx.get(live.url + "/", headers={"Host": "evil.example"}).status_code == 400


def test_token_required_when_configured(data_dir: Path) -> None:
    live = LiveServer(settings_for(data_dir, token="s3cret")).start()
    try:
        bare = httpx.get(live.url + "/")
        assert bare.status_code == 401
        assert bare.headers["www-authenticate"].startswith("Basic")
        assert "script-src 'none'" in bare.headers["content-security-policy"]
        for path in ("/threads", "/status", "/static/style.css", "/threads/1/export/text"):
            assert httpx.get(live.url + path).status_code == 401
        assert httpx.post(live.url + "/archive", data={"url": "http://example.org/"}
                          ).status_code == 401
        assert httpx.get(live.url + "/", auth=("anyone", "wrong")).status_code == 401
        assert httpx.get(live.url + "/", headers={"Authorization": "Bearer wrong"}
                         ).status_code == 401
        assert httpx.get(live.url + "/", auth=("anyone", "s3cret")).status_code == 200
        assert httpx.get(live.url + "/", headers={"Authorization": "Bearer s3cret"}
                         ).status_code == 200
        basic = base64.b64encode(b"s3cret").decode()  # no colon: not a user:password pair
        assert httpx.get(live.url + "/", headers={"Authorization": f"Basic {basic}"}
                         ).status_code == 401
    finally:
        live.stop()


def test_serve_on_another_address_needs_a_token(data_dir: Path) -> None:
    result = run_cli_subprocess("serve", "--host", "0.0.0.0")
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "error: refusing to listen on 0.0.0.0 without a token: set [serve] token (or "
        "ARCHIVER_SERVE_TOKEN), or listen on 127.0.0.1"]
    assert "Traceback" not in result.err
    config = data_dir.parent / "serve.toml"
    config.write_text('[serve]\nhost = "192.0.2.1"\n', encoding="utf-8")
    result = run_cli_subprocess("--config", str(config), "serve")
    assert result.code == 2 and "refusing to listen on 192.0.2.1 without a token" in result.err


def form_token(live: LiveServer, client: httpx.Client) -> str:
    page = soup(client.get(live.url + "/archive"))
    return page.select_one('input[name="csrf"]')["value"]


def test_cross_site_posts_are_refused(small: tuple[LiveServer, int]) -> None:
    live, _ = small
    with httpx.Client() as client:
        token = form_token(live, client)
        assert client.cookies.get("archiver_csrf") == token
        target = live.url + "/archive"
        data = {"url": "http://10.0.0.1/", "csrf": token}
        # another site's page posting the form: its Origin is not ours
        evil = client.post(target, data=data, headers={"Origin": "https://evil.example"})
        assert evil.status_code == 403 and "cross-site" in evil.text
        assert client.post(target, data=data, headers={"Origin": "null"}).status_code == 403
        referer = {"Referer": "https://evil.example/page"}
        assert client.post(target, data=data, headers=referer).status_code == 403
        # no token, or a token without its cookie (the cookie is SameSite=Strict)
        assert client.post(target, data={"url": "http://10.0.0.1/"}).status_code == 403
    assert httpx.post(target, data=data, headers={"Origin": live.url}).status_code == 403
    assert live.app.state.web.jobs.recent() == []
    with httpx.Client() as client:  # our own page's post passes the check (and meets the next)
        token = form_token(live, client)
        answer = client.post(target, data={"url": "http://10.0.0.1/", "csrf": token},
                             headers={"Origin": live.url})
        assert answer.status_code == 400 and "10.0.0.1 (private)" in answer.text


@pytest.mark.parametrize(("url", "why"), [
    ("http://127.0.0.1:8000/x.html", "127.0.0.1 (loopback)"),
    ("http://10.0.0.1/", "10.0.0.1 (private)"),
    ("http://192.168.1.20/forum", "192.168.1.20 (private)"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 (link-local)"),
    ("http://[::1]:8080/", "::1 (loopback)"),
    ("http://[::ffff:127.0.0.1]/", "127.0.0.1 (loopback)"),
    ("http://localhost/", "(loopback)"),
    ("http://0.0.0.0/", "0.0.0.0 (unspecified)"),
])
def test_form_refuses_private_addresses(data_dir: Path, url: str, why: str) -> None:
    policy = form_policy(settings_for(data_dir))
    with pytest.raises(UrlRefused, match=re.escape(why)):
        check_form_url(url, policy)
    allowed = form_policy(settings_for(data_dir, allow_networks="127.0.0.0/8"))
    if "127.0.0.1" in why:
        assert check_form_url(url, allowed).startswith("http://")
    elif "localhost" not in url:
        with pytest.raises(UrlRefused):
            check_form_url(url, allowed)
    with pytest.raises(UrlRefused, match="http"):
        check_form_url("file:///etc/passwd", allowed)


def test_form_refusal_is_shown_and_nothing_is_fetched(small: tuple[LiveServer, int]) -> None:
    live, _ = small
    server = serve_fixture(MOA / "one-page")
    try:
        with httpx.Client() as client:
            token = form_token(live, client)
            answer = client.post(live.url + "/archive", headers={"Origin": live.url},
                                 data={"url": server.url(MOA_PATH), "csrf": token})
        assert answer.status_code == 400
        assert "127.0.0.1 (loopback)" in soup_text(answer)
        assert server.requests == []
        assert live.app.state.web.jobs.recent() == []
    finally:
        server.stop()


def soup_text(response: httpx.Response) -> str:
    return BeautifulSoup(response.text, "lxml").select_one("p.error").get_text()


def test_a_name_rebound_to_loopback_after_the_check_is_not_fetched(data_dir: Path) -> None:
    """The form's check saw a public address; the fetch then resolves the name to 127.0.0.1
    (DNS rebinding): the job fails and the local server is asked nothing."""
    server = serve_fixture(MOA / "one-page")
    answers = iter([["93.184.215.14"]])

    def rebinding(host: str, port: int) -> list[str]:
        return next(answers, ["127.0.0.1"])

    settings = settings_for(data_dir)
    settings.fetch.max_attempts = 1  # a refused connection is not tried again
    live = LiveServer(settings, resolver=rebinding).start()
    try:
        with httpx.Client() as client:
            token = form_token(live, client)
            answer = client.post(
                live.url + "/archive", headers={"Origin": live.url},
                data={"url": server.url(MOA_PATH).replace("127.0.0.1", "rebind.example"),
                      "csrf": token})
        assert answer.status_code == 303
        job = live.app.state.web.jobs.get(int(answer.headers["location"].rsplit("/", 1)[1]))
        live.app.state.web.jobs._pool.shutdown(wait=True)  # the job has run
        assert job.state == "failed", job
        assert "resolves to no address the archive form may reach" in job.message
        assert server.requests == []
    finally:
        live.stop()
        server.stop()


def test_search_links_each_hit_to_its_comment(small: tuple[LiveServer, int]) -> None:
    live, thread_id = small
    write_thread(live.store, "http://127.0.0.1:9/2024/04/moon.html", "Moon Phases",
                 [c for c in conversation() if c.source_id == "c4"])

    def hits(query: str, **params: str) -> list[tuple[str, str, str]]:
        page = soup(httpx.get(live.url + "/search", params={"q": query, **params}))
        return [(li.select_one("a.hit-link")["href"], li.select_one(".author").get_text(),
                 li.select_one(".snippet").decode_contents()) for li in page.select("li.hit")]

    found = hits("tide")  # Alice's comment, and the post by its title
    assert sorted(href for href, _, _ in found) == \
        [f"/comments/{comment_id(live, 'c1')}", f"/threads/{thread_id}"]
    found = [hit for hit in found if hit[1] == "Alice"]
    assert "<mark>tide</mark>" in found[0][2]
    assert [author for _, author, _ in hits('"has a point"')] == ["Carol"]
    assert [author for _, author, _ in hits("author:Bob")] == ["Bob"]
    assert "politely" in hits("author:Bob")[0][2]  # the edit is what is found
    assert hits("deleted") == []  # Erin's removed comment
    assert sorted(author for _, author, _ in hits("moon phases", order="newest")) == \
        ["Ann", "Dave", "Dave"]  # the post of "Moon Phases", Dave's remark in both threads
    assert hits("moon", since="2030-01-01") == []
    answer = httpx.get(live.url + found[0][0])
    assert answer.headers["location"] == f"/threads/{thread_id}?page=1#comment-c1"
    bad = httpx.get(live.url + "/search", params={"q": "tide", "since": "yesterday"})
    assert bad.status_code == 400 and "is not a date" in bad.text
    assert httpx.get(live.url + "/search", params={"q": '"unclosed'}).status_code in (200, 400)


def test_held_pictures_are_shown_from_the_store(two_hosts, data_dir: Path, cli) -> None:  # noqa: F811
    """A picture the archive holds is served by the app itself (img-src 'self'); one it does not
    hold stays a placeholder, never loaded from its host."""
    from tests.test_pictures import BLUE, RED, THREAD, image_reply, png, serve_thread

    a, b = two_hosts
    serve_thread(a, post='<img src="/photos/owl.png" alt="an owl">',
                 comment=f'<img src="{b.base_url}/cdn/missing.png" alt="not held">'
                         '<img src="/photos/wren.png" alt="a wren">')
    owl, wren = png(RED, (160, 120)), png(BLUE, (90, 60))
    a.route("/photos/owl.png", image_reply(owl))
    a.route("/photos/wren.png", image_reply(wren))
    assert cli("archive", a.url(THREAD)).code == 0
    live = LiveServer(settings_for(data_dir)).start()
    try:
        page = soup(httpx.get(f"{live.url}/threads/1"))
        post_img = page.select_one("article.post .body img")
        comment_imgs = page.select("article.comment .body img")
        assert post_img["alt"] == "an owl" and post_img["src"].startswith("/pictures/")
        assert [img["alt"] for img in comment_imgs] == ["a wren"]
        assert "[image: not held]" in page.select_one("article.comment .body").get_text()
        for img, data in ((post_img, owl), (comment_imgs[0], wren)):
            answer = httpx.get(live.url + img["src"])
            assert answer.status_code == 200 and answer.content == data
            assert answer.headers["content-type"] == "image/png"
        assert httpx.get(f"{live.url}/pictures/999").status_code == 404
    finally:
        live.stop()
