"""supplier identity and customer sign-up profile

Revision ID: 0008
Revises: 0010
Create Date: 2026-12-01

A supplier company's verified domain, legal name, country, tax id and PEPPOL participant id; a
customer's directory listing and onboarding profile (what a supplier is told once connected).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verified_domain', sa.String(length=253), nullable=True))
        batch_op.add_column(sa.Column('legal_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('country', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('tax_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('peppol_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('listed', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('profile', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_companies_verified_domain'), ['verified_domain'], unique=False)
        batch_op.create_index(batch_op.f('ix_companies_tax_id'), ['tax_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_companies_peppol_id'), ['peppol_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_companies_peppol_id'))
        batch_op.drop_index(batch_op.f('ix_companies_tax_id'))
        batch_op.drop_index(batch_op.f('ix_companies_verified_domain'))
        batch_op.drop_column('profile')
        batch_op.drop_column('listed')
        batch_op.drop_column('peppol_id')
        batch_op.drop_column('tax_id')
        batch_op.drop_column('country')
        batch_op.drop_column('legal_name')
        batch_op.drop_column('verified_domain')
