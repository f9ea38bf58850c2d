"""Plain data an adapter produces from one answer: no database, no network."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class ParsedComment:
    """One comment as the page shows it."""

    source_id: str  # the platform's own comment id (e.g. TypePad's id="comment-...")
    body_html: str
    author_name: str
    body_text: str = ""  # the body rendered as plain text (archiver.adapters.render)
    author_url: str | None = None
    published_text: str = ""  # the date string exactly as the page shows it
    published_at: datetime | None = None  # UTC, when the date string can be read
    number: int | None = None  # the number the page shows beside the comment, if any
    permalink: str | None = None
    parent_source_id: str | None = None  # the comment it answers (None: the post itself)
    depth: int = 0  # how deep the page shows it nested: 0 at top level, 1 for a reply, ...
    kind: str = "comment"  # "comment", "pingback" or "trackback" (KINDS)


KINDS = ("comment", "pingback", "trackback")
PRECISIONS = ("time", "day")


@dataclass(slots=True)
class ParsedThread:
    """The post itself, as found on the thread's first page (and repeated on later pages)."""

    url: str
    title: str
    body_html: str
    body_text: str = ""
    site_name: str = ""
    site_url: str = ""  # the base URL of the site (blog, forum) the thread belongs to, if known
    author: str = ""
    published_text: str = ""  # e.g. "June 8, 2018 at 18:39 UTC"
    published_at: datetime | None = None
    permalink: str | None = None
    # how much of published_at the page showed: "time", or "day" when it showed a date only
    # (published_at is then that day's midnight UTC: no time of day is claimed)
    published_precision: str = "time"

    @property
    def extras(self) -> dict[str, str]:
        """What a platform shows beyond the generic fields, by the store column it fills:
        ``site_tagline`` (Site.tagline), ``date_header`` and ``footer_text`` (Thread)."""
        return {}


@dataclass(frozen=True, slots=True)
class PageFacts:
    """What an answer says beside its thread and comments: the page's number and whether
    comments are closed (read from the last answer of a thread, the one with no follow-up)."""

    number: int = 1
    comments_closed: bool = False


@dataclass(slots=True)
class ParsedPage:
    """Everything one page of a thread yields."""

    thread: ParsedThread
    comments: list[ParsedComment] = field(default_factory=list)
    comments_closed: bool = False
    next_page_url: str | None = None
    page_number: int = 1
