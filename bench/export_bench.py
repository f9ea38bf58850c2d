"""Export benchmark (issue 6, item 5): seconds and peak memory of each export format.

Two synthetic threads (5,000 comments over 50 pages, 20,000 over 200) are archived first, for
real, from 127.0.0.1 (not timed). Then ``archiver export FORMAT URL -o OUT`` runs as a child
process for each format the CLI has (text, jsonl, html, warc, wacz), at both sizes, round after
round; wall time and peak RSS are medians. A format the CLI does not know is reported as missing.
Peak memory target: under 150 MB, and flat: the 20,000 run at most 1.2x the 5,000 run.

    python bench/export_bench.py [--quick] [--json out.json]
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from common import (
    Row,
    archiver_env,
    arg_parser,
    finish,
    fmt_s,
    python_child,
    serve_pages,
    verdict,
)
from gen_thread import make_thread

SIZES = ((5000, 1), (20000, 2))  # (comments, seed); 100 comments a page
FORMATS = ("text", "jsonl", "html", "warc", "wacz")
PEAK_TARGET_MB = 150.0
FLAT_FACTOR = 1.2


def _out(work: Path, fmt: str, size: int, index: int) -> Path:
    name = {"text": "thread.txt", "jsonl": "thread.jsonl", "html": "site",
            "warc": "thread.warc.gz", "wacz": "thread.wacz"}[fmt]
    return work / "out" / f"{fmt}-{size}-{index}" / name


def main(argv: list[str] | None = None) -> int:
    args = arg_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    rounds = 1 if args.quick else 3
    work = Path(tempfile.mkdtemp(prefix="archiver-bench-export-"))
    threads = {size: make_thread(size, 100, seed=seed) for size, seed in SIZES}
    pages = {p: h for t in threads.values() for p, h in t.pages.items()}
    origin = threads[SIZES[0][0]].origin
    server = serve_pages(pages, origin)
    rows: list[Row] = []
    data = work / "data"
    env = archiver_env(data)
    try:
        urls = {size: server.url(t.post_path) for size, t in threads.items()}
        for size, url in urls.items():
            run = python_child(["-m", "archiver.cli", "archive", url], env=env)
            if f"{size} comments" not in run.stdout:
                raise SystemExit(f"setup: archiving {size} comments failed:\n{run.stdout}")
    finally:
        server.stop()
    try:
        base = [python_child(["-m", "archiver.cli", "version"], env=env) for _ in range(rounds)]
        base_rss = statistics.median(r.peak_rss_mb for r in base)
        rows.append(Row("export", "baseline", "`archiver version`: peak RSS",
                        f"{base_rss:.0f} MB", note="interpreter + CLI imports, for scale"))
        missing: list[str] = []
        for fmt in FORMATS:
            results: dict[int, list] = {size: [] for size, _ in SIZES}
            failure = ""
            for index in range(rounds):
                for size, _ in SIZES:
                    out = _out(work, fmt, size, index)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    run = python_child(
                        ["-m", "archiver.cli", "export", fmt, urls[size], "-o", str(out)],
                        env=env, check=False,
                    )
                    if run.returncode != 0:
                        failure = (run.stderr.strip().splitlines() or ["(no message)"])[-1]
                        break
                    if not out.exists():
                        failure = f"exit 0 but {out.name} was not written"
                        break
                    results[size].append(run)
                if failure:
                    break
            if failure:
                if "unknown" in failure.lower() and "format" in failure.lower():
                    missing.append(fmt)
                    rows.append(Row("export", fmt, "seconds / peak RSS", "missing",
                                    f"< {PEAK_TARGET_MB:.0f} MB", "", f"CLI says: {failure}"))
                else:
                    rows.append(Row("export", fmt, "seconds / peak RSS", "failed",
                                    f"< {PEAK_TARGET_MB:.0f} MB", "MISSED", failure))
                continue
            peaks = {}
            for size, _ in SIZES:
                wall = statistics.median(r.wall for r in results[size])
                peak = statistics.median(r.peak_rss_mb for r in results[size])
                peaks[size] = peak
                out = _out(work, fmt, size, 0)
                written = (sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
                           if out.is_dir() else out.stat().st_size)
                case = f"{fmt}, {size:,} comments"
                rows.append(Row("export", case, "wall", fmt_s(wall),
                                note=f"median of {rounds}; wrote {written / 1e6:.1f} MB"))
                rows.append(Row("export", case, "peak RSS", f"{peak:.0f} MB",
                                f"< {PEAK_TARGET_MB:.0f} MB", verdict(peak < PEAK_TARGET_MB)))
            small, large = peaks[SIZES[0][0]], peaks[SIZES[-1][0]]
            growth = large / small
            rows.append(Row("export", f"{fmt}, 5,000 -> 20,000", "peak RSS growth",
                            f"{growth:.2f}x ({large - small:+.0f} MB)",
                            f"<= {FLAT_FACTOR}x (flat)", verdict(growth <= FLAT_FACTOR)))
        if missing:
            rows.append(Row("export", "missing formats", "", ", ".join(missing), note=(
                "the CLI in this tree does not export these yet")))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return finish(rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
