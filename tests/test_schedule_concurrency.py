"""Issue 5: the scheduler archives with bounded concurrency (scheduler.workers), in both modes."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from archiver.config import load_settings
from archiver.devserver import FixtureServer
from archiver.schedule import Scheduler
from tests.schedule_helpers import REFRESH, serve

THREAD = "/2024/03/open-thread.html"


class InFlight:
    """Counts the requests for a path a server is answering at the same moment. Each such
    request is held until `meet` of them are in flight (or 10 s pass): workers that can run side
    by side are seen doing so however busy the machine, and a missing worker shows as a peak
    below `meet` rather than as a timing accident."""

    def __init__(self, path: str, meet: int) -> None:
        self.path = path
        self.meet = meet
        self.now = 0
        self.peak = 0
        self.lock = threading.Condition()

    def watch(self, server: FixtureServer) -> None:
        base = server._httpd.RequestHandlerClass
        counter = self

        class Counting(base):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:  # noqa: N802
                mine = self.path.split("?")[0] == counter.path
                if mine:
                    with counter.lock:
                        counter.now += 1
                        counter.peak = max(counter.peak, counter.now)
                        counter.lock.notify_all()
                        counter.lock.wait_for(lambda: counter.now >= counter.meet, timeout=10)
                try:
                    super().do_GET()
                finally:
                    if mine:
                        with counter.lock:
                            counter.now -= 1

        server._httpd.RequestHandlerClass = Counting


def config_for(servers: list[FixtureServer], data: Path, workers: int) -> str:
    text = f"""
[archive]
data_dir = "{data}"
[fetch]
delay = 0
[scheduler]
workers = {workers}
"""
    for i, server in enumerate(servers):
        text += f"""
[[sites]]
name = "site{i}"
url = "{server.url('/')}"
[sites.discovery]
feed = "{server.url('/atom.xml')}"
"""
    return text


def done(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("select count(*) from discoveredurl where state='done'").fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize("mode", ["once", "scheduler"])
def test_no_more_threads_in_flight_than_workers(tmp_path: Path, mode: str) -> None:
    counter = InFlight(THREAD, meet=2)
    servers = [serve(REFRESH) for _ in range(4)]  # four sites (four hosts), one thread each
    for server in servers:
        server.start()
        counter.watch(server)
    try:
        path = tmp_path / "archiver.toml"
        path.write_text(config_for(servers, tmp_path / "data", workers=2), encoding="utf-8")
        scheduler = Scheduler(load_settings(path, {}))
        db = tmp_path / "data" / "archiver.db"
        if mode == "once":
            summary = scheduler.run_once()
            assert summary.archived == 4
        else:
            scheduler.start()
            while done(db) < 4:
                time.sleep(0.05)
            assert scheduler.shutdown() is True
    finally:
        for server in servers:
            server.stop()
    assert done(db) == 4
    assert counter.peak == 2  # two at a time: never more, and the second worker was used
