"""`archiver worker` processes sharing one PostgreSQL database through procrastinate: threads
queued once (`archive --queue`), per-host politeness across workers (from the servers' own
log), and a worker killed with kill -9 in the middle of a page: its job goes to another worker,
every thread ends with each of its comments exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg

from tests.conftest import ROOT
from tests.loopweb import LoopbackWeb
from tests.pgserver import PostgresServer

HOSTS, DELAY = 6, 0.3


def _env(url: str, data_dir: Path, agent: str = "archiver-test/main") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    env.update(ARCHIVER_DATABASE_URL=url, ARCHIVER_DATA_DIR=str(data_dir),
               ARCHIVER_DELAY=str(DELAY), ARCHIVER_PICTURES_ENABLED="false",
               ARCHIVER_FETCH_RESPECT_ROBOTS="false", ARCHIVER_USER_AGENT=agent,
               ARCHIVER_SCHEDULER_WORKERS="2", ARCHIVER_SCHEDULER_WORKER_HEARTBEAT="0.5",
               ARCHIVER_SCHEDULER_WORKER_STALLED_AFTER="2", ARCHIVER_SCHEDULER_WORKER_TICK="1",
               ARCHIVER_FETCH_MAX_ATTEMPTS="2", ARCHIVER_FETCH_BACKOFF_BASE="0",
               # a killed worker's request holds its host for connect + total timeouts (+1 s)
               ARCHIVER_FETCH_CONNECT_TIMEOUT="2", ARCHIVER_FETCH_TOTAL_TIMEOUT="6")
    return env


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "archiver.cli", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT)


def _jobs(url: str) -> dict[str, int]:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        rows = conn.execute("select status::text, count(*) from procrastinate_jobs"
                            " where task_name = 'archiver.archive_thread' group by 1").fetchall()
    return {status: count for status, count in rows}


def _all_done(url: str, threads: int) -> bool:
    """Every archive job done: none waiting or running, at least one per thread succeeded (the
    tick may add refreshes of threads still being read: they succeed as "not due")."""
    try:
        jobs = _jobs(url)
    except psycopg.OperationalError:  # the server is restarting
        return False
    return not jobs.get("todo") and not jobs.get("doing") and jobs.get("succeeded", 0) >= threads


def _wait(condition, what: str, procs=()) -> None:  # type: ignore[no-untyped-def]
    """Wait for condition() (the workers' progress): no time limit; a worker that exits in the
    meantime fails the test at once."""
    while not condition():
        for proc in procs:
            assert proc.poll() is None, f"a worker exited ({proc.returncode}) before {what}"
        time.sleep(0.1)


def test_workers_share_the_queue_and_survive_kill_9(postgres: PostgresServer,
                                                   tmp_path: Path) -> None:
    url = postgres.create_database("workers_kill")
    env = _env(url, tmp_path / "data")
    upgrade = _cli("db", "upgrade", env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "Created the workers' queue" in upgrade.stdout
    with LoopbackWeb(HOSTS) as web:
        expected: dict[str, int] = {}
        for n, host in enumerate(web.hosts):  # two threads of four pages on each host
            for k in range(2):
                expected[web.add_thread(host, 12, 3, seed=10 * n + k)] = 12
        held_url = next(iter(expected))
        held_path = held_url.split("/", 3)[3].removesuffix(".html") + "/comments/page/3/"
        release = threading.Event()
        asked = threading.Event()
        web.hold("/" + held_path, asked, release)  # page 3 of the first thread waits for us
        listing = tmp_path / "urls.txt"
        listing.write_text("\n".join(expected) + "\n", encoding="utf-8")
        queued = _cli("archive", "--queue", "-i", str(listing), env=env)
        assert queued.returncode == 0, queued.stderr
        assert f"{len(expected)} queued, 0 queued already" in queued.stdout.replace(
            "already queued", "queued already")
        again = _cli("archive", "--queue", held_url, env=env)  # still waiting: not twice
        assert again.returncode == 0 and "already queued" in again.stdout
        workers = {}
        for n in range(3):
            agent = f"archiver-test/worker-{n}"
            workers[agent] = subprocess.Popen(
                [sys.executable, "-m", "archiver.cli", "worker"], env=_env(url, tmp_path / "data",
                                                                           agent),
                cwd=ROOT, stdout=subprocess.DEVNULL,
                stderr=(tmp_path / f"worker-{n}.log").open("w"))
        try:
            _wait(asked.is_set, "the held page to be asked for")
            agent = web.agent_of("/" + held_path)
            victim = workers.pop(agent)
            victim.send_signal(signal.SIGKILL)  # in the middle of the page: its answer is held
            victim.wait()
            release.set()
            _wait(lambda: _all_done(url, len(expected)), "every job done", workers.values())
        finally:
            release.set()
            for proc in workers.values():
                proc.send_signal(signal.SIGTERM)
            for proc in workers.values():
                proc.wait()
        gap = web.closest_gap()
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        counts = {row[0]: row[1:] for row in conn.execute(
            "select t.url, count(c.id), count(distinct c.source_id) from thread t"
            " join comment c on c.thread_id = t.id group by t.url").fetchall()}
        rescued = conn.execute(
            "select count(*) from procrastinate_jobs where attempts > 1"
            " or id in (select job_id from procrastinate_events where type = 'retried')"
        ).fetchone()
        turns = conn.execute("select count(*), sum(requests) from host_turn").fetchone()
    assert set(counts) == set(expected)
    assert all(counts[u] == (n, n) for u, n in expected.items()), counts  # each once
    assert rescued is not None and rescued[0] >= 1  # the killed worker's job was done again
    assert gap >= DELAY, gap  # across all three workers, the killed one included
    assert turns is not None and turns[0] == HOSTS and turns[1] >= len(expected) * 4


def test_two_workers_run_discovery_once_and_archive_what_it_found(
        postgres: PostgresServer, tmp_path: Path) -> None:
    """The periodic tick plans a site's discovery as one job whatever the number of workers,
    and the threads it finds as one job each."""
    from archiver.devserver import serve_fixture

    url = postgres.create_database("workers_discovery")
    blog = serve_fixture(ROOT / "fixtures" / "typepad" / "synthetic-blog")
    try:
        config = tmp_path / "archiver.toml"
        config.write_text(f'[[sites]]\nname = "harbour"\nurl = "{blog.url("/")}"\n'
                          f'[sites.discovery]\nfeed = "{blog.url("/atom.xml")}"\n',
                          encoding="utf-8")
        env = {**_env(url, tmp_path / "data"), "ARCHIVER_CONFIG": str(config),
               "ARCHIVER_DELAY": "0"}
        assert _cli("db", "upgrade", env=env).returncode == 0
        workers = [subprocess.Popen([sys.executable, "-m", "archiver.cli", "worker"], env=env,
                                    cwd=ROOT, stdout=subprocess.DEVNULL,
                                    stderr=(tmp_path / f"w{n}.log").open("w"))
                   for n in range(2)]

        def found_and_done() -> bool:
            with psycopg.connect(url.replace("+psycopg", "")) as conn:
                states = dict(conn.execute("select state, count(*) from discoveredurl"
                                           " group by state").fetchall())
            return bool(states) and "queued" not in states

        try:
            _wait(found_and_done, "discovery and its threads", workers)
            time.sleep(2.5)  # two more ticks: nothing is planned again
        finally:
            for proc in workers:
                proc.send_signal(signal.SIGTERM)
            for proc in workers:
                proc.wait()
    finally:
        blog.stop()
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        jobs = conn.execute("select task_name, count(*), count(distinct args::text)"
                            " from procrastinate_jobs where task_name <> 'archiver.tick'"
                            " group by task_name order by 1").fetchall()
        found = conn.execute("select count(*) from discoveredurl where state = 'done'").fetchone()
        duplicates = conn.execute("select count(*) from (select thread_id, source_id from"
                                  " comment group by 1, 2 having count(*) > 1) d").fetchone()
    assert found is not None and found[0] >= 3
    # one job per thread and one discovery job (a tick racing a job's end may queue it once
    # more: that job then finds nothing due and does nothing, as the blog's log shows)
    assert [(task, distinct) for task, _, distinct in jobs] == [
        ("archiver.archive_thread", found[0]), ("archiver.discover_site", 1)], jobs
    asked = Counter(path for _, path, _ in blog.requests)
    assert asked["/atom.xml"] == 1, asked  # discovery ran once, whatever the jobs
    assert sum(asked.values()) == 1 + found[0] + asked["/robots.txt"], asked  # each thread once
    assert all(n == 1 for path, n in asked.items() if path != "/robots.txt"), asked
    assert duplicates == (0,)


def test_workers_carry_on_through_a_database_restart(tmp_path: Path) -> None:
    """The PostgreSQL server restarts in the middle of the run (its own server: the session's
    serves other tests): the workers reconnect, the jobs cut by it are tried again, every
    thread ends with each comment exactly once."""
    server = PostgresServer().start()
    try:
        url = server.create_database("workers_restart")
        env = _env(url, tmp_path / "data")
        assert _cli("db", "upgrade", env=env).returncode == 0
        with LoopbackWeb(HOSTS) as web:
            expected = {web.add_thread(host, 30, 3, seed=10 * n + k): 30
                        for n, host in enumerate(web.hosts) for k in range(2)}
            listing = tmp_path / "urls.txt"
            listing.write_text("\n".join(expected) + "\n", encoding="utf-8")
            assert _cli("archive", "--queue", "-i", str(listing), env=env).returncode == 0
            workers = [subprocess.Popen([sys.executable, "-m", "archiver.cli", "worker"],
                                        env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                        stderr=(tmp_path / f"w{n}.log").open("w"))
                       for n in range(2)]
            try:
                _wait(lambda: len(web.hits) >= 20, "a few pages read")
                server._run(str(server.bindir / "pg_ctl"), "-D", str(server.data), "-l",
                            str(server.base / "log"), "-m", "fast", "-o",
                            f"-p {server.port} -k {server.base} -h 127.0.0.1 -F", "-w",
                            "restart")

                _wait(lambda: _all_done(url, len(expected)), "every job done after the restart",
                      workers)
                assert all(proc.poll() is None for proc in workers)  # none gave up
            finally:
                for proc in workers:
                    proc.send_signal(signal.SIGTERM)
                for proc in workers:
                    proc.wait()
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            counts = {row[0]: row[1:] for row in conn.execute(
                "select t.url, count(c.id), count(distinct c.source_id) from thread t"
                " join comment c on c.thread_id = t.id group by t.url").fetchall()}
            failed = conn.execute("select count(*) from procrastinate_jobs"
                                  " where status = 'failed'").fetchone()
    finally:
        server.stop()
    assert failed == (0,)
    assert {u: counts.get(u) for u in expected} == {u: (n, n) for u, n in expected.items()}
