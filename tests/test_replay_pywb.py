"""Issue 16, item 6: our exports replay in the tool people use. pywb (its own environment, made by
scripts/test.sh) is run over a WARC and a WACZ exported by archiver; every comment page of the
seed's paged thread is fetched through it, raw (`id_`), and must be the bytes the site served,
the second read's 304s (revisit records in the export) resolved to their originals."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT

PYWB = ROOT / ".venv-pywb" / "bin"
PAGES = ["/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan.html",
         "/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan/comments/page/2/",
         "/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan/comments/page/3/"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def pywb_over(files: list[Path], root: Path, *, unpack: bool = False) -> Iterator[str]:
    """pywb serving a collection `coll` made of files; yields its base URL."""
    if not (PYWB / "pywb").exists():
        pytest.fail("pywb is required: scripts/test.sh makes .venv-pywb (pip install pywb)")
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(PYWB / "wb-manager"), "init", "coll"], cwd=root, check=True,
                   capture_output=True)
    add = [str(PYWB / "wb-manager"), "add", *(["--unpack-wacz"] if unpack else []), "coll"]
    subprocess.run([*add, *map(str, files)], cwd=root, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([str(PYWB / "pywb"), "-p", str(port), "-b", "127.0.0.1"],
                              cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # until it listens (start-up, not a time limit on the test)
            if server.poll() is not None:
                pytest.fail(f"pywb exited: {server.stderr.read().decode()[-500:]}")
            try:
                urllib.request.urlopen(base + "/coll/", timeout=5).close()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait()


def replay(base: str, url: str, stamp: str) -> bytes:
    with urllib.request.urlopen(f"{base}/coll/{stamp}id_/{url}", timeout=60) as answer:
        assert answer.status == 200
        return answer.read()


@pytest.mark.parametrize("fmt", ["warc", "wacz"])
def test_pywb_replays_every_comment_page_of_our_export(
    fmt: str, moa_paged, data_dir: Path, cli, tmp_path: Path
) -> None:
    urls = {path: moa_paged.url(path) for path in PAGES}
    served = {}  # the bytes the site sends (the devserver rewrites the case's origin)
    for path in PAGES:
        with urllib.request.urlopen(urls[path], timeout=60) as answer:
            served[path] = answer.read()
    assert cli("archive", urls[PAGES[0]]).code == 0
    time.sleep(1.1)  # replay indexes have whole seconds: the second read must not share them
    assert cli("archive", urls[PAGES[0]]).code == 0  # the same bytes again: revisits
    moa_paged.stop()
    export = tmp_path / f"thread.{fmt}" if fmt == "wacz" else tmp_path / "thread.warc.gz"
    assert cli("export", fmt, "--out", str(export)).code == 0
    if fmt == "warc":
        from warcio.archiveiterator import ArchiveIterator

        with export.open("rb") as stream:
            kinds = [r.rec_type for r in ArchiveIterator(stream)]
        assert kinds.count("revisit") >= 3  # the second read's pages (and robots.txt)
    with pywb_over([export], tmp_path / "pywb", unpack=fmt == "wacz") as base:
        for stamp in ("1", "2100"):  # nearest the first read, and nearest the 304 revisits
            for path in PAGES:
                assert replay(base, urls[path], stamp) == served[path], (stamp, path)
