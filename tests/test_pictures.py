"""Issue 19, pictures: the images a post and its comments show (from two hosts on 127.0.0.1) are
fetched after the thread's pages, held as captures, written into the WARC as request/response
pairs and shown by the HTML mirror from local files (headless Chromium, network cut off: the
screenshot shows each picture's colour); a second archive fetches none again; avatars and
tracking pixels are left out; every failure (too large, not an image, 404, robots.txt) is listed
with its reason, the thread archived, and tried again next time; a setting turns them off."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from warcio.archiveiterator import ArchiveIterator

from archiver.images import body_images, sniff
from tests.faultserver import FaultServer, Reply, static_page
from tests.test_export_html import open_in_chromium

THREAD = "/2024/03/owls.html"
RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 160, 0)

PAGE = """<!DOCTYPE html><html><head><title>Owls</title></head><body>
<div id="banner-header"><a href="{a}/">Bird Notes</a></div>
<h2 class="date-header">March 06, 2024</h2>
<div class="entry"><h3 class="entry-header">Owls at dusk</h3>
<div class="entry-body"><p>Two photographs.</p>{post}</div>
<p class="entry-footer"><span class="post-footers">Posted by b on March 6, 2024 at 07:30 UTC</span>
<a class="permalink" href="{a}{thread}">Permalink</a></p></div>
<div class="comments">
<div class="comment" id="comment-1">
<div class="comment-avatar"><img src="{a}/avatars/ann.png" alt="Ann" width="50" height="50"></div>
<div class="comment-content"><p>See the chart:</p>{comment}</div>
<p class="comment-footer">Posted by: Ann |
<a href="{a}{thread}#comment-1">Mar 6 2024 8:00 utc</a></p>
</div></div></body></html>"""


def png(colour: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def image_reply(data: bytes, content_type: str = "image/png") -> Reply:
    return Reply(200, data, [("Content-Type", content_type)])


def serve_thread(a: FaultServer, post: str, comment: str) -> None:
    page = PAGE.format(a=a.base_url, thread=THREAD, post=post, comment=comment)
    a.route(THREAD, static_page(page.encode()))


def image_paths(server: FaultServer) -> list[str]:
    return [r.path for r in server.requests() if r.path not in (THREAD, "/robots.txt")]


def pictures_table(data_dir: Path) -> dict[str, tuple[str, str | None]]:
    con = sqlite3.connect(data_dir / "archiver.db")
    try:
        return {url: (state, reason) for url, state, reason in
                con.execute("select url, state, reason from picture")}
    finally:
        con.close()


@pytest.fixture
def two_hosts(data_dir: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ARCHIVER_PICTURES_ENABLED", "true")  # the default (conftest: off)
    with FaultServer() as a, FaultServer() as b:
        yield a, b


def test_pictures_fetched_exported_and_shown_offline(two_hosts, data_dir: Path, cli,  # type: ignore[no-untyped-def]
                                                     tmp_path: Path) -> None:
    a, b = two_hosts
    cdn = b.base_url
    serve_thread(
        a,
        post=(f'<img src="/photos/owl.png" alt="an owl">'
              f'<img src="{cdn}/cdn/heron-300.png" alt="a heron" srcset="{cdn}/cdn/heron-300.png '
              f'300w, {cdn}/cdn/heron-800.png 800w, {cdn}/cdn/heron-4000.png 4000w">'
              '<img src="/px.gif" width="1" height="1" alt="">'),
        comment=f'<img src="{cdn}/cdn/chart.png" alt="the chart">',
    )
    a.route("/photos/owl.png", image_reply(png(RED, (160, 120))))
    b.route("/cdn/heron-800.png", image_reply(png(BLUE, (200, 100))))
    b.route("/cdn/chart.png", image_reply(png(GREEN, (140, 90)), "application/octet-stream"))
    url = a.url(THREAD)

    first = cli("archive", url)
    assert first.code == 0, first.err
    assert "3 pictures (3 new)" in first.out and "skipped" not in first.out, first.out
    # the largest reasonable srcset candidate, neither the pixel nor the avatar
    assert sorted(image_paths(a)) == ["/photos/owl.png"]
    assert sorted(image_paths(b)) == ["/cdn/chart.png", "/cdn/heron-800.png"]

    # a second archive of the unchanged thread asks for no picture again
    a.log.clear()
    b.log.clear()
    second = cli("archive", url)
    assert second.code == 0, second.err
    assert "3 pictures (0 new)" in second.out, second.out
    assert image_paths(a) == [] and image_paths(b) == []

    # the WARC holds a request and a response for each picture
    warc = tmp_path / "thread.warc.gz"
    assert cli("export", "warc", url, "-o", str(warc)).code == 0
    records: dict[str, set[str]] = {}
    with warc.open("rb") as handle:
        for record in ArchiveIterator(handle):
            target = record.rec_headers.get_header("WARC-Target-URI")
            if target:
                records.setdefault(target, set()).add(record.rec_type)
    for picture in (a.url("/photos/owl.png"), f"{cdn}/cdn/heron-800.png", f"{cdn}/cdn/chart.png"):
        assert {"request", "response"} <= records.get(picture, set()), (picture, records)

    # the WACZ holds them too (its index), and lists the thread's page alone as a page
    wacz = tmp_path / "thread.wacz"
    assert cli("export", "wacz", url, "-o", str(wacz)).code == 0
    with zipfile.ZipFile(wacz) as package:
        pages = package.read("pages/pages.jsonl").decode().splitlines()[1:]
        index = package.read("indexes/index.cdx").decode()
    assert [json.loads(line)["url"] for line in pages] == [url]
    assert index.count("heron-800.png") >= 1 and index.count("chart.png") >= 1

    # the mirror shows them from its own files, with the network cut off
    mirror = tmp_path / "mirror"
    assert cli("export", "html", "--out", str(mirror)).code == 0
    media = sorted(p.name for p in (mirror / "media").iterdir())
    assert len(media) == 3 and all(name.endswith(".png") for name in media)
    page = next(p for p in mirror.rglob("*.html") if p.name != "index.html")
    html = page.read_text(encoding="utf-8")
    assert html.count('<img src="../media/') == 3 and "img-src 'self'" in html
    assert html.count("<img") == 3  # the pixel is a placeholder; nothing points at a server
    a.log.clear()
    b.log.clear()
    shot = tmp_path / "artifacts" / "mirror-with-pictures.png"
    shot.parent.mkdir()
    open_in_chromium(page, tmp_path / "profile", f"--screenshot={shot}",
                     "--window-size=1000,2000", "--hide-scrollbars")
    assert a.requests() == [] and b.requests() == [], "the mirror asked the network"
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    seen = {colour: count for count, colour in colours}
    for colour, (w, h) in ((RED, (160, 120)), (BLUE, (200, 100)), (GREEN, (140, 90))):
        assert seen.get(colour, 0) >= w * h * 0.9, (colour, seen.get(colour, 0), shot)


def test_each_failure_is_listed_and_tried_again(two_hosts, data_dir: Path, cli,  # type: ignore[no-untyped-def]
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = two_hosts
    monkeypatch.setenv("ARCHIVER_PICTURES_MAX_SIZE", "20000")
    cdn = b.base_url
    serve_thread(
        a,
        post=('<img src="/big.png" alt="big"><img src="/fake.jpg" alt="fake">'
              '<img src="/gone.png" alt="gone">'),
        comment=f'<img src="{cdn}/private/secret.png" alt="kept out"><img src="{cdn}/ok.png">',
    )
    big = png(RED, (1, 1))[:0] + b"\x89PNG\r\n\x1a\n" + b"\0" * 30000  # over the 20000 B cap
    a.route("/big.png", image_reply(big))
    a.route("/fake.jpg", image_reply(b"<!DOCTYPE html><html><body>Not found</body></html>",
                                     "image/jpeg"))
    b.robots("User-agent: *\nDisallow: /private/\n")
    b.route("/private/secret.png", image_reply(png(BLUE, (10, 10))))
    b.route("/ok.png", image_reply(png(GREEN, (10, 10))))
    url = a.url(THREAD)

    result = cli("archive", url)
    assert result.code == 0, result.err  # the thread is archived whatever its pictures do
    assert "Archived 'Owls at dusk': 1 comments" in result.out
    out = result.out
    assert "5 pictures (1 new), 4 picture(s) skipped" in out, out
    lines = {line.split(": ", 1)[1].split(": ", 1)[0]: line for line in out.splitlines()
             if line.startswith("picture skipped: ")}
    assert "too large" in lines[a.url("/big.png")]
    assert "not an image" in lines[a.url("/fake.jpg")]
    assert "HTTP 404" in lines[a.url("/gone.png")]
    assert "robots.txt disallows it" in lines[f"{cdn}/private/secret.png"]
    assert b.requests("/private/secret.png") == []
    table = pictures_table(data_dir)
    assert table[f"{cdn}/ok.png"] == ("ok", None)
    assert sum(state == "failed" for state, _ in table.values()) == 4

    # tried again on the next archive: the 404 is there now; the one held is not asked again
    a.route("/gone.png", image_reply(png(GREEN, (12, 12))))
    a.log.clear()
    b.log.clear()
    again = cli("archive", url)
    assert again.code == 0
    assert "5 pictures (1 new), 3 picture(s) skipped" in again.out, again.out
    assert sorted(image_paths(a)) == ["/big.png", "/fake.jpg", "/gone.png"]
    assert image_paths(b) == []  # ok.png held; secret.png still refused by robots.txt


def test_pictures_off_for_a_site_or_all(two_hosts, data_dir: Path, cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    a, _ = two_hosts
    serve_thread(a, post='<img src="/photos/owl.png" alt="an owl">', comment="")
    a.route("/photos/owl.png", image_reply(png(RED, (16, 16))))
    config = tmp_path / "archiver.toml"
    config.write_text(
        f'[[sites]]\nurl = "{a.base_url}/"\ndiscovery.feed = "{a.base_url}/atom.xml"\n'
        "pictures.enabled = false\n", encoding="utf-8")
    monkeypatch.setenv("ARCHIVER_CONFIG", str(config))
    assert cli("archive", a.url(THREAD)).code == 0
    assert image_paths(a) == []
    monkeypatch.delenv("ARCHIVER_CONFIG")
    monkeypatch.setenv("ARCHIVER_PICTURES_ENABLED", "false")
    assert cli("archive", a.url(THREAD)).code == 0
    assert image_paths(a) == []
    monkeypatch.delenv("ARCHIVER_PICTURES_ENABLED")  # the default: on
    assert "1 picture (1 new)" in cli("archive", a.url(THREAD)).out
    assert image_paths(a) == ["/photos/owl.png"]


def test_which_images_a_body_shows() -> None:
    body = ('<img src="a.png"><img src="data:image/png;base64,AAAA">'
            '<img src="https://www.gravatar.com/avatar/x"><img class="avatar" src="me.png">'
            '<img src="px.gif" width="1" height="1">'
            '<img src="s.jpg" srcset="s.jpg 1x, m.jpg 2x, l.jpg 3x">'
            '<img srcset="huge.jpg 5000w, giant.jpg 6000w">'
            '<img src="a.png#again">')
    urls = [i.url for i in body_images(body, "https://blog.example/2024/03/post.html")]
    assert urls == ["https://blog.example/2024/03/a.png", "https://blog.example/2024/03/m.jpg",
                    "https://blog.example/2024/03/huge.jpg"]
    assert len(body_images(body, "https://blog.example/", avatars=True)) == 5


def test_sniff_reads_the_bytes_not_the_name() -> None:
    kind = sniff(png(RED, (3, 2)))
    assert kind is not None and (kind.media_type, kind.width, kind.height) == ("image/png", 3, 2)
    assert sniff(b"<!DOCTYPE html><html>") is None
    assert sniff(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>') is not None
    assert sniff(png(RED, (1, 1))).pixel  # type: ignore[union-attr]


def test_thread_total_caps_the_pictures(two_hosts, data_dir: Path, cli,  # type: ignore[no-untyped-def]
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    a, _ = two_hosts
    first, second = png(RED, (40, 40)), png(BLUE, (40, 40))
    monkeypatch.setenv("ARCHIVER_PICTURES_MAX_TOTAL", str(len(first) + len(second) - 1))
    serve_thread(a, post='<img src="/one.png"><img src="/two.png">', comment="")
    a.route("/one.png", image_reply(first))
    a.route("/two.png", image_reply(second))
    result = cli("archive", a.url(THREAD))
    assert result.code == 0
    assert f"picture skipped: {a.url('/two.png')}: over the thread's picture total" in result.out
    assert pictures_table(data_dir)[a.url("/one.png")] == ("ok", None)


def test_a_public_page_leads_to_no_private_picture(data_dir: Path, cli,  # type: ignore[no-untyped-def]
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVER_PICTURES_ENABLED", "true")
    monkeypatch.setenv("ARCHIVER_FETCH_PUBLIC_NETWORKS", "127.0.0.2/32")  # stands for the web
    with FaultServer(host="127.0.0.2") as public, FaultServer() as private:
        serve_thread(public, post=f'<img src="{private.url("/router.png")}">', comment="")
        private.route("/router.png", image_reply(png(RED, (8, 8))))
        result = cli("archive", public.url(THREAD))
        assert result.code == 0, result.err
        assert f"picture skipped: {private.url('/router.png')}: refused:" in result.out
        assert private.requests() == []


SECOND = """<div class="comment" id="comment-2">
<div class="comment-content"><p>Another one:</p>{body}</div>
<p class="comment-footer">Posted by: Bo |
<a href="{a}{thread}#comment-2">Mar 7 2024 9:00 utc</a></p>
</div>"""


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_refresh_reads_only_the_bodies_changed_since(two_hosts, data_dir: Path, cli,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       request: pytest.FixtureRequest,
                                                       database: str) -> None:
    """The pictures step reads the post and the comments new or edited since its last run, not
    every body of the thread again (counted: calls of body_images); a comment stored while
    pictures were off is read by the next step that runs. On SQLite and PostgreSQL."""
    import archiver.pipeline.pictures as step

    if database == "postgresql":
        server = request.getfixturevalue("postgres")
        monkeypatch.setenv("ARCHIVER_DATABASE_URL", server.create_database("pictures_refresh"))
    a, _ = two_hosts
    read: list[str] = []

    def counted(fragment: str, base: str, *, avatars: bool = False) -> list:  # type: ignore[type-arg]
        read.append(fragment)
        return body_images(fragment, base, avatars=avatars)

    monkeypatch.setattr(step, "body_images", counted)
    for name, colour in (("post", RED), ("one", BLUE), ("two", GREEN), ("three", RED)):
        a.route(f"/{name}.png", image_reply(png(colour, (6, 6))))
    url = a.url(THREAD)

    def serve(first: str, second: str | None = None) -> None:
        page = PAGE.format(a=a.base_url, thread=THREAD, post='<img src="/post.png">',
                           comment=first)
        if second is not None:  # a second comment, after the first
            more = SECOND.format(a=a.base_url, thread=THREAD, body=second)
            page = page.replace("</div></body>", more + "</div></body>")
        a.route(THREAD, static_page(page.encode()))

    serve('<img src="/one.png">')
    assert "2 pictures (2 new)" in cli("archive", url).out
    assert len(read) == 2  # the post and the comment, the first time

    read.clear()
    second = cli("archive", url)  # nothing changed: the post alone is read
    assert "2 pictures (0 new)" in second.out, second.out
    assert len(read) == 1 and "/post.png" in read[0]

    read.clear()
    serve('<img src="/one.png"><img src="/two.png">')  # an edit adds a picture
    edited = cli("archive", url)
    assert "1 edited" in edited.out and "3 pictures (1 new)" in edited.out, edited.out
    assert len(read) == 2 and image_paths(a).count("/two.png") == 1

    monkeypatch.setenv("ARCHIVER_PICTURES_ENABLED", "false")  # a comment comes while off
    serve('<img src="/one.png"><img src="/two.png">', '<img src="/three.png">')
    assert "1 new" in cli("archive", url).out
    assert a.requests("/three.png") == []
    monkeypatch.setenv("ARCHIVER_PICTURES_ENABLED", "true")
    read.clear()
    back = cli("archive", url)
    assert "0 new, 0 edited" in back.out and "4 pictures (1 new)" in back.out, back.out
    assert len(read) == 2 and len(a.requests("/three.png")) == 1
    if database == "sqlite":
        assert pictures_table(data_dir)[a.url("/three.png")] == ("ok", None)
    else:
        assert not (data_dir / "archiver.db").exists()  # all of it went to PostgreSQL
