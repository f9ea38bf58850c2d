"""Shared benchmark helpers: timing medians, child processes with peak memory, result tables.

Every bench script builds a list of Row and prints it with ``print_rows``; with ``--json PATH``
it also writes them for ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
FIXTURES = ROOT / "fixtures"
MOA = FIXTURES / "typepad" / "moa-2018-06-08-abu-kamal"
MOA_PATH = "/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan.html"

for _path in (str(ROOT), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)


@dataclass(slots=True)
class Row:
    """One line of a result table."""

    bench: str
    case: str
    figure: str  # what was measured, e.g. "comments/s"
    value: str  # already formatted
    target: str = ""  # the target for this line, if any
    verdict: str = ""  # "met", "MISSED", or "" when no target applies
    note: str = ""


@dataclass(slots=True)
class Timing:
    """Seconds of several runs of one thing."""

    runs: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def timed(func: Callable[[], object]) -> tuple[float, object]:
    """Run func once with the collector quiet; return (seconds, result)."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed, result


@dataclass(slots=True)
class ChildRun:
    """A measured child process: wall seconds, peak resident memory, exit code, output."""

    wall: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_child(
    args: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
    check: bool = True,
) -> ChildRun:
    """Run a command as a child process; peak RSS is that child's own (os.wait4's ru_maxrss)."""
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-child-{os.getpid()}.out"
    err_path = out_path.with_suffix(".err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(args), stdout=out, stderr=err, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, cwd=cwd or ROOT,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text(encoding="utf-8", errors="replace")
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    out_path.unlink(missing_ok=True)
    err_path.unlink(missing_ok=True)
    run = ChildRun(wall, usage.ru_maxrss / 1024.0, proc.returncode, stdout, stderr)
    if check and run.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} exited {run.returncode}:\n{stderr[-3000:]}\n{stdout[-1000:]}"
        )
    return run


def python_child(code_args: Sequence[str], **kwargs: object) -> ChildRun:
    """Run `python <args>` with this interpreter as a measured child."""
    return run_child([sys.executable, *code_args], **kwargs)  # type: ignore[arg-type]


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}"


def fmt_s(value: float) -> str:
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def table(rows: Sequence[Row]) -> str:
    """A Markdown table of rows."""
    head = ["bench", "case", "figure", "value", "target", "verdict", "note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [getattr(row, name) for name in head]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def machine() -> dict[str, str]:
    """The machine a run happened on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": ram,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def arg_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    return parser


def finish(rows: Sequence[Row], json_path: Path | None, extra: dict | None = None) -> int:
    """Print the table; write JSON if asked; exit code 0 (a missed target is a result)."""
    print(table(rows))
    if json_path is not None:
        payload = {"rows": [asdict(r) for r in rows], **(extra or {})}
        json_path.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0
