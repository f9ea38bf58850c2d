"""Archive benchmark (issue 6, item 2): a 5,000-comment thread over 50 pages, end to end.

The synthetic thread is served on 127.0.0.1 (archiver.devserver, in this process). Each round
runs, as child processes and in alternating order, (a) ``archiver archive URL`` with delay 0 and
a fresh SQLite file (fetch, store captures, parse, upsert) and (b) ``wget --warc-file`` fetching
the same 50 URLs (the floor for the network part). Wall time, pages/s and peak RSS of each
child, and its CPU seconds (pages per CPU-second, beside wget's); medians over the rounds; the
ratio is of medians measured in this run. Pictures are on (the default) unless
ARCHIVER_PICTURES_ENABLED says otherwise in this process's environment.

As an installed archiver runs (issue 17, item 2): the source tree's modules are compiled to
.pyc first (compileall) and the children run without PYTHONDONTWRITEBYTECODE, so no child
compiles archiver's source on start (this machine sets it: an editable install would otherwise
compile ~250 modules in every process). Each round's SQLite file is a copy of an empty store
already at the newest schema: creating a store (Alembic, every migration) happens once in a
store's life, not on each archive; its CPU is shown on a row of its own.

Steady state (issue 17, item 2): one `archiver archive --workers 1 -i FILE` process archiving
10 such threads one after the other (500 pages, 50,000 comments), as a long-running process (the
scheduler, a worker, a batch) does: its CPU less the start's, per page.

    python bench/archive_bench.py [--quick] [--json out.json]
"""

from __future__ import annotations

import compileall
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

from common import (
    SOURCE,
    Row,
    archiver_env,
    arg_parser,
    finish,
    fmt_s,
    python_child,
    run_child,
    serve_pages,
    verdict,
)
from gen_thread import make_thread

COMMENTS, PER_PAGE = 5000, 100
WALL_TARGET = 1.5  # archiver wall time at most 1.5x wget's
CPU_TARGET = 100  # pages per CPU-second for fetch + capture + parse + store (issue 17)
STEADY_THREADS = 10  # threads archived by one process for the steady-state figure


def count_warc_responses(path: Path) -> int:
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as handle:
        return sum(1 for rec in ArchiveIterator(handle) if rec.rec_type == "response")


