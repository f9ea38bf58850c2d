"""Store benchmark (issue 6, item 4): upsert 100,000 comments, comments per second.

100,000 comments = 20 threads of 5,000, merged the way the pipeline merges them
(``repo.existing_comments`` once per thread, then ``repo.merge_page`` and a commit per page of
100). Two passes: all new (inserts), then the same comments again (all unchanged). Each run is a
child process on a fresh database; figures are medians.

SQLite always. PostgreSQL when one is reachable: ``ARCHIVER_BENCH_POSTGRES`` (a libpq conninfo
of a server where the bench may create and drop databases named ``archiver_bench_*``), or
``--start-postgres`` to start a throwaway server (initdb + pg_ctl, as the tests do).

    python bench/store_bench.py [--quick] [--start-postgres] [--json out.json]
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import ROOT, Row, arg_parser, finish, fmt_rate, python_child, verdict

THREADS, PER_THREAD, PER_PAGE = 20, 5000, 100
TOTAL = THREADS * PER_THREAD
SQLITE_TARGET = 20_000  # comments/s


# --- the child: one run on one database --------------------------------------------------------

def child(database_url: str, out: Path) -> None:
    from datetime import UTC, datetime

    from gen_thread import generate_comments
    from sqlalchemy import func
    from sqlmodel import select

    from archiver.adapters.base import ParsedComment, ParsedThread
    from archiver.adapters.dates import parse_date
    from archiver.adapters.render import html_to_text
    from archiver.store import repo
    from archiver.store.db import Store
    from archiver.store.models import Comment, CommentVersion

    base = "https://www.moonofalabama.org/2018/06/store-bench"
    comments = [
        ParsedComment(
            source_id=c.source_id, body_html=c.body_html, body_text=html_to_text(c.body_html),
            author_name=c.author_name, author_url=c.author_url, published_text=c.published_text,
            published_at=parse_date(c.published_text), number=c.number,
            permalink=f"{base}.html?cid={c.source_id}#comment-{c.source_id}",
        )
        for c in generate_comments(PER_THREAD, seed=2)
    ]
    store = Store(database_url)
    now = datetime.now(UTC)
    with store.session() as session:
        post = ParsedThread(url=f"{base}-0.html", title="Store bench", body_html="<p>post</p>",
                            body_text="post", site_name="Moon of Alabama")
        site = repo.get_or_create_site(session, post.url, "typepad", post)
        threads = []
        for k in range(THREADS):
            post.url = f"{base}-{k}.html"
            threads.append(repo.upsert_thread(session, site, post, now))
        session.commit()

    def one_pass() -> float:
        started = time.perf_counter()
        with store.session() as session:
            for thread in threads:
                existing = repo.existing_comments(session, thread.id or 0)
                merge = repo.MergeResult()
                for start in range(0, PER_THREAD, PER_PAGE):
                    page_url = f"{thread.url}#page-{start // PER_PAGE + 1}"
                    repo.merge_page(session, thread, existing, page_url,
                                    comments[start:start + PER_PAGE], merge, now)
                    session.commit()
        return time.perf_counter() - started

    insert_s = one_pass()
    unchanged_s = one_pass()
    with store.session() as session:
        stored = session.exec(select(func.count()).select_from(Comment)).one()
        versions = session.exec(select(func.count()).select_from(CommentVersion)).one()
    store.close()
    if stored != TOTAL or versions != 0:
        raise SystemExit(f"store holds {stored} comments and {versions} versions; "
                         f"expected {TOTAL} and 0")
    out.write_text(json.dumps({"insert_s": insert_s, "unchanged_s": unchanged_s}))


# --- the parent ------------------------------------------------------------------------------

class _Postgres:
    """Databases for the runs: on a given server, or on a throwaway one started here."""

    def __init__(self, conninfo: str | None, start: bool) -> None:
        self.server = None
        self.conninfo = conninfo
        self.created: list[str] = []
        if conninfo is None and start:
            sys.path.insert(0, str(ROOT))
            from tests.pgserver import PostgresServer

            self.server = PostgresServer().start()
            self.conninfo = f"host=127.0.0.1 port={self.server.port} user=postgres"

    @property
    def available(self) -> bool:
        return self.conninfo is not None

    def create(self, name: str) -> str:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        with psycopg.connect(self.conninfo, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        info = conninfo_to_dict(self.conninfo)
        user = info.get("user", "postgres")
        password = f":{info['password']}" if info.get("password") else ""
        host, port = info.get("host", "127.0.0.1"), info.get("port", "5432")
        return f"postgresql+psycopg://{user}{password}@{host}:{port}/{name}"

    def close(self) -> None:
        if self.conninfo is not None and self.server is None:
            import psycopg

            with psycopg.connect(self.conninfo, dbname="postgres", autocommit=True) as conn:
                for name in self.created:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if self.server is not None:
            self.server.stop()


def _runs(
    make_url: Callable[[int], str], rounds: int, work: Path
) -> tuple[list[dict], list[float]]:
    results, peaks = [], []
    for index in range(rounds):
        out = work / f"result-{index}.json"
        run = python_child([__file__, "--child", make_url(index), "--out", str(out)])
        results.append(json.loads(out.read_text()))
        peaks.append(run.peak_rss_mb)
    return results, peaks


def _rows(backend: str, results: list[dict], peaks: list[float], target: int | None) -> list[Row]:
    rounds = len(results)
    insert = statistics.median(TOTAL / r["insert_s"] for r in results)
    unchanged = statistics.median(TOTAL / r["unchanged_s"] for r in results)
    case = f"{backend}: {TOTAL:,} comments ({THREADS} threads x {PER_THREAD:,})"
    goal = f">= {target:,}" if target else ""
    note = f"median of {rounds}; child peak RSS {statistics.median(peaks):.0f} MB"
    return [
        Row("store", case, "upsert, all new: comments/s", fmt_rate(insert), goal,
            verdict(insert >= target) if target else "", note),
        Row("store", case, "upsert, all unchanged: comments/s", fmt_rate(unchanged), goal,
            verdict(unchanged >= target) if target else ""),
    ]


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--child"]:
        child(argv[1], Path(argv[3]))
        return 0
    parser = arg_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--start-postgres", action="store_true",
                        help="start a throwaway PostgreSQL server if none is configured")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else 3
    work = Path(tempfile.mkdtemp(prefix="archiver-bench-store-"))
    rows: list[Row] = []
    try:
        results, peaks = _runs(lambda i: f"sqlite:///{work / f'sqlite-{i}' / 'store.db'}",
                               rounds, work)
        rows += _rows("SQLite", results, peaks, SQLITE_TARGET)
        pg = None
        try:
            pg = _Postgres(os.environ.get("ARCHIVER_BENCH_POSTGRES"), args.start_postgres)
        except Exception as exc:  # noqa: BLE001 - reported in the table
            rows.append(Row("store", "PostgreSQL", "upsert", "not run", note=f"{exc}"))
        if pg is not None and pg.available:
            try:
                results, peaks = _runs(lambda i: pg.create(f"archiver_bench_{i}"), rounds, work)
                rows += _rows("PostgreSQL", results, peaks, None)
            finally:
                pg.close()
        elif pg is not None:
            rows.append(Row("store", "PostgreSQL", "upsert", "not run",
                            note="no server: set ARCHIVER_BENCH_POSTGRES or pass --start-postgres"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return finish(rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
