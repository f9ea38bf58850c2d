"""comment: parent_source_id, depth, kind (replies and pings)

Revision ID: 0003_replies_kinds
Revises: 0002_aliases_sites_removals
Create Date: 2026-11-30 12:35:09.451697
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0003_replies_kinds'
down_revision: str | None = '0002_aliases_sites_removals'
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # existing comments are top-level comments: the server defaults say so
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_source_id', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('depth', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(
            sa.Column('kind', sa.String(), server_default='comment', nullable=False))

    with op.batch_alter_table('commentversion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_source_id', sa.String(), nullable=True))
        batch_op.add_column(
            sa.Column('kind', sa.String(), server_default='comment', nullable=False))


def downgrade() -> None:
    # only while nothing would be lost: an older release has no place for replies or pings
    held = op.get_bind().execute(sa.text(
        "SELECT COUNT(*) FROM comment WHERE parent_source_id IS NOT NULL OR kind <> 'comment'"
    )).scalar()
    if held:
        raise RuntimeError(f"{held} comments are replies or pings: downgrading would lose "
                           "whom they answer; keep this release")
    with op.batch_alter_table('commentversion', schema=None) as batch_op:
        batch_op.drop_column('kind')
        batch_op.drop_column('parent_source_id')

    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_column('kind')
        batch_op.drop_column('depth')
        batch_op.drop_column('parent_source_id')
