"""WordPress (self-hosted and WordPress.com): the post and its comments from the HTML of any
theme, or from the site's REST API when the page offers it, with the HTML as the fallback.

HTML: a comment is the element ``wp_list_comments`` marks with ``comment``/``pingback``/
``trackback`` and ``depth-N`` (an ``li`` or a ``div``, any theme, classic or HTML5 markup);
wpDiscuz's ``div.wc-comment#wc-comm-ID_PARENT`` (and its later ``wpd-comm-``) too. Replies are
read from the nesting (``ol.children``, nested divs). Every comment page linked from any page
(``/comment-page-N/``, ``?cpage=N``, Older/Newer) is asked for; the engine skips pages read.

REST (``link rel="https://api.w.org/"`` and a post id): the first page yields the thread, its
pings and a request for ``/wp/v2/comments``; its fallback is the HTML reading of that page. The
API's comments replace the HTML's, but every HTML comment page is still read, once the API has
answered: it is kept as a capture (the page as readers saw it) and gives the pings, which
WordPress never lists to an anonymous reader. Comments are yielded only by one of the two paths.
The API must list every comment the first page shows; when it does not, or refuses, or answers
something that is not its list, the engine takes the fallback (the HTML path) and logs why. The
API's comments come on its last page, in thread order (oldest first, a reply after what it
answers); their date as shown is the API's ``date`` (the site's local time, ISO), not the
theme's wording, so a thread read once each way records that as an edit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from urllib.parse import parse_qsl, urldefrag, urlencode, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.adapters import wordpress_rest as rest
from archiver.adapters.base import PageFacts, ParsedComment, ParsedPage, ParsedThread
from archiver.adapters.contract import JSON, Found, Request, Response
from archiver.adapters.depth import parse_html
from archiver.adapters.render import render_children
from archiver.adapters.wordpress_comments import (
    classes_of,
    iso_date,
    read_comments,
    read_date,
    resolve,
    text_of,
)
from archiver.errors import ParseError
from archiver.urls import normalise_url

PLATFORM = "wordpress"
# WordPress.com blogs (self-hosted sites are found by their markup, ``matches``)
URL_PATTERNS = (
    re.compile(r"^https?://[a-z0-9-]+\.wordpress\.com/\d{4}/\d{2}/\d{2}/[^/?#]+/?"
               r"(?:comment-page-\d+/?)?(?:[?#].*)?$", re.IGNORECASE),
)
EXAMPLES = (
    "https://gormulus.wordpress.com/2012/12/11/das-wird-man-ja-wohl-noch-sagen-durfen/",
    "https://someone.wordpress.com/2020/01/02/a-post/comment-page-2/#comments",
    "http://old.wordpress.com/2008/05/06/post?cpage=1",
)

_PAGE_PATH = re.compile(r"/comment-page-(\d{1,6})/?$")
_POST_ID_CLASS = re.compile(r"^(?:postid|page-id)-(\d+)$")
_CLOSED = re.compile(
    r"comments (?:are|were) closed|kommentare sind (?:geschlossen|deaktiviert)"
    r"|commentaires sont fermés|los comentarios están cerrados|commenti sono chiusi",
    re.IGNORECASE)
_NOTICES = ".no-comments, .nocomments, .comments-closed, .comments-are-closed"
_FORMS = ('#commentform, form.comment-form, #respond form, form.wc_comm_form, '
          'form[action*="wp-comments-post"]')
_NOTICE_MAX_CHARS = 200
_POST_BODIES = (".entry-content", ".post-content", ".entry-body", ".post-body")


def matches(html: str, url: str = "") -> bool:
    """Whether the page is WordPress's, by its head: its generator, its REST API link, or the
    wp-content/wp-includes assets it loads (a page that merely shows an image hosted on a
    WordPress site is not claimed: only the head counts)."""
    end = html.find("</head>")
    head = html[: end if end >= 0 else 65536].lower()
    return ('content="wordpress' in head or "api.w.org" in head or "/wp-content/" in head
            or "/wp-includes/" in head)


def start(url: str) -> Request:
    """The first request: the page asked for, read with the API when it offers one."""
    return Request(url, then=read_page)


# --- the page ----------------------------------------------------------------------------------

@dataclass(slots=True)
class Page(ParsedPage):
    """What one HTML page of a post shows: a ParsedPage (its ``next_page_url`` the first other
    comment page it links to), with every such link and the REST API it offers."""

    links: list[str] = field(default_factory=list)  # the other comment pages, in page order
    api: str | None = None  # the REST API's root
    post_id: str | None = None

    @property
    def pings(self) -> list[ParsedComment]:
        return [c for c in self.comments if c.kind != "comment"]

    @property
    def replies(self) -> list[ParsedComment]:
        return [c for c in self.comments if c.kind == "comment"]


def _post_url(url: str) -> str:
    """The post's URL behind one of its comment pages: ``/comment-page-N/`` and ``cpage``
    dropped, the fragment too (``/post/comment-page-2/`` -> ``/post/``, ``/post.html/comment-
    page-2`` -> ``/post.html``)."""
    parts = urlsplit(urldefrag(url)[0])
    path = parts.path
    found = _PAGE_PATH.search(path)
    if found:
        path = path[:found.start()]
        path = path if "." in path.rsplit("/", 1)[-1] else path + "/"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k != "cpage"])
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def _page_number_of(url: str) -> int | None:
    parts = urlsplit(url)
    found = _PAGE_PATH.search(parts.path)
    if found:
        return int(found[1])
    for key, value in parse_qsl(parts.query):
        if key == "cpage" and value.isdecimal() and len(value) <= 6:
            return int(value)
    return None


def _meta(tree: LexborHTMLParser, selector: str, attr: str = "content") -> str:
    node = tree.css_first(selector)
    return " ".join((node.attributes.get(attr) or "").split()) if node is not None else ""


def _site(tree: LexborHTMLParser, url: str) -> tuple[str, str]:
    """The site's name and base URL (the site title's home link when it is on this host)."""
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}/"
    home = tree.css_first('a[rel="home"], .site-title a')
    if home is not None:
        target = resolve(url, home.attributes.get("href") or "")
        if target and urlsplit(target).netloc.lower() == parts.netloc.lower():
            base = urldefrag(target)[0]
    name = _meta(tree, 'meta[property="og:site_name"]') or text_of(tree.css_first(".site-title"))
    if not name:
        title = text_of(tree.css_first("title"))
        name = re.split(r"\s+[|\u2013\u2014-]\s+", title)[-1] if title else ""
    return name, base


def _thread(tree: LexborHTMLParser, url: str) -> ParsedThread:
    canonical = _meta(tree, 'link[rel="canonical"]', "href") or _meta(
        tree, 'meta[property="og:url"]')
    target = resolve(url, canonical) if canonical else None
    thread_url = _post_url(target or url)
    comments = tree.css_first("#comments")
    body = next((n for selector in _POST_BODIES for n in tree.css(selector)
                 if comments is None or not _inside(n, comments)), None)
    title = text_of(tree.css_first("h1.entry-title, .entry-title, h1.post-title, .post-title"))
    title = title or _meta(tree, 'meta[property="og:title"]') or text_of(tree.css_first("title"))
    author = text_of(tree.css_first(
        'a[rel="author"], .entry-meta .author .fn, .byline .author, .author.vcard .fn,'
        " .entry-author-name, .entry-author-text a, .post-author a"
    )) or _meta(tree, 'meta[name="author"]')
    date_node = tree.css_first("time.entry-date, time.published, .entry-meta time[datetime],"
                               " .post-date a, .entry-time")
    published_text = text_of(date_node)
    stamp = (date_node.attributes.get("datetime") if date_node is not None else None) or _meta(
        tree, 'meta[property="article:published_time"]')
    published_text = published_text or stamp
    name, site_url = _site(tree, url)
    return ParsedThread(
        url=thread_url, title=title,
        body_html=(body.inner_html or "") if body is not None else "",
        body_text=render_children(body) if body is not None else "",
        site_name=name, site_url=site_url, author=author,
        published_text=published_text,
        published_at=iso_date(stamp) if stamp else read_date(published_text),
        permalink=thread_url,
    )


def _inside(node: LexborNode, container: LexborNode) -> bool:
    parent: LexborNode | None = node
    while parent is not None:
        if parent.mem_id == container.mem_id:
            return True
        parent = parent.parent
    return False


# --- paging, closed, API -----------------------------------------------------------------------

def _normal(url: str) -> str | None:
    """The URL in archiver.urls's one form, or None when it is no http(s) URL."""
    try:
        return normalise_url(url)
    except ValueError:
        return None


