"""Parse benchmark (issue 13, item 5): the generic schema.org adapter (extruct on lxml for the
JSON-LD and microdata, lexbor for the page's metadata and bodies) against a straightforward
BeautifulSoup(lxml) + json extraction of the same fields, on the generic fixture pages.

Both find the post (og:title, canonical URL, author, date, body text) and every schema.org
comment (JSON-LD ``comment`` lists; microdata items read by the microdata rules: meta content,
link/a href, time datetime or content, nested items) with its id, parent, depth, author, author
URL, date, permalink and body text. Bodies are compared as text (rendered by the adapter with
lexbor, by BS4 with the same rules: parse_bench's BS4 renderer): the two serialise the same
markup differently (lxml and BS4 write ``<br>`` and entities each their own way). Checked equal
first, then timed side by side, interleaved; best of N.

    python bench/parse_generic.py [--quick] [--json out.json]
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import re
import sys
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from common import FIXTURES, file_cases, race_main, race_parsers
from parse_bench import _bs_render

from archiver.adapters import generic, pagemeta
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import Response

try:
    from bs4 import BeautifulSoup, Tag
except ImportError:  # pragma: no cover - reported instead
    BeautifulSoup = None  # type: ignore[assignment,misc]

CASES = FIXTURES / "generic"
PAGES = [
    ("Handelsblatt article, microdata (3 comments)", "handelsblatt-grenzschliessungen/page.html",
     "https://www.handelsblatt.com/politik/international/grenzschliessungen-deutschland-"
     "frankreich-und-die-rueckkehr-der-ressentiments/25776812.html"),
    ("MQL5 forum topic, JSON-LD (3 comments)", "mql5-forum-457395-jsonld/page.html",
     "https://www.mql5.com/en/forum/457395"),
]
COMMENT = re.compile(r"^https?://schema\.org/(comment|usercomments)$", re.IGNORECASE)
POSTS = {t.lower() for t in pagemeta.POST_TYPES}


def comparable(found: list[object]) -> list[object]:
    """Threads and comments with their bodies as text only (see the module)."""
    out: list[object] = []
    for item in found:
        if isinstance(item, ParsedThread | ParsedComment):
            fields = {k: getattr(item, k) for k in item.__slots__ if k != "body_html"}
            out.append((type(item).__name__, fields))
        else:
            out.append(item)
    return out


def ours(text: str, url: str) -> list[object]:
    response = Response(url=url, status=200, headers=(), content=b"", text=text)
    return comparable(list(generic.read_page(response)))


# --- the same extraction with BeautifulSoup(lxml) + json --------------------------------------


def _own(node: Tag, item: Tag) -> bool:
    parent = node.parent
    while parent is not None and parent is not item:
        if parent.has_attr("itemscope"):
            return False
        parent = parent.parent
    return parent is item


def _value(node: Tag, base: str) -> Any:  # noqa: ANN401 - a microdata value
    if node.has_attr("itemscope"):
        return _item(node, base)
    if node.name == "meta":
        return node.get("content", "")
    if node.name in ("a", "link", "area"):
        return urljoin(base, node.get("href", "").strip())
    if node.name in ("img", "audio", "video", "source", "iframe", "embed", "track"):
        return urljoin(base, node.get("src", "").strip())
    if node.name == "time":
        return node.get("datetime") or node.get("content") or " ".join(node.get_text().split())
    if node.get("content"):
        return node["content"]
    return " ".join(node.get_text(" ").split())


def _item(node: Tag, base: str) -> dict[str, Any]:
    item: dict[str, Any] = {"@type": node.get("itemtype", "").split(), "_node": node}
    if node.get("itemid"):
        item["@id"] = node["itemid"]
    for prop in node.find_all(itemprop=True):
        if not _own(prop, node):
            continue
        for name in prop["itemprop"].split():
            value = _value(prop, base)
            if name in item:
                item[name] = (item[name] if isinstance(item[name], list) else [item[name]])
                item[name].append(value)
            else:
                item[name] = value
    return item


def _types(item: dict[str, Any]) -> set[str]:
    raw = item.get("@type") or []
    return {str(t).rstrip("/").rsplit("/", 1)[-1].lower() for t in
            (raw if isinstance(raw, list) else [raw])}


def _first(value: Any) -> str:  # noqa: ANN401
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
    return str(value).strip() if value is not None else ""


def _person(value: Any) -> tuple[str, str | None]:  # noqa: ANN401
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        url = value.get("url")
        return _first(value.get("name") or value.get("alternateName") or ""), (
            _first(url) or None) if url else None
    return (str(value).strip() if value else ""), None


def _id(value: Any) -> str:  # noqa: ANN401
    text = _first(value)
    return (urldefrag(text)[1] or text) if "#" in text else text


def _body(item: dict[str, Any]) -> str:
    node = item.get("_node")
    if node is not None:
        for prop in ("text", "commentText", "articleBody", "description"):
            for el in node.find_all(itemprop=True):
                if prop in el["itemprop"].split() and _own(el, node):
                    return _bs_render(el)
    for prop in ("text", "commentText", "articleBody", "description"):
        raw = _first(item.get(prop))
        if raw:
            markup = raw if re.search(r"<[a-zA-Z/][^>]*>", raw) else "".join(
                f"<p>{html_lib.escape(p)}</p>" for p in re.split(r"\n\s*\n", raw) if p.strip())
            soup = BeautifulSoup(f"<div>{markup}</div>", "lxml")
            return _bs_render(soup.div)
    return ""


def _all(data: Any) -> list[dict[str, Any]]:  # noqa: ANN401
    out, stack = [], [data]
    while stack:
        here = stack.pop()
        if isinstance(here, list):
            stack.extend(reversed(here))
        elif isinstance(here, dict):
            out.append(here)
            stack.extend(reversed([v for k, v in here.items()
                                   if k != "_node" and isinstance(v, dict | list)]))
    return out


def _comments(items: list[Any], base: str) -> list[ParsedComment]:
    found: list[ParsedComment] = []
    seen: set[str] = set()
    tops: list[dict[str, Any]] = []
    for block in items:
        for item in ([block] if isinstance(block, dict) and _types(block) & {"comment",
                     "usercomments"} else _all(block)):
            if _types(item) & {"comment", "usercomments"}:
                if item is block:
                    tops.append(item)
                continue
            tops.extend(c for c in (item.get("comment") if isinstance(item.get("comment"), list)
                                    else [item.get("comment")] if item.get("comment") else [])
                        if isinstance(c, dict) and _types(c) & {"comment", "usercomments"})
    depth_of: dict[str, int] = {}
    stack = [(c, None) for c in reversed(tops)]
    while stack:
        item, parent = stack.pop()
        author, author_url = _person(item.get("author") or item.get("creator"))
        date = _first(item.get("dateCreated") or item.get("datePublished")
                      or item.get("commentTime") or "")
        text = _body(item)
        key = next((item[k] for k in ("@id", "identifier", "url") if item.get(k)), None)
        source = _id(key) if key else "sha1-" + hashlib.sha1(
            (f"{author}\x1f{date}" if author or date else text).encode()).hexdigest()[:16]
        if source in seen:
            continue
        seen.add(source)
        stated = item.get("parentItem")
        stated_id = None
        if isinstance(stated, dict):
            got = stated.get("@id") or stated.get("identifier") or stated.get("url")
            stated_id = _id(got) if got else None
        elif isinstance(stated, str) and stated.strip():
            stated_id = _id(stated)
        parent_id = stated_id if stated_id and stated_id != source else parent
        depth = depth_of.get(parent_id, 0) + 1 if parent_id is not None else 0
        depth_of[source] = depth
        url = _first(item.get("url"))
        found.append(ParsedComment(
            source_id=source, body_html="", body_text=text, author_name=author,
            author_url=author_url, published_text=date, published_at=pagemeta.read_date(date),
            permalink=urljoin(base, url) if url else None, parent_source_id=parent_id,
            depth=depth))
        replies = item.get("comment")
        replies = replies if isinstance(replies, list) else [replies] if replies else []
        stack.extend((c, source) for c in reversed(replies)
                     if isinstance(c, dict) and _types(c) & {"comment", "usercomments"})
    return found


def _meta(soup: Any, *names: str) -> str:  # noqa: ANN401 - a BeautifulSoup tree
    for name in names:
        for attr in ("property", "name", "itemprop"):
            node = soup.find("meta", attrs={attr: name})
            if node is not None and (node.get("content") or "").strip():
                return node["content"].strip()
    return ""


def theirs(text: str, url: str) -> list[object]:
    soup = BeautifulSoup(text, "lxml")
    blocks = []
    for script in soup.find_all("script", type="application/ld+json"):
        try:
            blocks.append(json.loads(script.string or ""))
        except ValueError:
            continue
    micro = [_item(n, url) for n in soup.find_all(itemscope=True) if not n.has_attr("itemprop")]
    items = blocks + micro
    comments = _comments(items, url)
    posts = [i for b in items for i in _all(b) if _types(i) & POSTS and _types(i) != {"webpage"}]
    post = posts[0] if posts else {}
    title = _meta(soup, "og:title", "twitter:title") or _first(post.get("headline"))
    author = _person(post.get("author"))[0] if post.get("author") else ""
    author = author or _meta(soup, "author", "article:author", "twitter:creator")
    if author.startswith(("http://", "https://")):
        author = ""
    if not author:
        node = soup.select_one('[rel="author"], .author .fn, .byline .author, .author')
        author = " ".join(node.get_text().split()) if node is not None else ""
    published = (_meta(soup, "article:published_time", "datePublished", "date")
                 or next((_first(p["datePublished"]) for p in posts if p.get("datePublished")), "")
                 or next((_first(p["dateCreated"]) for p in posts if p.get("dateCreated")), ""))
    body = ""
    for selector in ('[itemprop="articleBody"]', ".entry-content", ".post-content", ".post-body",
                     ".article-body", ".entry-body", ".post-entry", "article .content"):
        node = soup.select_one(selector)
        if node is not None:
            body = _bs_render(node)
            break
    link = soup.find("link", rel="canonical")
    canonical = urljoin(url, link["href"]) if link is not None else url
    parts = urlsplit(canonical)
    thread = ParsedThread(
        url=canonical, title=title, body_html="", body_text=body,
        site_name=_meta(soup, "og:site_name", "application-name"),
        site_url=f"{parts.scheme}://{parts.netloc}/", author=author, published_text=published,
        published_at=pagemeta.read_date(published), permalink=canonical)
    return comparable([thread, *comments, PageFacts(number=1)])


def main(argv: list[str] | None = None) -> int:
    if BeautifulSoup is None:
        raise SystemExit("beautifulsoup4/lxml not installed (pip install '.[test]')")
    return race_main(argv, __doc__, (3, 25), lambda rounds: race_parsers(
        "parse_generic", file_cases(CASES, PAGES), ours, theirs, rounds, total="pages"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
