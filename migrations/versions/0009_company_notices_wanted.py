"""companies.notices_wanted

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01

Channel notices are queued only for a company that wants them (the Slack adapter sets this when
a channel is chosen); companies whose workspace already has a channel keep getting them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notices_wanted', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE companies SET notices_wanted = TRUE WHERE id IN "
               "(SELECT company_id FROM workspaces WHERE channel_id IS NOT NULL)")


def downgrade() -> None:
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.drop_column('notices_wanted')
