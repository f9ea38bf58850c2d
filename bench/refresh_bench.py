"""Refresh benchmark (issue 6, item 3): the archived 5,000-comment thread archived again.

Case 1: nothing changed (the server answers every conditional GET with 304).
Case 2: 1% of comments new (50 more at the end: a 51st page, and every page's pager changes).
Each run is ``archiver archive URL`` in a child process (bench/archive_child.py), which counts
the rows every INSERT/UPDATE/DELETE wrote, by table, and the pages the adapter parsed.
Case 2 starts each round from a copy of the database as the first archive left it.

    python bench/refresh_bench.py [--quick] [--json out.json]
"""

from __future__ import annotations

import shutil
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

from common import (
    Row,
    archive_child,
    arg_parser,
    finish,
    fmt_s,
    replace_pages,
    serve_pages,
    verdict,
)
from gen_thread import make_thread

COMMENTS, PER_PAGE, NEW = 5000, 100, 50


def _rows(stats: dict) -> str:
    written = stats["rows_written"]
    return ", ".join(f"{k} {v}" for k, v in sorted(written.items())) or "none"


def _copy_db(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True)
    source = sqlite3.connect(src / "archiver.db")
    target = sqlite3.connect(dst / "archiver.db")
    source.backup(target)  # a consistent copy, WAL included
    target.close()
    source.close()


def main(argv: list[str] | None = None) -> int:
    args = arg_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    rounds = 1 if args.quick else 5
    before = make_thread(COMMENTS, PER_PAGE, seed=1)
    after = make_thread(COMMENTS + NEW, PER_PAGE, seed=1)
    work = Path(tempfile.mkdtemp(prefix="archiver-bench-refresh-"))
    server = serve_pages(before.pages, before.origin)
    rows: list[Row] = []
    try:
        url = server.url(before.post_path)
        first_dir = work / "first"
        first, first_stats = archive_child(["archive", url], first_dir)
        snapshot = work / "snapshot"
        _copy_db(first_dir, snapshot)
        case0 = f"first archive ({COMMENTS:,} comments, {len(before.pages)} pages)"
        rows.append(Row("refresh", case0, "wall", fmt_s(first.wall),
                        note=f"{first_stats['pages_parsed']} pages parsed; "
                             f"{first_stats['comment_rows_written']} comment rows written"))

        # 1. unchanged: every page answers 304
        unchanged = []
        for _ in range(rounds):
            unchanged.append(archive_child(["archive", url], first_dir))
        wall = statistics.median(run.wall for run, _ in unchanged)
        worst_rows = max(stats["comment_rows_written"] for _, stats in unchanged)
        worst_parsed = max(stats["pages_parsed"] for _, stats in unchanged)
        case1 = "unchanged (all 304)"
        rows.append(Row("refresh", case1, "wall", fmt_s(wall), note=f"median of {rounds}"))
        rows.append(Row("refresh", case1, "comment rows written", str(worst_rows), "0",
                        verdict(worst_rows == 0), note="all rows: " + _rows(unchanged[-1][1])))
        rows.append(Row("refresh", case1, "pages parsed", str(worst_parsed), "0",
                        verdict(worst_parsed == 0)))
        run_s = statistics.median(stats["run_s"] for _, stats in unchanged)
        rows.append(Row("refresh", case1, "wall less Python start and imports", fmt_s(run_s),
                        note="timed inside the child"))

        # 2. 1% new comments
        replace_pages(server, after.pages)
        grown = []
        for index in range(rounds):
            data_dir = work / f"grown-{index}"
            _copy_db(snapshot, data_dir)
            grown.append(archive_child(["archive", url], data_dir))
        db = sqlite3.connect(work / "grown-0" / "archiver.db")
        stored = db.execute("select count(*) from comment").fetchone()[0]
        db.close()
        if stored != COMMENTS + NEW:
            raise SystemExit(f"after the refresh the store holds {stored} comments, "
                             f"expected {COMMENTS + NEW}")
        wall = statistics.median(run.wall for run, _ in grown)
        stats = grown[0][1]
        case2 = f"1% new ({NEW} comments, page {len(after.pages)} added)"
        rows.append(Row("refresh", case2, "wall", fmt_s(wall), note=f"median of {rounds}"))
        rows.append(Row("refresh", case2, "comment rows written",
                        str(stats["comment_rows_written"]), f"{NEW} (the new ones)",
                        verdict(stats["comment_rows_written"] == NEW),
                        note="all rows: " + _rows(stats)))
        rows.append(Row("refresh", case2, "pages parsed", str(stats["pages_parsed"]),
                        note="every page's pager changed, so every page is new content"))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return finish(rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