def compiled_source() -> None:
    """Compile archiver's modules to .pyc (as an installation has them) and let the children
    read and write bytecode."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    if not compileall.compile_dir(SOURCE / "archiver", quiet=1):
        raise SystemExit(f"compileall failed under {SOURCE / 'archiver'}")


def main(argv: list[str] | None = None) -> int:
    args = arg_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    rounds = 1 if args.quick else 5
    compiled_source()
    wget = shutil.which("wget")
    thread = make_thread(COMMENTS, PER_PAGE, seed=1)
    pages = len(thread.pages)
    others = [make_thread(COMMENTS, PER_PAGE, seed=seed) for seed in range(2, STEADY_THREADS + 1)]
    work = Path(tempfile.mkdtemp(prefix="archiver-bench-archive-"))
    every_page = dict(thread.pages)
    for other in others:
        every_page.update(other.pages)
    server = serve_pages(every_page, thread.origin)
    rows: list[Row] = []
    try:
        url = server.url(thread.post_path)
        urls = work / "urls.txt"
        urls.write_text("".join(server.url(p) + "\n" for p in thread.pages), encoding="utf-8")
        ours: list = []
        theirs: list = []
        startup: list = []
        empty = work / "empty"  # a new store at the newest schema, copied for each round
        migrate = python_child(["-m", "archiver.cli", "db", "upgrade"], env=archiver_env(empty))
        for index in range(rounds):
            data_dir = work / f"ours-{index}"
            data_dir.mkdir()
            shutil.copy(empty / "archiver.db", data_dir / "archiver.db")

            def run_ours(data_dir: Path = data_dir) -> None:
                run = python_child(["-m", "archiver.cli", "archive", url],
                                   env=archiver_env(data_dir))
                if f"{COMMENTS} comments" not in run.stdout:
                    raise SystemExit(f"archiver did not report {COMMENTS} comments:\n{run.stdout}")
                ours.append(run)

            def run_wget(index: int = index) -> None:
                if wget is None:
                    return
                folder = work / f"wget-{index}"
                folder.mkdir()
                run = run_child([wget, "-q", f"--warc-file={folder / 'thread'}", "-O", "/dev/null",
                                 "-i", str(urls)], cwd=folder)
                theirs.append(run)

            for step in ((run_ours, run_wget) if index % 2 == 0 else (run_wget, run_ours)):
                step()
            startup.append(python_child(["-c", "import archiver.cli"]))
        steady = []  # one process, STEADY_THREADS threads one after the other
        listing = work / "threads.txt"
        listing.write_text("".join(server.url(t.post_path) + "\n" for t in [thread, *others]),
                           encoding="utf-8")
        for index in range(1 if args.quick else 3):
            data_dir = work / f"steady-{index}"
            data_dir.mkdir()
            shutil.copy(empty / "archiver.db", data_dir / "archiver.db")
            steady.append(python_child(["-m", "archiver.cli", "archive", "--workers", "1", "-i",
                                        str(listing)], env=archiver_env(data_dir)))
        db = sqlite3.connect(work / "steady-0" / "archiver.db")
        steady_comments = db.execute("select count(*) from comment").fetchone()[0]
        db.close()
        if steady_comments != COMMENTS * STEADY_THREADS:
            raise SystemExit(f"archive -i stored {steady_comments} comments,"
                             f" expected {COMMENTS * STEADY_THREADS}")
        # what each side produced, checked once
        db = sqlite3.connect(work / "ours-0" / "archiver.db")
        stored = db.execute("select count(*) from comment").fetchone()[0]
        captures = db.execute("select count(*) from capture where status = 200").fetchone()[0]
        db.close()
        if stored != COMMENTS:
            raise SystemExit(f"archiver stored {stored} comments, expected {COMMENTS}")
        ours_wall = statistics.median(r.wall for r in ours)
        ours_rss = statistics.median(r.peak_rss_mb for r in ours)
        start_wall = statistics.median(r.wall for r in startup)
        case = f"{COMMENTS:,} comments / {pages} pages, 127.0.0.1, delay 0"
        rows.append(Row("archive", case, "archiver: wall", fmt_s(ours_wall),
                        note=f"median of {rounds}; {captures} pages stored, {stored} comments"))
        rows.append(Row("archive", case, "archiver: pages/s", f"{pages / ours_wall:.1f}"))
        rows.append(Row("archive", case, "archiver: peak RSS", f"{ours_rss:.0f} MB"))
        rows.append(Row("archive", case, "archiver: Python start + imports", fmt_s(start_wall),
                        note="`python -c 'import archiver.cli'`, included in the wall above"))
        rows.append(Row("archive", case, "archiver: a new store's schema (once)",
                        f"{migrate.cpu:.2f} s CPU",
                        note="`archiver db upgrade` of an empty file: not in the figures here"))
        ours_cpu = statistics.median(r.cpu for r in ours)
        start_cpu = statistics.median(r.cpu for r in startup)
        if ours_cpu:  # issue 17: pages per CPU-second, fetch + capture + parse + store
            rows.append(Row("archive", case, "archiver: pages per CPU-second",
                            f"{pages / ours_cpu:.0f}", f">= {CPU_TARGET}",
                            verdict(pages / ours_cpu >= CPU_TARGET),
                            note=f"{ours_cpu:.2f} s CPU in all"))
            if ours_cpu > start_cpu:
                rows.append(Row("archive", case, "archiver: pages per CPU-second less start",
                                f"{pages / (ours_cpu - start_cpu):.0f}",
                                note=f"less {start_cpu:.2f} s CPU of start + imports"))
            steady_cpu = statistics.median(r.cpu for r in steady)
            steady_pages = pages * STEADY_THREADS
            rate = steady_pages / (steady_cpu - start_cpu)
            rows.append(Row(
                "archive", f"{STEADY_THREADS} such threads, one `archive --workers 1 -i` process",
                "archiver: pages per CPU-second, steady", f"{rate:.0f}",
                f">= {CPU_TARGET}", verdict(rate >= CPU_TARGET),
                note=f"{steady_cpu:.2f} s CPU for {steady_pages} pages, less {start_cpu:.2f} s of"
                     f" start; {steady_pages / steady_cpu:.0f} with it; median of {len(steady)}"))
        own = max(ours_wall - start_wall, 0.0)
        rows.append(Row("archive", case, "archiver: wall less start + imports", fmt_s(own),
                        note=f"{own / pages * 1000:.0f} ms a page: fetch, store, parse, merge"))
        if theirs:
            warc = work / "wget-0" / "thread.warc.gz"
            responses = count_warc_responses(warc)
            if responses != pages:
                raise SystemExit(f"wget WARC holds {responses} responses, expected {pages}")
            wget_wall = statistics.median(r.wall for r in theirs)
            wget_rss = statistics.median(r.peak_rss_mb for r in theirs)
            rows.append(Row("archive", case, "wget --warc-file: wall", fmt_s(wget_wall),
                            note=f"median of {rounds}; WARC holds {responses} responses"))
            rows.append(Row("archive", case, "wget: pages/s", f"{pages / wget_wall:.1f}"))
            rows.append(Row("archive", case, "wget: peak RSS", f"{wget_rss:.0f} MB"))
            wget_cpu = statistics.median(r.cpu for r in theirs)
            if wget_cpu:
                rows.append(Row("archive", case, "wget: pages per CPU-second",
                                f"{pages / wget_cpu:.0f}", note=f"{wget_cpu:.2f} s CPU in all"))
            ratio = ours_wall / wget_wall
            rows.append(Row("archive", case, "archiver wall / wget wall", f"{ratio:.1f}x",
                            f"<= {WALL_TARGET}x", verdict(ratio <= WALL_TARGET)))
        else:
            rows.append(Row("archive", case, "archiver wall / wget wall", "n/a",
                            f"<= {WALL_TARGET}x", "", "wget not installed (apt-get install wget)"))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return finish(rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
