"""Run the archiver CLI in this process, counting rows written per table and pages parsed.

    python bench/archive_child.py --stats OUT.json -- archive URL

Counters: every INSERT/UPDATE/DELETE the database executes (rows, by table), and every call of
an adapter's ``parse_page``. The CLI runs unchanged; the counters only watch.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_WRITE = re.compile(r"\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)
rows: Counter[str] = Counter()
parsed: Counter[str] = Counter()


@event.listens_for(Engine, "after_cursor_execute")
def _count(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    found = _WRITE.match(statement)
    if not found:
        return
    verb = found.group(1).split()[0].upper()
    count = cursor.rowcount
    if count is None or count < 0:
        count = len(parameters) if executemany else 1
    rows[f"{verb} {found.group(2).lower()}"] += count


def _watch_adapters() -> None:
    from archiver.adapters import ADAPTERS

    for module in ADAPTERS:
        original = getattr(module, "parse_page", None)
        if original is None:  # an adapter read through its callbacks alone
            continue

        def counting(
            html: str, url: str, _original: Any = original, _name: str = module.PLATFORM
        ) -> Any:
            parsed[_name] += 1
            return _original(html, url)

        module.parse_page = counting


def main() -> int:
    argv = sys.argv[1:]
    if len(argv) < 3 or argv[0] != "--stats" or argv[2] != "--":
        print("usage: archive_child.py --stats OUT.json -- ARCHIVER-ARGS...", file=sys.stderr)
        return 2
    stats_path, args = Path(argv[1]), argv[3:]
    started = time.perf_counter()
    _watch_adapters()
    from archiver.cli import main as cli_main

    imported = time.perf_counter()
    code = cli_main(args)
    done = time.perf_counter()
    stats = {
        "exit": code,
        "rows_written": dict(rows),
        "comment_rows_written": sum(v for k, v in rows.items() if k.endswith(" comment")),
        "pages_parsed": sum(parsed.values()),
        "import_s": imported - started,
        "run_s": done - imported,
    }
    stats_path.write_text(json.dumps(stats), encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main())
