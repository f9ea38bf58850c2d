"""What the web pages read from the store: sites and threads with their counts, one page of a
thread's comments (replies answered across pages, edit histories), a comment's place in its thread.
Every read is bounded: a thread is read a page of comments at a time, never whole."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from archiver.export.html import _anchor as anchor
from archiver.export.html import sanitize
from archiver.export.selection import PING_KINDS, thread_date_key
from archiver.images import EXTENSIONS
from archiver.store.models import Comment, CommentVersion, Picture, Site, Thread

SORTS = {
    "newest": "newest post first",
    "oldest": "oldest post first",
    "fetched": "last fetched first",
    "comments": "most comments first",
    "title": "title",
}
STATUSES = ("open", "closed", "gone")
__all__ = ["SORTS", "STATUSES", "anchor", "comment_history", "comment_page", "sites",
           "thread_page", "threads"]
THREADS_PER_PAGE = 50


def _comment_counts() -> Any:
    """Subquery: thread id -> number of current comments (not removed, pings not counted)."""
    return (
        select(Comment.thread_id, func.count().label("n"))
        .where(col(Comment.removed_at).is_(None), col(Comment.kind).not_in(PING_KINDS))
        .group_by(col(Comment.thread_id))
        .subquery()
    )


@dataclass(slots=True)
class SiteRow:
    site: Site
    threads: int
    comments: int


def sites(session: Session) -> list[SiteRow]:
    """Every site (they are few) with its number of threads and current comments."""
    counts = _comment_counts()
    rows = session.exec(
        select(Site, func.count(col(Thread.id)), func.coalesce(func.sum(counts.c.n), 0))
        .outerjoin(Thread, col(Thread.site_id) == col(Site.id))
        .outerjoin(counts, counts.c.thread_id == Thread.id)
        .group_by(col(Site.id))
        .order_by(col(Site.name), col(Site.id))
    ).all()
    return [SiteRow(site, int(threads), int(comments)) for site, threads, comments in rows]


@dataclass(slots=True)
class ThreadList:
    rows: list[tuple[Thread, int]]  # (thread, current comments)
    total: int  # threads matching the filter
    page: int
    pages: int


def threads(
    session: Session, *, site_id: int | None = None, status: str | None = None,
    text: str = "", sort: str = "newest", page: int = 1, per_page: int = THREADS_PER_PAGE,
) -> ThreadList:
    """Threads matching the filter (site, status, words of the title or URL), sorted, one page."""
    conditions: list[Any] = []
    if site_id is not None:
        conditions.append(Thread.site_id == site_id)
    if status in STATUSES:
        conditions.append(Thread.status == status)
    for word in text.split()[:10]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(col(Thread.title).ilike(pattern, escape="\\"),
                              col(Thread.url).ilike(pattern, escape="\\")))
    total = int(session.exec(select(func.count()).select_from(Thread).where(*conditions)).one())
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    counts = _comment_counts()
    n = func.coalesce(counts.c.n, 0)
    order: list[Any] = {
        "oldest": [thread_date_key().asc()],
        "fetched": [col(Thread.last_fetched_at).desc()],
        "comments": [n.desc()],
        "title": [func.lower(Thread.title).asc()],
    }.get(sort, [thread_date_key().desc()])
    statement = (
        select(Thread, n).outerjoin(counts, counts.c.thread_id == Thread.id).where(*conditions)
        .order_by(*order, col(Thread.id).desc())
        .offset((page - 1) * per_page).limit(per_page)
    )
    rows = [(thread, int(count)) for thread, count in session.exec(statement).all()]
    return ThreadList(rows, total, page, pages)


def _not_ping() -> Any:
    return col(Comment.kind).not_in(PING_KINDS)


def comment_count(session: Session, thread_id: int, *, current: bool) -> int:
    """The thread's comments (pings not counted): current ones, or all, removed ones too."""
    statement = select(func.count()).select_from(Comment).where(
        Comment.thread_id == thread_id, _not_ping())
    if current:
        statement = statement.where(col(Comment.removed_at).is_(None))
    return int(session.exec(statement).one())


def _ranks(session: Session, thread_id: int, source_ids: Sequence[str]
           ) -> dict[str, tuple[str, int, int]]:
    """source id -> (author, number shown, rank among the thread's comments) for comments of the
    thread, pings left out: one windowed read of the thread's ids, not of its bodies."""
    if not source_ids:
        return {}
    ranked = (
        select(Comment.source_id, Comment.author_name, Comment.number,
               func.row_number().over(order_by=(col(Comment.position), col(Comment.id)))
               .label("rank"))
        .where(Comment.thread_id == thread_id, _not_ping())
        .subquery()
    )
    found: dict[str, tuple[str, int, int]] = {}
    ids = list(source_ids)
    for start in range(0, len(ids), 500):
        rows = session.execute(  # rows, not scalars
            select(ranked).where(ranked.c.source_id.in_(ids[start:start + 500])))  # type: ignore[call-overload]
        for source_id, author, number, rank in rows:
            found[source_id] = (author, number if number is not None else rank, int(rank))
    return found


@dataclass(slots=True)
class CommentView:
    """One comment as the thread page shows it."""

    comment: Comment
    anchor: str
    body: str  # sanitised HTML
    number: int | None  # None for a ping
    history: list[tuple[CommentVersion, str]]  # earlier versions with their sanitised bodies
    reply_to: tuple[str, int | None, str | None] | None = None  # (author, number, href)
    css: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ThreadPage:
    thread: Thread
    site: Site | None
    page: int
    pages: int
    size: int
    comments: list[CommentView]
    pings: list[CommentView]  # listed on the last page
    current: int  # current comments of the whole thread
    total: int  # comments shown over all pages (removed ones too)
    post: str  # the post's body, sanitised


