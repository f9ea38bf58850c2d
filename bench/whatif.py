"""Before/after: run benchmarks on two versions of the `archiver` package, side by side.

    python bench/whatif.py --base REV [--only parse,archive]      # REV's code -> this tree
    python bench/whatif.py --patch FILE.diff [--patch ...]        # this tree -> tree + patches
    python bench/whatif.py --base REV --patch FILE.diff           # REV's code -> tree + patches

"before" is this tree's ``archiver/`` package, or with --base the package as committed at the
git revision REV; "after" is this tree's package, with each --patch applied (``patch -p1``) when
given. Both are copies in a temporary folder. The two are checked first to parse every fixture
page and a set of synthetic pages identically; each benchmark then runs twice (before, after),
each in its own process, and the table shows both. Nothing in the tree is changed.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from common import BENCH, ROOT, Row, machine, postgres_binaries, replace_block, table

SCRIPTS = ("parse", "archive", "refresh", "store", "export")


def dump_parses(out: Path) -> None:
    """Child mode: parse every fixture page and some synthetic pages; pickle the results."""
    from gen_thread import make_thread

    from archiver.adapters import typepad

    def plain(page: Any) -> dict[str, Any]:
        # fields added to the contract since (reply parent, kind) compared only when set
        found: dict[str, Any] = asdict(page)
        for comment in found["comments"]:
            if comment.get("parent_source_id", 0) is None and comment.get("kind") == "comment":
                del comment["parent_source_id"], comment["kind"]
        return found

    results: list[tuple[str, object]] = []
    for spec_path in sorted((ROOT / "fixtures").rglob("routes.json")):
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        for path, file in sorted(spec["routes"].items()):
            html = (spec_path.parent / file).read_bytes().decode("utf-8", "replace")
            url = spec.get("origin", "http://127.0.0.1") + path
            try:
                results.append((url, plain(typepad.parse_page(html, url))))
            except Exception as exc:  # noqa: BLE001 - the error itself is compared
                results.append((url, f"{type(exc).__name__}: {exc}"))
    for n, per_page, seed in ((2000, 2000, 5), (450, 100, 6), (1, 1, 7), (0, 100, 8)):
        thread = make_thread(n, per_page, seed=seed)
        for path, html in thread.pages.items():
            results.append((path, plain(typepad.parse_page(html, thread.url()))))
    out.write_bytes(pickle.dumps(results))


def _copy_tree(dest: Path) -> None:
    """This tree's archiver/ package, copied into dest."""
    shutil.copytree(ROOT / "archiver", dest / "archiver",
                    ignore=shutil.ignore_patterns("__pycache__"))


def _export_rev(rev: str, dest: Path) -> str | None:
    """The archiver/ package as committed at rev, written into dest; a problem, or None."""
    listing = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev, "archiver"],
                             capture_output=True)
    if listing.returncode != 0:
        return f"git archive {rev}: {listing.stderr.decode(errors='replace').strip()}"
    done = subprocess.run(["tar", "-x", "-C", str(dest)], input=listing.stdout,
                          capture_output=True)
    if done.returncode != 0:
        return f"tar: {done.stderr.decode(errors='replace').strip()}"
    return None


def describe(base: str | None, patches: list[Path]) -> str:
    before = f"code at {base}" if base else "this tree"
    after = "this tree" + (f" + {', '.join(p.name for p in patches)}" if patches else "")
    return f"{before} -> {after}"


def _child(args: list[str], source: Path | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("ARCHIVER_BENCH_SRC", None)
    if source is not None:
        env["ARCHIVER_BENCH_SRC"] = str(source)
    return subprocess.run([sys.executable, *args], cwd=source or ROOT, env=env,
                          capture_output=True, text=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--dump"]:
        dump_parses(Path(argv[1]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", metavar="REV",
                        help="git revision whose archiver/ package is 'before' (default: tree)")
    parser.add_argument("--patch", action="append", type=Path, default=[],
                        help="a patch to apply to this tree's package for 'after' (repeatable)")
    parser.add_argument("--only", default="parse,archive,refresh,store",
                        help="benchmarks to run before and after")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--update-doc", action="store_true",
                        help="write the table into docs/benchmarks.md (between whatif markers)")
    args = parser.parse_args(argv)
    patches = [p.resolve() for p in args.patch]
    if args.base is None and not patches:
        print("error: nothing to compare: give --base REV and/or --patch FILE", file=sys.stderr)
        return 2
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    if any(s not in SCRIPTS for s in chosen):
        print(f"error: --only takes some of {', '.join(SCRIPTS)}", file=sys.stderr)
        return 2
    missing = [p for p in patches if not p.is_file()]
    if missing:
        print(f"error: no such patch: {missing[0]}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="archiver-whatif-"))
    try:
        sources = {"before": work / "before", "after": work / "after"}
        for folder in sources.values():
            folder.mkdir()
        if args.base is None:
            _copy_tree(sources["before"])
        else:
            problem = _export_rev(args.base, sources["before"])
            if problem:
                print(f"error: {problem}", file=sys.stderr)
                return 2
        _copy_tree(sources["after"])
        for patch in patches:
            done = subprocess.run(["patch", "-p1", "--forward", "--batch", "-d",
                                   str(sources["after"]), "-i", str(patch)],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                print(f"error: {patch.name} does not apply to this tree:\n{done.stdout}",
                      file=sys.stderr)
                return 2
        described = describe(args.base, patches)
        print(f"comparing: {described}", file=sys.stderr)
        # same output first
        dumps = []
        for label, source in sources.items():
            out = work / f"{label}.pickle"
            done = _child([str(BENCH / "whatif.py"), "--dump", str(out)], source)
            if done.returncode != 0:
                print(f"error: {label} code failed to parse:\n{done.stderr}", file=sys.stderr)
                return 2
            dumps.append(pickle.loads(out.read_bytes()))
        differ = [a[0] for a, b in zip(*dumps, strict=True) if a != b]
        if differ:
            print(f"error: before and after parse differently: {differ[:5]}", file=sys.stderr)
            return 2
        print(f"same parse results on {len(dumps[0])} pages", file=sys.stderr)
        rows: list[Row] = []
        for name in chosen:
            results = {}
            for label, source in sources.items():
                out = work / f"{name}-{label}.json"
                command = [str(BENCH / f"{name}_bench.py"), "--json", str(out)]
                if args.quick:
                    command.append("--quick")
                if name == "store" and postgres_binaries():
                    command.append("--start-postgres")
                print(f"== {name}, {label}", file=sys.stderr, flush=True)
                done = _child(command, source)
                if done.returncode != 0:
                    print(done.stderr, file=sys.stderr)
                    return 1
                results[label] = [Row(**r) for r in json.loads(out.read_text())["rows"]]
            after = {(r.case, r.figure): r for r in results["after"]}
            for row in results["before"]:
                new = after.get((row.case, row.figure))
                if new is None:
                    continue
                rows.append(Row(row.bench, row.case, row.figure,
                                f"{row.value} -> {new.value}", row.target,
                                f"{row.verdict or '-'} -> {new.verdict or '-'}"
                                if row.target else "", f"after: {new.note}" if new.note else ""))
        info = machine()
        result = (f"Before -> after: {described}. Machine: {info['nproc']} CPUs "
                  f"({info['cpu']}), Python {info['python']}.\n\n" + table(rows))
        print(result)
        if args.update_doc:
            replace_block(ROOT / "docs" / "benchmarks.md", "<!-- whatif:start -->",
                          "<!-- whatif:end -->", result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
