"""Static offline HTML mirror: index.html, one index per site, one page per thread with the post
and every comment (anchors, edit history, removals), one CSS file. No JavaScript, no request to
any network: archived HTML is sanitized with nh3 and every page forbids remote loads by CSP.

Layout: OUT/index.html, OUT/style.css, OUT/<site>/index.html, OUT/<site>/<thread>.html, with
names from slugs (output.site_slug, output.thread_slug) that cannot leave OUT.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from importlib import resources
from pathlib import Path
from typing import TextIO

import nh3
from sqlmodel import Session, col, select

from archiver import __version__
from archiver.adapters.depth import cap_depth
from archiver.export import output, pictures
from archiver.export.replies import (
    MAX_INDENT,
    NEST_FROM,
    PING_LABELS,
    ReplyIndex,
    depth_note,
    is_ping,
    reply_counts,
)
from archiver.export.selection import (
    Resolved,
    Sources,
    as_utc,
    capture_sources,
    count_current_comments,
    iter_comments_with_history,
    iter_threads,
    selected_sites,
)
from archiver.store.models import Comment, CommentVersion, Site, Thread

CSS_NAME = "style.css"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; font-src 'none'; "
    "media-src 'none'; frame-src 'none'; object-src 'none'; script-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)
LINK_REL = "external nofollow noopener"
URL_SCHEMES = {"http", "https", "mailto"}
_ATTRIBUTES: dict[str, set[str]] = copy.deepcopy(nh3.ALLOWED_ATTRIBUTES)
_ATTRIBUTES["img"] = {"alt", "src"}  # src only to name the image: see _IMG below
_ATTRIBUTES["a"] = {"href", "hreflang", "title"}
_TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"}
_CLEAN_CONTENT = {"script", "style", "template", "noscript", "iframe", "object"}
# In nh3's output every attribute is name="value" with quotes and angle brackets escaped.
_IMG = re.compile(r"<img\b([^>]*)>")
_ATTR = re.compile(r'([a-z-]+)="([^"]*)"')


def _image(match: re.Match[str], marks: dict[str, str] | None = None) -> str:
    """An image whose picture is held becomes an img of its local file (marks: marker URL ->
    file, export/pictures.py); any other image a text placeholder naming it: the mirror never
    loads anything from the network."""
    attrs = dict(_ATTR.findall(match.group(1)))
    alt, src = attrs.get("alt", ""), attrs.get("src", "")
    if marks and src in marks:
        return f'<img src="{_e(marks[src])}" alt="{alt}">'  # alt: escaped by nh3 already
    label = f"[image: {alt}]" if alt.strip() else "[image]"
    title = f' title="{src}"' if src else ""
    return f'<span class="image"{title}>{label}</span>'


def sanitize(fragment: str, base_url: str, shown: Mapping[str, str] | None = None) -> str:
    """Archived HTML made inert: no scripts, styles, event handlers, frames or forms; an image
    is shown from its local file when its picture is held (shown: image URL -> file), else it
    becomes a placeholder; links kept (relative ones resolved against the page)
    and marked external (rel="external nofollow noopener"). Block containers nested deeper
    than archiver.adapters.depth.MAX_DEPTH are flattened first, their text kept."""
    if not fragment:
        return ""
    fragment = cap_depth(fragment)  # html5ever is quadratic in block nesting, as lexbor is
    fragment, marks = pictures.mark(fragment, base_url, shown or {})
    cleaned = nh3.clean(
        fragment,
        tags=_TAGS,
        clean_content_tags=_CLEAN_CONTENT,
        attributes=_ATTRIBUTES,
        link_rel=LINK_REL,
        url_schemes=URL_SCHEMES,
        url_relative=("rewrite_with_base", base_url),
        strip_comments=True,
    )
    cleaned = _IMG.sub(lambda match: _image(match, marks), cleaned)
    local = sum(cleaned.count(f'<img src="{_e(path)}"') for path in set(marks.values()))
    if cleaned.count("<img") != local:  # cannot happen with nh3's output; never let one through
        cleaned = nh3.clean(cleaned, tags=_TAGS - {"img"}, attributes=_ATTRIBUTES,
                            link_rel=LINK_REL, url_schemes=URL_SCHEMES)
    return cleaned


def _e(text: str | None) -> str:
    return escape(text or "", quote=True)


def _ext_link(url: str | None, text: str) -> str:
    """An escaped link to the live web (never loaded by the mirror itself)."""
    if not url or url.split(":", 1)[0].lower() not in ("http", "https"):
        return _e(text)
    return f'<a href="{_e(url)}" rel="{LINK_REL}">{_e(text)}</a>'


def _anchor(source_id: str) -> str:
    safe = "".join(ch for ch in source_id if ch.isascii() and (ch.isalnum() or ch in "-_"))
    return f"comment-{safe or 'x'}"


def _head(out: TextIO, title: str, css_href: str) -> None:
    out.write(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f'<meta name="generator" content="archiver {_e(__version__)}">\n'
        f"<title>{_e(title)}</title>\n"
        f'<link rel="stylesheet" href="{css_href}">\n</head>\n<body>\n'
    )


def _foot(out: TextIO, exported_on: datetime | None = None) -> None:
    """The footer; only the main index says when (a day): a re-export the same day that finds
    nothing new rewrites no file."""
    when = f" on {_time(exported_on, day=True)}" if exported_on is not None else ""
    out.write(
        f"<footer>Exported by archiver {_e(__version__)}{when}. "
        "An offline copy: nothing on this page loads from the network.</footer>\n"
        "</body>\n</html>\n"
    )


def _time(value: datetime | None, *, day: bool = False) -> str:
    """A date as people read it ("29 November 2026, 22:41 UTC"), the machine form in
    <time datetime>; day=True keeps the day only (both forms)."""
    aware = as_utc(value)
    if aware is None:
        return ""
    if day:
        machine, human = f"{aware:%Y-%m-%d}", f"{aware.day} {aware:%B %Y}"
    else:
        machine = f"{aware:%Y-%m-%dT%H:%M:%SZ}"
        human = f"{aware.day} {aware:%B %Y}, {aware:%H:%M} UTC"
    return f'<time datetime="{machine}">{human}</time>'


def _display_date(thread: Thread) -> str:
    """The post's date as the blog wrote it, else as people read it (HTML); in <time> with
    its machine form when it could be read (a day only when the page showed no time)."""
    stamp = as_utc(thread.published_at)
    if thread.published_text and stamp is not None:
        machine = f"{stamp:%Y-%m-%d}" if thread.published_precision == "day" \
            else f"{stamp:%Y-%m-%dT%H:%M:%SZ}"
        return f'<time datetime="{machine}">{_e(thread.published_text)}</time>'
    if thread.published_text:
        return _e(thread.published_text)
    return _time(thread.published_at, day=True)


@dataclass(slots=True)
class HtmlReport:
    folder: Path
    threads: int = 0
    comments: int = 0
    sites: int = 0
    written: output.Written = field(default_factory=output.Written)


class MirrorWriter:
    """Writes one mirror folder."""

    def __init__(self, session: Session, resolved: Resolved, folder: Path) -> None:
        self.session = session
        self.resolved = resolved
        self.folder = folder
        self.report = HtmlReport(folder)
        self.exported_on = datetime.now(UTC)
        self._sites: dict[int, Site] = {}
        self.sources: Sources = {}  # the thread being written: where its comments came from
        self._shown: dict[str, str] = {}  # the thread's held pictures: URL -> local file

    def site(self, site_id: int) -> Site:
        if site_id not in self._sites:
            site = self.session.get(Site, site_id)
            if site is None:  # a thread always has a site; keep going if the row is gone
                site = Site(id=site_id, origin=f"site-{site_id}", base_url=f"site-{site_id}",
                            created_at=datetime.now(UTC))
            self._sites[site_id] = site
        return self._sites[site_id]

    def run(self) -> HtmlReport:
        output.prepare_folder(self.folder)
        with output.atomic_binary(self.folder / CSS_NAME, self.report.written) as css:
            css.write(resources.files("archiver.export").joinpath("static", CSS_NAME)
                      .read_bytes())
        sites = selected_sites(self.session, self.resolved)
        for site in sites:
            if site.id is not None:
                self._sites[site.id] = site
        self.report.sites = len(sites)
        with output.atomic_text(self.folder / "index.html", self.report.written) as index:
            self._index_start(index, sites)
            for thread in iter_threads(self.session, self.resolved, newest_first=True):
                count = self.thread_page(thread)
                self._index_row(index, thread, count, with_site=True, prefix="")
            index.write("</tbody></table>\n</main>\n")
            _foot(index, self.exported_on)
        for site in sites:
            self.site_index(site)
        return self.report

    # -- indexes -----------------------------------------------------------------------------
    def _index_start(self, out: TextIO, sites: Sequence[Site]) -> None:
        _head(out, "Archived threads", CSS_NAME)
        out.write(
            "<main>\n<h1>Archived threads</h1>\n"
            f'<p class="meta">{self._what()}</p>\n<h2>Sites</h2>\n<ul class="sites">\n'
        )
        for site in sites:
            out.write(
                f'<li><a href="{output.site_slug(site)}/index.html">'
                f"{_e(site.title or site.name or site.origin)}</a> "
                f'<span class="meta">{_e(site.base_url or site.origin)}</span></li>\n'
            )
        out.write(
            "</ul>\n<h2>Threads</h2>\n<table class=\"threads\">\n<thead><tr><th>Title</th>"
            "<th>Site</th><th>Date</th><th>Comments</th></tr></thead>\n<tbody>\n"
        )

    def _what(self) -> str:
        """What the mirror holds, in words (HTML): "1 thread", "12 threads of site 'moa'"."""
        selection = self.resolved.selection
        text = output.plural(self.resolved.thread_count, "thread")
        if selection.url is None and selection.site is None and selection.since is None:
            return f"{text}: everything archived."
        if selection.site is not None:
            text += f" of site {_e(repr(selection.site))}"
        if selection.since is not None:
            text += f", new or changed since {_time(selection.since)}"
        return text + "."

    def _index_row(self, out: TextIO, thread: Thread, count: int, *, with_site: bool,
                   prefix: str) -> None:
        site = self.site(thread.site_id)
        href = f"{prefix}{output.thread_slug(thread)}.html"
        if with_site:
            href = f"{output.site_slug(site)}/{href}"
        site_cell = (
            f'<td class="site"><a href="{output.site_slug(site)}/index.html">'
            f"{_e(site.title or site.name or site.origin)}</a></td>" if with_site else ""
        )
        out.write(
            f'<tr><td class="title"><a href="{href}">{_e(thread.title or thread.url)}</a></td>'
            f'{site_cell}<td class="date">{_display_date(thread)}</td>'
            f'<td class="count">{count}</td></tr>\n'
        )

    def site_index(self, site: Site) -> None:
        folder = output.inside(self.folder, output.site_slug(site))
        title = site.title or site.name or site.origin
        with output.atomic_text(folder / "index.html", self.report.written) as out:
            _head(out, f"{title}: archived threads", f"../{CSS_NAME}")
            out.write(
                '<nav class="crumbs"><a href="../index.html">All archived threads</a></nav>\n'
                f"<main>\n<h1>{_e(title)}</h1>\n"
                f'<p class="site-tagline">{_e(site.tagline)}</p>\n'
                f'<p class="meta">Archived from {_ext_link(site.base_url, site.base_url)}</p>\n'
                '<table class="threads">\n<thead><tr><th>Title</th><th>Date</th>'
                "<th>Comments</th></tr></thead>\n<tbody>\n"
            )
            for thread in iter_threads(self.session, self.resolved, newest_first=True,
                                       site_id=site.id):
                count = count_current_comments(self.session, thread.id or 0)
                self._index_row(out, thread, count, with_site=False, prefix="")
            out.write("</tbody></table>\n</main>\n")
            _foot(out)

    # -- thread pages ------------------------------------------------------------------------
    def thread_page(self, thread: Thread) -> int:
        """Write the thread's page; returns its number of current comments."""
        site = self.site(thread.site_id)
        path = output.inside(self.folder, output.site_slug(site), output.thread_slug(thread)
                             + ".html")
        site_title = site.title or site.name or site.origin
        current = count_current_comments(self.session, thread.id or 0)
        self._shown = pictures.write_media(self.session, thread, self.folder,
                                           self.report.written)
        with output.atomic_text(path, self.report.written) as out:
            _head(out, f"{thread.title or thread.url} | {site_title}", f"../{CSS_NAME}")
            out.write(
                '<nav class="crumbs"><a href="../index.html">All archived threads</a> &rsaquo; '
                f'<a href="index.html">{_e(site_title)}</a></nav>\n<main>\n'
                '<article class="post" id="post">\n'
                f'<p class="meta date-header">{_e(thread.date_header)}</p>\n'
                f"<h1>{_e(thread.title or thread.url)}</h1>\n"
            )
            byline = thread.footer_text or (
                f"Posted by {thread.author} on {thread.published_text}" if thread.author else ""
            )
            out.write(
                f'<p class="meta byline">{_e(byline)}</p>\n'
                f'<div class="body">{sanitize(thread.body_html, thread.url, self._shown)}</div>\n'
                f'<p class="meta">Original: {_ext_link(thread.url, thread.url)}</p>\n'
                "</article>\n"
            )
            out.write(f'<section class="comments" id="comments">\n<h2>{current} comments</h2>\n')
            total, replies = 0, ReplyIndex()
            self.sources = capture_sources(self.session, thread.id or 0)
            pings: list[tuple[Comment, Sequence[CommentVersion]]] = []
            nesting = Nesting(out, self._reply_counts(thread))
            for comment, history in iter_comments_with_history(self.session, thread.id or 0):
                if is_ping(comment):
                    pings.append((comment, history))  # listed apart, after the comments
                    continue
                nesting.before(comment)
                self._comment(out, thread, comment, history, replies)
                nesting.after(comment)
                total += 1
            nesting.close()
            if total == 0:
                out.write('<p class="notice">No comments.</p>\n')
            out.write("</section>\n")
            if pings:
                out.write(f'<section class="pings" id="pings">\n<h2>{len(pings)} pingbacks '
                          "and trackbacks</h2>\n")
                for comment, history in pings:
                    self._comment(out, thread, comment, history, replies)
                out.write("</section>\n")
                total += len(pings)
            notes = []  # HTML: dates in <time>, nothing from the page itself
            if thread.comments_closed:
                notes.append("The comments to this entry are closed.")
            if thread.status == "gone":
                notes.append(f"The original page was gone on {_time(thread.gone_at) or '?'}.")
            notes.append(
                f"First archived on {_time(thread.first_seen_at, day=True)}; last checked on "
                f"{_time(thread.last_fetched_at, day=True) or 'no date'}."
            )
            out.write("".join(f'<p class="notice">{n}</p>\n' for n in notes))
            out.write("</main>\n")
            _foot(out)
        self.report.threads += 1
        self.report.comments += total
        return current

    def _reply_counts(self, thread: Thread) -> dict[str, int] | None:
        """Replies under each comment, for a thread whose replies are nested in <details> (one
        of NEST_FROM comments or more, or deeper than MAX_INDENT); None: drawn flat."""
        rows = self.session.exec(
            select(Comment.source_id, Comment.parent_source_id, Comment.depth)
            .where(Comment.thread_id == thread.id, col(Comment.kind).not_in(PING_LABELS))
        ).all()
        if len(rows) < NEST_FROM and max((r[2] for r in rows), default=0) <= MAX_INDENT:
            return None
        return reply_counts((r[0], r[1]) for r in rows)

    def _comment(self, out: TextIO, thread: Thread, comment: Comment,
                 history: Sequence[CommentVersion], replies: ReplyIndex) -> None:
        anchor = _anchor(comment.source_id)
        removed = comment.removed_at is not None
        ping = is_ping(comment)
        css = ["comment", comment.kind] if ping else ["comment"]
        if comment.depth > 0:
            css += ["reply", f"depth-{min(comment.depth, MAX_INDENT)}"]
        if removed:
            css.append("removed")
        number = None if ping else replies.number(comment)
        base = comment.page_url or thread.url
        out.write(f'<article class="{" ".join(css)}" id="{anchor}">\n')
        parent = replies.answered(comment)
        if parent is not None:
            name, shown = parent
            target = (f'<a href="#{_anchor(comment.parent_source_id or "")}">{_e(name)}'
                      f"{f' (#{shown})' if shown is not None else ''}</a>"
                      if shown is not None else _e(name))
            out.write(f'<p class="reply-to">In reply to {target}</p>\n')
        if removed:
            out.write(
                f'<p class="removed-note">Removed upstream: missing since '
                f"{_time(comment.removed_at)}.</p>\n"
            )
        author = _ext_link(comment.author_url, comment.author_name) if comment.author_url \
            else _e(comment.author_name)
        stamp = as_utc(comment.published_at)
        if comment.published_text and stamp is not None:  # the blog's wording, our machine form
            time_tag = f'<time datetime="{stamp:%Y-%m-%dT%H:%M:%SZ}">' \
                f"{_e(comment.published_text)}</time>"
        else:
            time_tag = _e(comment.published_text) or _time(stamp)
        out.write(
            f'<div class="body">{sanitize(comment.body_html, base, self._shown)}</div>\n'
            f'<p class="comment-meta">{PING_LABELS.get(comment.kind, "Posted")} '
            f'{"from" if ping else "by"}: <span class="author">{author}</span> | {time_tag}'
            + (f' | <a class="number" href="#{anchor}">{number}</a>' if number is not None
               else f' | <a class="number" href="#{anchor}">#</a>')
            + _e(depth_note(comment.depth)) + "</p>\n"
        )
        source = self.sources.get(comment.capture_id or -1)
        if source is not None:
            url, captured_at, record = source
            out.write(f'<p class="source">Read from {_ext_link(url, url)}, captured '
                      f"{_time(as_utc(captured_at))}"
                      + (f" (web archive record {_e(record)})" if record else "") + "</p>\n")
        if history:
            plural = "s" if len(history) > 1 else ""
            out.write(
                f'<details class="history"><summary>Edited: {len(history)} earlier '
                f"version{plural}</summary>\n"
            )
            for version in history:
                out.write(
                    f'<div class="version"><p class="meta">Version {version.version}, seen '
                    f"{_time(version.first_seen_at)} to {_time(version.replaced_at)}, "
                    f"by {_e(version.author_name)}</p>\n"
                    f'<div class="body">{sanitize(version.body_html, base, self._shown)}'
                    "</div></div>\n"
                )
            out.write("</details>\n")
        out.write("</article>\n")