def _page_links(tree: LexborHTMLParser, url: str, thread_url: str, number: int) -> list[str]:
    """Every other comment page of this post the page links to, in page order (normalised);
    not this page's own number (the plain post URL shows the newest page: its permalinks name
    that page)."""
    here = _normal(url)
    if here is None:  # no URL links can be read against
        return []
    posts = {_post_url(here), _post_url(_normal(thread_url) or here)}
    host = urlsplit(here).netloc
    found: list[str] = []
    for link in tree.css('a[href*="comment-page-"], a[href*="cpage="]'):
        target = resolve(url, link.attributes.get("href") or "")
        if target is None or _page_number_of(target) in (None, number) or "replytocom" in target:
            continue
        target = _normal(target)
        if (target is not None and urlsplit(target).netloc == host and _post_url(target) in posts
                and target != here and target not in found):
            found.append(target)
    return found


def _current_page(tree: LexborHTMLParser, url: str) -> int:
    number = _page_number_of(url)
    if number is not None:
        return number
    for node in tree.css('#comments .current, [class*="comment"] .current'):
        text = text_of(node)
        if text.isdecimal() and len(text) <= 6:
            return int(text)
    return 1


def _closed(tree: LexborHTMLParser, html: str) -> bool:
    """Comments are closed when the page shows no comment form and says they are closed."""
    if tree.css_first(_FORMS) is not None:
        return False
    if tree.css_first(_NOTICES) is not None:
        return True
    if not _CLOSED.search(html):
        return False
    for node in tree.css("p, div, span, em, h3, h4"):
        text = text_of(node)
        if len(text) <= _NOTICE_MAX_CHARS and _CLOSED.search(text):
            return True
    return False


