"""Scale benchmark (issue 17): breadth over many hosts, worker processes, one process vs many.

A loopback web (tests/loopweb.py: one server per address 127.0.0.2, 127.0.0.3, ...) serves
synthetic TypePad threads. Three parts, each checked from the servers' own log (no two
requests to one host overlap or come closer than the delay):

- workers: 1, 2 and 4 `archiver worker` processes (procrastinate on a real PostgreSQL started
  here, tests/pgserver.py), each doing --concurrency jobs at once, on the same web (a fresh
  database each), then one `archiver archive -i` process with as many workers as the 4
  processes together: pages/s from the servers' log, CPU and peak RSS of the processes;
- breadth: one `archiver archive -i` process with one thread on each of many hosts, as many
  workers as hosts: most hosts asked within one delay, wall, CPU, peak RSS (target < 300 MB);
- batch: `archive -i` of 100 threads on 100 hosts against 100 separate `archiver archive` runs
  (one after the other, as a shell loop would): wall and CPU.

    python bench/scale_bench.py [--quick] [--parts breadth,batch,workers] [--workers 1,2,4,0]
        [--delay 0.5] [--concurrency 4] [--hosts 40] [--threads 2] [--json out.json]
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, Row, arg_parser, finish, fmt_s

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.loopweb import LoopbackWeb  # noqa: E402
from tests.pgserver import PostgresServer  # noqa: E402


def env_for(data_dir: Path, delay: float, database_url: str = "",
            **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    env.update(ARCHIVER_DATA_DIR=str(data_dir), ARCHIVER_DATABASE_URL=database_url,
               ARCHIVER_DELAY=str(delay), ARCHIVER_PICTURES_ENABLED="false",
               ARCHIVER_FETCH_RESPECT_ROBOTS="false", ARCHIVER_SCHEDULER_WORKER_TICK="1",
               ARCHIVER_SCHEDULER_WORKER_HEARTBEAT="2", **extra)
    return env


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Child:
    """A child process whose CPU (user+sys, from wait4) and peak RSS are kept. The peak is its
    VmHWM read from /proc while it runs, never wait4's ru_maxrss: that counts the pages the child
    shared with this process between fork and exec, and this process (the loopback web, its
    log) grows run after run (it read 326 -> 616 -> 793 -> 831 MB for four runs whose processes
    stayed near 160 MB)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.out = log.open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "archiver.cli", *args], env=env,
                                     cwd=ROOT, stdout=self.out, stderr=subprocess.STDOUT)
        self.cpu = 0.0
        self.rss = 0.0
        self.code: int | None = None
        self._peak = threading.Thread(target=self._watch, daemon=True)
        self._peak.start()

    def _watch(self) -> None:
        while self.proc.poll() is None:
            self.rss = max(self.rss, peak_rss_mb(self.proc.pid))
            time.sleep(0.05)

    def wait(self) -> None:
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.code = self.proc.returncode
        self.cpu = usage.ru_utime + usage.ru_stime
        self.out.close()

    def stop(self) -> None:
        self.rss = max(self.rss, peak_rss_mb(self.proc.pid))
        self.proc.send_signal(signal.SIGTERM)
        self.wait()


def served_rate(web: LoopbackWeb, since: int = 0) -> tuple[int, float]:
    """Pages answered (200) after the first `since` hits, and the seconds they spanned."""
    hits = [h for h in web.hits[since:] if not h.path.endswith("robots.txt")]
    if not hits:
        return 0, 0.0
    return len(hits), max(h.ended for h in hits) - min(h.began for h in hits)


def build_web(hosts: int, threads: int, comments: int, per_page: int, seed: int) -> tuple[
        LoopbackWeb, list[str]]:
    web = LoopbackWeb(hosts).start()
    urls = [web.add_thread(host, comments, per_page, seed=seed + 100 * n + k)
            for k in range(threads) for n, host in enumerate(web.hosts)]
    return web, urls


