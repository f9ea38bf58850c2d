"""The bundled sample: serve a saved thread on 127.0.0.1, archive it, export it (text, HTML)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from archiver.config import Settings
from archiver.devserver import load_fixture, serve_fixture
from archiver.errors import UsageError
from archiver.export.runner import run_export
from archiver.fetch import Fetcher
from archiver.pipeline import ArchiveReport, ThreadArchiver
from archiver.store.db import Store

DEMO_PORT = 8642
DEFAULT_SAMPLE = Path("fixtures/typepad/moa-2018-06-08-abu-kamal/paged")


def slug(value: str) -> str:
    """A file-name-safe slug (letters, digits and dashes only)."""
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:80] or "thread"


def run_demo(
    settings: Settings, sample: Path = DEFAULT_SAMPLE, *, say: Callable[[str], None] = print,
    port: int = DEMO_PORT,
) -> tuple[ArchiveReport, Path]:
    """Archive the sample thread from a local server, then export it as a text dump and an
    offline HTML mirror under the data dir (the CLI gives the demo a data dir of its own);
    return the report and the exports folder."""
    bundled = Path(__file__).resolve().parent.parent / sample  # run from another folder
    if not (sample / "routes.json").is_file() and not sample.is_absolute() \
            and (bundled / "routes.json").is_file():
        sample = bundled
    if not (sample / "routes.json").is_file():
        raise UsageError(f"{sample}: no routes.json here (run from the project folder, or pass "
                         "--sample FOLDER)")
    _, routes = load_fixture(sample)
    first_path = min(routes, key=len)  # the post page: its comment pages extend its path
    server = serve_fixture(sample, port=port)  # a fixed port: re-runs find the same thread
    try:
        store = Store(settings.db_url)
        url = server.url(first_path)
        # our own server on 127.0.0.1: no need to wait between requests
        with Fetcher(replace(settings.fetch, delay=0.0)) as fetcher:
            report = ThreadArchiver(store, fetcher).archive(url)
        say(report.summary())
        exports = settings.data_dir / "exports"
        exports.mkdir(parents=True, exist_ok=True)
        text_out = str(exports / f"{slug(report.title)}.txt")
        run_export(store, "text", url=url, out=text_out, say=say)
        run_export(store, "html", url=url, out=str(exports / "html"), say=say)
    finally:
        server.stop()
    return report, exports
