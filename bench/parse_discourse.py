"""Parse benchmark (issue 14, item 5): the Discourse adapter's callbacks against a straightforward
json + BeautifulSoup(lxml) extraction of the same fields, on every Discourse answer in fixtures/.

Both read the JSON with json.loads and take the same fields (thread: title, author, date, body;
each post: number, author, author page, date, parent, depth, body HTML and body text); the
bodies (Discourse's "cooked" HTML) are rendered to text by the adapter with lexbor
(archiver.adapters.render) and by BS4 with the same rules (parse_bench's BS4 renderer). The
outputs are checked equal first, then both are timed side by side, interleaved; best of N.

    python bench/parse_discourse.py [--quick] [--json out.json]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from common import FIXTURES, file_cases, race_main, race_parsers
from parse_bench import _bs_render

from archiver.adapters import discourse
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import Response

try:
    from bs4 import BeautifulSoup
except ImportError:  # pragma: no cover - reported instead
    BeautifulSoup = None  # type: ignore[assignment,misc]

CASES = FIXTURES / "discourse"
BASE = "https://forum.example"
# (case, file, how the adapter reads it: "topic" or "batch")
ANSWERS = [
    ("urho3d topic (19 posts)", "urho3d-5371-about-all-the-drama/"
     "about-all-the-drama-around-here.5371.json", "topic"),
    ("sourcecred t26 topic (20 posts)", "sourcecred-t26-paged/t_26.json", "topic"),
    ("t2144 topic (20 posts)", "criticalfallibilism-t2144/t_2144.json", "topic"),
    ("t2108 posts 433-452", "criticalfallibilism-t2108/t_2108_452.json", "batch"),
    ("t2108 posts 1-20", "criticalfallibilism-t2108/t_2108_posts.json", "batch"),
    ("t2108 posts 21-40", "criticalfallibilism-t2108/"
     "t_2108_posts_post_number_41.PRETTYPRINTED.json", "batch"),
    ("t2108 posts 37-59", "criticalfallibilism-t2108/t_2108_posts_pn_61.json", "batch"),
    ("t2108 posts 60-80", "criticalfallibilism-t2108/t_2108_posts_pn_81.json", "batch"),
]
TOPIC = discourse.Topic(base=BASE, topic_id=1, slug="t", title="T", closed=False, batches=())


def ours(text: str, kind: str) -> list[object]:
    response = Response(url=f"{BASE}/t/t/1.json", status=200, headers=(), content=b"",
                        text=text)
    found = (discourse.read_topic(response) if kind == "topic"
             else discourse.read_batch(TOPIC, 0, {}, response))
    return [item for item in found if isinstance(item, ParsedThread | ParsedComment | PageFacts)]


# --- the same extraction with json + BeautifulSoup(lxml) --------------------------------------


def _text(cooked: str) -> str:
    soup = BeautifulSoup(f"<div>{cooked}</div>", "lxml")
    return _bs_render(soup.div) if soup.div is not None else ""


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        return None


def theirs(text: str, kind: str) -> list[object]:
    data: Any = json.loads(text)
    posts = sorted(data["post_stream"]["posts"], key=lambda p: p["post_number"])
    slug, topic_id = (data["slug"], data["id"]) if kind == "topic" else ("t", 1)
    url = f"{BASE}/t/{slug}/{topic_id}"
    found: list[object] = []
    depths: dict[int, int] = {}

    def comments() -> Iterator[ParsedComment]:
        for post in posts:
            number = post["post_number"]
            if number == 1 or post.get("post_type") == discourse.SMALL_ACTION:
                continue
            parent = post.get("reply_to_post_number")
            depth = depths.get(parent, 0) + 1 if parent and parent > 1 else 0
            depths[number] = depth
            yield ParsedComment(
                source_id=str(number), body_html=post["cooked"], body_text=_text(post["cooked"]),
                author_name=post["username"], author_url=f"{BASE}/u/{post['username']}",
                published_text=post["created_at"], published_at=_when(post["created_at"]),
                number=number, permalink=f"{url}/{number}",
                parent_source_id=str(parent) if parent and parent > 1 else None, depth=depth)

    first = next((p for p in posts if p["post_number"] == 1), None)
    if first is not None:
        found.append(ParsedThread(
            url=url, title=data.get("title", "T"), body_html=first["cooked"],
            body_text=_text(first["cooked"]), site_url=BASE + "/", author=first["username"],
            published_text=first["created_at"], published_at=_when(first["created_at"]),
            permalink=url))
    found.extend(comments())
    found.append(PageFacts(number=1 if kind == "topic" else 2,
                           comments_closed=bool(data.get("closed") or data.get("archived"))))
    return found


def main(argv: list[str] | None = None) -> int:
    if BeautifulSoup is None:
        raise SystemExit("beautifulsoup4/lxml not installed (pip install '.[test]')")
    return race_main(argv, __doc__, (3, 25), lambda rounds: race_parsers(
        "parse_discourse", file_cases(CASES, ANSWERS), ours, theirs, rounds, total="answers",
        count=lambda found: len(found) - 1))  # items checked, less the PageFacts at the end


if __name__ == "__main__":
    sys.exit(main())
