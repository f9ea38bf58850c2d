"""Reddit's 5,000-comment tree (issue 15): archive, refresh and export time and peak memory.

bench/gen_reddit.py serves a synthetic post of 5,000 comments (a deep tree: collapsed branches
read through /api/morechildren, "continue this thread" subtrees) as Reddit's OAuth API does, on
127.0.0.1 (its origins mapped). Each step runs as a child process (``archiver archive``, then
again after 50 new comments, then ``archiver export FORMAT`` for each format); wall time and
peak RSS are reported, and the refresh's rows written (bench/archive_child.py's counters): only
the new comments may be written. Peak memory target: under 150 MB for every step.

    python bench/reddit_tree_bench.py [--quick] [--json out.json]
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from common import Row, archive_child, archiver_env, arg_parser, finish, fmt_s, python_child
from gen_reddit import Tree, post_url, serve
from gen_reddit import archiver_env as reddit_env

SIZE, GROWTH = 5000, 50
FORMATS = {"text": "thread.txt", "jsonl": "thread.jsonl", "html": "site",
           "warc": "thread.warc.gz", "wacz": "thread.wacz"}
PEAK_TARGET_MB = 150.0


def main(argv: list[str] | None = None) -> int:
    args = arg_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="archiver-bench-reddit-"))
    tree = Tree(seed=1)
    tree.grow(SIZE)
    server, base, asked = serve(tree)
    env = reddit_env(base)
    data = work / "data"
    rows: list[Row] = []

    def memory_row(case: str, wall: float, peak: float, note: str = "") -> None:
        rows.append(Row("reddit-tree", case, "wall", fmt_s(wall), note=note))
        rows.append(Row("reddit-tree", case, "peak RSS", f"{peak:.1f} MB",
                        target=f"< {PEAK_TARGET_MB:.0f} MB",
                        verdict="met" if peak < PEAK_TARGET_MB else "MISSED"))

    try:
        url = post_url()
        run, stats = archive_child(["archive", url], data, env=env)
        if f"{SIZE} comments" not in run.stdout:
            raise SystemExit(f"archiving {SIZE} comments failed:\n{run.stdout}\n{run.stderr}")
        memory_row(f"archive {SIZE}", run.wall, run.peak_rss_mb,
                   f"{len(asked)} requests, deepest level {max(tree.depth.values())}")
        tree.grow(GROWTH)
        before = len(asked)
        run, stats = archive_child(["archive", url], data, env=env)
        written = stats["rows_written"]
        memory_row(f"refresh +{GROWTH}", run.wall, run.peak_rss_mb,
                   f"{len(asked) - before} requests; {run.stdout.strip()}")
        comment_rows = stats["comment_rows_written"]
        rows.append(Row("reddit-tree", f"refresh +{GROWTH}", "comment rows written",
                        str(comment_rows), target=f"= {GROWTH} (the new ones)",
                        verdict="met" if comment_rows == GROWTH
                        and written.get("INSERT comment", 0) == GROWTH else "MISSED",
                        note=", ".join(f"{k}: {v}" for k, v in sorted(written.items())
                                       if "comment" in k)))
        for fmt, name in FORMATS.items():
            if args.quick and fmt in ("warc", "wacz"):
                continue
            out = work / "out" / fmt / name
            target = ["--out", str(out)] if fmt == "html" else ["-o", str(out)]
            run = python_child(["-m", "archiver.cli", "export", fmt, url, *target],
                               env=archiver_env(data))
            memory_row(f"export {fmt} {SIZE + GROWTH}", run.wall, run.peak_rss_mb)
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(work, ignore_errors=True)
    return finish(rows, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