def job_counts(database_url: str) -> str:
    """How the archive jobs ended, and how many were run more than once (a rescue)."""
    import psycopg

    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        rows = conn.execute("select status::text, count(*), sum(attempts) from procrastinate_jobs"
                            " where task_name = 'archiver.archive_thread' group by 1").fetchall()
    return "; jobs: " + ", ".join(f"{n} {status} ({attempts} attempts)"
                                  for status, n, attempts in rows)


def workers_part(pg: PostgresServer, tmp: Path, hosts: int, threads: int, pages: int,
                 delay: float, concurrency: int, rows: list[Row],
                 counts: tuple[int, ...] = (1, 2, 4, 0)) -> None:
    per_page = 10
    results: dict[str, float] = {}
    for n_workers in counts:  # 0: one `archive -i` process instead
        web, urls = build_web(hosts, threads, per_page * pages, per_page, seed=1000 * n_workers)
        listing = tmp / f"w{n_workers}.txt"
        listing.write_text("\n".join(urls) + "\n")
        db = pg.create_database(f"bench_w{n_workers}")
        env = env_for(tmp / f"d{n_workers}", delay, db)
        started = time.monotonic()
        if n_workers:
            subprocess.run([sys.executable, "-m", "archiver.cli", "db", "upgrade"], env=env,
                           cwd=ROOT, check=True, capture_output=True)
            subprocess.run([sys.executable, "-m", "archiver.cli", "archive", "--queue", "-i",
                            str(listing)], env=env, cwd=ROOT, check=True, capture_output=True)
            children = [Child(["worker", "--concurrency", str(concurrency)], env,
                              tmp / f"worker-{n_workers}-{i}.log") for i in range(n_workers)]
            expected = len(urls) * pages
            while len(web.hits) < expected:
                time.sleep(0.2)
            time.sleep(1.0)  # the last commits
            for child in children:
                child.stop()
            jobs = job_counts(db)
            case = f"{n_workers} worker process{'es' * (n_workers > 1)} x {concurrency} jobs"
        else:
            children = [Child(["archive", "--workers", str(4 * concurrency), "-i", str(listing)],
                              env, tmp / "archive-i.log")]
            children[0].wait()
            jobs = ""
            case = f"one archive -i, {4 * concurrency} workers"
        wall = time.monotonic() - started
        count, span = served_rate(web)
        gap = web.closest_gap()
        web.stop()
        rate = count / span if span else 0.0
        results[case] = rate
        cpu = sum(c.cpu for c in children)
        rss = max(c.rss for c in children)
        rows.append(Row("scale", f"{hosts} hosts x {threads} threads x {pages} pages, delay "
                        f"{delay:g} s: {case}", "pages/s (servers' log)", f"{rate:.1f}",
                        note=f"{count} pages in {span:.1f} s (wall {wall:.1f} s with start-up);"
                        f" CPU {cpu:.1f} s; peak RSS {rss:.0f} MB per process; closest gap on a"
                        f" host {gap:.3f} s (>= delay: {'yes' if gap >= delay else 'NO'}){jobs}"))
    one = next(iter(results.values()))
    for case, rate in list(results.items())[1:]:
        rows.append(Row("scale", case, "throughput vs 1 worker", f"{rate / one:.2f}x",
                        target="4 workers >= 3.5x" if case.startswith("4 ") else ""))


def breadth_part(tmp: Path, hosts: int, pages: int, delay: float, rows: list[Row]) -> None:
    web, urls = build_web(hosts, 1, 10 * pages, 10, seed=7)
    listing = tmp / "breadth.txt"
    listing.write_text("\n".join(urls) + "\n")
    started = time.monotonic()
    child = Child(["archive", "--workers", str(hosts), "-i", str(listing)],
                  env_for(tmp / "breadth", delay), tmp / "breadth.log")
    child.wait()
    wall = time.monotonic() - started
    at_once = web.most_hosts_at_once(delay)
    in_progress = web.most_hosts_in_progress()
    gap = web.closest_gap()
    count = len(web.hits)
    web.stop()
    case = f"one archive -i: {hosts} hosts x 1 thread x {pages} pages, delay {delay:g} s"
    rows.append(Row("scale", case, "hosts in progress at once (first request to last answer)",
                    f"{in_progress}", target=">= 200",
                    verdict="met" if in_progress >= 200 else "MISSED"))
    rows.append(Row("scale", case, "hosts asked within one delay", f"{at_once}",
                    note=f"exit {child.code}; {count} requests in {wall:.1f} s wall, CPU "
                    f"{child.cpu:.1f} s; closest gap on a host {gap:.3f} s"))
    rows.append(Row("scale", f"one archive -i, {hosts} hosts in flight", "peak RSS",
                    f"{child.rss:.0f} MB", target="< 300 MB",
                    verdict="met" if child.rss < 300 else "MISSED"))


