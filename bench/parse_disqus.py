"""Parse benchmark (issue 13, item 5): the Disqus adapter's callbacks against a straightforward
BeautifulSoup(lxml) + json extraction of the same fields, on every Disqus answer in fixtures/.

The host page (post.html): the post's title, URL, site name, date and body (BS4 finds the same
og:/article: metadata and .entry-content) and the embed request; the embed page (embed.html):
the thread data (BS4 finds ``script#disqus-threadData``, json reads it) and every post's id,
parent, depth, author, author URL, date, permalink, message HTML and its text (rendered by the
adapter with lexbor, by BS4 with the same rules: parse_bench's BS4 renderer); the API page
(listPostsThreaded JSON): the same post fields. The outputs are checked equal first, then both
are timed side by side, interleaved; best of N.

    python bench/parse_disqus.py [--quick] [--json out.json]
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

from common import FIXTURES, file_cases, race_main, race_parsers
from parse_bench import _bs_render

from archiver.adapters import disqus
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import Request, Response

try:
    from bs4 import BeautifulSoup
except ImportError:  # pragma: no cover - reported instead
    BeautifulSoup = None  # type: ignore[assignment,misc]

CASES = FIXTURES / "disqus"
POST = "http://www.purseblog.com/louis-vuitton/a-post/"
API_THEN = disqus._api_reader("4482008787", "purseblog", "popular", disqus.PUBLIC_API_KEY,
                              "http://www.purseblog.com/x/", False, 2)
# (case, file, which callback reads it)
ANSWERS = [
    ("134117 post page", "purseblog-134117/post.html", "host"),
    ("134117 embed page (16 posts)", "purseblog-134117/embed.html", "embed"),
    ("140418 embed page (41 posts)", "purseblog-140418/embed.html", "embed"),
    ("140418 embed page, first 25 + cursor", "purseblog-140418-paged/embed.html", "embed"),
    ("140418 API page (16 posts)", "purseblog-140418-paged/listPostsThreaded-2.json", "api"),
]


def comparable(found: list[object]) -> list[object]:
    """What both must find: the items, and each request's URL and kind (not its callback)."""
    return [(f.url, f.accept) if isinstance(f, Request) else f for f in found]


def ours(text: str, kind: str) -> list[object]:
    url = {"host": POST, "embed": disqus.EMBED + "?f=purseblog", "api": disqus.API}[kind]
    response = Response(url=url, status=200, headers=(), content=b"", text=text)
    then = {"host": disqus.read_host, "embed": disqus.read_embed, "api": API_THEN}[kind]
    return comparable(list(then(response)))


# --- the same extraction with BeautifulSoup(lxml) + json --------------------------------------


def _text(message: str) -> str:
    soup = BeautifulSoup(f"<div>{message}</div>", "lxml")
    return _bs_render(soup.div) if soup.div is not None else ""


def _when(text: str) -> datetime | None:
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        return None
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


def _meta(soup: Any, name: str) -> str:  # noqa: ANN401 - a BeautifulSoup tree
    node = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
    return (node.get("content") or "").strip() if node is not None else ""


def _posts(posts: list[dict[str, Any]], link: str) -> list[object]:
    found: list[object] = []
    for post in posts:
        if post.get("isDeleted"):
            continue
        author = post.get("author") or {}
        message = post.get("message") or ""
        found.append(ParsedComment(
            source_id=str(post["id"]), body_html=message,
            body_text=_text(message) if message else "",
            author_name=author.get("name") or author.get("username") or "",
            author_url=author.get("profileUrl") or author.get("url") or None,
            published_text=post.get("createdAt") or "",
            published_at=_when(post.get("createdAt") or ""),
            permalink=f"{link}#comment-{post['id']}" if link else None,
            parent_source_id=str(post["parent"]) if post.get("parent") else None,
            depth=int(post.get("depth") or 0)))
    return found


def _next(data: dict[str, Any], thread_id: str, forum: str, order: str) -> list[object]:
    cursor = data.get("cursor") or {}
    if not (cursor.get("hasNext") and cursor.get("next")):
        return []
    return [(disqus.api_url(thread_id, forum, cursor["next"], order, disqus.PUBLIC_API_KEY),
             "application/json")]


def theirs(text: str, kind: str) -> list[object]:
    if kind == "api":
        data = json.loads(text)
        return (_posts(data["response"], "http://www.purseblog.com/x/")
                + [PageFacts(2, False)] + _next(data, "4482008787", "purseblog", "popular"))
    soup = BeautifulSoup(text, "lxml")
    if kind == "host":
        config = disqus.embed_config(text)  # the page's JavaScript, read the same way
        canonical = soup.find("link", rel="canonical")
        url = canonical["href"] if canonical is not None else POST
        body = soup.select_one(".entry-content")
        published = _meta(soup, "article:published_time")
        site = url.split("/")[0] + "//" + url.split("/")[2] + "/"
        return [ParsedThread(
            url=url, title=_meta(soup, "og:title"), body_html=body.decode_contents(),
            body_text=_bs_render(body), site_name=_meta(soup, "og:site_name"), site_url=site,
            author="", published_text=published, published_at=_when(published),
            permalink=url),
            PageFacts(1, False), (disqus.embed_url(config, url), "text/html")]
    script = soup.find("script", id="disqus-threadData")
    data = json.loads(script.string)
    thread = data["response"]["thread"]
    message = thread.get("message") or ""
    return [ParsedThread(
        url=disqus.EMBED + "?f=purseblog", title=thread.get("clean_title") or thread["title"],
        body_html=message, body_text=_text(message) if message else "",
        site_name=thread["forum"], site_url=f"https://{thread['forum']}.disqus.com/",
        published_text=thread["createdAt"], published_at=_when(thread["createdAt"]),
        permalink=thread["link"]),
        *_posts(data["response"]["posts"], thread["link"]),
        PageFacts(1, bool(thread.get("isClosed"))),
        *_next(data, thread["id"], thread["forum"], data.get("order") or "popular")]


def main(argv: list[str] | None = None) -> int:
    if BeautifulSoup is None:
        raise SystemExit("beautifulsoup4/lxml not installed (pip install '.[test]')")
    return race_main(argv, __doc__, (3, 25), lambda rounds: race_parsers(
        "parse_disqus", file_cases(CASES, ANSWERS), ours, theirs, rounds, total="answers"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
