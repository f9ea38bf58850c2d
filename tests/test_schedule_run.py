"""Issue 5 items 1 and 4: `archiver run --once` discovers and archives from an Atom feed without
repeating work; `archiver run` killed with SIGKILL mid-thread resumes and completes; SIGTERM
finishes the page in hand and exits 0; `health` and `status` read the database."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from archiver.devserver import FixtureServer
from tests.conftest import ROOT, normalise
from tests.schedule_helpers import BLOG, PAGED, expected, paths, serve, set_file, site_config


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    env.update(extra)
    return env


def write_config(tmp_path: Path, server: FixtureServer, **kw: str) -> Path:
    path = tmp_path / "archiver.toml"
    path.write_text(site_config(server, tmp_path / "data", **kw), encoding="utf-8")
    return path


def query(db: Path, sql: str, *args: object) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def test_run_once_archives_the_feed_then_only_what_is_new_or_due(
    tmp_path: Path, cli  # type: ignore[no-untyped-def]
) -> None:
    """Item 1: three posts, then a fourth; the first three are not fetched again unless due."""
    exp = expected(BLOG)
    with serve(BLOG) as server:
        config = write_config(tmp_path, server)
        db = tmp_path / "data" / "archiver.db"
        result = cli("-c", str(config), "run", "--once")
        assert result.code == 0, result.err
        assert result.out.startswith("3 new thread(s) found, 3 archived (9 new,")
        first_three = set(exp["atom-3.xml"])
        assert paths(server)[0] == "/atom.xml" and set(paths(server)[1:]) == first_three
        assert len(paths(server)) == 4

        server.requests.clear()
        set_file(server, "/atom.xml", BLOG, "atom-4.xml")
        result = cli("-c", str(config), "run", "--once")
        assert result.code == 0, result.err
        assert result.out.startswith("1 new thread(s) found, 1 archived (5 new,")
        assert paths(server) == ["/atom.xml", exp["atom-4.xml"][0]]

        # a run with nothing new and nothing due fetches only the feed
        server.requests.clear()
        assert cli("-c", str(config), "run", "--once").code == 0
        assert paths(server) == ["/atom.xml"]

        # once a thread is due (here: made due in the database) it is fetched again
        server.requests.clear()
        tide = server.url("/2024/03/tide-tables.html")
        con = sqlite3.connect(db)
        con.execute("update thread set next_due_at = '2000-01-01 00:00:00' where url = ?", (tide,))
        con.commit()
        con.close()
        assert cli("-c", str(config), "run", "--once").code == 0
        assert paths(server) == ["/atom.xml", "/2024/03/tide-tables.html"]

        status = cli("-c", str(config), "status")
        assert status.code == 0, status.err
        health = cli("-c", str(config), "health")
        assert health.code == 0 and health.out.startswith("healthy: database ok")
        # exports select a site by its name in the config
        out = tmp_path / "harbour.jsonl"
        export = cli("-c", str(config), "export", "jsonl", "--site", "Harbour", "-o", str(out))
        assert export.code == 0, export.err
        assert len(out.read_text(encoding="utf-8").splitlines()) == 4

    counts = dict(query(db, "select t.url, count(c.id) from thread t join comment c"
                            " on c.thread_id = t.id group by t.url"))
    assert {url.split("/", 3)[3]: n for url, n in counts.items()} == {
        p["path"].lstrip("/"): p["comments"] for p in exp["posts"]}
    assert query(db, "select count(*), count(distinct url) from discoveredurl"
                     " where state = 'done'") == [(4, 4)]
    assert "harbour" in status.out and "Threads: 4 archived (4 open" in status.out
    assert "4 followed, 0 due now" in status.out and "Next due:" in status.out
    assert "Scheduler: stopped" in status.out


def test_status_shows_errors_and_health_fails_without_a_scheduler(
    tmp_path: Path, cli  # type: ignore[no-untyped-def]
) -> None:
    with serve(BLOG) as server:
        config = write_config(tmp_path, server, feed="/no-such-feed.xml")
        health = cli("-c", str(config), "health")
        assert health.code == 1 and "no database at" in health.out and health.err == ""
        assert cli("-c", str(config), "run", "--once").code == 0
        status = cli("-c", str(config), "status")
        assert "last error: " in status.out and "HTTP 404" in status.out
        health = cli("-c", str(config), "health", "--max-age", "0")
        assert health.code == 1 and "last heartbeat" in health.out and health.err == ""


def rows_now(db: Path, sql: str) -> list[tuple]:
    """The rows, or none while the database or its tables are still being created."""
    if not db.exists():
        return []
    try:
        return query(db, sql)
    except sqlite3.OperationalError:
        return []


def start_run(config: Path, log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "archiver.cli", "-c", str(config), "run"],
        cwd=ROOT, env=clean_env(), stdout=handle, stderr=subprocess.STDOUT,
    )


def wait_for(check, proc: subprocess.Popen[bytes], log: Path) -> None:  # type: ignore[no-untyped-def]
    """Poll until check() holds; fail at once if the process died first."""
    while not check():
        if proc.poll() is not None:
            raise AssertionError(f"archiver run exited {proc.returncode}:\n{log.read_text()}")
        time.sleep(0.05)


def test_sigkill_mid_thread_then_restart_completes_without_duplicates(tmp_path: Path) -> None:
    """Item 4: SIGKILL in the middle of an 8-page thread; the next start completes it."""
    exp = expected(PAGED)
    pages = exp["pages"]
    log = tmp_path / "run.log"
    with serve(PAGED, etags=True) as server:
        server.delay = 0.3  # a slow site, so the kill lands mid-thread
        config = write_config(tmp_path, server)
        db = tmp_path / "data" / "archiver.db"
        proc = start_run(config, log)
        wait_for(lambda: pages[3] in paths(server), proc, log)  # page 4 is being fetched
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL

        stored = query(db, "select count(*) from comment")[0][0]
        assert 30 <= stored < 80  # the pages before the kill are in, the thread is not complete
        assert query(db, "select state from discoveredurl") == [("queued",)]
        assert query(db, "pragma integrity_check") == [("ok",)]
        first_run = paths(server)

        server.requests.clear()
        proc = start_run(config, log)
        url = server.url(exp["url"].removeprefix("https://harbour.example.org"))
        wait_for(lambda: rows_now(db, "select state from discoveredurl") == [("done",)], proc,
                 log)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait() == 0, log.read_text()
        second_run = paths(server)
        conditional = {p: h.get("If-None-Match") for _, p, h in server.requests if p in pages}

    # the thread is complete: every comment once, in order, nothing missing
    rows = query(db, "select source_id from comment order by position")
    assert [r[0] for r in rows] == exp["comments"]
    assert query(db, "select count(*), count(distinct source_id) from comment") == [(80, 80)]
    assert query(db, "select count(*) from comment where removed_at is not null") == [(0,)]
    assert query(db, "select count(*) from commentversion") == [(0,)]
    assert query(db, "select url, pages, status from thread") == [(url, 8, "open")]
    assert query(db, "pragma integrity_check") == [("ok",)]
    # the restart did not repeat discovery (its due time is in the database) and re-read the
    # pages it already had only conditionally: they came back 304, nothing downloaded twice
    assert "/atom.xml" in first_run and "/atom.xml" not in second_run
    assert second_run == pages
    assert all(conditional[p] for p in pages[:3])  # stored before the kill: asked with ETag
    assert not any(conditional[p] for p in pages[4:])  # never stored: asked plainly
    statuses = [s for (s,) in query(db, "select status from capture where url like"
                                        " '%long-thread%' order by id")]
    assert statuses[-8:][:3] == [304, 304, 304] and statuses[-4:] == [200] * 4
    text = subprocess.run(
        [sys.executable, "-m", "archiver.cli", "-c", str(config), "export", "text", url],
        cwd=ROOT, env=clean_env(), capture_output=True, text=True, check=True,
    ).stdout
    assert normalise(text) == normalise((PAGED / "expected.txt").read_text(encoding="utf-8"))


def test_sigterm_finishes_the_page_in_hand_and_exits_0(tmp_path: Path) -> None:
    """SIGTERM mid-thread: the page being fetched is stored and merged, then a clean exit 0."""
    exp = expected(PAGED)
    pages = exp["pages"]
    log = tmp_path / "run.log"
    asked = threading.Event()
    with serve(PAGED) as server:
        base = server._httpd.RequestHandlerClass

        class Holding(base):  # type: ignore[misc, valid-type]
            """Page 2 is answered only once the process has taken the SIGTERM (its log says
            so): the signal lands while page 2 is in flight, however slow the machine."""

            def do_GET(self) -> None:  # noqa: N802
                if self.path == pages[1]:
                    asked.set()
                    give_up = time.monotonic() + 60
                    while "got SIGTERM" not in log.read_text() and time.monotonic() < give_up:
                        time.sleep(0.02)
                super().do_GET()

        server._httpd.RequestHandlerClass = Holding
        config = write_config(tmp_path, server)
        db = tmp_path / "data" / "archiver.db"
        proc = start_run(config, log)
        wait_for(asked.is_set, proc, log)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait()
        elapsed = time.monotonic() - sent
        served = paths(server)
    print(f"exit {code} {elapsed:.2f} s after SIGTERM")
    assert code == 0, log.read_text()
    assert pages[2] not in served  # it did not go on with the thread...
    # ...but the page in hand was stored and merged: 2 pages, 20 comments
    assert query(db, "select count(*) from capture where url like '%long-thread%'") == [(2,)]
    assert query(db, "select count(*) from comment") == [(20,)]
    assert query(db, "select state from discoveredurl") == [("queued",)]  # resumes next start
    (state, note), = query(db, "select state, note from heartbeat")
    assert state == "stopped" and note.startswith("stopped (shutdown took")
    assert "got SIGTERM" in log.read_text()
    assert query(db, "pragma integrity_check") == [("ok",)]


def test_health_while_running(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    with serve(BLOG) as server:
        config = write_config(tmp_path, server)
        db = tmp_path / "data" / "archiver.db"
        proc = start_run(config, log)
        wait_for(lambda: bool(rows_now(db, "select 1 from heartbeat")), proc, log)
        health = subprocess.run(
            [sys.executable, "-m", "archiver.cli", "-c", str(config), "health"],
            cwd=ROOT, env=clean_env(), capture_output=True, text=True,
        )
        wait_for(lambda: len(rows_now(db, "select 1 from discoveredurl where state = 'done'"))
                 == 3, proc, log)
        proc.send_signal(signal.SIGINT)
        assert proc.wait() == 0, log.read_text()
    assert health.returncode == 0, health.stdout + health.stderr
    assert health.stdout.startswith("healthy: database ok, scheduler running")


def test_sigterm_with_a_hung_request_still_exits_0_after_the_grace(tmp_path: Path) -> None:
    """A page that never comes back does not hold the stop: after shutdown_grace the process
    records the stop and exits 0; the thread stays due and the database stays sound."""
    exp = expected(PAGED)
    log = tmp_path / "run.log"
    hung, release = threading.Event(), threading.Event()
    with serve(PAGED) as server:
        base = server._httpd.RequestHandlerClass

        class Hanging(base):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:  # noqa: N802
                if self.path == exp["pages"][2]:  # page 3 never answers (until released)
                    hung.set()
                    release.wait()
                super().do_GET()

        server._httpd.RequestHandlerClass = Hanging
        config = write_config(tmp_path, server, extra='[scheduler]\nshutdown_grace = "1s"\n')
        db = tmp_path / "data" / "archiver.db"
        proc = start_run(config, log)
        wait_for(hung.is_set, proc, log)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait()
        elapsed = time.monotonic() - sent
        release.set()
    print(f"exit {code} {elapsed:.2f} s after SIGTERM with a hung request")
    assert code == 0, log.read_text()
    (state, note), = query(db, "select state, note from heartbeat")
    assert state == "stopped" and "abandoned" in note
    assert query(db, "select count(*) from comment") == [(20,)]  # pages 1 and 2
    assert query(db, "select state from discoveredurl") == [("queued",)]
    assert query(db, "pragma integrity_check") == [("ok",)]


def test_run_warns_while_no_contact_is_configured(
    tmp_path: Path, cli, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    with serve(BLOG) as server:
        config = write_config(tmp_path, server)
        text = config.read_text(encoding="utf-8")
        assert 'contact = "mailto:tests@example.org"\n' in text
        config.write_text(text.replace('contact = "mailto:tests@example.org"\n', ""))
        monkeypatch.delenv("ARCHIVER_FETCH_CONTACT", raising=False)
        first = cli("-c", str(config), "run", "--once")
        assert first.code == 0 and "warning: no contact configured" in first.err
        monkeypatch.setenv("ARCHIVER_FETCH_CONTACT", "mailto:archivist@example.net")
        placeholder = cli("-c", str(config), "run", "--once")  # an example address is no contact
        assert placeholder.code == 0 and "no contact configured" not in placeholder.err
        assert ("warning: the contact in our User-Agent is still a placeholder address"
                " (archivist@example.net, as in the example config)") in placeholder.err
        monkeypatch.setenv("ARCHIVER_FETCH_CONTACT", "mailto:archivist@harbour-history.test")
        second = cli("-c", str(config), "run", "--once")
        assert second.code == 0 and "no contact configured" not in second.err


def test_a_discovery_crash_is_that_sites_error_and_the_run_still_stops_cleanly(
    tmp_path: Path, cli, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    from archiver import discovery

    def crash(self, site):  # type: ignore[no-untyped-def]
        raise RuntimeError("a discovery bug")

    monkeypatch.setattr(discovery.Discoverer, "discover", crash)
    with serve(BLOG) as server:
        config = write_config(tmp_path, server)
        result = cli("-c", str(config), "run", "--once")
        assert result.code == 0, result.err
        assert "discovery failed: RuntimeError: a discovery bug" in result.err
        assert "Traceback" not in result.err
        status = cli("-c", str(config), "status")
        assert "Scheduler: stopped" in status.out
