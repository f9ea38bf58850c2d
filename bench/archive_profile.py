"""Where an archive's CPU goes (issue 17, item 2): one in-process `archiver archive` of the
5,000-comment synthetic thread (50 pages, 127.0.0.1, delay 0), its store made first (the
migrations are not counted, nor is Python's start-up: bench/archive_bench.py measures those).

By default it prints the CPU (time.thread_time of the archiving thread) spent in each step:
parse, merge (with its fresh read and lock), fetch + captures, commits, the URL's state, the
pictures step. With --cprofile it prints cProfile's table instead (sorted by --sort).

    python bench/archive_profile.py [--pictures on|off] [--cprofile] [--sort tottime] [--lines 40]
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from common import serve_pages
from gen_thread import make_thread


def _timed(owner: Any, name: str, label: str, spent: collections.Counter[str]) -> None:  # noqa: ANN401
    """Replace owner.name by a wrapper adding its thread CPU time to spent[label]."""
    func: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        start = time.thread_time()
        try:
            return func(*args, **kwargs)
        finally:
            spent[label] += time.thread_time() - start

    setattr(owner, name, wrapper)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pictures", choices=("on", "off"), default="on")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--lines", type=int, default=40)
    args = parser.parse_args(argv)
    thread = make_thread(5000, 100, seed=1)
    server = serve_pages(thread.pages, thread.origin)
    data = tempfile.mkdtemp(prefix="archiver-profile-")
    os.environ.update(ARCHIVER_DATA_DIR=data, ARCHIVER_DELAY="0", ARCHIVER_DATABASE_URL="",
                      ARCHIVER_CONFIG="",
                      ARCHIVER_PICTURES_ENABLED="true" if args.pictures == "on" else "false")
    try:
        from archiver.store.db import Store

        Store(f"sqlite:///{data}/archiver.db").close()  # the schema first: not counted
        from sqlalchemy.orm import Session

        import archiver.pipeline.engine as engine
        import archiver.pipeline.merging as merging
        import archiver.store.captures as captures
        import archiver.store.repo as repo
        from archiver.adapters import typepad
        from archiver.cli import main as cli

        spent: collections.Counter[str] = collections.Counter()
        if not args.cprofile:
            for owner, name, label in (
                (typepad, "parse_page", "parse (typepad.parse_page)"),
                (repo, "merge_page", "merge_page (all of it)"),
                (repo, "existing_comments", "  of it: the fresh read of stored comments"),
                (repo, "lock_thread", "  of it: the thread's lock"),
                (repo, "insert_comments", "  of it: the insert of new comments"),
                (repo, "url_state", "the URL's state"),
                (captures, "save_capture", "storing captures"),
                (engine.ThreadArchiver, "_fetch", "fetch + storing captures"),
                (Session, "commit", "commits"),
                (engine, "fetch_pictures", "pictures step"),
                (merging.repo, "settle_comments", "settle (removals)"),
            ):
                _timed(owner, name, label, spent)
        url = server.url(thread.post_path)
        profile = None
        if args.cprofile:
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        start = time.thread_time()
        code = cli(["archive", url])
        total = time.thread_time() - start
        if profile is not None:
            profile.disable()
    finally:
        server.stop()
    print(f"exit code {code}; CPU of the archive (this thread): {total:.3f} s")
    if profile is not None:
        import pstats

        pstats.Stats(profile).sort_stats(args.sort).print_stats(args.lines)
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"{seconds:7.3f} s  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