def page_of_rank(rank: int, size: int) -> int:
    return (max(1, rank) - 1) // size + 1


def _history(session: Session, ids: list[int]) -> dict[int, list[CommentVersion]]:
    history: dict[int, list[CommentVersion]] = {}
    if ids:
        for version in session.exec(
            select(CommentVersion).where(col(CommentVersion.comment_id).in_(ids))
            .order_by(col(CommentVersion.comment_id), col(CommentVersion.version))
        ):
            history.setdefault(version.comment_id, []).append(version)
    return history


def shown_pictures(session: Session, thread_id: int) -> dict[str, str]:
    """The thread's pictures held in the store: image URL -> where this app serves it
    (/pictures/ID, from the store: img-src 'self', nothing loaded from the network)."""
    rows = session.exec(select(Picture.id, Picture.url, Picture.media_type).where(
        Picture.thread_id == thread_id, Picture.state == "ok"))
    return {url: f"/pictures/{picture_id}" for picture_id, url, media in rows
            if media in EXTENSIONS}


def _view(thread: Thread, comment: Comment, versions: Sequence[CommentVersion],
          number: int | None, shown: dict[str, str] | None = None) -> CommentView:
    base = comment.page_url or thread.url
    css = ["comment"] + ([comment.kind] if comment.kind in PING_KINDS else [])
    if comment.depth > 0:
        css += ["reply", f"depth-{min(comment.depth, 10)}"]
    if comment.removed_at is not None:
        css.append("removed")
    return CommentView(
        comment=comment, anchor=anchor(comment.source_id),
        body=sanitize(comment.body_html, base, shown), number=number,
        history=[(v, sanitize(v.body_html, base, shown)) for v in versions], css=css,
    )


def thread_page(session: Session, thread: Thread, page: int, size: int) -> ThreadPage:
    """Page `page` (1-based) of the thread's comments, `size` a page, in thread order, removed
    ones marked; replies say whom they answer (a link to the parent's page when it is on
    another); pings on the last page."""
    thread_id = thread.id or 0
    total = comment_count(session, thread_id, current=False)
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    offset = (page - 1) * size
    # the page's ids first (sorting the thread's ids, not its bodies), then those rows alone
    ids = list(session.exec(
        select(Comment.id).where(Comment.thread_id == thread_id, _not_ping())
        .order_by(col(Comment.position), col(Comment.id)).offset(offset).limit(size)
    ).all())
    rows = {c.id: c for c in session.exec(select(Comment).where(col(Comment.id).in_(ids)))}
    batch = [rows[i] for i in ids if i in rows]
    pings: list[Comment] = []
    if page == pages:
        pings = list(session.exec(
            select(Comment).where(Comment.thread_id == thread_id,
                                  col(Comment.kind).in_(PING_KINDS))
            .order_by(col(Comment.position), col(Comment.id))
        ).all())
    history = _history(session, [c.id for c in batch + pings if c.id is not None])
    shown = shown_pictures(session, thread_id)
    on_page: dict[str, tuple[str, int]] = {}
    views: list[CommentView] = []
    for rank, comment in enumerate(batch, start=offset + 1):
        number = comment.number if comment.number is not None else rank
        on_page[comment.source_id] = (comment.author_name, number)
        views.append(_view(thread, comment, history.get(comment.id or 0, []), number, shown))
    elsewhere = _ranks(session, thread_id, sorted(
        {c.parent_source_id for c in batch if c.parent_source_id} - on_page.keys()))
    for view in views:
        parent = view.comment.parent_source_id
        if not parent:
            continue
        if parent in on_page:
            name, number = on_page[parent]
            view.reply_to = (name, number, f"#{anchor(parent)}")
        elif parent in elsewhere:
            name, number, rank = elsewhere[parent]
            view.reply_to = (name, number, f"?page={page_of_rank(rank, size)}#{anchor(parent)}")
        else:
            view.reply_to = (f"a comment not in the archive (id {parent})", None, None)
    return ThreadPage(
        thread=thread, site=session.get(Site, thread.site_id), page=page, pages=pages,
        size=size, comments=views,
        pings=[_view(thread, c, history.get(c.id or 0, []), None, shown) for c in pings],
        current=comment_count(session, thread_id, current=True), total=total,
        post=sanitize(thread.body_html, thread.url, shown),
    )


def comment_page(session: Session, comment: Comment, size: int) -> int:
    """The page of its thread a comment is shown on."""
    if comment.kind in PING_KINDS:
        total = comment_count(session, comment.thread_id, current=False)
        return max(1, -(-total // size))
    before = session.exec(
        select(func.count()).select_from(Comment).where(
            Comment.thread_id == comment.thread_id, _not_ping(),
            or_(col(Comment.position) < comment.position,
                (col(Comment.position) == comment.position) & (col(Comment.id) < comment.id)))
    ).one()
    return page_of_rank(int(before) + 1, size)


def comment_history(session: Session, comment: Comment, thread: Thread) -> CommentView:
    """A comment with every earlier version, for its own page."""
    return _view(thread, comment, _history(session, [comment.id or 0]).get(comment.id or 0, []),
                 comment.number, shown_pictures(session, thread.id or 0))
