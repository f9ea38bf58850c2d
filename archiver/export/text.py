"""Plain-text dump of a thread, in the shape of TypePad's own page read top to bottom."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

from sqlmodel import Session

from archiver.export.selection import iter_comments
from archiver.store.models import Site, Thread


def thread_lines(session: Session, thread: Thread) -> Iterator[str]:
    """The dump, a piece at a time (each ends with a newline)."""
    site = session.get(Site, thread.site_id)
    heading = " ".join(p for p in ((site.title, site.tagline) if site else ()) if p)
    yield f"{heading}\n"
    yield f"{thread.date_header}\n\n"
    yield f"{thread.title}\n\n"
    if thread.body_text:
        yield f"{thread.body_text}\n\n"
    footer = thread.footer_text or (
        f"Posted by {thread.author} on {thread.published_text}" if thread.author else ""
    )
    yield f"{footer} | Permalink\n\n" if footer else "Permalink\n\n"
    yield "Comments\n\n"
    for position, comment in enumerate(iter_comments(session, thread.id or 0), 1):
        number = comment.number if comment.number is not None else position
        if comment.body_text:
            yield f"{comment.body_text}\n\n"
        yield f"Posted by: {comment.author_name} | {comment.published_text} | {number}\n\n"
    if thread.comments_closed:
        yield "The comments to this entry are closed.\n"


def write_thread(session: Session, thread: Thread, out: TextIO) -> None:
    for piece in thread_lines(session, thread):
        out.write(piece)
