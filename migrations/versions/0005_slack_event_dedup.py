"""slack event dedup, enterprise ids, outside users, time zones

Revision ID: 0005
Revises: 0008
Create Date: 2026-12-01

Events Slack delivered, by ``event_id``, kept for a short while so a retried event is acted on
once; the Enterprise Grid organisation of a workspace (to find its bot token); whether the
company's language was chosen; why the notice channel stopped working, if it did; per user the
Slack time zone and whether they are an outside (Slack Connect) user or a guest, who are never
admins.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tautan.core.model

revision = '0005'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('slack_events',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=True),
    sa.Column('received_at', tautan.core.model.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_slack_events'))
    )
    with op.batch_alter_table('slack_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_events_received_at'), ['received_at'], unique=False)
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enterprise_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('locale_chosen', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('channel_error', sa.String(length=64), nullable=True))
    with op.batch_alter_table('workspace_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slack_tz', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('outsider', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('workspace_users', schema=None) as batch_op:
        batch_op.drop_column('outsider')
        batch_op.drop_column('slack_tz')
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('channel_error')
        batch_op.drop_column('locale_chosen')
        batch_op.drop_column('enterprise_id')
    with op.batch_alter_table('slack_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_events_received_at'))
    op.drop_table('slack_events')
