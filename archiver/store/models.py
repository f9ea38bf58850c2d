"""SQLModel tables: sites, threads, comments (with their old versions), captures and blobs.

All datetimes are timezone-aware UTC. Only portable SQL: the schema runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import JSON, Field, SQLModel


class Site(SQLModel, table=True):
    """A website we archive from, keyed by its base URL: its origin (scheme://host[:port]) and,
    where one host serves many sites (TypePad's host/blogname/, WordPress multisite, forum
    hosts), the path the site lives under."""

    id: int | None = Field(default=None, primary_key=True)
    base_url: str = Field(index=True, unique=True)  # e.g. https://host/blog/ (always ends in /)
    origin: str = Field(index=True)
    name: str = ""  # config name, or the site's own name
    platform: str = ""
    title: str = ""  # the site's name as its pages show it
    tagline: str = ""
    created_at: datetime


class Thread(SQLModel, table=True):
    """A post (or forum topic) with its comments."""

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    url: str = Field(index=True, unique=True)
    title: str = ""
    author: str = ""
    date_header: str = ""
    published_text: str = ""
    published_at: datetime | None = None
    # "time", or "day" when the page showed a date only (published_at is its midnight UTC)
    published_precision: str = Field(default="time", sa_column_kwargs={"server_default": "time"})
    footer_text: str = ""
    permalink: str | None = None
    body_html: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    body_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    comments_closed: bool = False
    status: str = "open"  # open | closed | gone
    pages: int = 0  # comment pages seen on the last complete archive
    first_seen_at: datetime
    last_fetched_at: datetime | None = None
    last_change_at: datetime | None = None  # last time new/edited/removed comments were seen
    next_due_at: datetime | None = Field(default=None, index=True)
    refresh_interval_s: int | None = None
    gone_at: datetime | None = None
    last_error: str | None = None
    complete: bool = True  # the last read reached every page (else nothing was flagged removed)
    # the run time up to which the post and comments were read for pictures (pipeline/pictures):
    # the next pictures step reads only the comments changed after it; None: never, read all
    pictures_scanned_at: datetime | None = None


class ThreadUrl(SQLModel, table=True):
    """Every URL a thread was reached by (normalised: archiver.urls), its canonical URL too: any
    of them finds the thread again (archive, export, discovery, the scheduler)."""

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(index=True, unique=True)
    thread_id: int = Field(foreign_key="thread.id", index=True)
    first_seen_at: datetime


class Comment(SQLModel, table=True):
    """The current state of one comment. Never deleted: removals set removed_at."""

    __table_args__ = (UniqueConstraint("thread_id", "source_id"),)

    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="thread.id", index=True)
    source_id: str
    position: int  # 1-based order in the thread
    number: int | None = None  # the number the page showed
    author_name: str = ""
    author_url: str | None = None
    published_text: str = ""
    published_at: datetime | None = None
    permalink: str | None = None
    body_html: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    body_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    parent_source_id: str | None = None  # the platform's id of the comment it answers
    depth: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # 0: top level
    kind: str = Field(default="comment", sa_column_kwargs={"server_default": "comment"})
    content_sha256: str = ""  # of author/date/body (and parent, kind): an edit changes it
    version: int = 1
    capture_id: int | None = None  # the capture its current version was first read from
    page_url: str = ""  # the comment page it was last read from
    first_seen_at: datetime
    changed_at: datetime  # when the current version was first seen
    removed_at: datetime | None = None  # first time it was missed upstream
    # missed by a complete read whose removals were held back (it would have removed more than
    # half of the thread at once): flagged removed only when the next complete read agrees
    missed_at: datetime | None = None


class CommentVersion(SQLModel, table=True):
    """An earlier state of a comment, kept when the comment was edited upstream."""

    __table_args__ = (UniqueConstraint("comment_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    comment_id: int = Field(foreign_key="comment.id", index=True)
    version: int
    author_name: str = ""
    author_url: str | None = None
    published_text: str = ""
    body_html: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    body_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    parent_source_id: str | None = None
    kind: str = Field(default="comment", sa_column_kwargs={"server_default": "comment"})
    content_sha256: str = ""
    capture_id: int | None = None  # the capture this version was first read from
    first_seen_at: datetime  # when this version was first seen
    replaced_at: datetime  # when a different version was first seen


class ThreadVersion(SQLModel, table=True):
    """An earlier state of a post (title, author, date, body), kept when it changed upstream."""

    __table_args__ = (UniqueConstraint("thread_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="thread.id", index=True)
    version: int  # 1 for the post as first archived
    title: str = ""
    author: str = ""
    published_text: str = ""
    footer_text: str = ""
    body_html: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    body_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    replaced_at: datetime  # when a different version was first seen


class Blob(SQLModel, table=True):
    """Raw bytes, content-addressed by sha256 so identical payloads are stored once."""

    sha256: str = Field(primary_key=True)
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Capture(SQLModel, table=True):
    """One HTTP exchange exactly as it happened, stored before anything parses it."""

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(index=True)
    method: str = "GET"
    request_headers: list = Field(default_factory=list, sa_column=Column(JSON))
    status: int
    reason: str = ""
    http_version: str = "HTTP/1.1"
    response_headers: list = Field(default_factory=list, sa_column=Column(JSON))  # [[k, v], ...]
    body_sha256: str | None = Field(default=None, foreign_key="blob.sha256")  # raw wire bytes
    payload_sha256: str | None = None  # of the decoded body (after Content-Encoding)
    body_size: int = 0
    fetched_at: datetime = Field(index=True)
    elapsed_ms: int = 0
    thread_id: int | None = Field(default=None, foreign_key="thread.id", index=True)
    page_number: int | None = None
    parsed_ok: bool | None = None  # None: not parsed (yet, or 304)
    parse_error: str | None = None
    # where the exchange was read from when not the network: "FILE.warc.gz#OFFSET" (an import)
    source: str | None = None


class Picture(SQLModel, table=True):
    """An image the post or a comment shows, for one thread: fetched once (state "ok", its
    exchange in capture_id), or why it could not be had ("failed", tried again next read)."""

    __table_args__ = (UniqueConstraint("thread_id", "url", name="uq_picture_thread_url"),)

    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="thread.id", index=True)
    url: str  # the candidate fetched (src, or the largest reasonable srcset entry), absolute
    state: str = "failed"  # ok | failed
    reason: str | None = None  # why it failed: too large, not an image, HTTP 404, robots.txt...
    capture_id: int | None = Field(default=None, foreign_key="capture.id")  # the final answer
    media_type: str = ""  # from the bytes: image/png, image/jpeg...
    width: int | None = None
    height: int | None = None
    size: int = 0  # bytes of the image
    attempts: int = 0
    first_seen_at: datetime
    last_tried_at: datetime | None = None


class UrlState(SQLModel, table=True):
    """What we know of one URL between fetches: validators for conditional GET, failures."""

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(index=True, unique=True)
    etag: str | None = None
    last_modified: str | None = None
    last_status: int | None = None
    last_fetched_at: datetime | None = None
    last_capture_id: int | None = None
    next_page_url: str | None = None  # what the last parse of this page linked to as "next"
    # [[source id, content hash], ...] of the comments the last parse found on this page: a
    # 304 answer means each of them is still there as it was
    page_comments: list | None = Field(default=None, sa_column=Column(JSON))
    failures: int = 0
    last_error: str | None = None


class DiscoveredUrl(SQLModel, table=True):
    """A thread URL found by discovery (feed or index page), queued until it is archived."""

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(index=True, unique=True)
    site: str = Field(default="", index=True)  # the config name of the site that found it
    source_url: str = ""  # the feed or index page it was found on
    title: str = ""
    published_at: datetime | None = None
    found_at: datetime
    state: str = Field(default="queued", index=True)  # queued | done | gone | failed
    attempts: int = 0
    next_attempt_at: datetime | None = None
    thread_id: int | None = Field(default=None, foreign_key="thread.id")
    done_at: datetime | None = None
    last_error: str | None = None


class SiteCheck(SQLModel, table=True):
    """Discovery state of one configured site: when it ran, when it is due, what went wrong."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    last_run_at: datetime | None = None
    last_ok_at: datetime | None = None
    next_due_at: datetime | None = None
    last_found: int = 0  # new thread URLs queued by the last run
    backfilled_at: datetime | None = None  # the one-time archive walk finished
    last_error: str | None = None


class Heartbeat(SQLModel, table=True):
    """The scheduler's pulse (`archiver run` writes it; `archiver health` reads it)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="scheduler", index=True, unique=True)
    pid: int = 0
    hostname: str = ""
    state: str = "running"  # running | stopped
    started_at: datetime
    beat_at: datetime
    in_flight: int = 0
    note: str = ""


class HostTurn(SQLModel, table=True):
    """One host's turn across every worker on a PostgreSQL database (`archiver worker`):
    next_allowed_at (the database's clock) says when the next request may start; a request in
    flight has moved it past its longest possible end (a lease, store/hosts.py)."""

    __tablename__ = "host_turn"

    key: str = Field(primary_key=True)  # politeness key: "host" or "host:port"
    next_allowed_at: datetime | None = None
    requests: int = 0  # requests made through this row, all workers together
