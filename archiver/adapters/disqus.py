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
from archiver.adapters.base import PageFacts, ParsedComment, ParsedPage, ParsedThread
from archiver.adapters.contract import JSON, Found, Request, Response
from archiver.adapters.depth import parse_html
from archiver.adapters.render import html_to_text, render_children
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
    "shortname": ("disqus_shortname", '"disqusShortname"'),
    "identifier": ("disqus_identifier", "this.page.identifier", '"disqusIdentifier"'),
    "url": ("disqus_url", "this.page.url", '"disqusUrl"'),
    "title": ("disqus_title", "this.page.title", '"disqusTitle"'),
}
_VALUE = re.compile(r"\s*[:=]\s*" + _STRING)  # what follows a name: its value, if a literal
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


def _assigned(html: str, names: tuple[str, ...]) -> str | None:
    """The first literal value given to one of names (``name = '...'`` or ``"name": "..."``);
    found with str.find, the pattern only matched where a name stands (a search for the names
    as one pattern scans the page several times slower)."""
    best: tuple[int, str] | None = None
    for name in names:
        at = html.find(name)
        while at >= 0 and (best is None or at < best[0]):
            found = _VALUE.match(html, at + len(name))
            if found is not None:
                best = (at, _unquote_js(found).strip())
                break
            at = html.find(name, at + 1)
    return best[1] if best is not None else None


def embed_config(html: str) -> dict[str, str]:
    """What the page tells Disqus: shortname, identifier, url, title (the ones it sets)."""
    found: dict[str, str] = {}
    for key, names in _VARIABLES.items():
        value = _assigned(html, names)
        if value:
            found[key] = value
    if "shortname" not in found:
        match = _EMBED_JS.search(html)
        if match is not None:
            found["shortname"] = match.group(1).lower()
    return found


def matches(html: str, url: str = "") -> bool:
    """Whether the page embeds Disqus comments (its embed.js, or a shortname for it)."""
    if "disqus" not in html and "Disqus" not in html:
        return False
    return (_EMBED_JS.search(html) is not None
            or _assigned(html, _VARIABLES["shortname"]) is not None)


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


def parse_page(html: str, url: str) -> ParsedPage:
    """Read one answer as a page: an embed page (its thread data) or a host page (its post;
    the embed page as its next page)."""
    response = Response(url=url, status=200, headers=(), content=b"", text=html)
    reader = read_embed if _THREAD_DATA.search(html) else read_host
    return pagemeta.page_of(reader(response))


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


def thread_data(html: str, url: str) -> tuple[dict[str, Any], int, int]:
    """The JSON of the embed page's ``script#disqus-threadData``, and where it stands."""
    found = _THREAD_DATA.search(html)
    if found is None:
        raise ParseError(f"{url}: no disqus-threadData in the Disqus embed page")
    end = html.find("</script", found.end())
    end = end if end >= 0 else len(html)
    try:
        data = json.loads(html[found.end():end])
    except ValueError as exc:
        raise ParseError(f"{url}: the Disqus thread data is not JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("response"), dict):
        raise ParseError(f"{url}: the Disqus thread data has no response")
    return data, found.start(), end


def _api_key(text: str) -> str | None:
    """An API key the embed page names outside its thread data (whose posts are anyone's
    text), else None."""
    if "api_key" not in text and "apiKey" not in text and "embedAPI" not in text:
        return None  # the pattern's search is slow on a long page; this test is not
    found = _API_KEY.search(text)
    return found.group(1) if found else None


def _texts(messages: list[str]) -> list[str]:
    """Each post's message rendered as text, all in one parse: each in a numbered wrapper of
    one document. When a message's markup reaches beyond its wrapper (an unclosed list, a stray
    end tag: the wrappers are not each other's siblings in order), each is parsed alone."""
    if not messages:
        return []
    page = "".join(f'<div data-m="{i}">{m}</div>' for i, m in enumerate(messages))
    root = parse_html(f"<div id='archiver-root'>{page}</div>").css_first("#archiver-root")
    wrappers = []
    child = root.child if root is not None else None
    while child is not None:
        if child.tag != "-text" or (child.text_content or "").strip():
            wrappers.append(child)
        child = child.next
    if len(wrappers) != len(messages) or any(
            w.tag != "div" or w.attributes.get("data-m") != str(i) for i, w in enumerate(wrappers)):
        return [html_to_text(m) if m else "" for m in messages]
    return [render_children(w) for w in wrappers]


def _comment(post: dict[str, Any], link: str, text: str) -> ParsedComment:
    stated = post.get("author")
    author: dict[str, Any] = stated if isinstance(stated, dict) else {}
    message = str(post.get("message") or "")
    created = str(post.get("createdAt") or "")
    source_id = str(post.get("id"))
    parent = post.get("parent")
    return ParsedComment(
        source_id=source_id,
        body_html=message,
        body_text=text,
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
    shown = [p for p in posts
             if isinstance(p, dict) and p.get("id") is not None and not p.get("isDeleted")]
    texts = _texts([str(p.get("message") or "") for p in shown])
    for post, text in zip(shown, texts, strict=True):
        yield _comment(post, link, text)


def _follow(cursor: Any, then: Callable[[Response], Iterator[Found]], thread_id: str,  # noqa: ANN401
            forum: str, order: str, api_key: str) -> Iterator[Request]:
    if isinstance(cursor, dict) and cursor.get("hasNext") and cursor.get("next"):
        yield Request(api_url(thread_id, forum, str(cursor["next"]), order, api_key), then=then,
                      accept=JSON)


def read_embed(response: Response) -> Iterator[Found]:
    """The embed page: the thread as Disqus knows it, its first posts, the next API page."""
    data, start, end = thread_data(response.text, response.url)
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
    api_key = _api_key(response.text[:start]) or _api_key(response.text[end:]) or PUBLIC_API_KEY
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
