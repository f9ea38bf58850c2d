"""Plain-text dump of a thread, in the shape of TypePad's own page read top to bottom; replies
indented under the comment they answer and saying whom they answer, pings listed apart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

from sqlmodel import Session

from archiver.export.replies import PING_LABELS, ReplyIndex, depth_note, indent, is_ping
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
    replies, pings = ReplyIndex(), []
    for comment in iter_comments(session, thread.id or 0):
        if is_ping(comment):
            pings.append(comment)  # listed apart, after the comments
            continue
        number = replies.number(comment)
        pad = indent(comment.depth)
        if comment.body_text:
            yield f"{_indented(comment.body_text, pad)}\n\n"
        yield (f"{pad}Posted by: {comment.author_name} | {comment.published_text} | {number}"
               f"{replies.reply_note(comment)}{depth_note(comment.depth)}\n\n")
    if pings:
        yield "Pingbacks and trackbacks\n\n"
        for ping in pings:
            if ping.body_text:
                yield f"{ping.body_text}\n\n"
            yield f"{PING_LABELS[ping.kind]} from: {ping.author_name} | {ping.published_text}\n\n"
    if thread.comments_closed:
        yield "The comments to this entry are closed.\n"


def _indented(text: str, pad: str) -> str:
    if not pad:
        return text
    return "\n".join(pad + line if line else line for line in text.split("\n"))


def write_thread(session: Session, thread: Thread, out: TextIO) -> None:
    for piece in thread_lines(session, thread):
        out.write(piece)
