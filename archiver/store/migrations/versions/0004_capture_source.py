"""capture: source (the WARC record an imported exchange was read from); comment: capture_id

Revision ID: 0004_capture_source
Revises: 0003_replies_kinds
Create Date: 2026-11-30 12:45:32.511032
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0004_capture_source'
down_revision: str | None = '0003_replies_kinds'
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # captures fetched from the network have no other source: null
    with op.batch_alter_table('capture', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(), nullable=True))
    # which capture each comment (and each earlier version) was first read from; unknown before
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capture_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('commentversion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capture_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    # only while nothing would be lost: where imported captures came from has no place before
    held = op.get_bind().execute(
        sa.text("SELECT COUNT(*) FROM capture WHERE source IS NOT NULL")).scalar()
    if held:
        raise RuntimeError(f"{held} captures were imported from web archives: downgrading would "
                           "lose which record each came from; keep this release")
    with op.batch_alter_table('commentversion', schema=None) as batch_op:
        batch_op.drop_column('capture_id')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_column('capture_id')
    with op.batch_alter_table('capture', schema=None) as batch_op:
        batch_op.drop_column('source')
