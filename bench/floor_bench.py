"""The floor under pages per CPU-second (issue 17, item 2): what the design's own parts cost a
page of 100 comments with none of archiver's code around them, beside archiver's whole cost.

One process, the 5,000-comment synthetic thread (50 pages) served on 127.0.0.1. Each round:
(a) archiver: one in-process `archiver archive` (pictures off, a copy of an empty store at the
newest schema), the archiving thread's CPU (time.thread_time); (b) the parts alone, on the same
pages: httpx's Client reading the 50 pages; lexbor parsing each page and selecting its comment
nodes (the parse bench's floor); SQLite (the sqlite3 module, no SQLAlchemy) writing exactly the
rows (a) wrote, in the transactions (a) commits: the raw page and its capture, then the page's
100 comments in one multi-row INSERT (the search index's trigger included) and the URL's state.
Medians over the rounds; the floor is the sum of the parts' medians.

    python bench/floor_bench.py [--quick] [--json out.json]
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import Row, arg_parser, finish, serve_pages
from gen_thread import make_thread

TARGET = 100  # pages per CPU-second (issue 17, item 2)


def _empty_store(folder: Path) -> Path:
    from archiver.store.db import Store

    path = folder / "empty.db"
    Store(f"sqlite:///{path}").close()
    return path


def _fresh_copy(empty: Path, folder: Path, name: str) -> Path:
    target = folder / name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    shutil.copy(empty, target / "archiver.db")
    return target


def archiver_cpu(url: str, data: Path) -> float:
    """Thread CPU of one in-process `archiver archive url` into data/archiver.db."""
    from archiver.cli import main as cli

    os.environ.update(ARCHIVER_DATA_DIR=str(data), ARCHIVER_DELAY="0", ARCHIVER_DATABASE_URL="",
                      ARCHIVER_CONFIG="", ARCHIVER_PICTURES_ENABLED="false")
    start = time.thread_time()
    code = cli(["archive", url])
    spent = time.thread_time() - start
    if code != 0:
        raise SystemExit(f"archive exited {code}")
    return spent


def httpx_cpu(urls: list[str]) -> float:
    import httpx

    with httpx.Client() as client:
        start = time.thread_time()
        for url in urls:
            response = client.get(url)
            response.raise_for_status()
            _ = response.content
        return time.thread_time() - start


def lexbor_cpu(pages: list[str]) -> float:
    from selectolax.lexbor import LexborHTMLParser

    start = time.thread_time()
    for html in pages:
        nodes = LexborHTMLParser(html).css('div.comment[id^="comment-"]')
        assert len(nodes) == 100
    return time.thread_time() - start


def extract_cpu(pages: list[str]) -> float:
    """The least an adapter does beyond the floor: each comment's body (its markup and lexbor's
    own text of it) and its footer's text, every call in lexbor's C, none of archiver's code."""
    from selectolax.lexbor import LexborHTMLParser

    start = time.thread_time()
    for html in pages:
        for node in LexborHTMLParser(html).css('div.comment[id^="comment-"]'):
            content = node.css_first(".comment-content")
            footer = node.css_first(".comment-footer")
            assert content is not None and footer is not None
            _ = (node.id, content.inner_html, content.text(), footer.text())
    return time.thread_time() - start


class Written:
    """The rows one archive wrote, grouped as it wrote them: per page, its blob and capture,
    then its comments and its URL's state."""

    def __init__(self, db: Path) -> None:
        con = sqlite3.connect(db)
        con.row_factory = sqlite3.Row
        self.before = {name: self._rows(con, f"SELECT * FROM {name}")
                       for name in ("site", "thread")}
        captures = self._rows(con, "SELECT * FROM capture ORDER BY id")
        self.pages: list[dict[str, list[dict]]] = []
        for capture in captures:
            self.pages.append({
                "blob": self._rows(con, "SELECT * FROM blob WHERE sha256 = ?",
                                   (capture["body_sha256"],)),
                "capture": [capture],
                "comment": self._rows(con, "SELECT * FROM comment WHERE capture_id = ? ORDER BY id",
                                      (capture["id"],)),
                "urlstate": self._rows(con, "SELECT * FROM urlstate WHERE last_capture_id = ?",
                                        (capture["id"],)),
            })
        con.close()
        if sum(len(page["comment"]) for page in self.pages) != 5000:
            raise SystemExit("the archive did not write the thread's 5,000 comments")

    @staticmethod
    def _rows(con: sqlite3.Connection, sql: str, params: tuple = ()) -> list[dict]:
        return [dict(row) for row in con.execute(sql, params)]


