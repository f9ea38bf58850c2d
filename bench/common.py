"""Shared benchmark helpers: timing medians, child processes with peak memory, result tables,
and the parse benches' race of an adapter against BeautifulSoup+lxml (``race`` and the row
layouts built on it, ``race_parsers`` and ``race_speedups``).

Every bench script builds a list of Row and prints it with ``finish``; with ``--json PATH``
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
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
FIXTURES = ROOT / "fixtures"
MOA = FIXTURES / "typepad" / "moa-2018-06-08-abu-kamal"
MOA_PATH = "/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan.html"

# ARCHIVER_BENCH_SRC: a folder holding another copy of the `archiver` package to measure instead
# of this tree's (bench/whatif.py uses it to time a proposed patch against the current code).
SOURCE = Path(os.environ.get("ARCHIVER_BENCH_SRC") or ROOT)
for _path in (str(SOURCE), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

if TYPE_CHECKING:
    from archiver.devserver import FixtureServer

BS4_TARGET = 5.0  # parse benches: the adapter at least 5x BeautifulSoup+lxml's speed (issues 6, 14)


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
class Race:
    """One case of a parse bench: the adapter's output (checked equal to BS4's) and both timings."""

    case: str
    found: Any  # what the adapter returned (the BS4 extraction was checked equal to it)
    ours: Timing
    theirs: Timing

    @property
    def best_ours(self) -> float:
        return min(self.ours.runs)

    @property
    def best_theirs(self) -> float:
        return min(self.theirs.runs)

    @property
    def ratio(self) -> float:
        """How many times faster the adapter is than BS4 (best round against best round)."""
        return self.best_theirs / self.best_ours


def item_differences(ours: object, theirs: object, noun: str = "item") -> list[str]:
    """Where two extractions differ, item by item (lists of items or tuples); none when equal."""
    if ours == theirs:
        return []
    if not isinstance(ours, list | tuple) or not isinstance(theirs, list | tuple):
        return [f"{ours!r:.300} != {theirs!r:.300}"]
    problems = [f"{noun} {i}: {a!r:.300} != {b!r:.300}"
                for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b]
    if len(ours) != len(theirs):
        problems.append(f"{len(ours)} {noun}s != {len(theirs)}")
    return problems


def race(case: str, ours: Callable[[], object], theirs: Callable[[], object], rounds: int,
         differences: Callable[[Any, Any], list[str]] = item_differences) -> Race:
    """Check that the adapter and BS4 read the same (SystemExit naming the first differences if
    not), then time both for ``rounds`` rounds, interleaved (who goes first alternates, so a busy
    moment of the machine hits both), each run through ``timed``."""
    found = ours()
    problems = differences(found, theirs())
    if problems:
        raise SystemExit(f"{case}: the BS4 extraction differs: " + "; ".join(problems[:5]))
    result = Race(case, found, Timing(), Timing())
    pair = ((ours, result.ours), (theirs, result.theirs))
    for index in range(rounds):
        for func, timing in pair[index % 2:] + pair[:index % 2]:
            timing.runs.append(timed(func)[0])
    return result


def race_cases(cases: Sequence[tuple[str, Sequence[object]]], ours: Callable[..., object],
               theirs: Callable[..., object], rounds: int,
               differences: Callable[[Any, Any], list[str]] = item_differences) -> Iterator[Race]:
    """``race`` each case, given as (label, the arguments both ``ours`` and ``theirs`` take)."""
    for label, arguments in cases:
        yield race(label, partial(ours, *arguments), partial(theirs, *arguments), rounds,
                   differences)


def race_speedups(
    bench: str, cases: Sequence[tuple[str, Sequence[object]]], ours: Callable[..., object],
    theirs: Callable[..., object], rounds: int, target: float = BS4_TARGET, *,
    count: Callable[[Any], int] = len,
    differences: Callable[[Any, Any], list[str]] = item_differences,
) -> list[Row]:
    """``race_cases``, then a row per case, "speed-up over BS4+lxml" (its note: ``count``
    comments of the adapter's output, the two best times); each case also printed as it ends, a
    line of a plain table."""
    print(f"{'page':22} {'comments':>8} {'adapter ms':>11} {'bs4+lxml ms':>12} {'ratio':>7}")
    rows = []
    for r in race_cases(cases, ours, theirs, rounds, differences):
        n, a, b = count(r.found), r.best_ours * 1000, r.best_theirs * 1000
        print(f"{r.case:22} {n:>8} {a:>11.2f} {b:>12.2f} {r.ratio:>6.1f}x")
        rows.append(Row(bench, r.case, "speed-up over BS4+lxml", f"{r.ratio:.1f}x",
                        f">= {target:.0f}x", verdict(r.ratio >= target),
                        f"{n} comments; adapter {a:.2f} ms, bs4 {b:.2f} ms"))
    return rows


def file_cases(folder: Path, cases: Sequence[tuple[str, str, object]]
               ) -> list[tuple[str, tuple[str, object]]]:
    """Cases for ``race_cases`` from files: (label, file below folder, a second argument) ->
    (the label with the file's size, (the file's text, the second argument))."""
    found = []
    for label, file, extra in cases:
        text = (folder / file).read_text(encoding="utf-8")
        found.append((f"{label}, {len(text) // 1024} KB", (text, extra)))
    return found


def race_parsers(
    bench: str, cases: Sequence[tuple[str, Sequence[object]]], ours: Callable[..., object],
    theirs: Callable[..., object], rounds: int, target: float = BS4_TARGET, *,
    total: str = "cases", count: Callable[[Any], int] = len,
    differences: Callable[[Any, Any], list[str]] = item_differences,
) -> list[Row]:
    """``race_cases``, then a row per case, "adapter ms / BS4 ms / ratio" (the note says how many
    items, by ``count`` of the adapter's output, were checked equal), and a row "all N <total>"
    of the cases' best times added up."""
    races = list(race_cases(cases, ours, theirs, rounds, differences))
    figure, goal = "adapter ms / BS4 ms / ratio", f">= {target:.0f}x"
    rows = [Row(bench, r.case, figure,
                f"{r.best_ours * 1000:.2f} / {r.best_theirs * 1000:.2f} / {r.ratio:.1f}x",
                goal, verdict(r.ratio >= target),
                f"{count(r.found)} items checked equal; best of {rounds}") for r in races]
    sum_ours = sum(r.best_ours for r in races)
    sum_theirs = sum(r.best_theirs for r in races)
    ratio = sum_theirs / sum_ours
    rows.append(Row(bench, f"all {len(races)} {total}", figure,
                    f"{sum_ours * 1000:.1f} / {sum_theirs * 1000:.1f} / {ratio:.1f}x",
                    goal, verdict(ratio >= target)))
    return rows


def race_main(argv: list[str] | None, doc: str, rounds: tuple[int, int],
              rows: Callable[[int], list[Row]]) -> int:
    """A parse bench's command line (``--quick``, ``--json``; ``doc``'s first paragraph for
    ``--help``): rows(the rounds, rounds[0] with --quick, else rounds[1]) printed by ``finish``."""
    args = arg_parser(doc.split("\n\n")[0]).parse_args(argv)
    return finish(rows(rounds[0] if args.quick else rounds[1]), args.json)


@dataclass(slots=True)
class ChildRun:
    """A measured child process: wall seconds, peak resident memory, exit code, output."""

    wall: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    cpu: float = 0.0  # user + system seconds of the child (GNU time; 0 when not measured)


GNU_TIME = "/usr/bin/time"


def _poll_hwm(pid: int, peak: list[int], done: threading.Event) -> None:
    """Keep the largest VmHWM (kB) seen in /proc/PID/status until the process ends."""
    status = Path(f"/proc/{pid}/status")
    while not done.is_set():
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]))
                    break
        except (OSError, ValueError):
            return
        done.wait(0.002)


