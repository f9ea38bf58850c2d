"""Run every benchmark (each in its own process) and print one table.

    python bench/run.py [--quick] [--only parse,store] [--update-doc]

--update-doc rewrites the results block of docs/benchmarks.md (between its bench markers) with
this run's table and machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import BENCH, ROOT, Row, machine, postgres_binaries, replace_block, table

SCRIPTS = ("parse", "archive", "refresh", "store", "export")
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def results_block(rows: list[Row], info: dict[str, str], seconds: float, quick: bool) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    missed = [r for r in rows if r.verdict == "MISSED"]
    lines = [
        f"Run of {when}{' (--quick: single runs, not for publishing)' if quick else ''}, "
        f"{seconds:.0f} s in all.",
        "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM, "
        f"Python {info['python']}, {info['os']}.",
        "",
        table(rows),
        "",
        f"Targets missed in this run: {len(missed)}"
        + (": " + "; ".join(f"{r.bench} / {r.case} / {r.figure}" for r in missed) if missed
           else "."),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="single runs (a smoke test)")
    parser.add_argument("--only", default="", help="comma-separated subset of: " +
                        ", ".join(SCRIPTS))
    parser.add_argument("--update-doc", action="store_true", help=f"rewrite results in {DOC}")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SCRIPTS)
    unknown = [s for s in chosen if s not in SCRIPTS]
    if unknown:
        print(f"error: unknown benchmark(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    rows: list[Row] = []
    started = time.perf_counter()
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="archiver-bench-") as tmp:
        for name in chosen:
            out = Path(tmp) / f"{name}.json"
            command = [sys.executable, str(BENCH / f"{name}_bench.py"), "--json", str(out)]
            if args.quick:
                command.append("--quick")
            if name == "store" and postgres_binaries():
                command.append("--start-postgres")
            print(f"== {name} ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            print(f"   {name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
            if proc.returncode != 0 or not out.exists():
                failed.append(name)
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
                rows.append(Row(name, "(benchmark failed)", "", "error", "", "MISSED", tail[0]))
                print(proc.stderr, file=sys.stderr)
                continue
            payload = json.loads(out.read_text(encoding="utf-8"))
            rows += [Row(**row) for row in payload["rows"]]
    seconds = time.perf_counter() - started
    info = machine()
    block = results_block(rows, info, seconds, args.quick)
    print(block)
    if args.update_doc:
        replace_block(DOC, START, END, block)
        print(f"updated {DOC.relative_to(ROOT)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
