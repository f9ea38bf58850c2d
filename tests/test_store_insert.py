"""New comments go into the store as multi-row INSERTs (repo.insert_comments; on SQLite sent as
they are, each value through its column type's own bind processor): what they store must be
what SQLAlchemy stores, so that SQL comparisons, ORM reads and the search index agree with rows
written any other way. On a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlmodel import col, select

from archiver.adapters.base import ParsedComment, ParsedThread
from archiver.adapters.render import html_to_text
from archiver.store import repo
from archiver.store.db import Store
from archiver.store.models import Comment
from tests.pgserver import PostgresServer

URL = "https://blog.example/2024/03/tides.html"
NOW = datetime(2024, 3, 2, 8, 30, 15, 123456, tzinfo=UTC)
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
COUNT = 3000  # more than one statement's worth of rows (SQLite's bound-parameter limit)


def _comments() -> list[ParsedComment]:
    return [
        ParsedComment(
            source_id=f"c{i}", body_html=f"<p>Comment {i} about the tide{'s' * (i % 2)}.</p>",
            body_text=html_to_text(f"<p>Comment {i} about the tide{'s' * (i % 2)}.</p>"),
            author_name=f"Author {i % 7}", author_url=None if i % 3 else f"https://a.example/{i}",
            published_text=f"1 March 2024 {i}", number=i + 1,
            published_at=None if i % 5 == 0 else T0 + timedelta(minutes=i),
            parent_source_id=f"c{i - 1}" if i % 4 == 1 else None, depth=1 if i % 4 == 1 else 0,
        )
        for i in range(COUNT)
    ]


def _archive(store: Store) -> int:
    parsed = ParsedThread(url=URL, title="Tides", body_html="<p>Post.</p>", body_text="Post.",
                          author="Ann", published_text="1 March 2024", published_at=T0)
    with store.session() as session:
        site = repo.get_or_create_site(session, URL, "typepad", parsed)
        thread = repo.upsert_thread(session, site, parsed, NOW)
        merge = repo.MergeResult()
        existing = repo.existing_comments(session, thread.id or 0)
        repo.merge_page(session, thread, existing, URL, _comments(), merge, NOW)
        repo.settle_comments(session, thread, existing, merge, NOW, complete=True)
        session.commit()
        assert merge.new == COUNT
        return thread.id or 0


def _check(store: Store, thread_id: int) -> None:
    expected = {c.source_id: c for c in _comments()}
    with store.session() as session:
        stored = session.exec(select(Comment).where(Comment.thread_id == thread_id)
                              .order_by(col(Comment.position))).all()
        assert [c.source_id for c in stored] == [f"c{i}" for i in range(COUNT)]
        for comment in stored:
            want = expected[comment.source_id]
            assert (comment.published_at, comment.author_url, comment.parent_source_id,
                    comment.depth, comment.number, comment.body_text) == (
                want.published_at, want.author_url, want.parent_source_id, want.depth,
                want.number, want.body_text)
            assert comment.first_seen_at == NOW and comment.changed_at == NOW
            assert comment.removed_at is None and comment.version == 1
        # SQL comparisons with bound datetimes see the stored values as SQLAlchemy writes them
        since = session.exec(select(Comment.id).where(
            Comment.thread_id == thread_id, col(Comment.changed_at) >= NOW)).all()
        assert len(since) == COUNT
        dated = session.exec(select(Comment.id).where(
            Comment.thread_id == thread_id, col(Comment.published_at) > T0)).all()
        assert len(dated) == sum(1 for c in expected.values()
                                 if c.published_at is not None and c.published_at > T0)


def test_inserted_comments_read_back_as_written_on_sqlite(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'archiver.db'}")
    try:
        thread_id = _archive(store)
        _check(store, thread_id)
        with store.engine.connect() as conn:
            # the same instant stored by the ORM's path (the thread) and by the insert: one text
            thread_seen = conn.execute(text("select first_seen_at from thread")).scalar()
            seen = conn.execute(text("select distinct first_seen_at from comment")).scalars()
            assert list(seen) == [thread_seen]
            found = conn.execute(text(
                "select count(*) from search_comment where search_comment match 'tides'"
            )).scalar()
            assert found == COUNT // 2
    finally:
        store.close()


def test_inserted_comments_read_back_as_written_on_postgres(postgres: PostgresServer) -> None:
    store = Store(postgres.create_database("archiver_insert"))
    try:
        thread_id = _archive(store)
        _check(store, thread_id)
        with store.engine.connect() as conn:
            found = conn.execute(text(
                "select count(*) from comment where search_vector @@ to_tsquery('simple', 'tides')"
            )).scalar()
            assert found == COUNT // 2
    finally:
        store.close()


def _insert_ignore_case(store: Store) -> None:
    """insert_ignore: the columns left out take their defaults; a second row with the same key
    changes nothing (not even the columns it gives); a date reads back as the same instant."""
    from archiver.store.models import Site, UrlState

    with store.session() as session:
        repo.insert_ignore(session, Site, dict(base_url="https://b.example/", origin="https://b"
                                               ".example", created_at=NOW), "base_url")
        repo.insert_ignore(session, Site, dict(base_url="https://b.example/", origin="other",
                                               name="again", created_at=T0), "base_url")
        repo.insert_ignore(session, UrlState, dict(url=URL, failures=0,
                                                   page_comments=[["c1", "ab"]]), "url")
        repo.insert_ignore(session, UrlState, dict(url=URL, failures=3), "url")
        session.commit()
        (site,) = session.exec(select(Site)).all()
        assert (site.origin, site.name, site.title, site.tagline, site.platform) == (
            "https://b.example", "", "", "", "")
        assert site.created_at == NOW
        (state,) = session.exec(select(UrlState)).all()
        assert (state.failures, state.page_comments, state.etag) == (0, [["c1", "ab"]], None)


def test_insert_ignore_on_sqlite(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'archiver.db'}")
    try:
        _insert_ignore_case(store)
    finally:
        store.close()


def test_insert_ignore_on_postgres(postgres: PostgresServer) -> None:
    store = Store(postgres.create_database("archiver_insert_ignore"))
    try:
        _insert_ignore_case(store)
    finally:
        store.close()
