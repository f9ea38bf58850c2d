"""A post as any page describes it: its structured metadata (og:, article:, JSON-LD) first,
then common blog markup. Shared by the adapters that read comments kept elsewhere (Disqus)
or described as data (the generic schema.org adapter)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.adapters.base import PageFacts, ParsedComment, ParsedPage, ParsedThread
from archiver.adapters.contract import Request
from archiver.adapters.dates import parse_date
from archiver.adapters.render import render_children
from archiver.errors import ParseError

POST_TYPES = frozenset(("Article", "BlogPosting", "NewsArticle", "DiscussionForumPosting",
                        "SocialMediaPosting", "TechArticle", "Report", "WebPage", "QAPage",
                        "Question", "Posting", "LiveBlogPosting", "OpinionNewsArticle"))
# where blog themes put the post's body, most specific first
_BODY_SELECTORS = ('[itemprop="articleBody"]', ".entry-content", ".post-content", ".post-body",
                   ".article-body", ".entry-body", ".post-entry", "article .content")
_TITLE_SELECTORS = ("h1.entry-title", "h1.post-title", ".entry-title", "article h1", "h1")


def page_of(found: Iterable[object]) -> ParsedPage:
    """What one callback yielded, as a ParsedPage (its first thread; the first request's URL as
    the next page): the shape the generated tests and benches read every adapter in."""
    thread: ParsedThread | None = None
    page = ParsedPage(thread=ParsedThread(url="", title="", body_html=""))
    for item in found:
        if isinstance(item, ParsedThread) and thread is None:
            thread = page.thread = item
        elif isinstance(item, ParsedComment):
            page.comments.append(item)
        elif isinstance(item, PageFacts):
            page.page_number, page.comments_closed = item.number, item.comments_closed
        elif isinstance(item, Request) and page.next_page_url is None:
            page.next_page_url = item.url
    if thread is None:
        raise ParseError("the answer shows no thread")
    return page


def text_of(node: LexborNode | None) -> str:
    return " ".join(node.text(deep=True).split()) if node is not None else ""


def metas(tree: LexborHTMLParser) -> dict[str, str]:
    """Every <meta> of the page by its property, name or itemprop (the first one of each)."""
    found: dict[str, str] = {}
    for node in tree.css("meta"):
        attrs = node.attributes
        content = (attrs.get("content") or "").strip()
        if not content:
            continue
        for attr in ("property", "name", "itemprop"):
            key = attrs.get(attr)
            if key and key not in found:
                found[key] = content
    return found


def meta(tree: LexborHTMLParser | dict[str, str], *names: str) -> str:
    """The content of the first <meta property=NAME> (or name=, itemprop=) present."""
    table = tree if isinstance(tree, dict) else metas(tree)
    return next((table[name] for name in names if table.get(name)), "")


def resolve(base: str, href: str) -> str | None:
    """href made absolute against base, or None when urllib cannot read it."""
    try:
        joined = urljoin(base, href.strip())
        urlsplit(joined)
    except ValueError:
        return None
    return urldefrag(joined)[0]


def canonical_url(tree: LexborHTMLParser, url: str) -> str:
    """The page's canonical link or og:url, else its own URL (without fragment)."""
    sources = (('link[rel="canonical"]', "href"), ('meta[property="og:url"]', "content"))
    for selector, attr in sources:
        node = tree.css_first(selector)
        if node is not None and node.attributes.get(attr):
            found = resolve(url, node.attributes.get(attr) or "")
            if found:
                return found
    return urldefrag(url)[0]


def json_ld(tree: LexborHTMLParser) -> list[Any]:
    """Every JSON-LD block of the page, parsed (a block that is not JSON is skipped)."""
    blocks: list[Any] = []
    for node in tree.css("script"):
        kind = (node.attributes.get("type") or "").strip().lower()
        if kind != "application/ld+json":
            continue
        try:
            blocks.append(json.loads(node.text(deep=True) or ""))
        except ValueError:
            continue
    return blocks


def items(data: Any) -> Iterator[dict[str, Any]]:  # noqa: ANN401 - JSON of any shape
    """Every object in JSON-LD data, depth first (lists, @graph and nested objects)."""
    stack = [data]
    while stack:
        here = stack.pop()
        if isinstance(here, list):
            stack.extend(reversed(here))
        elif isinstance(here, dict):
            yield here
            stack.extend(reversed([v for v in here.values() if isinstance(v, dict | list)]))


