"""Disqus: a page of any blog that embeds Disqus gets its comments from Disqus's embed page
(the JSON in its ``script#disqus-threadData``), then from the API the embed itself pages with
(``threads/listPostsThreaded``, following ``cursor.next`` while ``cursor.hasNext``).

The post comes from the host page (og:, article:, JSON-LD, else common blog markup). The embed
URL is built as Disqus's embed.js builds it: the forum's shortname (``f``), the page's identifier
(``t_i``) and URL (``t_u``) from ``disqus_config``/``disqus_*`` variables or the WordPress
plugin's ``embedVars``. Posts deleted upstream are not yielded (the store flags them removed);
every other post the embed returns is kept, its parent id and depth as Disqus gives them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from archiver.adapters import pagemeta
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import JSON, Found, Request, Response
from archiver.adapters.depth import parse_html
from archiver.adapters.render import html_to_text
from archiver.errors import ParseError, UnsupportedSite

PLATFORM = "disqus"
EMBED = "https://disqus.com/embed/comments/"
API = "https://disqus.com/api/3.0/threads/listPostsThreaded"
# the public key Disqus's own embed sends from every browser (its lounge bundle's embedAPI key);
# an embed page that names another one (api_key=...) is taken at its word
PUBLIC_API_KEY = "E8Uh5l5fHZ6gD8U3KycjAIAk46f68Zw7C6eW8WSjZvCLXebZ7p0r1yrYDrLilk2F"
PAGE_SIZE = 100  # the API's largest page
# Disqus's own embed page, asked for directly (archiving the comment frame's URL)
URL_PATTERNS = (re.compile(r"^https?://(?:www\.)?disqus\.com/embed/comments/?\?.*\bf=[^&#]+",
                           re.IGNORECASE),)
EXAMPLES = (
    "https://disqus.com/embed/comments/?base=default&f=purseblog&t_i=134117%20http%3A%2F%2F"
    "www.purseblog.com%2F%3Fp%3D134117&t_u=http%3A%2F%2Fwww.purseblog.com%2Fa-post%2F",
)

_EMBED_JS = re.compile(r"""//([a-z0-9][a-z0-9-]*)\.disqus\.com/embed\.js""", re.IGNORECASE)
_STRING = r"""(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|(\d+))"""
# disqus_shortname = '...'; var disqus_identifier = "..."; this.page.url = '...'; and the
# WordPress plugin's embedVars = {"disqusShortname": "...", ...}
_VARIABLES = {
    "shortname": (r"disqus_shortname", r'"disqusShortname"'),
    "identifier": (r"disqus_identifier", r"this\.page\.identifier", r'"disqusIdentifier"'),
    "url": (r"disqus_url", r"this\.page\.url", r'"disqusUrl"'),
    "title": (r"disqus_title", r"this\.page\.title", r'"disqusTitle"'),
}
_PATTERNS = {
    key: re.compile(r"(?:" + "|".join(names) + r")\s*[:=]\s*" + _STRING)
    for key, names in _VARIABLES.items()
}
_API_KEY = re.compile(
    r"""\b(?:api_key|apiKey|embedAPI)["']?\s*[:=]\s*["']?([A-Za-z0-9]{20,})""")
_THREAD_DATA = re.compile(r"""<script\b[^>]*\bid=["']?disqus-threadData["']?[^>]*>""",
                          re.IGNORECASE)


def _unquote_js(found: re.Match[str]) -> str:
    double, single, number = found.group(1), found.group(2), found.group(3)
    if number is not None:
        return number
    raw = double if double is not None else single
    try:
        return str(json.loads('"' + raw.replace('"', '\\"').replace("\\'", "'") + '"'))
    except ValueError:
        return raw


def embed_config(html: str) -> dict[str, str]:
    """What the page tells Disqus: shortname, identifier, url, title (the ones it sets)."""
    found: dict[str, str] = {}
    for key, pattern in _PATTERNS.items():
        match = pattern.search(html)
        if match is not None:
            value = _unquote_js(match).strip()
            if value:
                found[key] = value
    if "shortname" not in found:
        match = _EMBED_JS.search(html)
        if match is not None:
            found["shortname"] = match.group(1).lower()
    return found


def matches(html: str, url: str = "") -> bool:
    """Whether the page embeds Disqus comments (its embed.js, or a shortname for it)."""
    if "disqus" not in html:
        return False
    return _EMBED_JS.search(html) is not None or _PATTERNS["shortname"].search(html) is not None


def embed_url(config: dict[str, str], page_url: str) -> str:
    """The embed page Disqus's embed.js loads for this page's thread."""
    params = {"base": "default", "f": config["shortname"]}
    if config.get("identifier"):
        params["t_i"] = config["identifier"]
    params["t_u"] = config.get("url") or page_url
    if config.get("title"):
        params["t_d"] = params["t_t"] = config["title"]
    params["s_o"] = "default"
    return f"{EMBED}?{urlencode(params, quote_via=quote)}"


def api_url(thread_id: str, forum: str, cursor: str, order: str, api_key: str) -> str:
    """The API page after ``cursor`` of a thread, as the embed asks for it."""
    params = {"limit": str(PAGE_SIZE), "thread": thread_id, "forum": forum, "order": order,
              "cursor": cursor, "api_key": api_key}
    return f"{API}?{urlencode(params, quote_via=quote)}"


