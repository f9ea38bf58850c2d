"""Issue 18, search: one query syntax on SQLite (FTS5) and PostgreSQL (tsvector), the same hits on
both; the index follows the store's merge (an edit or a removal seen by a refresh shows at once);
`archiver search` (lines, --json, --reindex) and its one-line errors."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from archiver.devserver import FixtureServer, serve_fixture
from archiver.errors import UsageError
from archiver.search import Hit, parse, postgres, reindex, search
from archiver.search.query import And, Or, Term
from archiver.store.db import Store
from archiver.store.models import Comment, Site, Thread
from tests.conftest import FIXTURES, ROOT, run_cli_subprocess

_names = itertools.count()


def day(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=UTC)


# --- the query language -------------------------------------------------------------------------

def test_parse_words_phrases_prefixes_fields() -> None:
    q = parse('Convoy "Abu  Kamal" pipe* author:"James Smith" site:desert')
    assert q.sites == ("desert",)
    assert q.expr == And((Term(("convoy",)), Term(("abu", "kamal")), Term(("pipe",), prefix=True),
                          Term(("james", "smith"), "author")))
    assert parse("a OR b c").expr == Or((Term(("a",)), And((Term(("b",)), Term(("c",))))))
    assert parse("(a OR b) -c").expr == And((Or((Term(("a",)), Term(("b",)))),),
                                            (Term(("c",)),))
    assert parse("well-known").expr == Term(("well", "known"))  # as the index splits it
    assert parse("a AND b").expr == parse("a b").expr
    assert parse("or and").expr == And((Term(("or",)), Term(("and",))))  # lower case: words
    assert parse("site:Harbour").expr is None
    assert parse("AUTHOR:Zoë").expr == Term(("zoë",), "author")


@pytest.mark.parametrize(("query", "message"), [
    ("", "empty"),
    ('"abu kamal', "unbalanced quote"),
    ("(a OR b", "'(' without ')'"),
    ("a)", "')' without '('"),
    ("OR a", "OR needs"),
    ("a OR", "OR needs"),
    ("a AND", "AND needs"),
    ("()", "empty parentheses"),
    ("author:", "author: needs a value"),
    ("-a", "give something to search for too"),
    ("a*", "at least 2 letters"),
    ("site:x OR a", "limits the whole query"),
    ("(site:x a)", "limits the whole query"),
    ("!!! ???", "nothing to search for"),
    ('"!!"', "no letters or digits"),
])
def test_bad_queries_are_one_usage_line(query: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)) as info:
        parse(query)
    assert "\n" not in str(info.value)


# --- one corpus, both databases -----------------------------------------------------------------

# PostgreSQL twice: "postgresql" as a superuser, who gets the rum extension (RUM indexes, best
# first in their order); "postgresql-gin" as a user who may not create it (GIN + ts_rank)
BACKENDS = ["sqlite", "postgresql", "postgresql-gin"]


def new_database(request: pytest.FixtureRequest, folder: Path, backend: str = "") -> str:
    backend = backend or request.param
    if backend == "sqlite":
        return f"sqlite:///{folder / f'search_{next(_names)}.db'}"
    server = request.getfixturevalue("postgres")
    if backend == "postgresql-gin":
        return server.create_plain_database(f"search_{next(_names)}")
    return server.create_database(f"search_{next(_names)}")


def check_path(session: Session, backend: str) -> None:
    """The PostgreSQL path under test is the one meant (RUM or not)."""
    if backend.startswith("postgresql"):
        assert postgres.has_rum(session) == (backend == "postgresql")


CORPUS = {  # label: (thread label, author, published, body)
    "h1": ("harbour", "Milo", "2024-03-02T10:07", "The convoy crossed at Abu Kamal before dawn."),
    "h2": ("harbour", "Nora", "2024-03-05T08:00",
           "Kamal Abu is not a place; the tide tables are."),
    "h3": ("harbour", "Priya Raman", "2024-04-01T12:00", "Ceasefire, ceasefire, ceasefire."),
    "h4": ("harbour", "Otto", "2024-04-10T09:30",
           "A long comment that wanders through the harbour, the weather, the boats, the gulls "
           "and the price of fish, and mentions the ceasefire & <b> once."),
    "h5": ("harbour", "Zoë", "2024-05-01T18:45",
           "Naïve café owners in Zürich: well-known pipelines."),
    "h6": ("harbour", "Ghost", "2024-05-02T00:00", "The convoy vanished overnight."),  # removed
    "d1": ("desert", "James Smith", "2024-06-01T07:00", "Convoy after convoy, the pipeline again."),
    "d2": ("desert", "smith", "2024-06-02T07:00", "Nothing to add."),
}
THREADS = {  # label: (site, url path, title, author, published, body)
    "harbour": ("harbour", "/2024/03/tide-tables.html", "Reading The Tide Tables", "b",
                "2024-03-02T10:00", "Gull mist buoy pier drift hull lantern keel quay anchor."),
    "desert": ("desert", "/2024/06/offensive.html", "The Offensive", "Moon of Alabama",
               "2024-06-01T06:00", "The offensive near Abu Kamal has begun."),
}
SITES = {"harbour": ("Harbour Notes", "http://harbour.example"),
         "desert": ("Desert Dispatch", "http://desert.example")}


@contextmanager
def stored_corpus(database: str) -> Iterator[Session]:
    store = Store(database)
    now = day("2024-07-01T00:00")
    try:
        with store.session() as session:
            sites = {}
            for label, (name, origin) in SITES.items():
                sites[label] = Site(base_url=origin + "/", origin=origin, name=name, title=name,
                                    created_at=now)
                session.add(sites[label])
            session.flush()
            threads = {}
            for label, (site, path, title, author, published, body) in THREADS.items():
                threads[label] = Thread(site_id=sites[site].id or 0, url=SITES[site][1] + path,
                                        title=title, author=author, body_text=body,
                                        published_at=day(published), first_seen_at=now)
                session.add(threads[label])
            session.flush()
            for position, (label, (thread, author, published, body)) in enumerate(
                    CORPUS.items()):
                session.add(Comment(thread_id=threads[thread].id or 0, source_id=label,
                                    position=position + 1, author_name=author, body_text=body,
                                    published_at=day(published), first_seen_at=now,
                                    changed_at=now, removed_at=now if label == "h6" else None))
            session.commit()
            yield session
    finally:
        store.close()


@pytest.fixture(scope="module", params=BACKENDS)
def corpus(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """The corpus, once per database for the tests that only read it."""
    with stored_corpus(new_database(request, tmp_path_factory.mktemp("search"))) as session:
        check_path(session, request.param)
        yield session


@pytest.fixture(params=BACKENDS)
def own_corpus(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    """The corpus in a database of the test's own (it changes it)."""
    with stored_corpus(new_database(request, tmp_path)) as session:
        check_path(session, request.param)
        yield session


