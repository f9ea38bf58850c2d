"""thread.pictures_scanned_at: up to when the thread's bodies were read for pictures

- thread.pictures_scanned_at: the time of the last read whose pictures step read the post and
  the comments changed since the one before it (archiver/pipeline/pictures.py); a later step
  reads only the comments changed after it. NULL (every existing row): never, so the next
  pictures step reads every body, as before this revision.

Revision ID: 0008_pictures_scanned
Revises: 0007_hosts
Create Date: 2026-11-30 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0008_pictures_scanned'
down_revision: str | None = '0007_hosts'
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # a plain ADD COLUMN (no batch copy of thread: its search triggers stay as they are)
    op.add_column('thread', sa.Column('pictures_scanned_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # SQLite 3.35+: no batch copy, triggers kept
        op.execute("ALTER TABLE thread DROP COLUMN pictures_scanned_at")
    else:
        op.drop_column('thread', 'pictures_scanned_at')
