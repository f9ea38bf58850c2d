"""`archiver serve` benchmark (issue 18): a 5,000-comment thread (synthetic comments of realistic
length, with paragraphs, links, quotes and replies, merged by the store's own merge into a fresh
SQLite file) served by uvicorn on 127.0.0.1 and read with httpx: time per page (the first, a
middle one, the last; a permalink's redirect), best/median/p95 of the rounds; the server
process's resident memory before and after reading every page of the thread several times
and the peak of Python allocations during one page's request (flat: a page is read and
rendered a page of comments at a time). With --whole, the same thread
shown on one page (page_size 5000) for contrast.

    python bench/serve_bench.py [--comments 5000] [--rounds 30] [--whole]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archiver.config import ServeSettings, load_settings  # noqa: E402
from archiver.store.db import Store  # noqa: E402
from tests.web_helpers import Comment, LiveServer, write_thread  # noqa: E402

WORDS = ("the a of to and in that is was he for it with as his on be at by I this had not are but "
         "from or have an they which one you were her all she there would their we him been has "
         "when who will more no if out so said what up its about into than them can only other "
         "new some could time these two may then do first any my now such like our over man me "
         "even most made after also did many before must through back years where much your way "
         "well down should because each just those people Syria border crossing Euphrates forces "
         "government ceasefire convoy analysis report sources claims evidence").split()


def comment_html(rng: random.Random, i: int) -> str:
    paragraphs = []
    for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
        words = [rng.choice(WORDS) for _ in range(rng.randint(15, 90))]
        paragraphs.append("<p>" + " ".join(words).capitalize() + ".</p>")
    if i % 7 == 0:
        paragraphs.insert(0, "<blockquote><p>" + " ".join(rng.choice(WORDS) for _ in range(25))
                          + "</p></blockquote>")
    if i % 5 == 0:
        paragraphs.append(f'<p>See <a href="https://example.org/article/{i}">this report</a> and '
                          f'<a href="/2018/06/other.html#comment-{i}">here</a>.</p>')
    return "".join(paragraphs)


def build(store: Store, count: int) -> int:
    rng = random.Random(18)
    items = []
    for i in range(1, count + 1):
        reply = i > 1 and rng.random() < 0.3
        parent = f"c{rng.randint(max(1, i - 40), i - 1)}" if reply else None
        items.append(Comment(f"c{i}", f"Reader {rng.randint(1, 400)}", comment_html(rng, i),
                             parent=parent, depth=rng.randint(1, 4) if reply else 0))
    return write_thread(store, "http://127.0.0.1:9/2018/06/long.html", "A Long Thread", items)


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def timed(client: httpx.Client, url: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        answer = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code in (200, 303), (url, answer.status_code)
    return times


def report(name: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"  {name:<34} best {ordered[0]:7.1f} ms   median {statistics.median(ordered):7.1f} ms"
          f"   p95 {p95:7.1f} ms")


def run(count: int, rounds: int, page_size: int) -> None:
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as folder:
        os.environ["ARCHIVER_DATA_DIR"] = folder
        settings = load_settings(None)
        settings.serve = ServeSettings(page_size=page_size)
        store = Store(settings.db_url)
        started = time.perf_counter()
        thread_id = build(store, count)
        print(f"{count} comments merged in {time.perf_counter() - started:.1f} s; "
              f"page size {page_size}")
        live = LiveServer(settings, store).start()
        try:
            with httpx.Client(base_url=live.url, timeout=120) as client:
                pages = -(-count // page_size)
                body = client.get(f"/threads/{thread_id}").text
                print(f"  page 1: {len(body) / 1e3:.0f} kB of HTML, {pages} pages")
                timed(client, f"/threads/{thread_id}?page={pages}", 3)  # warm up
                before = rss_mb()
                report("first page", timed(client, f"/threads/{thread_id}", rounds))
                report(f"middle page ({pages // 2 + 1})",
                       timed(client, f"/threads/{thread_id}?page={pages // 2 + 1}", rounds))
                report(f"last page ({pages})",
                       timed(client, f"/threads/{thread_id}?page={pages}", rounds))
                report("permalink (redirect)", timed(client, f"/comments/{count - 7}", rounds))
                middle = rss_mb()
                import tracemalloc

                tracemalloc.start()
                client.get(f"/threads/{thread_id}?page={pages // 2 + 1}")
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                print(f"  Python memory allocated at the peak of one page's request "
                      f"(tracemalloc, server and client): {peak / 1e6:.1f} MB")
                for _ in range(3):
                    for page in range(1, pages + 1):
                        client.get(f"/threads/{thread_id}?page={page}")
                after = rss_mb()
                print(f"  process RSS: {before:.0f} MB after warm-up, {middle:.0f} MB after the "
                      f"timed rounds, {after:.0f} MB after every page read 3 more times")
        finally:
            live.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--whole", action="store_true",
                        help="also the whole thread on one page, for contrast")
    args = parser.parse_args()
    run(args.comments, args.rounds, 200)
    if args.whole:
        run(args.comments, max(3, args.rounds // 10), args.comments)


if __name__ == "__main__":
    main()
