"""thread URLs, a site per base URL, incomplete reads, held-back removals, what a page held

- threadurl: every URL a thread was reached by; filled with each thread's own URL.
- site.base_url (unique): the URL a site lives under (host/blogname/ on a shared host); an
  existing site's is its origin + "/". site.origin stays, no longer unique.
- thread.complete: whether the last read reached every page (existing threads: true).
- comment.missed_at: missed by a complete read whose removals were held back.
- urlstate.page_comments: [source id, content hash] of what the page held when last parsed.

Revision ID: 0002_aliases_sites_removals
Revises: 0001_initial
Create Date: 2026-11-30 09:47:07.664521
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0002_aliases_sites_removals'
down_revision: str | None = '0001_initial'
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table('threadurl',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['thread_id'], ['thread.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('threadurl', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_threadurl_thread_id'), ['thread_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_threadurl_url'), ['url'], unique=True)
    op.execute(
        "INSERT INTO threadurl (url, thread_id, first_seen_at) "
        "SELECT url, id, first_seen_at FROM thread"
    )

    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('missed_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_url', sa.String(), nullable=False, server_default=''))
    op.execute("UPDATE site SET base_url = origin || '/'")
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_origin'))
        batch_op.create_index(batch_op.f('ix_site_origin'), ['origin'], unique=False)
        batch_op.create_index(batch_op.f('ix_site_base_url'), ['base_url'], unique=True)

    with op.batch_alter_table('thread', schema=None) as batch_op:
        batch_op.add_column(sa.Column('complete', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))

    with op.batch_alter_table('urlstate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('page_comments', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('urlstate', schema=None) as batch_op:
        batch_op.drop_column('page_comments')

    with op.batch_alter_table('thread', schema=None) as batch_op:
        batch_op.drop_column('complete')

    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_base_url'))
        batch_op.drop_index(batch_op.f('ix_site_origin'))
        batch_op.create_index(batch_op.f('ix_site_origin'), ['origin'], unique=True)
        batch_op.drop_column('base_url')

    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_column('missed_at')

    with op.batch_alter_table('threadurl', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_threadurl_url'))
        batch_op.drop_index(batch_op.f('ix_threadurl_thread_id'))

    op.drop_table('threadurl')
