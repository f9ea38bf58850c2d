"""What the forum parse benches share (bench/parse_vbulletin.py, parse_smf.py,
parse_invision.py): an adapter's ForumPage in a plain shape, the field-by-field comparison with
the BeautifulSoup reading, and the interleaved timing (best and median of the rounds)."""

from __future__ import annotations

from collections.abc import Callable

from common import Row, Timing, timed, verdict

from archiver.adapters.forumpages import ForumPage

BS4_TARGET = 5.0
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
    """Check both readings equal, then time them interleaved; rows in ms per page and the
    ratio (best of the rounds; medians in the note)."""
    problems = same(shape(ours(html, url)), theirs(html, url))
    if problems:
        raise SystemExit(f"{case}: BS4 extraction differs: " + "; ".join(problems[:5]))
    contenders: dict[str, Callable[[str, str], object]] = {
        "archiver adapter": ours, "BeautifulSoup+lxml": theirs}
    timings = {label: Timing() for label in contenders}
    labels = list(contenders)
    for index in range(rounds):
        for label in labels[index % 2:] + labels[:index % 2]:
            elapsed, _ = timed(lambda f=contenders[label]: f(html, url))
            timings[label].runs.append(elapsed)
    best = {label: min(t.runs) for label, t in timings.items()}
    med = {label: t.median for label, t in timings.items()}
    rows = [Row(name, case, f"{label}: ms per page", f"{best[label] * 1000:.2f}",
                note=f"best of {rounds}; median {med[label] * 1000:.2f} ms") for label in labels]
    ratio = best["BeautifulSoup+lxml"] / best["archiver adapter"]
    ratio_med = med["BeautifulSoup+lxml"] / med["archiver adapter"]
    rows.append(Row(name, case, "adapter speed / BS4 speed", f"{ratio:.1f}x",
                    f">= {BS4_TARGET:.0f}x", verdict(ratio >= BS4_TARGET),
                    f"medians: {ratio_med:.1f}x; outputs checked equal"))
    return rows


def bs_text(node: object) -> str:
    """A BS4 node's text, whitespace folded (no-break spaces too), as forumpages.text_of."""
    return "" if node is None else " ".join(node.get_text().replace("\xa0", " ").split())  # type: ignore[attr-defined]