def labels(hits: list[Hit]) -> list[str]:
    """Comments by their source id, posts as post:<the last word of their title>."""
    return [h.source_id or f"post:{h.thread_title.split()[-1].lower()}" for h in hits]


@pytest.mark.parametrize(("query", "expected"), [
    ("convoy", {"h1", "d1"}),  # h6 is removed
    ("CONVOY", {"h1", "d1"}),
    ('"abu kamal"', {"h1", "post:offensive"}),  # h2 says "Kamal Abu": not the phrase
    ("abu kamal", {"h1", "h2", "post:offensive"}),
    ("pipe*", {"h5", "d1"}),
    ("pipeline", {"d1"}),  # a word is a whole word: pipelines is another
    ("author:smith", {"d1", "d2"}),
    ('author:"james smith"', {"d1"}),
    ("author:jam*", {"d1"}),
    ("author:alabama", {"post:offensive"}),
    ("author:ceasefire", set()),  # author: looks in the author only
    ("milo", set()),  # ... and words in the text only
    ("site:desert convoy", {"d1"}),
    ("site:desert.example", {"d1", "d2", "post:offensive"}),  # a site alone: all of it
    ("site:harbour site:desert", set()),
    ("convoy OR ceasefire", {"h1", "d1", "h3", "h4"}),
    ("convoy -pipeline", {"h1"}),
    ("(convoy OR ceasefire) author:otto", {"h4"}),
    ("tide", {"h2", "post:tables"}),  # the post's title counts
    ('"tables gull"', set()),  # a phrase stays inside one field (title, then body)
    ("zürich", {"h5"}),
    ("ZÜRICH", {"h5"}),
    ("cafe", set()),  # diacritics are kept
    ("well-known", {"h5"}),
    ('"owners in"', {"h5"}),
])
def test_same_hits_on_both_databases(corpus: Session, query: str, expected: set[str]) -> None:
    assert set(labels(search(corpus, query))) == expected


