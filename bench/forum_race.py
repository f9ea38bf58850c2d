"""What the forumpages-based parse benches share (bench/parse_vbulletin.py, parse_smf.py,
parse_invision.py): an adapter's ForumPage in a plain shape, the field-by-field comparison with
the BeautifulSoup reading, their rows (best and median of common.race's rounds), and the big
synthetic page (a page's posts repeated). phpBB and XenForo, whose adapters return their own
page types, have theirs in bench/forum_bench.py."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from common import BS4_TARGET, Row, race, verdict

from archiver.adapters.forumpages import ForumPage

POST_KEYS = ("source_id", "number", "author_name", "author_url", "published_text",
             "published_at", "permalink", "body_text")


def shape(page: ForumPage) -> dict:
    """The fields both readings extract, from the adapter's ForumPage."""
    thread = None
    if page.thread is not None:
        t = page.thread
        thread = {"author_name": t.author, "published_text": t.published_text,
                  "published_at": t.published_at, "body_text": t.body_text,
                  "permalink": t.permalink}
    return {"number": page.number, "last": page.last, "title": page.title,
            "thread_url": page.thread_url, "page_urls": page.page_urls, "closed": page.closed,
            "thread": thread,
            "posts": [{k: getattr(c, k) for k in POST_KEYS} for c in page.comments]}


def same(a: dict, b: dict) -> list[str]:
    """Where two readings differ (nothing: the same extraction)."""
    problems = [f"{k}: {a[k]!r} != {b[k]!r}" for k in a if k not in ("thread", "posts")
                and a[k] != b[k]]
    if (a["thread"] is None) != (b["thread"] is None):
        problems.append("thread shown by one only")
    elif a["thread"] is not None:
        problems += [f"thread {k}: {v!r} != {b['thread'].get(k)!r}"
                     for k, v in a["thread"].items() if b["thread"].get(k) != v]
    if len(a["posts"]) != len(b["posts"]):
        problems.append(f"{len(a['posts'])} posts != {len(b['posts'])}")
    for x, y in zip(a["posts"], b["posts"], strict=False):
        problems += [f"post {x['source_id']} {k}: {x[k]!r} != {y[k]!r}" for k in x if x[k] != y[k]]
    return problems


def bench(name: str, case: str, html: str, url: str, rounds: int,
          ours: Callable[[str, str], ForumPage], theirs: Callable[[str, str], dict]) -> list[Row]:
    """Check both readings equal, then time them interleaved (common.race); rows in ms per page
    and the ratio (best of the rounds; medians in the note)."""
    result = race(case, lambda: ours(html, url), lambda: theirs(html, url), rounds,
                  lambda page, other: same(shape(page), other))
    timings = (("archiver adapter", result.ours), ("BeautifulSoup+lxml", result.theirs))
    rows = [Row(name, case, f"{label}: ms per page", f"{min(t.runs) * 1000:.2f}",
                note=f"best of {rounds}; median {t.median * 1000:.2f} ms") for label, t in timings]
    ratio, ratio_med = result.ratio, result.theirs.median / result.ours.median
    rows.append(Row(name, case, "adapter speed / BS4 speed", f"{ratio:.1f}x",
                    f">= {BS4_TARGET:.0f}x", verdict(ratio >= BS4_TARGET),
                    f"medians: {ratio_med:.1f}x; outputs checked equal"))
    return rows


def repeated(items: Sequence[str], posts: int, post_id: str, first_id: int,
             renumber: Callable[[str, int], str] = lambda item, n: item) -> str:
    """Posts' markup repeated to ``posts`` posts for a big synthetic page: copy n gets the id
    first_id + n in place of its own (the first group of the pattern post_id), then
    renumber(copy, n) (a platform's shown post number)."""
    out = []
    for n in range(posts):
        item = items[n % len(items)]
        old = re.search(post_id, item)[1]  # type: ignore[index]
        out.append(renumber(item.replace(old, str(first_id + n)), n))
    return "".join(out)


def bs_text(node: object) -> str:
    """A BS4 node's text, whitespace folded (no-break spaces too), as forumpages.text_of."""
    return "" if node is None else " ".join(node.get_text().replace("\xa0", " ").split())  # type: ignore[attr-defined]
