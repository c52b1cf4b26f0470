"""supplier sign-ins

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-01

The supplier page's sign-in requests: one row per request (rate limits per address and per
client), with the single-use nonce of the emailed link for a known contact.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tautan.core.model

revision = '0007'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('supplier_sign_ins',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', tautan.core.model.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', tautan.core.model.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_supplier_sign_ins_person_id_people'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_id'], ['companies.id'],
                            name=op.f('fk_supplier_sign_ins_supplier_id_companies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_sign_ins')),
    sa.UniqueConstraint('nonce', name=op.f('uq_supplier_sign_ins_nonce'))
    )
    with op.batch_alter_table('supplier_sign_ins', schema=None) as batch_op:
        batch_op.create_index('ix_supplier_sign_ins_client_requested', ['client', 'requested_at'], unique=False)
        batch_op.create_index('ix_supplier_sign_ins_email_requested', ['email', 'requested_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_supplier_sign_ins_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supplier_sign_ins_supplier_id'), ['supplier_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('supplier_sign_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supplier_sign_ins_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_supplier_sign_ins_person_id'))
        batch_op.drop_index('ix_supplier_sign_ins_email_requested')
        batch_op.drop_index('ix_supplier_sign_ins_client_requested')
    op.drop_table('supplier_sign_ins')
