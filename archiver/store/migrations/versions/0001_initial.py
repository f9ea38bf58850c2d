"""The schema of release 0.1.0, as archiver/store/models.py defined it when migrations began.

Written out table by table (never SQLModel.metadata.create_all): later changes to the models
must not change what this revision creates. A store written by 0.1.0 (its tables made by
create_all, no alembic_version table) runs this revision too: it creates only the tables that
store lacks (none, for a complete 0.1.0 store) and then records 0001_initial.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# The column types create_all used: SQLModel's AutoString is a String, its UTCDateTime a
# DateTime(timezone=True) (DATETIME on SQLite, TIMESTAMP WITH TIME ZONE on PostgreSQL).
Str = sa.String
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())

    def new(table: str) -> bool:
        return table not in existing

    if new("blob"):
        op.create_table(
            "blob",
            sa.Column("sha256", Str(), nullable=False),
            sa.Column("size", sa.Integer(), nullable=False),
            sa.Column("data", sa.LargeBinary(), nullable=False),
            sa.PrimaryKeyConstraint("sha256"),
        )
    if new("heartbeat"):
        op.create_table(
            "heartbeat",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", Str(), nullable=False),
            sa.Column("pid", sa.Integer(), nullable=False),
            sa.Column("hostname", Str(), nullable=False),
            sa.Column("state", Str(), nullable=False),
            sa.Column("started_at", Time, nullable=False),
            sa.Column("beat_at", Time, nullable=False),
            sa.Column("in_flight", sa.Integer(), nullable=False),
            sa.Column("note", Str(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_heartbeat_name", "heartbeat", ["name"], unique=True)
    if new("site"):
        op.create_table(
            "site",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("origin", Str(), nullable=False),
            sa.Column("name", Str(), nullable=False),
            sa.Column("platform", Str(), nullable=False),
            sa.Column("title", Str(), nullable=False),
            sa.Column("tagline", Str(), nullable=False),
            sa.Column("created_at", Time, nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_site_origin", "site", ["origin"], unique=True)
    if new("sitecheck"):
        op.create_table(
            "sitecheck",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", Str(), nullable=False),
            sa.Column("last_run_at", Time, nullable=True),
            sa.Column("last_ok_at", Time, nullable=True),
            sa.Column("next_due_at", Time, nullable=True),
            sa.Column("last_found", sa.Integer(), nullable=False),
            sa.Column("backfilled_at", Time, nullable=True),
            sa.Column("last_error", Str(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_sitecheck_name", "sitecheck", ["name"], unique=True)
    if new("urlstate"):
        op.create_table(
            "urlstate",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("url", Str(), nullable=False),
            sa.Column("etag", Str(), nullable=True),
            sa.Column("last_modified", Str(), nullable=True),
            sa.Column("last_status", sa.Integer(), nullable=True),
            sa.Column("last_fetched_at", Time, nullable=True),
            sa.Column("last_capture_id", sa.Integer(), nullable=True),
            sa.Column("next_page_url", Str(), nullable=True),
            sa.Column("failures", sa.Integer(), nullable=False),
            sa.Column("last_error", Str(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_urlstate_url", "urlstate", ["url"], unique=True)
    if new("thread"):
        op.create_table(
            "thread",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("site_id", sa.Integer(), nullable=False),
            sa.Column("url", Str(), nullable=False),
            sa.Column("title", Str(), nullable=False),
            sa.Column("author", Str(), nullable=False),
            sa.Column("date_header", Str(), nullable=False),
            sa.Column("published_text", Str(), nullable=False),
            sa.Column("published_at", Time, nullable=True),
            sa.Column("footer_text", Str(), nullable=False),
            sa.Column("permalink", Str(), nullable=True),
            sa.Column("body_html", sa.Text(), nullable=False),
            sa.Column("body_text", sa.Text(), nullable=False),
            sa.Column("comments_closed", sa.Boolean(), nullable=False),
            sa.Column("status", Str(), nullable=False),
            sa.Column("pages", sa.Integer(), nullable=False),
            sa.Column("first_seen_at", Time, nullable=False),
            sa.Column("last_fetched_at", Time, nullable=True),
            sa.Column("last_change_at", Time, nullable=True),
            sa.Column("next_due_at", Time, nullable=True),
            sa.Column("refresh_interval_s", sa.Integer(), nullable=True),
            sa.Column("gone_at", Time, nullable=True),
            sa.Column("last_error", Str(), nullable=True),
            sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_thread_next_due_at", "thread", ["next_due_at"], unique=False)
        op.create_index("ix_thread_site_id", "thread", ["site_id"], unique=False)
        op.create_index("ix_thread_url", "thread", ["url"], unique=True)
    if new("capture"):
        op.create_table(
            "capture",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("url", Str(), nullable=False),
            sa.Column("method", Str(), nullable=False),
            sa.Column("request_headers", sa.JSON(), nullable=True),
            sa.Column("status", sa.Integer(), nullable=False),
            sa.Column("reason", Str(), nullable=False),
            sa.Column("http_version", Str(), nullable=False),
            sa.Column("response_headers", sa.JSON(), nullable=True),
            sa.Column("body_sha256", Str(), nullable=True),
            sa.Column("payload_sha256", Str(), nullable=True),
            sa.Column("body_size", sa.Integer(), nullable=False),
            sa.Column("fetched_at", Time, nullable=False),
            sa.Column("elapsed_ms", sa.Integer(), nullable=False),
            sa.Column("thread_id", sa.Integer(), nullable=True),
            sa.Column("page_number", sa.Integer(), nullable=True),
            sa.Column("parsed_ok", sa.Boolean(), nullable=True),
            sa.Column("parse_error", Str(), nullable=True),
            sa.ForeignKeyConstraint(["body_sha256"], ["blob.sha256"]),
            sa.ForeignKeyConstraint(["thread_id"], ["thread.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_capture_fetched_at", "capture", ["fetched_at"], unique=False)
        op.create_index("ix_capture_thread_id", "capture", ["thread_id"], unique=False)
        op.create_index("ix_capture_url", "capture", ["url"], unique=False)
    if new("comment"):
        op.create_table(
            "comment",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("thread_id", sa.Integer(), nullable=False),
            sa.Column("source_id", Str(), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column("number", sa.Integer(), nullable=True),
            sa.Column("author_name", Str(), nullable=False),
            sa.Column("author_url", Str(), nullable=True),
            sa.Column("published_text", Str(), nullable=False),
            sa.Column("published_at", Time, nullable=True),
            sa.Column("permalink", Str(), nullable=True),
            sa.Column("body_html", sa.Text(), nullable=False),
            sa.Column("body_text", sa.Text(), nullable=False),
            sa.Column("content_sha256", Str(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("page_url", Str(), nullable=False),
            sa.Column("first_seen_at", Time, nullable=False),
            sa.Column("changed_at", Time, nullable=False),
            sa.Column("removed_at", Time, nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("thread_id", "source_id"),
            sa.ForeignKeyConstraint(["thread_id"], ["thread.id"]),
        )
        op.create_index("ix_comment_thread_id", "comment", ["thread_id"], unique=False)
    if new("discoveredurl"):
        op.create_table(
            "discoveredurl",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("url", Str(), nullable=False),
            sa.Column("site", Str(), nullable=False),
            sa.Column("source_url", Str(), nullable=False),
            sa.Column("title", Str(), nullable=False),
            sa.Column("published_at", Time, nullable=True),
            sa.Column("found_at", Time, nullable=False),
            sa.Column("state", Str(), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("next_attempt_at", Time, nullable=True),
            sa.Column("thread_id", sa.Integer(), nullable=True),
            sa.Column("done_at", Time, nullable=True),
            sa.Column("last_error", Str(), nullable=True),
            sa.ForeignKeyConstraint(["thread_id"], ["thread.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_discoveredurl_site", "discoveredurl", ["site"], unique=False)
        op.create_index("ix_discoveredurl_state", "discoveredurl", ["state"], unique=False)
        op.create_index("ix_discoveredurl_url", "discoveredurl", ["url"], unique=True)
    if new("threadversion"):
        op.create_table(
            "threadversion",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("thread_id", sa.Integer(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("title", Str(), nullable=False),
            sa.Column("author", Str(), nullable=False),
            sa.Column("published_text", Str(), nullable=False),
            sa.Column("footer_text", Str(), nullable=False),
            sa.Column("body_html", sa.Text(), nullable=False),
            sa.Column("body_text", sa.Text(), nullable=False),
            sa.Column("replaced_at", Time, nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("thread_id", "version"),
            sa.ForeignKeyConstraint(["thread_id"], ["thread.id"]),
        )
        op.create_index("ix_threadversion_thread_id", "threadversion", ["thread_id"],
                        unique=False)
    if new("commentversion"):
        op.create_table(
            "commentversion",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("comment_id", sa.Integer(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("author_name", Str(), nullable=False),
            sa.Column("author_url", Str(), nullable=True),
            sa.Column("published_text", Str(), nullable=False),
            sa.Column("body_html", sa.Text(), nullable=False),
            sa.Column("body_text", sa.Text(), nullable=False),
            sa.Column("content_sha256", Str(), nullable=False),
            sa.Column("first_seen_at", Time, nullable=False),
            sa.Column("replaced_at", Time, nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("comment_id", "version"),
            sa.ForeignKeyConstraint(["comment_id"], ["comment.id"]),
        )
        op.create_index("ix_commentversion_comment_id", "commentversion", ["comment_id"],
                        unique=False)


def downgrade() -> None:
    raise NotImplementedError("0001_initial cannot be undone: it would drop the whole archive")
