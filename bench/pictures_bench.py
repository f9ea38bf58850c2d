"""Pictures benchmark (issue 19): the cost of the pictures step on the sample thread (Moon of
Alabama's reference page, 40 comments, two photographs in the post), archived end to end in this
process (archiver.devserver on 127.0.0.1, delay 0, a fresh SQLite file each time) with pictures
off and on, in alternating order; then a second archive of the unchanged thread (pictures held:
nothing fetched). Medians and best of the rounds.

    python bench/pictures_bench.py [--rounds N]
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archiver.config import PicturesPolicy  # noqa: E402
from archiver.devserver import FixtureServer, Route, load_fixture  # noqa: E402
from archiver.fetch import Fetcher, FetchSettings  # noqa: E402
from archiver.pipeline import ThreadArchiver  # noqa: E402
from archiver.store.db import Store  # noqa: E402

CASE = ROOT / "fixtures" / "typepad" / "moa-2018-06-08-abu-kamal" / "one-page"
PAGE = "/2018/06/syria-is-the-isis-attack-on-abu-kamal-part-of-a-us-plan.html"
IMAGES = ("/images8/abukamal1-s.jpg", "/images8/abukamal2-s.jpg")  # the post's two img src


def photo(seed: int) -> bytes:
    """A 500x350 JPEG of noise (about the size of the blog's own 500 px photographs)."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (500, 350), bytes(rng.getrandbits(8) for _ in range(525000)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=75)
    return out.getvalue()


def archive(server: FixtureServer, work: Path, name: str, pictures: PicturesPolicy | None,
            again: bool = False) -> float:
    store = Store(f"sqlite:///{work / name}.db")
    try:
        with Fetcher(FetchSettings(delay=0)) as fetcher:
            engine = ThreadArchiver(store, fetcher, pictures=pictures)
            if again:
                engine.archive(server.url(PAGE))
            started = time.perf_counter()
            report = engine.archive(server.url(PAGE))
            elapsed = time.perf_counter() - started
    finally:
        store.close()
    want = 0 if pictures is None or again else 2
    assert report.pictures_new == want and not report.pictures_failed, report.summary()
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    origin, routes = load_fixture(CASE)
    photos = [photo(n) for n in range(len(IMAGES))]
    for path, data in zip(IMAGES, photos, strict=True):
        routes[path] = Route(body=data, content_type="image/jpeg")
    server = FixtureServer(routes, origin=origin).start()
    times: dict[str, list[float]] = {"off": [], "on": [], "on, second archive": []}
    try:
        with tempfile.TemporaryDirectory(prefix="archiver-bench-pictures-") as tmp:
            work = Path(tmp)
            archive(server, work, "warmup", PicturesPolicy())
            for n in range(args.rounds):
                order = [("off", None), ("on", PicturesPolicy())]
                for label, policy in order if n % 2 == 0 else order[::-1]:
                    times[label].append(archive(server, work, f"{label}-{n}", policy))
                times["on, second archive"].append(
                    archive(server, work, f"again-{n}", PicturesPolicy(), again=True))
    finally:
        server.stop()
    sizes = ", ".join(f"{len(p) // 1024} KiB" for p in photos)
    print(f"sample thread: MoA reference page (40 comments), 2 photographs ({sizes}); "
          f"{args.rounds} rounds, delay 0")
    base = statistics.median(times["off"])
    for label, values in times.items():
        median = statistics.median(values)
        print(f"  pictures {label:<20} median {median * 1000:7.1f} ms  best "
              f"{min(values) * 1000:7.1f} ms  ({median / base:.2f}x of off)")
    extra = statistics.median(times["on"]) - base
    print(f"  cost of the pictures step: {extra * 1000:.1f} ms per thread "
          f"({extra * 1000 / len(photos):.1f} ms per picture); with the default 1 s delay per "
          "host, each picture on the page's host also waits its turn (about 1 s each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
