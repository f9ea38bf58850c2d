"""What the exports say of replies and pings: whom a reply answers (by the name and number its
parent showed), how deep it sits, and which items are pings listed apart from the comments."""

from __future__ import annotations

from dataclasses import dataclass, field

from archiver.store.models import Comment

MAX_INDENT = 10  # deeper replies are drawn at this depth (their depth is still said)
PING_LABELS = {"pingback": "Pingback", "trackback": "Trackback"}


def is_ping(comment: Comment) -> bool:
    return comment.kind in PING_LABELS


@dataclass(slots=True)
class ReplyIndex:
    """The comments met so far in thread order: source id -> (author, number shown)."""

    seen: dict[str, tuple[str, int]] = field(default_factory=dict)
    count: int = 0  # comments (not pings) met so far

    def number(self, comment: Comment) -> int:
        """Count a comment and give the number it shows (the page's, else its place)."""
        self.count += 1
        shown = comment.number if comment.number is not None else self.count
        self.seen[comment.source_id] = (comment.author_name, shown)
        return shown

    def answered(self, comment: Comment) -> tuple[str, int | None] | None:
        """(author, number) of the comment this one answers; (a note, None) when the parent is
        not in the archive; None for a top-level comment."""
        parent = comment.parent_source_id
        if not parent:
            return None
        if parent in self.seen:
            return self.seen[parent]
        return f"a comment not in the archive (id {parent})", None

    def reply_note(self, comment: Comment) -> str:
        """" | in reply to NAME (#N)" for the text dump ("" for a top-level comment)."""
        parent = self.answered(comment)
        if parent is None:
            return ""
        name, number = parent
        return f" | in reply to {name}" + (f" (#{number})" if number is not None else "")


def indent(depth: int) -> str:
    return "    " * max(0, min(depth, MAX_INDENT))
