"""Issue 15, a large deep tree (bench/gen_reddit.py: Reddit's API stand-in on 127.0.0.1, its
answers collapsing branches into "more" objects and "continue this thread" stubs): read whole,
shown in Reddit's order with depth visible in the text dump and the HTML mirror (replies in
collapsible <details>, no JavaScript), and a refresh writes only the new comments.
The 5,000-comment run, its time and memory, is bench/reddit_tree_bench.py."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from gen_reddit import Tree, archiver_env, post_url, serve  # noqa: E402

SIZE = 700


@pytest.fixture
def stand_in(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Tree, list[str]]]:
    tree = Tree(seed=3, shown=3, shown_top=10)  # smaller than Reddit's: more collapsed
    tree.grow(SIZE)
    server, base, asked = serve(tree)
    for name, value in archiver_env(base).items():
        monkeypatch.setenv(name, value)
    yield tree, asked
    server.shutdown()
    server.server_close()


def reddit_order(tree: Tree) -> list[str]:
    """The tree depth first, replies in the order made (the stand-in's order, as Reddit's)."""
    order: list[str] = []
    stack = list(reversed(tree.replies.get(None, [])))
    while stack:
        cid = stack.pop()
        order.append(cid)
        stack.extend(reversed(tree.replies.get(cid, [])))
    return order


class Writes:
    """Rows written, by statement and table, while it listens."""

    PATTERN = re.compile(r"\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)

    def __init__(self) -> None:
        self.rows: Counter[str] = Counter()

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any,  # noqa: ANN401
                 context: Any, executemany: bool) -> None:  # noqa: ANN401
        found = self.PATTERN.match(statement)
        if found:
            count = len(parameters) if executemany else max(cursor.rowcount, 1)
            self.rows[f"{found.group(1).split()[0].upper()} {found.group(2).lower()}"] += count


def test_a_deep_tree_in_order_with_depth_and_a_refresh_writes_only_new_comments(
    stand_in: tuple[Tree, list[str]], data_dir: Path, cli, tmp_path: Path
) -> None:
    tree, asked = stand_in
    assert max(tree.depth.values()) > 20  # deep: many "continue this thread" stubs
    first = cli("archive", post_url())
    assert first.code == 0, first.err
    assert f"{SIZE} comments" in first.out and f"{SIZE} new" in first.out
    assert any("/api/morechildren?" in p for p in asked) and any("/_/" in p for p in asked)

    made = tree.grow(25)  # replies here and there, some deep in collapsed branches
    writes = Writes()
    event.listen(Engine, "after_cursor_execute", writes)
    try:
        second = cli("archive", post_url())
    finally:
        event.remove(Engine, "after_cursor_execute", writes)
    assert second.code == 0, second.err
    assert "25 new, 0 edited, 0 removed" in second.out, second.out
    assert writes.rows["INSERT comment"] == 25
    assert writes.rows["UPDATE comment"] == 0 and writes.rows["INSERT commentversion"] == 0

    order, depth = reddit_order(tree), tree.depth
    exported = json.loads(cli("export", "jsonl", post_url(), "-o", "-").out)
    assert [c["source_id"] for c in exported["comments"]] == order
    assert [c["depth"] for c in exported["comments"]] == [depth[c] for c in order]
    assert set(made) <= {c["source_id"] for c in exported["comments"]}

    # the text dump: Reddit's order, indented by depth (capped), deeper levels said
    dump = cli("export", "text", post_url(), "-o", "-").out
    footers = re.findall(r"^( *)Posted by: (\S+) \|.*$", dump, flags=re.MULTILINE)
    assert [who for _, who in footers] == [tree.comments[c][1] for c in order]
    for (pad, _), cid in zip(footers, order, strict=True):
        assert len(pad) == 4 * min(depth[cid], 10)
    levels = re.findall(r"^ *Posted by: .*\| level (\d+)$", dump, flags=re.MULTILINE)
    assert [int(n) for n in levels] == [depth[c] for c in order if depth[c] > 10]

    # the mirror: every reply inside the <details> that follows the comment it answers
    assert cli("export", "html", post_url(), "--out", str(tmp_path / "m")).code == 0
    page = next(p for p in (tmp_path / "m").glob("*/*.html") if p.name != "index.html")
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    dom = LexborHTMLParser(html)
    articles = dom.css("article.comment")
    assert [a.attributes["id"] for a in articles] == [f"comment-{c}" for c in order]
    with_replies = {p for p, kids in tree.replies.items() if p is not None and kids}
    details = dom.css("details.replies")
    assert len(details) == len(with_replies)
    for article in articles:
        cid = (article.attributes["id"] or "").removeprefix("comment-")
        parent = tree.comments[cid][0]
        holder = article.parent
        if parent is None:
            assert holder is not None and holder.tag == "section"  # top level: not nested
            continue
        assert holder is not None and holder.tag == "details"
        opener = holder.prev
        while opener is not None and opener.tag != "article":
            opener = opener.prev
        assert opener is not None and opener.attributes["id"] == f"comment-{parent}"
        classes = (article.attributes["class"] or "").split()
        assert f"depth-{min(depth[cid], 10)}" in classes
    summary = details[0].css_first("summary")
    assert summary is not None and re.fullmatch(r"\d+ repl(y|ies) to \S+", summary.text())