class Nesting:
    """A large or deep tree's replies inside <details class="replies" open> under the comment
    they answer (collapsible without JavaScript). Comments come in tree order; one whose parent
    is not an open subtree closes what is open and stands at the top level (its reply-to line
    still says whom it answers)."""

    def __init__(self, out: TextIO, counts: dict[str, int] | None) -> None:
        self.out, self.counts = out, counts
        self.open: list[str] = []  # source ids whose replies' <details> is open, outermost first
        self.opened: set[str] = set()

    def before(self, comment: Comment) -> None:
        if self.counts is None:
            return
        parent = comment.parent_source_id
        while self.open and (parent not in self.opened or self.open[-1] != parent):
            self.opened.discard(self.open.pop())
            self.out.write("</details>\n")

    def after(self, comment: Comment) -> None:
        count = (self.counts or {}).get(comment.source_id)
        if not count or comment.source_id in self.opened:
            return
        level = min(comment.depth + 1, MAX_INDENT)
        noun = "reply" if count == 1 else "replies"
        self.out.write(f'<details class="replies" open><summary class="depth-{level}">'
                       f"{count} {noun} to {_e(comment.author_name)}</summary>\n")
        self.open.append(comment.source_id)
        self.opened.add(comment.source_id)

    def close(self) -> None:
        self.out.write("</details>\n" * len(self.open))
        self.open.clear()
        self.opened.clear()


def export(session: Session, resolved: Resolved, folder: Path) -> HtmlReport:
    """Write (or update) the mirror of the selection in folder."""
    return MirrorWriter(session, resolved, folder).run()
