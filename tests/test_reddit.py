"""Issue 15, Reddit: without OAuth credentials one line and exit 2; with the recorded ones the
whole tree (collapsed branches, "continue this thread") is read from 127.0.0.1 at Reddit's API
paths; the token is never in the store or an export; the callbacks read every schema the
recordings hold."""

from __future__ import annotations

import base64
import gzip
import json
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator

from archiver.adapters import adapter_for_url, reddit
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import Request, Response
from archiver.config import load_settings
from archiver.devserver import FixtureServer, Route, serve_fixture
from archiver.errors import ParseError
from archiver.fetch import Fetcher, FetchSettings
from archiver.fetch.oauth import REDACTED, reddit_app
from tests.conftest import FIXTURES

CASE = FIXTURES / "reddit" / "funny-3hahrw-full-2016"
ABLZUQ = FIXTURES / "reddit" / "askreddit-ablzuq-2020-callbacks"  # not served: callbacks only
POST_URL = "https://www.reddit.com/r/funny/comments/3hahrw/ba_dum_tsss/"
CLIENT_ID, SECRET = "recorded-client-id", "recorded-client-secret"
TOKEN = "<ACCESS_TOKEN>"  # what the recorded token answer holds (PRAW's placeholder)
EXPECTED = json.loads((CASE / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FixtureServer]:
    """The case served for oauth.reddit.com and www.reddit.com (the token endpoint)."""
    server = serve_fixture(CASE)
    pairs = f"https://oauth.reddit.com={server.base_url} https://www.reddit.com={server.base_url}"
    monkeypatch.setenv("ARCHIVER_FETCH_ORIGIN_MAP", pairs)
    yield server
    server.stop()


def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVER_REDDIT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("ARCHIVER_REDDIT_CLIENT_SECRET", SECRET)


def test_without_credentials_one_line_and_exit_2(api: FixtureServer, data_dir: Path, cli,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCHIVER_REDDIT_CLIENT_ID", raising=False)
    monkeypatch.delenv("ARCHIVER_REDDIT_CLIENT_SECRET", raising=False)
    result = cli("archive", POST_URL)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "[reddit]" in lines[0] and "ARCHIVER_REDDIT_CLIENT_ID" in lines[0]
    assert "client_secret" in lines[0] and "Traceback" not in result.err
    assert api.requests == []  # nothing was asked of the API (nor of its robots.txt)


def test_with_credentials_the_tree_is_complete_and_no_token_is_kept(
    api: FixtureServer, data_dir: Path, cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    credentials(monkeypatch)
    result = cli("archive", POST_URL)
    assert result.code == 0, result.err
    # one token request: a POSTed client_credentials form, the app's id and secret as basic auth
    posts = [(path, headers) for method, path, headers in api.requests if method == "POST"]
    assert [path for path, _ in posts] == ["/api/v1/access_token"]
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert posts[0][1]["Authorization"] == f"Basic {basic}"
    assert api.forms == [("/api/v1/access_token", b"grant_type=client_credentials")]
    # every API request carried the bearer token
    gets = [(path, headers) for method, path, headers in api.requests
            if method == "GET" and path != "/robots.txt"]
    assert len(gets) == 1 + 12 + 6  # the tree, 12 collapsed branches, 6 subtrees
    assert all(h.get("Authorization") == f"bearer {TOKEN}" for _, h in gets)
    assert sum("/api/morechildren?" in p for p, _ in gets) == 12

    exported = cli("export", "jsonl", POST_URL, "-o", "-")
    thread = json.loads(exported.out)
    assert thread["comment_count"] == EXPECTED["comment_count"] == 541
    assert [c["source_id"] for c in thread["comments"]] == \
        [c["source_id"] for c in EXPECTED["comments"]]

    # the store: captures' request headers redacted, neither token nor secret anywhere
    db = data_dir / "archiver.db"
    with sqlite3.connect(db) as conn:
        stored = [json.loads(h) for (h,) in conn.execute("select request_headers from capture")]
    auth = [v for headers in stored for k, v in headers if k.lower() == "authorization"]
    assert len(auth) == len(gets) and set(auth) == {REDACTED}
    raw_db = db.read_bytes()
    assert TOKEN.encode() not in raw_db and SECRET.encode() not in raw_db
    assert basic.encode() not in raw_db

    # the exports
    out = tmp_path / "out"
    for kind, target in (("warc", out / "t.warc.gz"), ("wacz", out / "t.wacz"),
                         ("text", out / "t.txt"), ("jsonl", out / "t.jsonl")):
        made = cli("export", kind, POST_URL, "-o", str(target))
        assert made.code == 0, made.err
    assert cli("export", "html", POST_URL, "--out", str(out / "mirror")).code == 0
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) >= 5
    for path in files:
        for blob in readable(path):
            assert TOKEN.encode() not in blob and SECRET.encode() not in blob, path
    # the WARC's request records say [redacted], and its warcinfo says why
    with (out / "t.warc.gz").open("rb") as stream:
        records = list(ArchiveIterator(stream))
    requests = [r for r in records if r.rec_type == "request"
                and "/robots.txt" not in r.rec_headers.get_header("WARC-Target-URI")]
    assert requests and all(
        r.http_headers.get_header("Authorization") == REDACTED for r in requests)
    info = [r for r in records if r.rec_type == "warcinfo"]
    assert info


def readable(path: Path) -> Iterator[bytes]:
    """A file's bytes as a reader would see them: gzip members and zip entries opened."""
    data = path.read_bytes()
    if path.suffix == ".wacz":
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                inner = archive.read(name)
                yield gzip.decompress(inner) if name.endswith(".gz") else inner
        return
    yield gzip.decompress(data) if path.suffix == ".gz" else data


def test_warcinfo_says_credentials_are_redacted(api: FixtureServer, data_dir: Path, cli,
                                                monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    credentials(monkeypatch)
    assert cli("archive", POST_URL).code == 0
    target = tmp_path / "t.warc.gz"
    assert cli("export", "warc", POST_URL, "-o", str(target)).code == 0
    with target.open("rb") as stream:
        info = next(r for r in ArchiveIterator(stream) if r.rec_type == "warcinfo")
        text = info.content_stream().read().decode()
    assert "redacted:" in text and "authorization" in text and REDACTED in text


# -- the callbacks, on the recorded answers ------------------------------------------------


def answer(path: Path, url: str = "https://oauth.reddit.com/x") -> Response:
    body = path.read_bytes()
    return Response(url=url, status=200, headers=(("Content-Type", "application/json"),),
                    content=body, text=body.decode("utf-8"))


def test_the_tree_answer_2016_schema() -> None:
    found = list(reddit.read_tree("3hahrw", None, answer(CASE / "comments_3hahrw_full.json")))
    thread = next(f for f in found if isinstance(f, ParsedThread))
    assert thread.url == POST_URL and thread.title == "Ba Dum Tsss"
    comments = [f for f in found if isinstance(f, ParsedComment)]
    requests = [f for f in found if isinstance(f, Request)]
    assert len(comments) == 476  # SOURCE.txt: 476 t1 comments, depth 0..9
    assert max(c.depth for c in comments) == 9 and comments[0].depth == 0
    by_id = {c.source_id: c for c in comments}
    for c in comments:  # a reply sits one level under its parent
        if c.parent_source_id in by_id:
            assert c.depth == by_id[c.parent_source_id].depth + 1
        else:
            assert c.parent_source_id is None and c.depth == 0
    subtrees = [r.url for r in requests if "/_/" in r.url]
    assert len(subtrees) == 6 and len(requests) == 12 + 6
    assert next(f for f in found if isinstance(f, PageFacts)).comments_closed  # archived


def test_a_morechildren_answer_is_nested_by_parent_id() -> None:
    # 2020 schema: the answer states each thing's depth; ours, from parent_id, must agree
    path = ABLZUQ / "morechildren_1.json"
    found = list(reddit.read_more("ablzuq", 0, False, answer(path)))
    comments = [f for f in found if isinstance(f, ParsedComment)]
    assert len(comments) == 100
    things = json.loads(path.read_text(encoding="utf-8"))["json"]["data"]["things"]
    stated = {t["data"]["id"]: t["data"]["depth"] for t in things if t["kind"] == "t1"}
    assert {c.source_id: c.depth for c in comments} == stated
    more = [f for f in found if isinstance(f, Request)]
    ids = [i for t in things if t["kind"] == "more" for i in t["data"]["children"]]
    asked = [i for r in more if "morechildren" in r.url
             for i in parse_qs(urlsplit(r.url).query)["children"][0].split(",")]
    assert asked == ids  # every collapsed id asked for, in batches of at most 100
    assert all(len(parse_qs(urlsplit(r.url).query)["children"][0].split(",")) <= reddit.BATCH
               for r in more if "morechildren" in r.url)
    assert sum("/_/" in r.url for r in more) == 1  # its one "continue this thread" stub


def test_a_subtree_answer_reads_below_its_comment() -> None:
    found = list(reddit.read_tree("3hahrw", 9, answer(CASE / "continue_thread_cu5uyz1.json")))
    comments = [f for f in found if isinstance(f, ParsedComment)]
    assert [c.source_id for c in comments] != [] and all(c.depth >= 10 for c in comments)
    assert "cu5uyz1" not in {c.source_id for c in comments}  # read already, not again
    assert comments[0].parent_source_id == "cu5uyz1" and comments[0].depth == 10


@pytest.mark.parametrize("url", [
    POST_URL, "https://old.reddit.com/r/funny/comments/3hahrw/ba_dum_tsss/?context=3",
    "https://reddit.com/comments/3hahrw", "https://redd.it/3hahrw", "http://www.redd.it/3HAHRW/",
])
def test_post_urls(url: str) -> None:
    assert adapter_for_url(url) is reddit
    assert reddit.start(url).url == reddit.tree_url("3hahrw")


def test_not_a_post_url() -> None:
    assert adapter_for_url("https://www.reddit.com/r/funny/") is None


# -- credentials and budget ----------------------------------------------------------------


def test_credentials_from_the_config_and_the_budget(tmp_path: Path) -> None:
    config = tmp_path / "archiver.toml"
    config.write_text('[reddit]\nclient_id = "abc"\nclient_secret = "s3cret"\n'
                      "[fetch]\ndelay = 0\n")
    settings = load_settings(config, env={})
    (app,) = settings.fetch.oauth_apps
    assert (app.client_id, app.client_secret, app.configured) == ("abc", "s3cret", True)
    assert "s3cret" not in repr(settings.fetch)
    # 100 requests a minute per client id, whatever the default delay
    assert settings.fetch.delay_for("oauth.reddit.com") == pytest.approx(0.6)
    env = load_settings(None, env={"ARCHIVER_REDDIT_CLIENT_ID": "x",
                                   "ARCHIVER_REDDIT_CLIENT_SECRET": "y"})
    assert env.fetch.oauth_apps[0].configured


def token_server() -> FixtureServer:
    token = json.dumps({"access_token": "T1", "token_type": "bearer", "expires_in": 3600})
    return FixtureServer({
        "/api/v1/access_token": Route(body=token.encode(), content_type="application/json"),
        "/comments/abc": Route(body=b"[]", content_type="application/json"),
    }).start()


def fetcher_for(server: FixtureServer, clock: list[float]) -> Fetcher:
    mapping = (f"https://oauth.reddit.com={server.base_url} "
               f"https://www.reddit.com={server.base_url}")
    return Fetcher(FetchSettings(delay=0, origin_map=mapping, clock=lambda: clock[0],
                                 oauth_apps=(reddit_app("id", "secret"),)))


def test_the_token_is_asked_once_and_again_when_it_expires() -> None:
    server, clock = token_server(), [0.0]
    try:
        with fetcher_for(server, clock) as fetcher:
            for _ in range(3):
                assert fetcher.fetch("https://oauth.reddit.com/comments/abc").status == 200
            assert fetcher.oauth.tokens_fetched == 1
            clock[0] += 3600.0  # an hour later the token has expired
            fetcher.fetch("https://oauth.reddit.com/comments/abc?again")
            assert fetcher.oauth.tokens_fetched == 2
    finally:
        server.stop()


def test_a_refused_token_is_renewed_once() -> None:
    server, clock = token_server(), [0.0]
    server.set_page("/comments/abc", b"{}", status=401, content_type="application/json")
    try:
        with fetcher_for(server, clock) as fetcher:
            result = fetcher.fetch("https://oauth.reddit.com/comments/abc")
            assert result.status == 401 and fetcher.oauth.tokens_fetched == 2
    finally:
        server.stop()
    asked = [p for m, p, _ in server.requests if p.startswith("/comments/")]
    assert len(asked) == 2  # once with each token, then the 401 stands


def test_the_token_does_not_follow_a_redirect_to_another_host() -> None:
    other = FixtureServer({"/x": Route(body=b"[]", content_type="application/json")}).start()
    server, clock = token_server(), [0.0]
    server.set_page("/comments/abc", b"", status=302, headers={"Location": other.url("/x")})
    try:
        with fetcher_for(server, clock) as fetcher:
            assert fetcher.fetch("https://oauth.reddit.com/comments/abc").status == 200
    finally:
        server.stop()
        other.stop()
    first = next(h for m, p, h in server.requests if p == "/comments/abc")
    assert first["Authorization"] == "bearer T1"
    (hop,) = [h for m, p, h in other.requests if p == "/x"]
    assert "Authorization" not in hop


# -- any JSON: a parse error or a reading, never another exception -------------------------

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(
    max_size=8) | st.sampled_from(["t1", "t3", "more", "Listing", "t1_a", "_", "id", ""])
_KEYS = st.sampled_from(["kind", "data", "children", "id", "parent_id", "replies", "author",
                         "created_utc", "body_html", "permalink", "json", "things", "title"])
JSONISH = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    _KEYS, inner, max_size=6), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(value=JSONISH, depth=st.integers(0, 12))
def test_any_json_reads_or_is_a_parse_error(value: object, depth: int) -> None:
    text = json.dumps(value)
    for read in (partial_tree(None), partial_tree(depth), lambda r: reddit.read_more("x", depth,
                                                                                      False, r)):
        try:
            found = list(read(Response(url="https://oauth.reddit.com/comments/x", status=200,
                                       headers=(), content=b"", text=text)))
        except ParseError as exc:
            assert str(exc)
            continue
        for item in found:
            if isinstance(item, ParsedComment):
                assert isinstance(item.source_id, str) and item.depth >= 0
                assert isinstance(item.body_html, str) and isinstance(item.author_name, str)


def partial_tree(depth: int | None):  # type: ignore[no-untyped-def]
    return lambda response: reddit.read_tree("x", depth, response)