def test_unknown_site_is_a_usage_error(corpus: Session) -> None:
    with pytest.raises(UsageError, match="no archived site is called 'nowhere'"):
        search(corpus, "site:nowhere convoy")


def test_dates_order_limit_offset(corpus: Session) -> None:
    query = "convoy OR ceasefire"
    assert labels(search(corpus, query, order="newest")) == ["d1", "h4", "h3", "h1"]
    assert labels(search(corpus, query, order="newest", limit=2, offset=1)) == ["h4", "h3"]
    assert set(labels(search(corpus, query, since=day("2024-04-01T00:00")))) == {"d1", "h4", "h3"}
    assert set(labels(search(corpus, query, until=day("2024-04-01T12:00")))) == {"h1"}
    assert labels(search(corpus, query, since=day("2024-04-01T12:00"),
                         until=day("2024-06-01T07:00"), order="newest")) == ["h4", "h3"]
    # best first: the short comment that says it three times before the long one saying it once
    assert labels(search(corpus, "ceasefire")) == ["h3", "h4"]
    hits = search(corpus, "ceasefire")
    assert hits[0].score > hits[1].score > 0


def test_removed_comments_only_when_asked(corpus: Session) -> None:
    hits = search(corpus, "convoy", include_removed=True, order="newest")
    assert labels(hits) == ["d1", "h6", "h1"]
    assert hits[1].removed_at is not None and hits[0].removed_at is None


def test_hit_fields_and_snippet(corpus: Session) -> None:
    (hit,) = [h for h in search(corpus, '"abu kamal"') if h.comment_id is not None]
    assert (hit.source_id, hit.author) == ("h1", "Milo")
    assert hit.thread_title == "Reading The Tide Tables"
    assert hit.thread_url == "http://harbour.example/2024/03/tide-tables.html"
    assert hit.published_at == day("2024-03-02T10:07")
    assert "«Abu Kamal»" in hit.snippet
    assert ("Abu Kamal", True) in hit.parts
    (post,) = [h for h in search(corpus, '"abu kamal"') if h.comment_id is None]
    assert (post.source_id, post.author) == (None, "Moon of Alabama")
    (long,) = search(corpus, "ceasefire author:otto")
    assert "<mark>ceasefire</mark>" in long.snippet_html()
    # the text escaped, the marks not
    assert "<mark>ceasefire</mark> &amp; &lt;b" in long.snippet_html()


def test_plain_snippet_when_no_word_is_searched(corpus: Session) -> None:
    (hit,) = search(corpus, "author:otto")
    assert hit.snippet.startswith("A long comment that wanders")
    assert "«" not in hit.snippet and all(not matched for _, matched in hit.parts)


def test_index_follows_updates(own_corpus: Session) -> None:
    """Triggers (SQLite) / generated columns (PostgreSQL): an UPDATE of a body or an author is
    searchable at once; a new comment too."""
    comment = own_corpus.exec(select(Comment).where(Comment.source_id == "d2")).one()
    comment.author_name = "Jane Doe"
    comment.body_text = "Marmalade on the convoy."
    own_corpus.add(comment)
    thread = own_corpus.get(Thread, comment.thread_id)
    assert thread is not None
    thread.title = "The Quince Offensive"
    own_corpus.add(thread)
    own_corpus.add(Comment(thread_id=comment.thread_id, source_id="d3", position=9,
                       author_name="New", body_text="Fresh marmalade.",
                       first_seen_at=day("2024-07-01T00:00"), changed_at=day("2024-07-01T00:00")))
    own_corpus.commit()
    assert set(labels(search(own_corpus, "marmalade"))) == {"d2", "d3"}
    assert set(labels(search(own_corpus, "author:smith"))) == {"d1"}
    assert set(labels(search(own_corpus, "author:doe"))) == {"d2"}
    assert set(labels(search(own_corpus, "nothing"))) == set()
    assert set(labels(search(own_corpus, "quince"))) == {"post:offensive"}


