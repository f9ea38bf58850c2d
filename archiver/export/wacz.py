"""WACZ export (WACZ 1.1.1): the WARC export zipped with a CDXJ index, pages.jsonl listing every
thread page once (one entry per comment page, however many URLs reached it), and
datapackage.json (+ datapackage-digest.json) with sha256 digests.

The index is made by cdxj-indexer, the indexer behind the `wacz` tool and pywb; it leaves out
304 (server-not-modified) revisits, so replay lands on full responses. WARCs and the index are
stored uncompressed in the zip (WARC records are gzipped one by one), so replay tools can read
records at their offsets.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from cdxj_indexer.main import CDXJIndexer
from sqlmodel import Session

from archiver import __version__
from archiver.export import warc
from archiver.export.output import cannot_write
from archiver.export.selection import Resolved
from archiver.store.models import Capture, Thread

WACZ_VERSION = "1.1.1"
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
SORT_BUFFER = 8 * 1024 * 1024  # bytes of index lines sorted in memory before spilling to disk


@dataclass(slots=True)
class WaczReport:
    path: Path
    warc: warc.WarcReport
    pages: int = 0
    index_lines: int = 0
    files: list[str] = field(default_factory=list)


def _sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return "sha256:" + digest.hexdigest(), size


def _page_writer(pages: TextIO, counter: list[int]) -> warc.PageCallback:
    def on_page(thread: Thread, capture: Capture, date: str) -> None:
        title = thread.title or thread.url
        if capture.page_number and capture.page_number > 1:
            title = f"{title} (comments page {capture.page_number})"
        url = warc.target_uri(capture.url)  # the WARC-Target-URI of the page's response
        page = {
            "id": hashlib.sha256(f"{url} {date}".encode()).hexdigest()[:24],
            "url": url,
            "ts": date,
            "title": title,
        }
        pages.write(json.dumps(page, ensure_ascii=False) + "\n")
        counter[0] += 1

    return on_page


class _IndexLines:
    """Where the indexer writes its sorted lines: leaves out 304 revisits and counts the rest."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lines = 0

    def write(self, line: str) -> None:
        fields = json.loads(line.split(" ", 2)[2])
        if fields.get("mime") == "warc/revisit" and fields.get("status") == "304":
            return  # a replay tool landing here would serve an empty 304, not the page
        self.out.write(line)
        self.lines += 1

    def flush(self) -> None:
        self.out.flush()


def _index(warc_paths: list[Path], index_path: Path) -> int:
    """Sorted CDXJ of the response, revisit and metadata records of the WARCs (without the
    server-not-modified revisits, which stay in the WARCs); returns the number of lines."""
    with index_path.open("w", encoding="utf-8", newline="\n") as out:
        lines = _IndexLines(out)
        indexer = CDXJIndexer(
            lines, [str(p) for p in warc_paths], sort=True, max_sort_buff_size=SORT_BUFFER,
        )
        indexer.process_all()
    return lines.lines


def export(session: Session, resolved: Resolved, out: Path, *,
           max_size: int = warc.DEFAULT_MAX_SIZE) -> WaczReport:
    """Write the selection as one .wacz file at out (a folder gets a timestamped name)."""
    created = datetime.now(UTC)
    if out.is_dir():
        out = out / f"archiver-{created:%Y%m%d%H%M%S}.wacz"
    try:
        work = tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent)
    except OSError as exc:
        raise cannot_write(out, exc) from None
    with work as tmp:
        root = Path(tmp)
        (root / "archive").mkdir()
        (root / "indexes").mkdir()
        (root / "pages").mkdir()
        pages_path = root / "pages" / "pages.jsonl"
        counter = [0]
        with pages_path.open("w", encoding="utf-8", newline="\n") as pages:
            pages.write(json.dumps(PAGES_HEADER) + "\n")
            warc_report = warc.export(
                session, resolved, root / "archive" / "data.warc.gz",
                max_size=max_size, on_page=_page_writer(pages, counter),
            )
        index_path = root / "indexes" / "index.cdx"
        index_lines = _index(warc_report.files, index_path)

        members = [*(f"archive/{p.name}" for p in warc_report.files),
                   "indexes/index.cdx", "pages/pages.jsonl"]
        resources = []
        for member in members:
            digest, size = _sha256_file(root / member)
            resources.append({
                "name": os.path.basename(member).lower(), "path": member,
                "hash": digest, "bytes": size,
            })
        datapackage = {
            "profile": "data-package",
            "wacz_version": WACZ_VERSION,
            "title": f"archiver export: {resolved.describe()}",
            "description": f"{warc_report.threads} thread(s), {warc_report.captures} capture(s); "
                           f"selection: {resolved.describe()}",
            "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "modified": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "software": f"archiver {__version__}",
            "resources": resources,
        }
        package_bytes = json.dumps(datapackage, indent=2, ensure_ascii=False).encode("utf-8")
        package_digest = {
            "path": "datapackage.json",
            "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest(),
        }
        part = out.with_name(out.name + ".part")
        try:
            with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_STORED) as zf:
                for member in members:
                    zf.write(root / member, member)
                zf.writestr("datapackage.json", package_bytes)
                zf.writestr("datapackage-digest.json",
                            json.dumps(package_digest, indent=2).encode("utf-8"))
            os.replace(part, out)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise cannot_write(out, exc) from None
    return WaczReport(out, warc_report, counter[0], index_lines, members)
