"""The threads listing as `archiver threads` prints it: a table on a terminal, TSV with a header
line when piped, or JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from rich.console import Console

THREAD_COLUMNS = ("url", "title", "comments", "last_fetched", "status")


def iso_seconds(value: datetime | None) -> str | None:
    """UTC, ISO 8601 to the second: 2026-11-30T09:39:01Z (SQLite gives naive UTC back)."""
    if value is None:
        return None
    return f"{value.astimezone(UTC) if value.tzinfo else value:%Y-%m-%dT%H:%M:%SZ}"


def print_threads(rows: list[dict[str, object]], *, as_json: bool, terminal: bool) -> None:
    """Print the rows (one dict of THREAD_COLUMNS per thread) on stdout."""
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    elif terminal:
        _table(rows)
    else:
        print("\t".join(THREAD_COLUMNS))
        for row in rows:
            print("\t".join(" ".join(str(row[c] or "").split()) for c in THREAD_COLUMNS))


def _table(rows: list[dict[str, object]]) -> None:
    from rich import box
    from rich.table import Table

    if not rows:
        print("No threads archived yet.")
        return
    out = Console(highlight=False)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Title")
    table.add_column("Comments", justify="right", no_wrap=True)
    table.add_column("Last fetched (UTC)", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("URL", overflow="fold")  # whole when the terminal allows, else folded
    for row in rows:
        fetched = str(row["last_fetched"] or "-").replace("T", " ")[:16]
        table.add_row(str(row["title"]), str(row["comments"]), fetched, str(row["status"]),
                      str(row["url"]))
    out.print(table)