def run_child(
    args: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
    check: bool = True,
) -> ChildRun:
    """Run a command as a child process and measure its wall time and peak resident memory.

    Peak memory is the child's own maximum RSS as GNU time reports it (%M, from wait4). Not
    os.wait4 here: a child forked from this (large) process would count our pages until its
    exec. Without /usr/bin/time, VmHWM is polled from /proc every 2 ms instead.
    """
    tmp = Path(tempfile.gettempdir())
    stem = f"bench-child-{os.getpid()}-{time.monotonic_ns()}"
    out_path, err_path, mem_path = (tmp / f"{stem}.{ext}" for ext in ("out", "err", "mem"))
    use_time = Path(GNU_TIME).exists()
    command = ([GNU_TIME, "-f", "%M %U %S", "-o", str(mem_path), *args] if use_time
               else list(args))
    peak = [0]
    done = threading.Event()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            command, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, cwd=cwd or ROOT,
        )
        poller = None
        if not use_time:
            poller = threading.Thread(target=_poll_hwm, args=(proc.pid, peak, done), daemon=True)
            poller.start()
        proc.wait()
        wall = time.perf_counter() - start
        done.set()
        if poller is not None:
            poller.join()
    cpu = 0.0
    if use_time:
        try:
            kb, user, system = mem_path.read_text().strip().splitlines()[-1].split()
            peak[0], cpu = int(kb), float(user) + float(system)
        except (OSError, ValueError, IndexError):
            peak[0] = 0
    stdout = out_path.read_text(encoding="utf-8", errors="replace")
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    for path in (out_path, err_path, mem_path):
        path.unlink(missing_ok=True)
    run = ChildRun(wall, peak[0] / 1024.0, proc.returncode, stdout, stderr, cpu)
    if check and run.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} exited {run.returncode}:\n{stderr[-3000:]}\n{stdout[-1000:]}"
        )
    return run


