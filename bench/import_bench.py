"""Import benchmark (issue 16, item 5): `archiver import` of a large WARC of mostly non-thread
records, in a child process: records per second, wall time, and the child's peak memory.

The WARC is written here: SIZE (default 1 GiB) of `image/jpeg` responses of 256 KiB (random
bytes: they do not compress, like real photos), 2,000 HTML pages that are no thread (a blog's
index pages), and the seed's paged thread (3 pages, 40 comments) in the middle. gzip per record,
as wget and archiver write them.

    python bench/import_bench.py [--size-mb 1024] [--keep WARC]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MOA = ROOT / "fixtures" / "typepad" / "moa-2018-06-08-abu-kamal" / "paged"
ORIGIN = "https://www.moonofalabama.org"


def write_warc(path: Path, size_mb: int) -> int:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    routes = json.loads((MOA / "routes.json").read_text(encoding="utf-8"))["routes"]
    image = 256 * 1024
    images = size_mb * 1024 * 1024 // image
    records = 0
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)

        def response(url: str, body: bytes, ctype: str) -> None:
            nonlocal records
            http = StatusAndHeaders("200 OK", [("Content-Type", ctype),
                                               ("Content-Length", str(len(body)))],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http))
            records += 1

        for n in range(images):
            response(f"{ORIGIN}/photos/{n}.jpg", os.urandom(image), "image/jpeg")
            if n % max(1, images // 2000) == 0:
                page = (f"<html><head><title>Index {n}</title></head><body><h2>Archives</h2>"
                        + "".join(f'<p><a href="{ORIGIN}/{n}/{k}.html">post {k}</a></p>'
                                  for k in range(30)) + "</body></html>")
                response(f"{ORIGIN}/index/{n}.html", page.encode(), "text/html; charset=utf-8")
            if n == images // 2:
                for path_, name in routes.items():
                    response(ORIGIN + path_, (MOA / name).read_bytes(),
                             "text/html; charset=utf-8")
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--keep", type=Path, help="write the WARC here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="archiver-import-bench-") as tmp:
        warc = args.keep or Path(tmp) / "big.warc.gz"
        started = time.perf_counter()
        records = write_warc(warc, args.size_mb)
        print(f"wrote {warc.stat().st_size / 2**20:,.0f} MiB, {records:,} records in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        env = {**os.environ, "ARCHIVER_DATA_DIR": str(Path(tmp) / "data")}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "archiver.cli", "import", str(warc)],
                              env=env, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            sys.exit(f"import failed: {done.stderr.strip()}")
        print(done.stdout.strip().splitlines()[-1])
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"import: {wall:.1f} s wall, {cpu:.1f} s CPU, {records / wall:,.0f} records/s, "
              f"{warc.stat().st_size / 2**20 / wall:,.0f} MiB/s, peak memory "
              f"{after.ru_maxrss / 1024:,.0f} MiB (target < 200 MiB)")


if __name__ == "__main__":
    main()
