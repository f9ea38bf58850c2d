"""`archiver archive URL URL...` and `-i FILE`: many threads in one run, each host at its own
pace, every URL's outcome on its own line, the exit code the worst of theirs; and breadth: a
loopback web of many hosts (127.0.0.x) all in flight at once, checked from the servers' log."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest

from archiver.devserver import serve_fixture
from archiver.pipeline.batch import SEVERITY, worst_code
from tests.conftest import FIXTURES, MOA, MOA_PATH
from tests.loopweb import LoopbackWeb

BLOG = FIXTURES / "typepad" / "synthetic-blog"


def test_worst_code_follows_the_documented_order() -> None:
    assert worst_code([]) == 0
    assert worst_code([0, 6, 3]) == 3
    assert worst_code([3, 4, 0]) == 4
    assert worst_code([5, 2, 4]) == 2
    assert worst_code([2, 1, 6]) == 1
    assert worst_code([0, 0]) == 0
    assert SEVERITY[0] == 0 and SEVERITY[-1] == 1


def test_many_urls_from_a_file_and_arguments(data_dir: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blog, moa = serve_fixture(BLOG), serve_fixture(MOA / "paged")
    try:
        listing = tmp_path / "urls.txt"
        listing.write_text("\n".join([
            "# threads to keep",
            blog.url("/2024/03/first-light.html"),
            "",
            "not a url",
            moa.url(MOA_PATH),
            blog.url("/2024/03/missing.html"),
            "  " + blog.url("/2024/03/first-light.html#comments") + "  ",  # the same thread
        ]) + "\n", encoding="utf-8")
        result = cli("archive", blog.url("/2024/03/tide-tables.html"), "-i", str(listing))
    finally:
        blog.stop()
        moa.stop()
    assert result.code == 2, result  # the bad line (2) is worse than the 404 (3)
    archived = [line for line in result.out.splitlines() if line.startswith("Archived ")]
    assert len(archived) == 3
    assert any("'Reading The Tide Tables': 4 comments" in line for line in archived)
    assert result.out.splitlines()[-1].startswith(
        "5 threads: 3 archived, 0 incomplete, 2 failed, 1 duplicate URL skipped; ")
    assert f"{listing}:4: not an http(s) URL: 'not a url'" in result.err
    assert "missing.html: HTTP 404" in result.err
    assert "Traceback" not in result.err
    db = sqlite3.connect(data_dir / "archiver.db")
    counts = dict(db.execute("select t.url, count(c.id) from thread t join comment c"
                             " on c.thread_id = t.id group by t.url").fetchall())
    moa_comments = len(json.loads((MOA / "paged" / "expected.json").read_text())["comments"])
    assert sorted(counts.values()) == sorted([3, 4, moa_comments])


def test_stdin_and_the_worst_code_of_fetch_failures(data_dir: Path, cli,  # type: ignore[no-untyped-def]
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    blog = serve_fixture(BLOG)
    try:
        good = blog.url("/2024/03/first-light.html")
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{good}\n{blog.url('/gone.html')}\n"))
        failed = cli("archive", "-i", "-")
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{good}\n"))
        fine = cli("archive", "-i", "-", blog.url("/2024/02/old-news.html"))
    finally:
        blog.stop()
    assert failed.code == 3 and "gone.html: HTTP 404" in failed.err
    assert "'First Light Over The Quay': 3 comments" in failed.out  # the 404 stopped nothing
    assert fine.code == 0, fine
    assert fine.out.splitlines()[-1].startswith("2 threads: 2 archived, 0 incomplete, 0 failed;")


def test_no_url_at_all_is_a_usage_error(data_dir: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n\n", encoding="utf-8")
    result = cli("archive", "-i", str(empty))
    assert result.code == 2 and f"no URL in {empty}" in result.err
    missing = cli("archive", "-i", str(tmp_path / "absent.txt"))
    assert missing.code == 2 and "cannot read" in missing.err


HOSTS = 64  # loopback hosts in flight at once (bench/scale_bench.py runs 200 and more)
DELAY = 0.2


def test_a_loopback_web_of_many_hosts_all_in_flight_each_at_its_pace(  # type: ignore[no-untyped-def]
        data_dir: Path, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every host is asked its first page before any host gets an answer (the servers hold
    the first request of each host until all HOSTS have asked), and from the servers' own log
    no two requests to one host overlap or come closer than the delay."""
    monkeypatch.setenv("ARCHIVER_DELAY", str(DELAY))
    monkeypatch.setenv("ARCHIVER_FETCH_RESPECT_ROBOTS", "false")
    with LoopbackWeb(HOSTS, gate=HOSTS) as web:
        urls = [web.add_thread(host, 2, 2, seed=n) for n, host in enumerate(web.hosts)]
        # ten hosts have a second thread of two pages: three requests after the first, spaced
        urls += [web.add_thread(host, 4, 2, seed=1000 + n) for n, host in enumerate(web.hosts[:10])]
        listing = tmp_path / "urls.txt"
        listing.write_text("\n".join(urls) + "\n", encoding="utf-8")
        result = cli("archive", "--workers", str(HOSTS), "-i", str(listing))
        hits = web.by_host()
        gap = web.closest_gap()
        assert web._gate is not None and not web._gate.broken
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1].startswith(
        f"{HOSTS + 10} threads: {HOSTS + 10} archived, 0 incomplete, 0 failed; ")
    assert len(hits) == HOSTS
    assert sum(len(h) for h in hits.values()) == HOSTS + 20
    assert gap >= DELAY, gap