def start(url: str) -> Request:
    """The first request: the embed page itself when asked for, else the host page."""
    if any(pattern.match(url) for pattern in URL_PATTERNS):
        return Request(url, then=read_embed)
    return Request(url, then=read_host)


def read_host(response: Response) -> Iterator[Found]:
    """The host page: the post, then the request for its Disqus thread."""
    html = response.text
    config = embed_config(html)
    if "shortname" not in config:
        raise UnsupportedSite(f"{response.url} embeds no Disqus thread (no shortname found)")
    tree = parse_html(html)
    thread = pagemeta.post_thread(tree, response.url)
    if not thread.title and config.get("title"):
        thread.title = config["title"]
    yield thread
    yield PageFacts(number=1)
    yield Request(embed_url(config, response.url), then=read_embed)


def thread_data(html: str, url: str) -> dict[str, Any]:
    """The JSON of the embed page's ``script#disqus-threadData``."""
    found = _THREAD_DATA.search(html)
    if found is None:
        raise ParseError(f"{url}: no disqus-threadData in the Disqus embed page")
    end = html.find("</script", found.end())
    try:
        data = json.loads(html[found.end():end if end >= 0 else None])
    except ValueError as exc:
        raise ParseError(f"{url}: the Disqus thread data is not JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("response"), dict):
        raise ParseError(f"{url}: the Disqus thread data has no response")
    return data


def _comment(post: dict[str, Any], link: str) -> ParsedComment:
    stated = post.get("author")
    author: dict[str, Any] = stated if isinstance(stated, dict) else {}
    message = str(post.get("message") or "")
    created = str(post.get("createdAt") or "")
    source_id = str(post.get("id"))
    parent = post.get("parent")
    return ParsedComment(
        source_id=source_id,
        body_html=message,
        body_text=html_to_text(message) if message else "",
        author_name=str(author.get("name") or author.get("username") or ""),
        author_url=(author.get("profileUrl") or author.get("url") or None),
        published_text=created,
        published_at=pagemeta.read_date(created),
        permalink=f"{link}#comment-{source_id}" if link else None,
        parent_source_id=str(parent) if parent not in (None, "", 0) else None,
        depth=int(post.get("depth") or 0),
    )


def _comments(posts: Any, link: str) -> Iterator[ParsedComment]:  # noqa: ANN401 - JSON
    if not isinstance(posts, list):
        raise ParseError("the Disqus answer holds no list of posts")
    for post in posts:
        if isinstance(post, dict) and post.get("id") is not None and not post.get("isDeleted"):
            yield _comment(post, link)


def _follow(cursor: Any, then: Callable[[Response], Iterator[Found]], thread_id: str,  # noqa: ANN401
            forum: str, order: str, api_key: str) -> Iterator[Request]:
    if isinstance(cursor, dict) and cursor.get("hasNext") and cursor.get("next"):
        yield Request(api_url(thread_id, forum, str(cursor["next"]), order, api_key), then=then,
                      accept=JSON)


def read_embed(response: Response) -> Iterator[Found]:
    """The embed page: the thread as Disqus knows it, its first posts, the next API page."""
    data = thread_data(response.text, response.url)
    body = data["response"]
    stated = body.get("thread")
    thread: dict[str, Any] = stated if isinstance(stated, dict) else {}
    forum = str(thread.get("forum") or (parse_qs(urlsplit(response.url).query).get("f") or [""])[0])
    link = str(thread.get("link") or "")
    closed = bool(thread.get("isClosed"))
    message = str(thread.get("message") or "")
    created = str(thread.get("createdAt") or "")
    yield ParsedThread(  # read only when the embed page is the first answer (no host page)
        url=response.url, title=str(thread.get("clean_title") or thread.get("title") or ""),
        body_html=message, body_text=html_to_text(message) if message else "",
        site_name=forum, site_url=f"https://{forum}.disqus.com/" if forum else "",
        published_text=created, published_at=pagemeta.read_date(created), permalink=link or None,
    )
    yield from _comments(body.get("posts"), link)
    yield PageFacts(number=1, comments_closed=closed)
    found_key = _API_KEY.search(response.text)
    api_key = found_key.group(1) if found_key else PUBLIC_API_KEY
    thread_id, order = str(thread.get("id") or ""), str(data.get("order") or "popular")
    if thread_id:
        then = _api_reader(thread_id, forum, order, api_key, link, closed, 2)
        yield from _follow(data.get("cursor"), then, thread_id, forum, order, api_key)


def _api_reader(thread_id: str, forum: str, order: str, api_key: str, link: str, closed: bool,
                number: int) -> Callable[[Response], Iterator[Found]]:
    """The callback for API page ``number`` of a thread (what it needs from the embed kept)."""

    def read_api(response: Response) -> Iterator[Found]:
        data = response.json()
        if not isinstance(data, dict) or data.get("code") != 0:
            said = data.get("response") if isinstance(data, dict) else data
            code = data.get("code") if isinstance(data, dict) else None
            raise ParseError(f"{response.url}: the Disqus API answered code {code}: "
                             f"{str(said)[:200]}")
        yield from _comments(data.get("response"), link)
        yield PageFacts(number=number, comments_closed=closed)
        following = _api_reader(thread_id, forum, order, api_key, link, closed, number + 1)
        yield from _follow(data.get("cursor"), following, thread_id, forum, order, api_key)

    return read_api
