"""pictures of a thread; thread.published_precision (a post date shown as a day only)

- picture: each image a thread's post or comments show, fetched ("ok", its capture) or not
  ("failed", why; tried again on the next read). New table, empty.
- thread.published_precision: "time" (existing rows: their dates came with a time, or are
  empty) or "day" (published_at is the day's midnight UTC, no time of day claimed).

Revision ID: 0005_pictures_post_day
Revises: 0004_capture_source
Create Date: 2026-11-30 12:37:07.381512
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0005_pictures_post_day'
down_revision: str | None = '0004_capture_source'
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        'picture',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(), nullable=False),
        sa.Column('state', sa.String(), nullable=False),
        sa.Column('reason', sa.String(), nullable=True),
        sa.Column('capture_id', sa.Integer(), nullable=True),
        sa.Column('media_type', sa.String(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_tried_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['capture_id'], ['capture.id'], ),
        sa.ForeignKeyConstraint(['thread_id'], ['thread.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('thread_id', 'url', name='uq_picture_thread_url'),
    )
    with op.batch_alter_table('picture', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_picture_thread_id'), ['thread_id'], unique=False)

    with op.batch_alter_table('thread', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_precision', sa.String(), server_default='time',
                                      nullable=False))


def downgrade() -> None:
    # the pictures' exchanges stay in capture (an older release exports them as any capture);
    # a day-only post date reads as a time again, as the older release would have stored it
    with op.batch_alter_table('thread', schema=None) as batch_op:
        batch_op.drop_column('published_precision')

    with op.batch_alter_table('picture', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_picture_thread_id'))

    op.drop_table('picture')
