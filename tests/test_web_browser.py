"""Issue 18, `archiver serve` in a real browser: Debian's chromium driven by Playwright (no browser
download). Browse site -> thread -> comment; the form archives a thread from a 127.0.0.1 fixture
server (allowed by the test's config) and it appears; a hostile archived comment stays inert (no
script runs, no request leaves the page: the browser's own network log). Screenshots are kept in
test-artifacts/web/.

Chromium is required (apt-get install chromium); ARCHIVER_SKIP_BROWSER=1 skips these locally.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.devserver import FixtureServer, serve_fixture
from tests.conftest import MOA, MOA_PATH, ROOT
from tests.test_export_html import chromium
from tests.web_helpers import (
    HOSTILE,
    URL_OF,
    Comment,
    LiveServer,
    conversation,
    settings_for,
    write_thread,
)

ARTIFACTS = ROOT / "test-artifacts" / "web"
TIMEOUT_MS = 120_000  # Playwright must be given one; never reached on a working page


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = chromium()  # skips or fails with the reason when chromium is missing
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-extensions", "--no-first-run", "--disable-quic",
            "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.requests = []  # every request the page makes, from the browser's network log
    page.on("request", lambda request: page.requests.append(request.url))
    yield page
    context.close()


def shot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def test_browse_site_thread_comment(data_dir: Path, page) -> None:
    live = LiveServer(settings_for(data_dir))
    write_thread(live.store, URL_OF["tide"], "Reading The Tide Tables", conversation())
    write_thread(live.store, URL_OF["tide"], "Reading The Tide Tables",
                 conversation(edited=True, removed=True))
    live.start()
    try:
        page.goto(live.url + "/")
        shot(page, "1-sites.png")
        page.click("text=Test Blog")
        page.wait_for_url(live.url + "/threads?site=*")
        shot(page, "2-threads.png")
        page.click("text=Reading The Tide Tables")
        page.wait_for_url(live.url + "/threads/*")
        assert page.locator("h1").inner_text() == "Reading The Tide Tables"
        assert page.locator("article.comment").count() == 5
        carol = page.locator("#comment-c3")
        assert carol.locator(".reply-to").inner_text() == "In reply to Bob (#2)"
        assert "Removed upstream" in page.locator("#comment-c5").inner_text()
        shot(page, "3-thread.png")
        carol.locator("a.permalink").click()  # the permalink: its page, at its anchor
        page.wait_for_url("**/threads/*?page=1#comment-c3")
        assert page.locator(":target").get_attribute("id") == "comment-c3"
        page.locator("#comment-c3 .reply-to a").click()  # up to the comment it answers
        page.wait_for_url("**#comment-c2")
        assert page.locator(":target").get_attribute("id") == "comment-c2"
        page.locator("#comment-c2 a.history-link").click()
        page.wait_for_url("**/history")
        assert page.locator("div.version").count() == 1
        assert "I disagree with Alice." in page.locator("div.version .body").inner_text()
        assert "politely" in page.locator("article.comment .body").inner_text()
        shot(page, "4-history.png")
        assert all(url.startswith(live.url) for url in page.requests), page.requests
    finally:
        live.stop()


def test_search_opens_the_comment_in_context(data_dir: Path, page) -> None:
    live = LiveServer(settings_for(data_dir))
    write_thread(live.store, URL_OF["tide"], "Reading The Tide Tables", conversation())
    write_thread(live.store, URL_OF["tide"], "Reading The Tide Tables",
                 conversation(edited=True, removed=True))
    live.start()
    try:
        page.goto(live.url + "/")
        for query, author, anchor in (("tide", "Alice", "c1"), ('"has a point"', "Carol", "c3"),
                                      ("author:Bob", "Bob", "c2")):
            page.fill('nav.top input[name="q"]', query)
            page.click("nav.top button")
            page.wait_for_url(live.url + "/search?*")
            hit = page.locator("li.hit", has=page.locator(".author", has_text=author))
            assert hit.locator("mark").count() >= (0 if ":" in query else 1)
            if anchor == "c3":
                shot(page, "4b-search.png")
            hit.locator("a.hit-link").click()  # the comment in its thread
            page.wait_for_url(f"**#comment-{anchor}")
            assert page.locator(":target").get_attribute("id") == f"comment-{anchor}"
        assert all(url.startswith(live.url) for url in page.requests), page.requests
    finally:
        live.stop()


def test_archive_form_archives_a_thread(data_dir: Path, page) -> None:
    fixture = serve_fixture(MOA / "one-page")
    live = LiveServer(settings_for(data_dir, allow_networks="127.0.0.0/8")).start()
    try:
        page.goto(live.url + "/archive")
        page.fill('input[name="url"]', fixture.url(MOA_PATH))
        shot(page, "5-archive-form.png")
        page.click("form.archive button")
        page.wait_for_url("**/jobs/*")
        # the job page reloads itself (meta refresh, no script) until the archive is done
        page.wait_for_selector("#state.state-done")
        assert "40 comments" in page.locator("#message").inner_text()
        shot(page, "6-archive-done.png")
        page.click("a.thread-link")
        page.wait_for_url(live.url + "/threads/*")
        assert "Abu Kamal" in page.locator("h1").inner_text()
        assert page.locator("article.comment").count() == 40
        shot(page, "7-archived-thread.png")
        assert sum(1 for method, path, _ in fixture.requests if path == MOA_PATH) == 1
        page.goto(live.url + "/threads")
        assert page.locator("tr.thread").count() == 1
    finally:
        live.stop()
        fixture.stop()


def test_hostile_comment_is_inert(data_dir: Path, page) -> None:
    canary = FixtureServer().start()  # answers 404 to anything, and lists what it was asked
    live = LiveServer(settings_for(data_dir))
    hostile = HOSTILE.format(canary=canary.base_url)
    thread_id = write_thread(live.store, URL_OF["hostile"], "Hostile",
                             [*conversation()[:1], Comment("evil", "Mallory", hostile)],
                             body=hostile)
    live.start()
    try:
        page.on("dialog", lambda dialog: dialog.dismiss())
        answer = page.goto(f"{live.url}/threads/{thread_id}")
        assert "script-src 'none'" in answer.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        assert page.url == f"{live.url}/threads/{thread_id}"  # no meta refresh, no script
        assert canary.requests == [], canary.requests
        evil = page.locator("#comment-evil")
        assert "Hostile comment" in evil.inner_text()
        evil.locator("text=styled").hover()
        evil.locator("text=click me").click()
        page.wait_for_load_state("networkidle")
        shot(page, "8-hostile.png")
        assert page.title() == "Hostile | archiver"
        assert page.url == f"{live.url}/threads/{thread_id}"
        for body in (evil.locator(".body"), page.locator("article.post .body")):
            html = body.inner_html()
            for bad in ("<script", "<iframe", "<object", "<svg", "<style", "<form", "<meta",
                        "<link", "<base", " on", "javascript:", "url("):
                assert bad not in html.lower(), (bad, html)
        assert canary.requests == [], canary.requests
        leaving = [url for url in page.requests if not url.startswith(live.url)]
        assert leaving == [], leaving
        assert page.requests == [f"{live.url}/threads/{thread_id}", f"{live.url}/static/style.css"]
    finally:
        live.stop()
        canary.stop()
