"""What the exports say of replies and pings: whom a reply answers (by the name and number its
parent showed), how deep it sits, and which items are pings listed apart from the comments."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from archiver.store.models import Comment

MAX_INDENT = 10  # deeper replies are drawn at this depth (their depth is still said)
# the HTML mirror nests replies in collapsible <details> for a thread this large, or deeper
# than MAX_INDENT: a long tree stays readable without JavaScript
NEST_FROM = 200
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


def depth_note(depth: int) -> str:
    """" | level N" for a reply deeper than the indentation shows ("" otherwise)."""
    return f" | level {depth}" if depth > MAX_INDENT else ""


def reply_counts(pairs: Iterable[tuple[str, str | None]]) -> dict[str, int]:
    """How many replies (all levels) each comment has, from (source id, parent's source id)
    pairs; comments without replies are left out. A cycle of parents counts nothing twice."""
    pairs = list(pairs)
    known = {source_id for source_id, _ in pairs}
    children: dict[str, list[str]] = {}
    for source_id, parent in pairs:
        if parent in known and parent != source_id:
            children.setdefault(parent, []).append(source_id)
    counts: dict[str, int] = {}
    for root in children:
        if root in counts:
            continue
        # post-order without recursion (trees thousands of levels deep)
        stack, seen = [(root, False)], {root}
        while stack:
            node, done = stack.pop()
            if done:
                counts[node] = sum(1 + counts.get(c, 0) for c in children.get(node, ())
                                   if c in counts or c not in children)
                continue
            stack.append((node, True))
            for child in children.get(node, ()):
                if child in children and child not in seen and child not in counts:
                    seen.add(child)
                    stack.append((child, False))
    return counts
