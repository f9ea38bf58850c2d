"""Issue 18 with workers: on PostgreSQL with a live `archiver worker`, the archive form queues the
URL for the workers instead of fetching it itself, and its job page follows the job to the thread.
A queued form job is fetched by the worker under the form's address rules (a worker whose config
does not allow loopback refuses to fetch it, asking the server nothing)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup

from archiver.devserver import serve_fixture
from archiver.schedule.queue import Queued, job_states, queue_urls
from tests.conftest import MOA, MOA_PATH, ROOT
from tests.pgserver import PostgresServer
from tests.test_web import form_token
from tests.test_workers_postgres import _cli, _env
from tests.web_helpers import LiveServer, settings_for

LOOPBACK = "127.0.0.0/8"


@contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "archiver.cli", "worker"], env=env, cwd=ROOT,
                            text=True, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait()


def wait_for(condition, what: str, proc: subprocess.Popen[str]) -> None:  # type: ignore[no-untyped-def]
    """No time limit: a worker that exits in the meantime fails the test at once."""
    while not condition():
        assert proc.poll() is None, f"the worker exited ({proc.returncode}) before {what}"
        time.sleep(0.1)


def job_page(live: LiveServer, location: str) -> BeautifulSoup:
    answer = httpx.get(live.url + location)
    assert answer.status_code == 200, answer.text[:300]
    return BeautifulSoup(answer.text, "lxml")


def post_form(live: LiveServer, url: str) -> str:
    with httpx.Client() as client:
        token = form_token(live, client)
        answer = client.post(live.url + "/archive", headers={"Origin": live.url},
                             data={"url": url, "csrf": token})
    assert answer.status_code == 303, answer.text[:300]
    return answer.headers["location"]


def follow(live: LiveServer, location: str, proc: subprocess.Popen[str]) -> BeautifulSoup:
    """The job page once the job is finished (it reloads itself until then)."""
    pages: list[BeautifulSoup] = []

    def finished() -> bool:
        pages.append(job_page(live, location))
        return pages[-1].select_one('meta[http-equiv="refresh"]') is None

    wait_for(finished, "the job finished", proc)
    return pages[-1]


def test_the_form_queues_for_live_workers_and_they_fetch_under_its_rules(
        postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = postgres.create_database("web_workers")
    env = _env(database, tmp_path / "data")
    assert _cli("db", "upgrade", env=env).returncode == 0
    for key, value in env.items():
        if key.startswith("ARCHIVER_"):
            monkeypatch.setenv(key, value)
    settings = settings_for(tmp_path, allow_networks=LOOPBACK)
    site = serve_fixture(MOA / "paged")
    live = LiveServer(settings).start()
    try:
        url = site.url(MOA_PATH)
        jobs = live.app.state.web.jobs
        form = job_page(live, "/archive").select_one("p.meta").get_text(" ", strip=True)
        assert jobs.live_workers() == 0 and "by this server" in form

        # a worker whose config allows no loopback address: the form (which allows it) queues,
        # the worker refuses to connect, the fixture server is asked nothing
        with worker(env, tmp_path / "strict-worker.log") as proc:
            wait_for(lambda: jobs.live_workers() == 1, "its first heartbeat", proc)
            form = job_page(live, "/archive").select_one("p.meta").get_text(" ", strip=True)
            assert "by the 1 archiver worker process sharing this database" in form
            location = post_form(live, url)
            queued = jobs.get(int(location.rsplit("/", 1)[1]))
            assert queued.worker_job is not None
            assert queued.message in ("queued for the workers (1 alive)",
                                      "a worker is archiving it")  # it may have begun
            page = follow(live, location, proc)
        assert page.select_one("#state").get_text() == "failed"
        assert "the worker could not archive it" in page.select_one("#message").get_text()
        assert site.requests == []

        # a worker allowed loopback for the form's archives ([serve] allow_networks, as the
        # server's own config): the same form post is archived by it
        allowed = {**env, "ARCHIVER_SERVE_ALLOW_NETWORKS": LOOPBACK}
        with worker(allowed, tmp_path / "worker.log") as proc:
            wait_for(lambda: jobs.live_workers() >= 1, "its first heartbeat", proc)
            location = post_form(live, url)
            page = follow(live, location, proc)
            assert page.select_one("#state").get_text() == "done", page.get_text()
            assert "archived by a worker: 40 comments" in page.select_one("#message").get_text()
            thread = job_page(live, page.select_one("a.thread-link")["href"])
            assert len(thread.select("article.comment")) == 40
            assert any(path.endswith(".html") for _, path, _ in site.requests)


        # no worker left: a URL queued twice (in two of its forms) is one job, the second
        # call told which
        later = site.url("/2018/07/a-later-post.html")
        twice = queue_urls(settings, [later, later.replace("http://", "HTTP://") + "?fbclid=1"])
        assert twice[0].new and twice[0].job_id is not None
        assert twice[1] == Queued(twice[0].job_id, False)
        assert job_states(live.store.engine, [twice[0].job_id]) == {twice[0].job_id: "todo"}
    finally:
        live.stop()
        site.stop()
