"""Start many real `archiver` CLI processes quickly: this process imports the CLI once, then for
each request forks children that each run `archiver.cli.main(argv)` (what `python -m
archiver.cli` runs) with their own environment, stdout and stderr files, and exit code.

Used by the concurrency tests, where 40 interpreter start-ups (1.5 s of imports each) would cost
a minute. Protocol: one JSON line per batch on stdin, {"runs": [{"argv": [...], "env": {...},
"out": PATH, "err": PATH}, ...]}; the answer is one JSON line per child as it exits,
{"child": INDEX, "code": CODE}, its exit status (-N: killed by signal N).
"""

from __future__ import annotations

import json
import os
import sys

import archiver.adapters.typepad  # noqa: F401  (imported once here, not in every child)
import archiver.fetch  # noqa: F401
import archiver.pipeline  # noqa: F401
from archiver.cli import main


def child(run: dict) -> None:
    """In the forked child: become one `archiver` process, then exit with its code."""
    code = 1
    try:
        for name in [n for n in os.environ if n.startswith("ARCHIVER_")]:
            del os.environ[name]
        os.environ.update(run["env"])
        for fd, path in ((1, run["out"]), (2, run["err"])):
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(handle, fd)
            os.close(handle)
        code = main(run["argv"])
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    for line in sys.stdin:
        runs = json.loads(line)["runs"]
        pids: dict[int, int] = {}
        for index, run in enumerate(runs):
            pid = os.fork()
            if pid == 0:
                child(run)
            pids[pid] = index
        while pids:
            pid, status = os.wait()
            if pid in pids:
                index = pids.pop(pid)
                code = os.waitstatus_to_exitcode(status)
                print(json.dumps({"child": index, "code": code}), flush=True)


if __name__ == "__main__":
    serve()