def python_child(code_args: Sequence[str], **kwargs: object) -> ChildRun:
    """Run `python <args>` with this interpreter as a measured child (importing SOURCE's
    archiver package: the working directory and PYTHONPATH point at it)."""
    env = dict(kwargs.pop("env", None) or {})  # type: ignore[call-overload]
    if SOURCE != ROOT:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SOURCE), env.get("PYTHONPATH")) if p)
    kwargs.setdefault("cwd", SOURCE)
    return run_child([sys.executable, *code_args], env=env, **kwargs)  # type: ignore[arg-type]


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


def postgres_binaries() -> bool:
    """Whether PostgreSQL's server binaries are here (the store bench can start a server)."""
    import glob
    import shutil

    return bool(glob.glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("initdb"))


def replace_block(path: Path, start: str, end: str, block: str) -> None:
    """Rewrite what lies between the markers start and end in a text file (append if absent)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if start not in text or end not in text:
        text += f"\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(head + start + "\n" + block.strip("\n") + "\n" + end + tail,
                    encoding="utf-8")


def etag_routes(pages: dict[str, str]) -> dict:
    """devserver Routes for pages (path -> HTML), each with an ETag of its body."""
    import hashlib

    from archiver.devserver import Route

    routes = {}
    for path, html in pages.items():
        body = html.encode("utf-8")
        routes[path] = Route(body=body, headers={"ETag": f'"{hashlib.sha1(body).hexdigest()}"'})
    return routes


def serve_pages(pages: dict[str, str], origin: str) -> FixtureServer:
    """Start archiver.devserver.FixtureServer on 127.0.0.1 for these pages (with ETags)."""
    from archiver.devserver import FixtureServer

    return FixtureServer(etag_routes(pages), origin=origin).start()


def replace_pages(server: FixtureServer, pages: dict[str, str]) -> None:
    """Serve other pages from now on (same server, same port)."""
    routes = etag_routes(pages)
    with server._lock:
        server.routes = routes


def archiver_env(data_dir: Path) -> dict[str, str]:
    """Environment for an archiver child: its own SQLite file, no delay, no config file."""
    return {
        "ARCHIVER_DATA_DIR": str(data_dir),
        "ARCHIVER_DELAY": "0",
        "ARCHIVER_DATABASE_URL": "",
        "ARCHIVER_CONFIG": "",
    }


def archive_child(
    args: Sequence[str], data_dir: Path, *, env: dict[str, str] | None = None
) -> tuple[ChildRun, dict]:
    """Run `archiver ARGS` through bench/archive_child.py; returns the run and its counters."""
    stats = data_dir.parent / f"stats-{os.getpid()}-{time.monotonic_ns()}.json"
    run = python_child(
        [str(BENCH / "archive_child.py"), "--stats", str(stats), "--", *args],
        env={**archiver_env(data_dir), **(env or {})},
    )
    data = json.loads(stats.read_text(encoding="utf-8"))
    stats.unlink(missing_ok=True)
    return run, data