def _api(tree: LexborHTMLParser, url: str) -> tuple[str | None, str | None]:
    """The REST API's root and the post's id, when the page offers both."""
    href = _meta(tree, 'link[rel="https://api.w.org/"]', "href")
    root = rest.api_root(href, url) if href else None
    if root is None:
        return None, None
    body = tree.body
    for name in classes_of(body) if body is not None else []:
        found = _POST_ID_CLASS.match(name)
        if found:
            return root, found[1]
    short = _meta(tree, 'link[rel="shortlink"]', "href")
    for key, value in parse_qsl(urlsplit(short).query) if short else []:
        if key in ("p", "page_id") and value.isdecimal():
            return root, value
    return root, None


def parse_page(html: str, url: str) -> Page:
    """Read one HTML page of a post (the post page or a comment page)."""
    tree = parse_html(html)
    thread = _thread(tree, url)
    comments = read_comments(tree, url)
    api, post_id = _api(tree, url)
    number = _current_page(tree, url)
    links = _page_links(tree, url, thread.url, number)
    return Page(thread=thread, comments=comments, page_number=number,
                comments_closed=_closed(tree, html), next_page_url=links[0] if links else None,
                links=links, api=api, post_id=post_id)


# --- callbacks ---------------------------------------------------------------------------------

def read_page(response: Response) -> Iterator[Found]:
    """The first page: read from its HTML, or, when the site offers its REST API, the thread and
    pings from here and the comments from the API (this page's HTML reading as the fallback)."""
    page = parse_page(response.text, response.url)
    if page.api is None or page.post_id is None:
        yield from _html_items(page)
        return
    yield page.thread
    yield from page.pings
    yield PageFacts(number=page.page_number, comments_closed=page.comments_closed)
    plan = RestPlan(root=page.api, post_id=page.post_id,
                    shown=frozenset(c.source_id for c in page.replies),
                    links=tuple(page.links), closed=page.comments_closed,
                    fallback=partial(_fallback, page))
    yield Request(rest.comments_url(plan.root, plan.post_id, 1), then=partial(read_rest, plan),
                  accept=JSON, fallback=plan.fallback)


def read_html(response: Response) -> Iterator[Found]:
    """Any comment page read from its HTML alone (no API, or the API failed)."""
    yield from _html_items(parse_page(response.text, response.url))


def read_capture(response: Response) -> Iterator[Found]:
    """A comment page once the API gave the comments: kept as a capture; its thread, pings,
    facts and the further pages it links to."""
    page = parse_page(response.text, response.url)
    yield page.thread
    yield from page.pings
    yield PageFacts(number=page.page_number, comments_closed=page.comments_closed)
    for link in page.links:
        yield Request(link, then=read_capture)


def _html_items(page: Page) -> Iterator[Found]:
    yield page.thread
    yield from page.comments
    yield PageFacts(number=page.page_number, comments_closed=page.comments_closed)
    for link in page.links:
        yield Request(link, then=read_html)


def _fallback(page: Page) -> Iterator[Found]:
    """When the API cannot be read: the first page's comments (its pings were yielded with it)
    and its comment pages read from their HTML."""
    yield from page.replies
    yield PageFacts(number=page.page_number, comments_closed=page.comments_closed)
    for link in page.links:
        yield Request(link, then=read_html)


@dataclass(frozen=True, slots=True)
class RestPlan:
    """What the API's pages carry from one to the next."""

    root: str
    post_id: str
    shown: frozenset[str]  # the comment ids the HTML page shows: the API must give them all
    links: tuple[str, ...]  # the HTML comment pages, read as captures once the API answered
    closed: bool
    fallback: Callable[[], Iterable[Found]]
    got: tuple[ParsedComment, ...] = field(default=())
    page: int = 1


def read_rest(plan: RestPlan, response: Response) -> Iterator[Found]:
    """One page of ``/wp/v2/comments``; the last yields every comment read, in thread order.
    ParseError (the engine then takes the fallback) when the answer is not the API's list or
    lacks a comment the HTML page shows."""
    comments = rest.read_comments(response.json(), plan.post_id)
    got = plan.got + tuple(comments)
    pages = rest.total_pages(response, len(comments))
    if (pages is None and comments) or (pages is not None and plan.page < pages):
        after = replace(plan, got=got, page=plan.page + 1)
        yield Request(rest.comments_url(plan.root, plan.post_id, after.page),
                      then=partial(read_rest, after), accept=JSON, fallback=plan.fallback)
        return
    missing = plan.shown - {c.source_id for c in got}
    if missing:
        raise ParseError(f"the comments API gave {len(got)} comments but lacks {len(missing)}"
                         f" the page shows (e.g. {min(missing)}): reading the HTML instead")
    yield from rest.thread_order(got)
    yield PageFacts(number=plan.page, comments_closed=plan.closed)
    for link in plan.links:
        yield Request(link, then=read_capture)
