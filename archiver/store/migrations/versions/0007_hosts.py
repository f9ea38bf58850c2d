"""host_turn: each host's turn across workers (per-host politeness through the database)

- host_turn: one row per host key, held FOR UPDATE for the length of a request by the worker
  making it; next_allowed_at is when the next request to the host may start. New table, empty.

Revision ID: 0007_hosts
Revises: 0006_search
Create Date: 2026-11-30 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0007_hosts'
down_revision: str | None = '0006_search'
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        'host_turn',
        sa.Column('key', sa.String(), nullable=False),
        sa.Column('next_allowed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('requests', sa.Integer(), nullable=False, server_default='0'),
        sa.PrimaryKeyConstraint('key'),
    )


def downgrade() -> None:
    op.drop_table('host_turn')
