"""inviter details

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

The person who invited, as the supplier reads it: a display name and an address to write to.
Both optional; the actor id (``Invitation.inviter``) stays the record of who acted.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('invitations') as batch:
        batch.add_column(sa.Column('inviter_name', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('inviter_email', sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('invitations') as batch:
        batch.drop_column('inviter_email')
        batch.drop_column('inviter_name')
