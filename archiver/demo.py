"""The bundled sample: serve a saved thread on 127.0.0.1, archive it, write its text dump."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from archiver.config import Settings
from archiver.devserver import load_fixture, serve_fixture
from archiver.errors import UsageError
from archiver.export import text
from archiver.fetch import Fetcher
from archiver.pipeline import ArchiveReport, ThreadArchiver
from archiver.store import repo
from archiver.store.db import Store

DEFAULT_SAMPLE = Path("fixtures/typepad/moa-2018-06-08-abu-kamal/paged")


def slug(value: str) -> str:
    """A file-name-safe slug (letters, digits and dashes only)."""
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:80] or "thread"


def run_demo(settings: Settings, sample: Path = DEFAULT_SAMPLE) -> tuple[ArchiveReport, Path]:
    """Archive the sample thread from a local server; return the report and the dump's path."""
    if not (sample / "routes.json").is_file():
        raise UsageError(f"{sample}: no routes.json here (run from the project folder, or pass "
                         "--sample FOLDER)")
    _, routes = load_fixture(sample)
    first_path = min(routes, key=len)  # the post page: its comment pages extend its path
    server = serve_fixture(sample)
    try:
        store = Store(settings.db_url)
        # our own server on 127.0.0.1: no need to wait between requests
        with Fetcher(replace(settings.fetch, delay=0.0)) as fetcher:
            report = ThreadArchiver(store, fetcher).archive(server.url(first_path))
        out = settings.data_dir / "exports" / f"{slug(report.title)}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        with store.session() as session:
            thread = repo.find_thread(session, server.url(first_path))
            assert thread is not None
            with out.open("w", encoding="utf-8") as handle:
                text.write_thread(session, thread, handle)
    finally:
        server.stop()
    return report, out
