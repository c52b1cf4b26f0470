"""outbox and suppressions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

The outbox the worker delivers from, the addresses that asked for no more invitations from a
customer, and per invitation when its current round of inviting began and when it was last sent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tautan.core.model

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('suppressions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('created_at', tautan.core.model.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['companies.id'], name=op.f('fk_suppressions_customer_id_companies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppressions')),
    sa.UniqueConstraint('email', 'customer_id', name=op.f('uq_suppressions_email_customer_id'))
    )
    with op.batch_alter_table('suppressions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suppressions_customer_id'), ['customer_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', tautan.core.model.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', tautan.core.model.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_until', tautan.core.model.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', tautan.core.model.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_outbox_status')),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_outbox_invitation_id_invitations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_invitation_id'), ['invitation_id'], unique=False)

    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invited_at', tautan.core.model.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_sent_at', tautan.core.model.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE invitations SET invited_at = created_at")
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.alter_column('invited_at', existing_type=tautan.core.model.UTCDateTime(timezone=True), nullable=False)



def downgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_column('last_sent_at')
        batch_op.drop_column('invited_at')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_invitation_id'))
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox')
    with op.batch_alter_table('suppressions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suppressions_customer_id'))

    op.drop_table('suppressions')