def test_reindex_rebuilds_a_lost_index(own_corpus: Session) -> None:
    if own_corpus.get_bind().dialect.name == "sqlite":  # the FTS5 tables emptied behind its back
        for table in ("search_comment", "search_post"):
            own_corpus.execute(text(f"INSERT INTO {table}({table}) VALUES ('delete-all')"))
        own_corpus.commit()
        assert search(own_corpus, "convoy") == []
    assert reindex(own_corpus) == len(CORPUS) + len(THREADS)
    assert set(labels(search(own_corpus, "convoy"))) == {"h1", "d1"}


# --- through the archive: a refresh's edit and removal, the CLI ---------------------------------

SYNTHETIC = FIXTURES / "typepad" / "synthetic-blog"
TIDE = "/2024/03/tide-tables.html"
COMMENT_2 = "6a00e552000000001100020000200c"
COMMENT_4 = "6a00e552000000001100040000200c"


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    served = serve_fixture(SYNTHETIC)
    yield served
    served.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def archive_db(request: pytest.FixtureRequest, data_dir: Path,
               monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").create_database(f"search_{next(_names)}")
        monkeypatch.setenv("ARCHIVER_DATABASE_URL", url)
    return request.param


def test_refresh_edit_and_removal_show_at_once(  # type: ignore[no-untyped-def]
        archive_db: str, server: FixtureServer, cli) -> None:
    url = server.url(TIDE)
    assert cli("archive", url).code == 0
    found = json.loads(cli("search", "tide", "--json").out)
    assert {h["source_id"] for h in found} == {None, COMMENT_2, COMMENT_4}
    assert cli("search", "zeppelin", "--json").out.strip() == "[]"

    page = (SYNTHETIC / "2024_03_tide-tables.html").read_text(encoding="utf-8")
    edited = page.replace("Anchor storm oar tide rope ferry net sail shell.",
                          "Anchor storm oar zeppelin rope ferry net sail shell.")
    edited, removed = re.subn(rf'<a id="c{COMMENT_4}"></a>.*?</p>\n</div>\n', "", edited,
                              flags=re.DOTALL)
    assert removed == 1 and edited != page
    server.set_page(TIDE, edited)
    result = cli("archive", url)
    assert result.code == 0 and "1 edited, 1 removed" in result.out

    found = json.loads(cli("search", "tide", "--json").out)
    assert {h["source_id"] for h in found} == {None}  # the post only
    (hit,) = json.loads(cli("search", "zeppelin", "--json").out)
    assert (hit["source_id"], hit["author"], hit["kind"]) == (COMMENT_2, "Nora", "comment")
    assert "«zeppelin»" in hit["snippet"]
    with_removed = json.loads(cli("search", "tide", "--removed", "--json").out)
    gone = [h for h in with_removed if h["source_id"] == COMMENT_4]
    assert len(gone) == 1 and gone[0]["removed_at"] is not None


def test_cli_lines_and_json(  # type: ignore[no-untyped-def]
        data_dir: Path, server: FixtureServer, cli) -> None:
    assert cli("archive", server.url(TIDE)).code == 0
    result = cli("search", "keel", "--newest", "--limit", "1")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == f"Reading The Tide Tables <{server.url(TIDE)}>"
    assert lines[1] == f"  Priya, 2024-03-02 10:28 UTC (comment {COMMENT_4})"
    assert "«Keel»" in lines[2]
    hits = json.loads(cli("search", "keel", "--json", "--since", "2024-03-02T10:22",
                          "--until", "2024-03-02").out)
    assert [h["source_id"] for h in hits] == [COMMENT_4]  # --until a day: up to its end
    assert set(hits[0]) == {"kind", "thread_id", "thread_url", "thread_title", "comment_id",
                            "source_id", "author", "published_at", "snippet", "score",
                            "removed_at"}
    assert hits[0]["published_at"] == "2024-03-02T10:28:00Z"
    assert cli("search", "zeppelin").out == "No matches.\n"
    assert cli("search", "--reindex").out == "Reindexed 5 posts and comments\n"


@pytest.mark.parametrize(("args", "message"), [
    (["search", '"abu kamal'], "unbalanced quote"),
    (["search", "a OR"], "OR needs something to search for on both sides"),
    (["search", "site:nowhere x"], "no archived site is called 'nowhere'"),
    (["search", "x", "--until", "soon"], "--until 'soon' is not a date"),
    (["search"], "give a QUERY"),
])
def test_cli_errors_are_one_line_exit_2(  # type: ignore[no-untyped-def]
        data_dir: Path, cli, args: list[str], message: str) -> None:
    Store(f"sqlite:///{data_dir / 'archiver.db'}").close()
    result = cli(*args)
    assert (result.code, result.out) == (2, "")
    assert result.err.count("\n") == 1 and message in result.err


def test_bad_query_exits_2_with_one_line_as_a_process(data_dir: Path) -> None:
    Store(f"sqlite:///{data_dir / 'archiver.db'}").close()
    result = run_cli_subprocess("search", "(convoy pipe*")
    assert result.code == 2
    assert result.err == "error: unbalanced parenthesis: '(' without ')'\n"


def test_search_without_an_archive_creates_none(data_dir: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("search", "x")
    assert result.code == 2 and "no archive at" in result.err
    assert not data_dir.exists() or not any(data_dir.iterdir())


def test_a_store_written_before_search_is_indexed_on_upgrade(tmp_path: Path) -> None:
    db = tmp_path / "release.db"
    shutil.copyfile(ROOT / "fixtures" / "store" / "release-0.1.0.db", db)
    store = Store(f"sqlite:///{db}")
    try:
        with store.session() as session:
            hits = search(session, '"abu kamal"', limit=1000)
            said = {c.id for c in session.exec(select(Comment)).all()
                    if re.search(r"\babu\W+kamal\b", c.body_text, re.IGNORECASE)}
            assert len(said) > 1
            assert {h.comment_id for h in hits if h.comment_id is not None} == said
            assert any(h.comment_id is None for h in hits)  # the post
    finally:
        store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_page_left_out_by_the_filters_is_found_further_down(
        backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """SQLite ranks the best few hundred matches in the index alone before reading their rows:
    when the filters leave out all of those (removed, or out of the dates), the hits further
    down the ranking are still found."""
    filler = " ".join(f"word{i}" for i in range(60))
    # short: ranked first; removed, or dated 2023
    tops = [(f"top{i}", "2023-01-01T00:00", "zebra zebra") for i in range(300)]
    # long: ranked last; live, dated 2024
    lows = [(f"low{i}", f"2024-0{i + 1}-01T00:00", f"{filler} zebra {filler}") for i in range(3)]
    removed = {f"top{i}" for i in range(1, 300, 2)}
    with small_store(new_database(request, tmp_path, backend), tops + lows,
                     removed=removed) as session:
        since = day("2024-01-01T00:00")
        assert sorted(labels(search(session, "zebra", since=since))) == ["low0", "low1", "low2"]
        assert len(search(session, "zebra", limit=200)) == 153
        assert len(search(session, "zebra", limit=5, offset=150)) == 3


# --- PostgreSQL's two best-first paths: RUM's index order, GIN + ts_rank ------------------------

@contextmanager
def small_store(database: str, comments: list[tuple[str, str, str]],
                post: str = "Nothing here.", removed: Collection[str] = ()) -> Iterator[Session]:
    """One site, one thread (its body: post), its comments as (source id, published, body);
    those of removed flagged removed."""
    store = Store(database)
    now = day("2024-07-01T00:00")
    try:
        with store.session() as session:
            site = Site(base_url="http://q.example/", origin="http://q.example", name="Q",
                        created_at=now)
            session.add(site)
            session.flush()
            thread = Thread(site_id=site.id or 0, url="http://q.example/t", title="Quay notes",
                            body_text=post, published_at=day("2024-01-01T00:00"),
                            first_seen_at=now)
            session.add(thread)
            session.flush()
            for position, (source_id, published, body) in enumerate(comments):
                session.add(Comment(thread_id=thread.id or 0, source_id=source_id,
                                    position=position, author_name="A", body_text=body,
                                    published_at=day(published), first_seen_at=now,
                                    changed_at=now,
                                    removed_at=now if source_id in removed else None))
            session.commit()
            yield session
    finally:
        store.close()


def test_rum_and_ts_rank_agree_where_ranks_are_clear(
        request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Where a few comments clearly match best (the words several times in a short text, side
    by side) and many weakly (once each, far apart in a long text), the RUM path's top hits are
    those of ts_rank's."""
    filler = " ".join(f"word{i}" for i in range(80))
    clear = [(f"clear{i}", f"2024-02-0{i + 1}T00:00",
              "Lantern harbour, lantern harbour; the lantern harbour again.") for i in range(4)]
    weak = [(f"weak{i}", f"2024-03-{i + 1:02d}T00:00", f"Harbour {filler} lantern {filler}")
            for i in range(30)]
    tops: dict[str, dict[str, list[str]]] = {}
    for backend in ("postgresql", "postgresql-gin"):
        # the weak ones first: stored before, they come first in the index among equals
        with small_store(new_database(request, tmp_path, backend), weak + clear) as session:
            check_path(session, backend)
            tops[backend] = {}
            for query in ("lantern", "harbour lantern", "lantern OR harbour", "lant*"):
                hits = search(session, query, limit=4)
                assert hits[0].score > search(session, query, limit=40)[-1].score > 0
                tops[backend][query] = sorted(labels(hits))
    expected = [f"clear{i}" for i in range(4)]
    assert tops["postgresql"] == tops["postgresql-gin"]
    assert all(top == expected for top in tops["postgresql"].values())


@pytest.mark.parametrize("backend", BACKENDS)
def test_best_first_pages_follow_on(
        backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Page after page of an equally-ranked crowd (RUM gives every comment saying a word once
    the same score) shows each hit once: page n+1 starts where page n ended."""
    comments = [(f"c{i:02d}", f"2024-0{1 + i % 9}-{1 + i // 9:02d}T00:00",
                 f"The kite number {i} flew.") for i in range(27)]
    with small_store(new_database(request, tmp_path, backend), comments,
                     post="A kite and a kite.") as session:
        check_path(session, backend)
        whole = labels(search(session, "kite", limit=100))
        assert len(whole) == 28 and len(set(whole)) == 28
        pages = [labels(search(session, "kite", limit=4, offset=start))
                 for start in range(0, 28, 4)]
        assert [label for page in pages for label in page] == whole


def test_reindex_makes_the_rum_indexes_once_the_extension_is_there(
        request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """A store made without the extension (its user may not create it) searches with ts_rank;
    once an administrator creates it, `--reindex` makes the RUM indexes and search uses them."""
    url = new_database(request, tmp_path, "postgresql-gin")
    comments = [("a", "2024-02-01T00:00", "Buoy buoy buoy."),
                ("b", "2024-02-02T00:00", "A buoy, once, in a longer sentence than the other.")]
    with small_store(url, comments) as session:
        check_path(session, "postgresql-gin")
        before = labels(search(session, "buoy"))
        server = request.getfixturevalue("postgres")
        import psycopg

        database = url.rsplit("/", 1)[1]
        with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres"
                             f" dbname={database}", autocommit=True) as admin:
            admin.execute("CREATE EXTENSION rum")
        assert not postgres.has_rum(session)  # remembered for the store until reindexed
        assert reindex(session) == 3
        check_path(session, "postgresql")
        assert labels(search(session, "buoy")) == before == ["a", "b"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_prefix_snippets_of_a_page_among_many_matches(
        backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """A prefix query's page of snippets (on SQLite read in one walk of the page's rowid range,
    not one lookup a row): each hit's own words marked, whichever the prefix matched, and rows
    of the range that match but are not on the page not shown."""
    comments = [(f"c{i:02d}", f"2024-0{1 + i % 9}-{1 + i // 9:02d}T00:00",
                 f"Number {i} says {'harbinger' if i % 2 else 'harbourmaster'} once.")
                for i in range(30)]
    with small_store(new_database(request, tmp_path, backend), comments) as session:
        check_path(session, backend)
        hits = search(session, "harb*", order="newest", limit=5, offset=3)
        assert len(hits) == 5
        for hit in hits:
            number = int((hit.source_id or "c-1")[1:])
            word = "Harbinger" if number % 2 else "Harbourmaster"
            assert (word.lower(), True) in [(text.lower(), marked) for text, marked in hit.parts]
            assert f"Number {number} says" in hit.snippet
        rest = search(session, "harb* -harbinger", limit=20)
        assert {h.source_id for h in rest} == {f"c{i:02d}" for i in range(0, 30, 2)}
        assert all("«harbourmaster»" in h.snippet for h in rest)
