"""Search benchmark (issue 18, item 4): query time over 1,000,000 comments on SQLite (FTS5) and
PostgreSQL (tsvector + GIN): p50 and p95 of archiver.search.search() (the real code: parse, match,
rank, page of 20, snippets), index build time and index size.

The comments are synthetic, with realistic text: bench/gen_thread.py's sentences (the blog's
real-sounding English and foreign lines, each in ~3% of comments: "topical" words) mixed with
sentences drawn from a Zipf-distributed vocabulary (150 English function words first, then
gen_thread's words, then 120,000 pronounceable made-up words: a long tail of names and rare
words as real text has); 20,000 authors (Zipf); 2,000 threads of 500 comments on 20 sites;
dates over 2010-2026. Queries: single words across the frequency range, topical words, two
words, phrases cut from stored comments, prefixes, author:NAME, and common function words (the
worst case: nearly every comment matches). Each is timed in both orders (best, newest), after a
warm-up pass; the table gives p50/p95 over all queries and per kind.

Build: SQLite: the comments are loaded with the FTS5 triggers off, then the index is built by
FTS5's 'rebuild' and 'optimize' (what `archiver search --reindex` runs); PostgreSQL: loaded with
COPY (the date index ix_comment_search_date kept up by it, its cost in the load time), then the
migration's work timed: the generated tsvector column added, the GIN index made; where the server
has the rum extension, the RUM indexes of migration 0009 (timed apart), and best first is timed
twice: in the RUM index's order (what search does) and with ts_rank over every match (as without
the extension).

    python bench/search_bench.py [--comments N] [--queries Q] [--start-postgres] [--json out.json]
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, Row, arg_parser, finish, verdict

PER_THREAD = 500
SITES = 20
AUTHORS = 20_000
TAIL_WORDS = 120_000
TARGET_MS = 100.0  # p95
SEED = 18

FUNCTION_WORDS = (
    "the of and to a in is that it for was on are as with be this have not they at but by from "
    "or i you he his we an all there their which one so if what about has been would more will "
    "when who no can up out them than were some into had its my do said just like only other "
    "also then our because any how even could these most now over such after very should where "
    "those much many before well why through both same here still back must while each did "
    "does never again too since without whether against between under around however though "
    "yet already always every another few less least own rather once twice soon often perhaps "
    "really quite almost enough across along among toward upon within"
).split()


# --- the text ----------------------------------------------------------------------------------

def _pseudo_words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    onsets = "b c d f g h j k l m n p r s t v w z br ch cr dr gr kh pl sh st th tr".split()
    vowels = "a e i o u ai ea ie ou".split()
    codas = ["", "", "", "n", "r", "l", "s", "m", "k", "nd", "st"]
    words: list[str] = []
    while len(words) < count:
        syllables = rng.choice((2, 2, 3, 3, 3, 4))
        word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(syllables))
        word += rng.choice(codas)
        if word not in taken:
            taken.add(word)
            words.append(word)
    return words


class Corpus:
    """The vocabulary, authors and sentence material, all from one seed."""

    def __init__(self, seed: int) -> None:
        import gen_thread as g

        from archiver.search.query import tokens_of

        self.rng = random.Random(seed)
        self.sentences = list(g._SENTENCES)
        self.foreign = list(g._FOREIGN)
        self.quotes = list(g._QUOTES)
        real = [w for s in self.sentences for w in tokens_of(s)]
        self.topical = sorted({w for w in real if len(w) > 4 and w not in FUNCTION_WORDS})
        taken = set(FUNCTION_WORDS)
        ordered = list(FUNCTION_WORDS)
        for word in dict.fromkeys(real):
            if word not in taken:
                taken.add(word)
                ordered.append(word)
        ordered += _pseudo_words(self.rng, TAIL_WORDS, taken)
        self.vocabulary = ordered
        weights = [1.0 / (rank + 2.7) for rank in range(len(ordered))]
        self.cum: list[float] = []
        total = 0.0
        for w in weights:
            total += w
            self.cum.append(total)
        firsts = [n.split()[0] for n in g._FIRST] + [w.title() for w in ordered[-3000:-2000]]
        lasts = [w.title() for w in ordered[-2000:]]
        names = list(dict.fromkeys(g._FIRST))
        while len(names) < AUTHORS:
            name = f"{self.rng.choice(firsts)} {self.rng.choice(lasts)}"
            if name not in names:
                names.append(name)
        self.authors = names
        self.author_cum: list[float] = []
        total = 0.0
        for rank in range(len(names)):
            total += 1.0 / (rank + 1.5)
            self.author_cum.append(total)

    def sentence(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.4:
            return rng.choice(self.sentences)
        if roll < 0.43:
            return rng.choice(self.foreign)
        if roll < 0.46:
            return rng.choice(self.quotes)
        words = rng.choices(self.vocabulary, cum_weights=self.cum, k=rng.randrange(5, 19))
        if len(words) > 8 and rng.random() < 0.3:
            words[rng.randrange(3, len(words) - 2)] += ","
        return " ".join(words).capitalize() + rng.choice(".....?!")

    def body(self) -> str:
        count = min(1 + int(self.rng.expovariate(0.6)), 12)
        paragraphs, sentences = [], [self.sentence() for _ in range(count)]
        while sentences:
            cut = self.rng.randrange(1, 4)
            paragraphs.append(" ".join(sentences[:cut]))
            sentences = sentences[cut:]
        return "\n\n".join(paragraphs)

    def author(self) -> str:
        return self.rng.choices(self.authors, cum_weights=self.author_cum)[0]


START = datetime(2010, 1, 1, tzinfo=UTC)
SPAN_S = int((datetime(2026, 11, 1, tzinfo=UTC) - START).total_seconds())


def generate(corpus: Corpus, comments: int, out: Path) -> tuple[int, int]:
    """Write threads.tsv and comments.tsv (tab-separated, tabs and newlines escaped as COPY's
    text format wants them); return the numbers of threads and comments."""
    threads = max(1, comments // PER_THREAD)
    rng = corpus.rng

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")

    with open(out / "threads.tsv", "w", encoding="utf-8") as handle:
        for t in range(threads):
            when = START + timedelta(seconds=rng.randrange(SPAN_S))
            title = " ".join(rng.choices(corpus.vocabulary, cum_weights=corpus.cum, k=6)).title()
            handle.write(f"{t + 1}\t{t % SITES + 1}\thttps://site{t % SITES + 1}.example/p/{t}"
                         f"\t{esc(title)}\t{esc(corpus.author())}\t{when.isoformat()}"
                         f"\t{esc(corpus.body() + ' ' + corpus.body())}\n")
    with open(out / "comments.tsv", "w", encoding="utf-8") as handle:
        for i in range(comments):
            thread = i % threads
            when = START + timedelta(seconds=rng.randrange(SPAN_S))
            handle.write(f"{i + 1}\t{thread + 1}\tc{i}\t{i // threads + 1}"
                         f"\t{esc(corpus.author())}\t{when.isoformat()}\t{esc(corpus.body())}\n")
    return threads, comments


def rows_of(path: Path) -> Iterator[list[str]]:
    def unesc(text: str) -> str:
        return text.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")

    with open(path, encoding="utf-8") as handle:
        for line in handle:
            yield [unesc(f) for f in line.rstrip("\n").split("\t")]


# --- the queries -------------------------------------------------------------------------------

def make_queries(corpus: Corpus, count: int, sample_bodies: list[str]) -> list[tuple[str, str]]:
    """(kind, query) pairs, deterministic."""
    from archiver.search.query import tokens_of

    rng = random.Random(SEED + 1)
    lo = len(FUNCTION_WORDS)

    def mid_word() -> str:  # ranks 150 .. 30,000, uniform on a log scale
        rank = int(lo * (30_000 / lo) ** rng.random())
        return corpus.vocabulary[rank]

    kinds: list[tuple[str, Callable[[], str]]] = [
        ("word", mid_word),
        ("topical", lambda: rng.choice(corpus.topical)),
        ("two words", lambda: f"{rng.choice(corpus.topical)} {mid_word()}"),
        ("phrase", lambda: _phrase(rng, sample_bodies, tokens_of)),
        ("prefix", lambda: mid_word()[:4] + "*"),
        ("author", lambda: f'author:"{rng.choice(corpus.authors[:2000])}"'),
        ("author + word", lambda: f'author:"{rng.choice(corpus.authors[:200])}" '
                                  f"{rng.choice(corpus.topical)}"),
        ("common word", lambda: rng.choice(FUNCTION_WORDS[:40])),
    ]
    shares = (0.30, 0.15, 0.10, 0.15, 0.10, 0.08, 0.07, 0.05)
    queries: list[tuple[str, str]] = []
    for (kind, make), share in zip(kinds, shares, strict=True):
        queries += [(kind, make()) for _ in range(max(1, round(count * share)))]
    return queries


def _phrase(rng: random.Random, bodies: list[str],
            tokens_of: Callable[[str], tuple[str, ...]]) -> str:
    while True:
        words = tokens_of(rng.choice(bodies))
        if len(words) >= 4:
            size = rng.choice((2, 3))
            start = rng.randrange(0, len(words) - size)
            return '"' + " ".join(words[start:start + size]) + '"'


# --- the databases -----------------------------------------------------------------------------

def load_sqlite(url: str, work: Path) -> dict[str, float]:
    import sqlite3

    from archiver.store.db import Store

    Store(url).close()  # the schema at HEAD, search index included
    path = url.removeprefix("sqlite:///")
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger'"
                           " AND name LIKE 'search_%'").fetchall()
    for name, _sql in triggers:
        con.execute(f"DROP TRIGGER {name}")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    con.executemany(
        "INSERT INTO site (id, base_url, origin, name, platform, title, tagline, created_at)"
        " VALUES (?, ?, ?, ?, 'typepad', ?, '', ?)",
        [(s, f"https://site{s}.example/", f"https://site{s}.example", f"Site {s}", f"Site {s}",
          now) for s in range(1, SITES + 1)])

    def stamp(iso: str) -> str:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S.%f")

    con.executemany(
        "INSERT INTO thread (id, site_id, url, title, author, date_header, published_text,"
        " published_at, published_precision, footer_text, body_html, body_text, comments_closed,"
        " status, pages, first_seen_at, complete) VALUES (?, ?, ?, ?, ?, '', '', ?, 'time', '',"
        " '', ?, 0, 'open', 1, ?, 1)",
        ((int(r[0]), int(r[1]), r[2], r[3], r[4], stamp(r[5]), r[6], now)
         for r in rows_of(work / "threads.tsv")))
    started = time.perf_counter()
    con.executemany(
        "INSERT INTO comment (id, thread_id, source_id, position, author_name, published_text,"
        " published_at, body_html, body_text, depth, kind, content_sha256, version, page_url,"
        " first_seen_at, changed_at) VALUES (?, ?, ?, ?, ?, '', ?, '', ?, 0, 'comment', '', 1,"
        " '', ?, ?)",
        ((int(r[0]), int(r[1]), r[2], int(r[3]), r[4], stamp(r[5]), r[6], now, now)
         for r in rows_of(work / "comments.tsv")))
    con.commit()
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    for table in ("search_comment", "search_post"):
        con.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
        con.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
    con.commit()
    build_s = time.perf_counter() - started
    for _name, sql in triggers:
        con.execute(sql)
    con.commit()
    try:
        size = con.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_%'"
                           ).fetchone()[0]
    except sqlite3.OperationalError:  # no dbstat: the shadow tables' payload
        size = sum(con.execute(f"SELECT coalesce(sum(length({col})), 0) FROM {table}"
                               ).fetchone()[0]
                   for table, col in (("search_comment_data", "block"),
                                      ("search_comment_idx", "term"),
                                      ("search_comment_docsize", "sz"),
                                      ("search_post_data", "block"),
                                      ("search_post_docsize", "sz")))
    con.execute("ANALYZE")
    con.close()
    return {"load_s": load_s, "build_s": build_s, "index_mb": size / 2**20,
            "db_mb": Path(path).stat().st_size / 2**20}


def load_postgres(url: str, work: Path) -> dict[str, float]:
    import psycopg
    from sqlalchemy.engine import make_url

    from archiver.store.db import Store

    Store(url).close()
    u = make_url(url)
    conninfo = f"host={u.host} port={u.port} user={u.username} dbname={u.database}"
    with psycopg.connect(conninfo, autocommit=True) as con:
        for table in ("comment", "thread"):
            con.execute(f"DROP INDEX ix_{table}_search_vector")
            con.execute(f"ALTER TABLE {table} DROP COLUMN search_vector")
        now = datetime.now(UTC)
        with con.cursor() as cur:
            cur.executemany(
                "INSERT INTO site (id, base_url, origin, name, platform, title, tagline,"
                " created_at) VALUES (%s, %s, %s, %s, 'typepad', %s, '', %s)",
                [(s, f"https://site{s}.example/", f"https://site{s}.example", f"Site {s}",
                  f"Site {s}", now) for s in range(1, SITES + 1)])
            with cur.copy(
                    "COPY thread (id, site_id, url, title, author, published_at, body_text,"
                    " date_header, published_text, footer_text, body_html, comments_closed,"
                    " status, pages, first_seen_at, complete) FROM STDIN") as copy:
                for r in rows_of(work / "threads.tsv"):
                    copy.write_row((int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], r[6], "", "",
                                    "", "", False, "open", 1, now, True))
            started = time.perf_counter()
            with cur.copy(
                    "COPY comment (id, thread_id, source_id, position, author_name, published_at,"
                    " body_text, published_text, body_html, content_sha256, version, page_url,"
                    " first_seen_at, changed_at) FROM STDIN") as copy:
                for r in rows_of(work / "comments.tsv"):
                    copy.write_row((int(r[0]), int(r[1]), r[2], int(r[3]), r[4], r[5], r[6], "",
                                    "", "", 1, "", now, now))
            load_s = time.perf_counter() - started
        con.execute("SET maintenance_work_mem = '256MB'")
        started = time.perf_counter()
        vectors = _migration_vectors()
        for table, vector in vectors.items():
            con.execute(f"ALTER TABLE {table} ADD COLUMN search_vector tsvector"
                        f" GENERATED ALWAYS AS ({vector}) STORED")
            con.execute(f"CREATE INDEX ix_{table}_search_vector ON {table}"
                        " USING GIN (search_vector)")
        build_s = time.perf_counter() - started
        rum_s = rum_mb = None
        if con.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'").fetchone():
            # migration 0009's work: the RUM indexes best-first searches read in rank order
            con.execute("CREATE EXTENSION IF NOT EXISTS rum")
            started = time.perf_counter()
            for table in ("comment", "thread"):
                con.execute(f"CREATE INDEX ix_{table}_search_rum ON {table}"
                            " USING rum (search_vector rum_tsvector_ops)")
            rum_s = time.perf_counter() - started
            rum_mb = con.execute("SELECT pg_relation_size('ix_comment_search_rum')"
                                 " + pg_relation_size('ix_thread_search_rum')").fetchone()[0]
        con.execute("VACUUM ANALYZE comment")
        con.execute("VACUUM ANALYZE thread")
        index = con.execute("SELECT pg_relation_size('ix_comment_search_vector')"
                            " + pg_relation_size('ix_thread_search_vector')").fetchone()[0]
        column = con.execute("SELECT (SELECT sum(pg_column_size(search_vector)) FROM comment)"
                             " + (SELECT sum(pg_column_size(search_vector)) FROM thread)"
                             ).fetchone()[0]
        db = con.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    built = {"load_s": load_s, "build_s": build_s, "index_mb": index / 2**20,
             "vector_mb": float(column) / 2**20, "db_mb": db / 2**20}
    if rum_s is not None:
        built.update(rum_s=rum_s, rum_mb=rum_mb / 2**20)
    return built


def _migration_vectors() -> dict[str, str]:
    """The tsvector expressions of migration 0006 (read from it: the bench builds what the
    migration builds)."""
    import importlib.util

    path = ROOT / "archiver" / "store" / "migrations" / "versions" / "0006_search.py"
    spec = importlib.util.spec_from_file_location("m0006", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.PG_VECTORS)


TS_RANK = "best, ts_rank"  # PostgreSQL with RUM: best first as without it, for comparison


def time_queries(url: str, queries: list[tuple[str, str]]) -> dict[str, dict[str, list[float]]]:
    """Milliseconds per query, by order and kind (after one warm-up pass of every query). On
    PostgreSQL with the RUM indexes, best first is also timed as without them (ts_rank over every
    match: the RUM indexes ignored by the search code, left to the planner)."""
    from archiver.search import postgres, search
    from archiver.store.db import Store

    store = Store(url)
    times: dict[str, dict[str, list[float]]] = {"best": {}, "newest": {}}
    try:
        with store.session() as session:
            orders = ["best", "newest"]
            if session.get_bind().dialect.name == "postgresql" and postgres.has_rum(session):
                orders.append(TS_RANK)
                times[TS_RANK] = {}
            for _kind, query in queries:  # warm-up: pages into the cache
                search(session, query)
            for order in orders:
                if order == TS_RANK:
                    postgres._has_rum[session.get_bind().engine] = False
                for kind, query in queries:
                    started = time.perf_counter()
                    search(session, query, order=order.split(",")[0])  # type: ignore[arg-type]
                    elapsed = (time.perf_counter() - started) * 1000
                    times[order].setdefault("all", []).append(elapsed)
                    times[order].setdefault(kind, []).append(elapsed)
                session.rollback()
    finally:
        store.close()
    return times


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def result_rows(backend: str, n: int, built: dict[str, float],
                times: dict[str, dict[str, list[float]]]) -> list[Row]:
    case = f"{backend}: {n:,} comments"
    size = f"{built['index_mb']:.0f} MB"
    if "vector_mb" in built:
        size += f" GIN + {built['vector_mb']:.0f} MB tsvector column"
    rows = [
        Row("search", case, "load (no index): s", f"{built['load_s']:.1f}"),
        Row("search", case, "index build: s", f"{built['build_s']:.1f}",
            note="FTS5 rebuild + optimize" if backend == "SQLite"
            else "generated column + GIN index (migration 0006's work)"),
        Row("search", case, "index size", size, note=f"database {built['db_mb']:.0f} MB"),
    ]
    if "rum_s" in built:
        rows += [
            Row("search", case, "RUM index build: s", f"{built['rum_s']:.1f}",
                note="migration 0009's work (best first in rank order)"),
            Row("search", case, "RUM index size", f"{built['rum_mb']:.0f} MB"),
        ]
    for order in times:
        for kind, values in times[order].items():
            p50, p95 = pct(values, 50), pct(values, 95)
            judged = kind == "all" and order != TS_RANK
            target = f"p95 < {TARGET_MS:.0f} ms" if judged else ""
            rows.append(Row("search", case, f"{order}, {kind} ({len(values)}): p50 / p95 ms",
                            f"{p50:.1f} / {p95:.1f}", target,
                            verdict(p95 < TARGET_MS) if judged else ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = arg_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--start-postgres", action="store_true",
                        help="start a throwaway PostgreSQL server if none is configured")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.comments, args.queries = min(args.comments, 20_000), min(args.queries, 40)
    work = Path(tempfile.mkdtemp(prefix="archiver-bench-search-"))
    rows: list[Row] = []
    try:
        started = time.perf_counter()
        corpus = Corpus(SEED)
        threads, n = generate(corpus, args.comments, work)
        sample = [r[6] for _, r in zip(range(5000), rows_of(work / "comments.tsv"), strict=False)]
        queries = make_queries(corpus, args.queries, sample)
        print(f"generated {n:,} comments in {threads:,} threads in"
              f" {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        url = f"sqlite:///{work / 'search.db'}"
        built = load_sqlite(url, work)
        print(f"SQLite built: {built}", file=sys.stderr, flush=True)
        rows += result_rows("SQLite", n, built, time_queries(url, queries))
        print("SQLite timed", file=sys.stderr, flush=True)
        (work / "search.db").unlink()
        if not args.no_postgres:
            from store_bench import _Postgres

            pg = _Postgres(os.environ.get("ARCHIVER_BENCH_POSTGRES"), args.start_postgres)
            if pg.available:
                try:
                    url = pg.create("archiver_bench_search")
                    built = load_postgres(url, work)
                    print(f"PostgreSQL built: {built}", file=sys.stderr, flush=True)
                    rows += result_rows("PostgreSQL", n, built, time_queries(url, queries))
                finally:
                    pg.close()
            else:
                rows.append(Row("search", "PostgreSQL", "queries", "not run",
                                note="no server: set ARCHIVER_BENCH_POSTGRES or pass "
                                     "--start-postgres"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    examples = {kind: q for kind, q in reversed(queries)}
    return finish(rows, args.json, {"queries": queries, "examples": examples,
                                    "median_query_words": statistics.median(
                                        len(q.split()) for _, q in queries)})


if __name__ == "__main__":
    sys.exit(main())