def batch_part(tmp: Path, hosts: int, delay: float, rows: list[Row]) -> None:
    web, urls = build_web(hosts, 1, 40, 20, seed=99)
    listing = tmp / "batch.txt"
    listing.write_text("\n".join(urls) + "\n")
    started = time.monotonic()
    one = Child(["archive", "-i", str(listing), "--workers", str(hosts)],
                env_for(tmp / "batch-one", delay), tmp / "batch-one.log")
    one.wait()
    one_wall = time.monotonic() - started
    started = time.monotonic()
    cpu, codes = 0.0, set()
    for n, url in enumerate(urls):
        child = Child(["archive", url], env_for(tmp / "batch-many", delay),
                      tmp / f"batch-many-{n}.log")
        child.wait()
        cpu += child.cpu
        codes.add(child.code)
    many_wall = time.monotonic() - started
    web.stop()
    case = f"{hosts} threads (2 pages, 40 comments) on {hosts} hosts, delay {delay:g} s"
    rows.append(Row("scale", f"{case}: one archive -i", "wall / CPU",
                    f"{fmt_s(one_wall)} / {one.cpu:.1f} s", note=f"exit {one.code}"))
    rows.append(Row("scale", f"{case}: {hosts} separate archive runs", "wall / CPU",
                    f"{fmt_s(many_wall)} / {cpu:.1f} s", note=f"exit codes {sorted(codes)}"))
    rows.append(Row("scale", case, "separate runs / one -i", f"wall {many_wall / one_wall:.1f}x,"
                    f" CPU {cpu / one.cpu:.1f}x"))


def main() -> int:
    parser = arg_parser(__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=40, help="hosts for the workers part")
    parser.add_argument("--breadth", type=int, default=220, help="hosts for the breadth part")
    parser.add_argument("--parts", default="breadth,batch,workers")
    parser.add_argument("--workers", default="1,2,4,0", help="worker processes per run (0:"
                        " one archive -i)")
    parser.add_argument("--keep", type=Path, help="keep the logs and files in this folder")
    parser.add_argument("--delay", type=float, default=0.5, help="per-host delay, seconds, for"
                        " the workers part (the issue's own web: 1)")
    parser.add_argument("--concurrency", type=int, default=4, help="jobs at once per worker")
    parser.add_argument("--threads", type=int, default=2, help="threads per host (workers part)")
    parser.add_argument("--pages", type=int, default=5, help="pages a thread (workers part; the"
                        " issue's own web: 50)")
    args = parser.parse_args()
    rows: list[Row] = []
    parts = args.parts.split(",")
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as folder:
        tmp = Path(folder)
        if args.keep:
            tmp = args.keep
            tmp.mkdir(parents=True, exist_ok=True)
        if "breadth" in parts:
            breadth_part(tmp, 50 if args.quick else args.breadth, 3, 1.0, rows)
        if "batch" in parts:
            batch_part(tmp, 20 if args.quick else 100, 0.5, rows)
        if "workers" in parts:
            pg = PostgresServer().start()
            try:
                workers_part(pg, tmp, 10 if args.quick else args.hosts, args.threads, args.pages,
                             args.delay, args.concurrency, rows,
                             tuple(int(n) for n in args.workers.split(",")))
            finally:
                pg.stop()
    return finish(rows, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