def types_of(item: dict[str, Any]) -> set[str]:
    """An item's schema.org type names, without the vocabulary's URL (``Comment``)."""
    raw = item.get("@type") or item.get("type") or []
    names = raw if isinstance(raw, list) else [raw]
    return {str(n).rstrip("/").rsplit("/", 1)[-1] for n in names if n}


def first_text(value: Any) -> str:  # noqa: ANN401 - JSON of any shape
    """A JSON-LD value as one string: the first of a list, an object's name or @value."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
    return str(value).strip() if value is not None else ""


def person(value: Any) -> tuple[str, str | None]:  # noqa: ANN401 - JSON of any shape
    """A JSON-LD/microdata author as (name, url)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        inner = value.get("properties")
        props: dict[str, Any] = inner if isinstance(inner, dict) else value
        name = first_text(props.get("name") or props.get("alternateName") or "")
        url = props.get("url") or None
        return name, (first_text(url) or None) if url else None
    return (str(value).strip() if value else ""), None


def post_items(blocks: list[Any]) -> list[dict[str, Any]]:
    """The JSON-LD objects describing the post itself (an Article, BlogPosting, forum post...),
    in page order; a bare WebPage only when there is nothing more specific."""
    posts: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    for block in blocks:
        for item in items(block):
            kinds = types_of(item)
            if kinds & POST_TYPES and kinds != {"WebPage"}:
                posts.append(item)
            elif "WebPage" in kinds:
                pages.append(item)
    return posts or pages


def post_item(blocks: list[Any]) -> dict[str, Any] | None:
    """The first object describing the post (post_items), or None."""
    found = post_items(blocks)
    return found[0] if found else None


def post_thread(tree: LexborHTMLParser, url: str, blocks: list[Any] | None = None) -> ParsedThread:
    """The post on a page: its title, author, date and body from structured metadata when the
    page has it, else from common blog markup."""
    blocks = json_ld(tree) if blocks is None else blocks
    posts = post_items(blocks)
    table = metas(tree)
    post = posts[0] if posts else {}
    title = (meta(table, "og:title", "twitter:title") or first_text(post.get("headline"))
             or first_text(post.get("name")))
    if not title:
        title = next((text_of(n) for s in _TITLE_SELECTORS if (n := tree.css_first(s))), "")
        title = title or text_of(tree.css_first("title"))
    author = person(post.get("author"))[0] if post.get("author") else ""
    if not author:
        author = meta(table, "author", "article:author", "twitter:creator")
        if author.startswith(("http://", "https://")):  # article:author is often a profile URL
            author = ""
    if not author:
        author = text_of(tree.css_first('[rel="author"], .author .fn, .byline .author, .author'))
    published = (meta(table, "article:published_time", "datePublished", "date")
                 or next((first_text(p["datePublished"]) for p in posts
                          if p.get("datePublished")), "")
                 or next((first_text(p["dateCreated"]) for p in posts if p.get("dateCreated")), ""))
    if not published:
        node = tree.css_first("article time[datetime], time[datetime]")
        published = (node.attributes.get("datetime") or "") if node is not None else ""
    body_html, body_text = "", ""
    for selector in _BODY_SELECTORS:
        node = tree.css_first(selector)
        if node is not None:
            body_html, body_text = node.inner_html or "", render_children(node)
            break
    if not body_html:
        raw = first_text(post.get("articleBody") or post.get("text") or "")
        body_html, body_text = raw, raw
    canonical = canonical_url(tree, url)
    parts = urlsplit(canonical)
    return ParsedThread(
        url=canonical,
        title=title,
        body_html=body_html,
        body_text=body_text,
        site_name=meta(table, "og:site_name", "application-name"),
        site_url=f"{parts.scheme}://{parts.netloc}/",
        author=author,
        published_text=published,
        published_at=read_date(published),
        permalink=canonical,
    )


def read_date(text: str) -> datetime | None:
    """An ISO 8601 date (any fraction, Z or an offset) or a known page format, in UTC."""
    if not text:
        return None
    value = text.strip()
    if value[:4].isdigit() and "-" in value[:8]:
        core = value.replace("Z", "+00:00").replace("z", "+00:00")
        head, dot, rest = core.partition(".")
        if dot:  # Python 3.11 reads at most 6 fraction digits: trim the rest
            digits = len(rest) - len(rest.lstrip("0123456789"))
            core = head + "." + rest[:min(digits, 6)].ljust(1, "0") + rest[digits:]
        try:
            found = datetime.fromisoformat(core)
        except ValueError:
            found = None
        if found is not None:
            return (found.replace(tzinfo=UTC) if found.tzinfo is None
                    else found.astimezone(UTC))
    return parse_date(value)