def _insert(con: sqlite3.Connection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    names = list(rows[0])
    one = "(" + ", ".join("?" * len(names)) + ")"
    con.execute(f'INSERT INTO "{table}" ({", ".join(names)}) VALUES '
                + ", ".join([one] * len(rows)), [row[n] for row in rows for n in names])


def sqlite_cpu(written: Written, db: Path) -> float:
    """Thread CPU of SQLite writing the archive's rows, two transactions a page as it does."""
    con = sqlite3.connect(db, isolation_level=None)
    for pragma in ("busy_timeout=30000", "synchronous=NORMAL", "foreign_keys=ON",
                   "journal_mode=WAL"):
        con.execute(f"PRAGMA {pragma}")
    for table, rows in written.before.items():
        _insert(con, table, rows)
    start = time.thread_time()
    for page in written.pages:
        con.execute("BEGIN")
        _insert(con, "blob", page["blob"])
        _insert(con, "capture", page["capture"])
        con.execute("COMMIT")
        con.execute("BEGIN")
        _insert(con, "comment", page["comment"])
        _insert(con, "urlstate", page["urlstate"])
        con.execute("COMMIT")
    spent = time.thread_time() - start
    con.close()
    return spent


def main(argv: list[str] | None = None) -> int:
    args = arg_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    rounds = 1 if args.quick else 5
    thread = make_thread(5000, 100, seed=1)
    page_urls = list(thread.pages)
    server = serve_pages(thread.pages, thread.origin)
    work = Path(tempfile.mkdtemp(prefix="archiver-bench-floor-"))
    spent: dict[str, list[float]] = {
        "archiver": [], "httpx": [], "lexbor": [], "extract": [], "sqlite": []}
    try:
        empty = _empty_store(work)
        urls = [server.url(path) for path in page_urls]
        bodies = [thread.pages[path] for path in page_urls]
        written: Written | None = None
        for index in range(rounds + 1):  # the first round warms up, and is not counted
            data = _fresh_copy(empty, work, "archive")
            cpu = archiver_cpu(server.url(thread.post_path), data)
            written = written or Written(data / "archiver.db")
            figures = {
                "archiver": cpu,
                "httpx": httpx_cpu(urls),
                "lexbor": lexbor_cpu(bodies),
                "extract": extract_cpu(bodies),
                "sqlite": sqlite_cpu(written, _fresh_copy(empty, work, "raw") / "archiver.db"),
            }
            if index:
                for name, value in figures.items():
                    spent[name].append(value)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    pages = len(page_urls)
    median = {name: statistics.median(values) for name, values in spent.items()}
    floor = median["httpx"] + median["lexbor"] + median["sqlite"]
    case = f"5,000 comments / {pages} pages, 127.0.0.1, delay 0"

    def row(figure: str, seconds: float, note: str = "", target: bool = False) -> Row:
        rate = pages / seconds
        return Row("floor", case, figure, f"{1000 * seconds / pages:.1f} ms a page, {rate:.0f} "
                   "pages per CPU-second", f">= {TARGET}" if target else "",
                   ("met" if rate >= TARGET else "MISSED") if target else "", note)

    rows = [
        row("httpx: the 50 pages read with one Client", median["httpx"]),
        row("lexbor: parse + select the comment nodes", median["lexbor"]),
        row("sqlite3: the archive's rows written, 2 transactions a page", median["sqlite"],
            "blob + capture, then 100 comments (search trigger) + URL state"),
        row("floor: the three parts' sum", floor, "no code of archiver's"),
        row("lexbor: parse, select, and each comment's body and footer read in C",
            median["extract"], "the least an adapter does (no body text rendering of ours)"),
        row("floor with that extraction", floor - median["lexbor"] + median["extract"]),
        row("archiver archive, in process (thread CPU)", median["archiver"],
            f"{median['archiver'] / floor:.1f}x the floor; median of {rounds}", target=True),
    ]
    return finish(rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
