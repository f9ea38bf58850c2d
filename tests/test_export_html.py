"""Issue 4, HTML mirror: opened from disk in headless Chromium with the network cut off (only the
loopback fixture server is reachable, as a canary that must see no request), it shows the reference
thread and its 40 comments; archived <script>/<img onerror> stay inert; re-export updates in place.

Chromium (Debian package `chromium`) is required: without it these tests fail, unless
ARCHIVER_SKIP_BROWSER=1 is set (developers only; CI never sets it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

from archiver.devserver import FixtureServer, load_fixture
from archiver.export.output import inside, slugify, thread_slug
from archiver.store.models import Thread
from tests.conftest import MOA, MOA_PATH, ROOT

ARTIFACTS = ROOT / "test-artifacts"
TITLE = "Syria - Is The ISIS Attack On Abu Kamal Part Of A U.S. Plan?"
URL_ATTRS = ("src", "srcset", "href", "poster", "data", "action", "formaction", "background",
             "xlink:href", "manifest", "ping")


def chromium() -> str:
    if os.environ.get("ARCHIVER_SKIP_BROWSER") == "1":
        pytest.skip("ARCHIVER_SKIP_BROWSER=1: headless Chromium checks skipped")
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(
        "headless Chromium is needed for the HTML mirror tests but is not installed: "
        "apt-get install chromium (or set ARCHIVER_SKIP_BROWSER=1 to skip them locally)"
    )


def open_in_chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    """Open a file in headless Chromium with every host unresolvable but loopback (where the
    fixture server listens and counts requests)."""
    args = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-extensions", f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        *extra, page.resolve().as_uri(),
    ]
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def dump_dom(page: Path, profile: Path) -> BeautifulSoup:
    proc = open_in_chromium(page, profile, "--dump-dom")
    assert "<html" in proc.stdout
    return BeautifulSoup(proc.stdout, "lxml")


def screenshot(page: Path, profile: Path, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / name
    shot.unlink(missing_ok=True)
    open_in_chromium(page, profile, f"--screenshot={shot}", "--window-size=1200,3000",
                     "--hide-scrollbars")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return shot


def assert_self_contained(folder: Path) -> None:
    """Nothing in the mirror would load from outside it: no scripts, frames, plugins or event
    handlers; every loaded reference is relative and names a file inside the folder. Links to the
    web (<a href>) are allowed: they only leave when clicked."""
    root = folder.resolve()
    for page in folder.rglob("*.html"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
        assert not soup.find_all(["script", "iframe", "frame", "object", "embed", "img",
                                  "video", "audio", "source", "base", "form", "svg"]), page
        for tag in soup.find_all(True):
            for attr, value in tag.attrs.items():
                assert not attr.lower().startswith("on"), (page, tag.name, attr)
                if attr == "style":
                    assert "url(" not in str(value), (page, tag)
                if attr not in URL_ATTRS or (tag.name == "a" and attr == "href"):
                    continue
                for ref in str(value).split(","):
                    ref = ref.strip().split(" ")[0]
                    assert not urlsplit(ref).scheme and not ref.startswith("//"), (page, ref)
                    target = (page.parent / ref.split("#")[0]).resolve()
                    assert target.is_relative_to(root) and target.is_file(), (page, ref)
        for meta in soup.find_all("meta", attrs={"http-equiv": re.compile("refresh", re.I)}):
            raise AssertionError(f"{page}: meta refresh {meta}")
    css = (folder / "style.css").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css


def test_mirror_of_reference_thread_in_chromium(moa_one_page: FixtureServer, data_dir: Path,
                                                cli, tmp_path: Path) -> None:
    url = moa_one_page.url(MOA_PATH)
    assert cli("archive", url).code == 0
    mirror = tmp_path / "mirror"
    result = cli("export", "html", "--out", str(mirror))
    assert result.code == 0, result.err
    assert "1 thread, 40 comments" in result.out
    pages = [p for p in mirror.rglob("*.html") if p.name != "index.html"]
    assert len(pages) == 1
    page = pages[0]
    assert page.parent.parent == mirror
    assert_self_contained(mirror)

    moa_one_page.requests.clear()
    profile = tmp_path / "chromium-profile"
    dom = dump_dom(page, profile)
    assert moa_one_page.requests == [], "the mirror asked the network for something"
    assert dom.title is not None and TITLE in dom.title.get_text()
    assert dom.find("h1").get_text(strip=True) == TITLE
    comments = dom.select("article.comment")
    assert len(comments) == 40
    assert len({c["id"] for c in comments}) == 40
    assert all(c["id"].startswith("comment-") for c in comments)
    numbers = [c.select_one("a.number").get_text() for c in comments]
    assert numbers == [str(n) for n in range(1, 41)]
    assert comments[0].select_one("a.number")["href"] == "#" + comments[0]["id"]
    assert "Posted by:" in comments[1].get_text() and "Red Ryder" in comments[1].get_text()
    # the post's images (which point at the live server) are placeholders, never fetched
    assert dom.select(".post .body span.image")
    external = dom.select('.post .body a[rel="external nofollow noopener"]')
    assert external and all(a["href"].startswith("http") for a in external)

    index = dump_dom(mirror / "index.html", profile)
    row = index.select_one("table.threads tbody tr")
    assert row.select_one("td.title").get_text() == TITLE
    assert row.select_one("td.site").get_text() == "Moon of Alabama"
    assert row.select_one("td.date").get_text() == "June 8, 2018 at 18:39 UTC"
    assert row.select_one("td.count").get_text() == "40"
    site_index = dump_dom(page.parent / "index.html", profile)
    assert site_index.select_one("td.count").get_text() == "40"

    shot = screenshot(page, profile, "html-mirror-reference-thread.png")
    assert shot.stat().st_size > 10_000
    assert moa_one_page.requests == [], "the mirror asked the network for something"


EVIL = (
    "<p>evil-marker before</p>"
    "<script>document.title='PWNED';"
    "document.documentElement.setAttribute('data-pwned','script')</script>"
    "<img src=\"{base}/canary.png\" onerror=\"document.documentElement."
    "setAttribute('data-pwned','onerror')\">"
    "<iframe src=\"{base}/frame.html\"></iframe>"
    "<a href=\"javascript:document.documentElement.setAttribute('data-pwned','js')\">js</a>"
    "<p style=\"background:url({base}/bg.png)\">evil-marker styled</p>"
    "<svg onload=\"document.documentElement.setAttribute('data-pwned','svg')\"></svg>"
    "<object data=\"{base}/object.bin\"></object>"
    "<link rel=\"stylesheet\" href=\"{base}/evil.css\">"
    "<p>evil-marker after <a href=\"/2018/06/other.html\">relative link</a></p>"
)


def test_hostile_comment_exports_inert(data_dir: Path, cli, tmp_path: Path) -> None:
    origin, routes = load_fixture(MOA / "one-page")
    with FixtureServer(routes, origin=origin) as server:
        html = routes[MOA_PATH].body.decode("utf-8")
        marker = '<span id="comment-6a00d8341c640e53ef9d9f976f0009200d-content">'
        assert marker in html
        html = html.replace(marker, marker + EVIL.format(base=server.base_url))
        server.set_page(MOA_PATH, html)
        url = server.url(MOA_PATH)
        assert cli("archive", url).code == 0
        stored = cli("export", "jsonl", url, "-o", "-").out
        assert "<script>" in stored and "onerror" in stored  # the store keeps it as archived

        mirror = tmp_path / "mirror"
        assert cli("export", "html", url, "-o", str(mirror)).code == 0
        page = next(p for p in mirror.rglob("*.html") if p.name != "index.html")
        text = page.read_text(encoding="utf-8")
        for bad in ("<script", "onerror", "onload", "<iframe", "<object", "javascript:",
                    "<svg", "<img", "evil.css", "bg.png"):
            assert bad not in text, bad
        assert_self_contained(mirror)

        server.requests.clear()
        dom = dump_dom(page, tmp_path / "profile")
        assert server.requests == [], "the mirror asked the network for something"
        assert dom.html.get("data-pwned") is None
        assert "PWNED" not in dom.title.get_text()
        comment = dom.select("article.comment")[1]
        body = comment.get_text()
        assert "evil-marker before" in body and "evil-marker styled" in body
        assert "evil-marker after" in body
        relative = comment.find("a", string="relative link")
        assert relative["href"] == server.url("/2018/06/other.html")  # resolved, marked external
        assert "external" in relative["rel"]
        assert comment.select_one("span.image") is not None
        screenshot(page, tmp_path / "profile", "html-mirror-hostile-comment.png")
        assert server.requests == [], "the mirror asked the network for something"


def test_reexport_updates_the_mirror(data_dir: Path, cli, tmp_path: Path) -> None:
    origin, routes = load_fixture(MOA / "one-page")
    with FixtureServer(routes, origin=origin) as server:
        url = server.url(MOA_PATH)
        assert cli("archive", url).code == 0
        mirror = tmp_path / "mirror"
        first = cli("export", "html", "-o", str(mirror))
        assert first.code == 0 and "4 files new or changed, 0 unchanged" in first.out
        css_mtime = (mirror / "style.css").stat().st_mtime_ns

        same = cli("export", "html", "-o", str(mirror))
        assert same.code == 0 and "nothing changed (4 files already up to date)" in same.out

        html = routes[MOA_PATH].body.decode("utf-8")
        html = html.replace("Russian bombers from RF and Iran", "EDITED: Russian bombers")
        gone = re.search(
            r'<div class="comment font-entrybody" id="comment-6a00d8341c640e53ef03571b487d38200c">'
            r".*?</p>\s*</div>", html, re.S)
        assert gone is not None
        html = html.replace(gone.group(0), "")
        server.set_page(MOA_PATH, html)
        result = cli("archive", url)
        assert result.code == 0 and "1 edited, 1 removed" in result.out

    again = cli("export", "html", "-o", str(mirror))
    assert again.code == 0, again.err
    assert (mirror / "style.css").stat().st_mtime_ns == css_mtime  # unchanged file left alone
    page = next(p for p in mirror.rglob("*.html") if p.name != "index.html")
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
    comments = soup.select("article.comment")
    assert len(comments) == 40  # the removed comment is kept, marked
    removed = soup.select("article.comment.removed")
    assert [c["id"] for c in removed] == ["comment-6a00d8341c640e53ef03571b487d38200c"]
    assert "Removed upstream" in removed[0].get_text()
    edited = soup.select_one("#comment-6a00d8341c640e53ef9d9f976f0009200d")
    assert "EDITED: Russian bombers" in edited.select_one("div.body").get_text()
    history = edited.select_one("details.history")
    assert history is not None and "Russian bombers from RF and Iran" in history.get_text()
    assert soup.select_one("section.comments h2").get_text() == "39 comments"
    # dates as people read them; the machine form in <time datetime>; no raw timestamp shown
    human = re.compile(r"^\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d UTC$")
    machine = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
    missing = removed[0].select_one("p.removed-note time")
    assert human.match(missing.get_text()) and machine.match(missing["datetime"])
    seen = history.select("div.version p.meta time")
    assert len(seen) == 2 and all(human.match(t.get_text()) for t in seen)
    notice = next(p for p in soup.select("p.notice") if "First archived" in p.get_text())
    days = notice.select("time")
    assert len(days) == 2 and all(re.match(r"^\d{4}-\d\d-\d\d$", t["datetime"]) for t in days)
    assert all(re.match(r"^\d{1,2} [A-Z][a-z]+ \d{4}$", t.get_text()) for t in days)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", soup.get_text())
    index = BeautifulSoup((mirror / "index.html").read_text(encoding="utf-8"), "lxml")
    assert index.select_one("td.count").get_text() == "39"
    assert index.select_one("main p.meta").get_text() == "1 thread: everything archived."
    assert "(s)" not in index.get_text() + again.out
    assert_self_contained(mirror)


def test_mirror_refuses_a_foreign_folder_and_unwritable_paths(moa_one_page: FixtureServer,
                                                              data_dir: Path, cli,
                                                              tmp_path: Path) -> None:
    assert cli("archive", moa_one_page.url(MOA_PATH)).code == 0
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    result = cli("export", "html", "-o", str(foreign))
    assert result.code == 2 and "is not empty and was not written by archiver" in result.err
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("export", "html", "-o", str(blocker / "mirror"))
    assert result.code == 2 and result.err.startswith("error: cannot write")
    assert len(result.err.strip().splitlines()) == 1
    result = cli("export", "html", "-o", "-")
    assert result.code == 2 and "needs --out FOLDER" in result.err


@pytest.mark.parametrize("url", [
    "http://h/../../../etc/passwd",
    "http://h/%2e%2e/%2e%2e/x.html",
    "http://h/a/b/..%2f..%2fc.html?x=/../../y",
    "http://h/" + "\u00e9t\u00e9/" * 50 + "caf\u00e9.html",
    "http://h/",
    "http://h/\x00/..\\..\\win.html",
])
def test_thread_file_names_stay_inside(url: str, tmp_path: Path) -> None:
    thread = Thread(site_id=1, url=url, first_seen_at=None)  # type: ignore[arg-type]
    name = thread_slug(thread)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), name
    assert len(name) <= 90
    path = inside(tmp_path, "site", name + ".html")
    assert path.resolve().is_relative_to(tmp_path.resolve())
    with pytest.raises(ValueError):
        inside(tmp_path, "..", "x")
    with pytest.raises(ValueError):
        inside(tmp_path, "a/../../x")
    assert slugify("...", fallback="thread") == "thread"
