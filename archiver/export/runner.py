"""Run one export: check the selection and the output path, call the format's writer, and say
what was written (the `archiver export` command is a thin wrapper around run_export).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session

from archiver.errors import UsageError
from archiver.export import output
from archiver.export.selection import Resolved, Selection, iter_threads, parse_since, resolve
from archiver.store.db import Store
from archiver.store.models import Site

FORMATS = ("text", "jsonl", "html", "warc", "wacz")
STDOUT = "-"

Say = Callable[[str], None]


def _export_text(session: Session, resolved: Resolved, out: str | None, say: Say) -> None:
    from archiver.export import text

    single = resolved.selection.url is not None and resolved.thread_count == 1
    target = STDOUT if out is None and single else out
    if target is None:
        raise UsageError("--out FOLDER is needed to export the text of several threads")
    if target == STDOUT:
        if not single:
            raise UsageError("-o - (stdout) takes a single thread: give --out FOLDER instead")
        thread = next(iter_threads(session, resolved))
        text.write_thread(session, thread, sys.stdout)
        return
    path = Path(target)
    if single and not path.is_dir():
        thread = next(iter_threads(session, resolved))
        path = output.prepare_file(path)
        try:
            with open(path, "w", encoding="utf-8") as handle:
                text.write_thread(session, thread, handle)
        except OSError as exc:
            raise output.cannot_write(path, exc) from None
        say(f"Wrote {path}")
        return
    output.prepare_folder(path)
    written = output.Written()
    for thread in iter_threads(session, resolved):
        site = session.get(Site, thread.site_id)
        folder = output.inside(path, output.site_slug(site)) if site else path
        file = output.inside(folder, output.thread_slug(thread) + ".txt")
        with output.atomic_text(file, written) as handle:
            text.write_thread(session, thread, handle)
    say(f"Wrote {written.total} thread(s) as text into {path} "
        f"({written.changed} changed, {written.unchanged} unchanged)")


def _export_jsonl(session: Session, resolved: Resolved, out: str | None, say: Say) -> None:
    from archiver.export import jsonl

    if out is None or out == STDOUT:
        jsonl.write_selection(session, resolved, sys.stdout)
        return
    path = output.prepare_file(Path(out))
    with output.atomic_text(path) as handle:
        threads, comments = jsonl.write_selection(session, resolved, handle)
    say(f"Wrote {path}: {threads} thread(s), {comments} comment(s)")


def _need_out(fmt: str, out: str | None) -> Path:
    if out is None or out == STDOUT:
        what = "FOLDER" if fmt == "html" else "FILE"
        raise UsageError(f"export {fmt} needs --out {what} (it cannot go to stdout)")
    return Path(out)


def _export_html(session: Session, resolved: Resolved, out: str | None, say: Say) -> None:
    from archiver.export import html

    report = html.export(session, resolved, _need_out("html", out))
    written, p = report.written, output.plural
    files = (f"nothing changed ({p(written.unchanged, 'file')} already up to date)"
             if not written.changed else
             f"{p(written.changed, 'file')} new or changed, {written.unchanged} unchanged")
    say(
        f"Wrote mirror {report.folder}/index.html: {p(report.threads, 'thread')}, "
        f"{p(report.comments, 'comment')}, {p(report.sites, 'site')}; {files}"
    )


def _export_warc(session: Session, resolved: Resolved, out: str | None, say: Say,
                 max_size: int) -> None:
    from datetime import UTC, datetime

    from archiver.export import warc

    path = output.prepare_file(warc.output_path(_need_out("warc", out), datetime.now(UTC)))
    report = warc.export(session, resolved, path, max_size=max_size)
    for file in report.files:
        say(f"Wrote {file}")
    say(
        f"{report.threads} thread(s), {report.captures} capture(s): {report.responses} "
        f"response(s), {report.revisits} revisit(s), {report.metadata} metadata record(s)"
    )


def _export_wacz(session: Session, resolved: Resolved, out: str | None, say: Say,
                 max_size: int) -> None:
    from archiver.export import wacz

    path = _need_out("wacz", out)
    if not path.is_dir():
        path = output.prepare_file(path)
    report = wacz.export(session, resolved, path, max_size=max_size)
    say(
        f"Wrote {report.path}: {report.warc.threads} thread(s), {report.warc.captures} "
        f"capture(s), {report.pages} page(s), {len(report.warc.files)} WARC file(s)"
    )


def run_export(
    store: Store,
    fmt: str,
    *,
    url: str | None = None,
    out: str | None = None,
    site: str | None = None,
    since: str | None = None,
    max_size: str | None = None,
    site_hosts: frozenset[str] = frozenset(),
    say: Say = print,
) -> None:
    """Export the selection in fmt to out. Raises UsageError (one readable line) on a bad format,
    a selection matching nothing, or an output that cannot be written."""
    fmt = fmt.strip().lower()
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")
    size = None
    if max_size is not None:
        if fmt not in ("warc", "wacz"):
            raise UsageError("--max-size applies only to warc and wacz exports")
        from archiver.export.warc import parse_size

        size = parse_size(max_size)
    selection = Selection(
        url=url, site=site, since=parse_since(since) if since else None, site_hosts=site_hosts
    )
    with store.session() as session:
        resolved = resolve(session, selection)
        if fmt == "text":
            _export_text(session, resolved, out, say)
        elif fmt == "jsonl":
            _export_jsonl(session, resolved, out, say)
        elif fmt == "html":
            _export_html(session, resolved, out, say)
        else:
            from archiver.export.warc import DEFAULT_MAX_SIZE

            exporter = _export_warc if fmt == "warc" else _export_wacz
            exporter(session, resolved, out, say, size or DEFAULT_MAX_SIZE)
