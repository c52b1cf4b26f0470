"""connection engine

Revision ID: 0001
Revises: 
Create Date: 2026-11-29

Companies and units, people, document types (seeded: catalog, order, invoice), invitations,
connections and events. On PostgreSQL, company names get a trigram index for substring search.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tautan.core.model

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('companies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('parent_key', sa.Integer(), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('search_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('created_at', tautan.core.model.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('customer', 'supplier', 'both')", name=op.f('ck_companies_role')),
    sa.ForeignKeyConstraint(['parent_id'], ['companies.id'], name=op.f('fk_companies_parent_id_companies'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_companies')),
    sa.UniqueConstraint('parent_key', 'name_key', name=op.f('uq_companies_parent_key_name_key'))
    )
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_companies_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index('ix_companies_search_name', ['search_name'], unique=False, postgresql_using='gin', postgresql_ops={'search_name': 'gin_trgm_ops'})

    op.create_table('document_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_types')),
    sa.UniqueConstraint('code', name=op.f('uq_document_types_code'))
    )
    document_types = sa.table("document_types", sa.column("code", sa.String))
    op.bulk_insert(document_types, [{"code": "catalog"}, {"code": "order"}, {"code": "invoice"}])
    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=True),
    sa.Column('created_at', tautan.core.model.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    sa.UniqueConstraint('email', name=op.f('uq_people_email'))
    )
    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('inviter', sa.String(length=200), nullable=False),
    sa.Column('reply_token', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', tautan.core.model.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', tautan.core.model.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', tautan.core.model.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminders_sent', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("lang IN ('en', 'id')", name=op.f('ck_invitations_lang')),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'cancelled', 'expired', 'undeliverable')", name=op.f('ck_invitations_status')),
    sa.ForeignKeyConstraint(['customer_id'], ['companies.id'], name=op.f('fk_invitations_customer_id_companies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['supplier_id'], ['companies.id'], name=op.f('fk_invitations_supplier_id_companies'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('reply_token', name=op.f('uq_invitations_reply_token'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_email'), ['email'], unique=False)
        batch_op.create_index('ix_invitations_live', ['customer_id', 'supplier_id', 'status'], unique=False)
        batch_op.create_index('ix_invitations_status_expires_at', ['status', 'expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'contact')", name=op.f('ck_memberships_role')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_memberships_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_memberships_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('company_id', 'person_id', name=op.f('uq_memberships_company_id_person_id'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_person_id'), ['person_id'], unique=False)

    op.create_table('connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', tautan.core.model.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tautan.core.model.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('invited', 'requested', 'connected', 'rejected', 'cancelled', 'expired', 'disconnected')", name=op.f('ck_connections_status')),
    sa.ForeignKeyConstraint(['customer_id'], ['companies.id'], name=op.f('fk_connections_customer_id_companies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_connections_invitation_id_invitations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supplier_id'], ['companies.id'], name=op.f('fk_connections_supplier_id_companies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['type_id'], ['document_types.id'], name=op.f('fk_connections_type_id_document_types'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connections')),
    sa.UniqueConstraint('customer_id', 'supplier_id', 'type_id', name=op.f('uq_connections_customer_id_supplier_id_type_id'))
    )
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.create_index('ix_connections_customer_status_updated', ['customer_id', 'status', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_connections_customer_updated', ['customer_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_connections_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_index('ix_connections_supplier_status_updated', ['supplier_id', 'status', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_connections_supplier_updated', ['supplier_id', 'updated_at', 'id'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('at', tautan.core.model.UTCDateTime(timezone=True), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.Column('connection_id', sa.Integer(), nullable=True),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_events_connection_id_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['companies.id'], name=op.f('fk_events_customer_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_events_invitation_id_invitations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_id'], ['companies.id'], name=op.f('fk_events_supplier_id_companies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index('ix_events_customer_at', ['customer_id', 'at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_index('ix_events_supplier_at', ['supplier_id', 'at', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_supplier_at')
        batch_op.drop_index(batch_op.f('ix_events_invitation_id'))
        batch_op.drop_index('ix_events_customer_at')
        batch_op.drop_index(batch_op.f('ix_events_connection_id'))

    op.drop_table('events')
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.drop_index('ix_connections_supplier_updated')
        batch_op.drop_index('ix_connections_supplier_status_updated')
        batch_op.drop_index(batch_op.f('ix_connections_invitation_id'))
        batch_op.drop_index('ix_connections_customer_updated')
        batch_op.drop_index('ix_connections_customer_status_updated')

    op.drop_table('connections')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_person_id'))

    op.drop_table('memberships')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_supplier_id'))
        batch_op.drop_index('ix_invitations_status_expires_at')
        batch_op.drop_index('ix_invitations_live')
        batch_op.drop_index(batch_op.f('ix_invitations_email'))

    op.drop_table('invitations')
    op.drop_table('people')
    op.drop_table('document_types')
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.drop_index('ix_companies_search_name', postgresql_using='gin', postgresql_ops={'search_name': 'gin_trgm_ops'})
        batch_op.drop_index(batch_op.f('ix_companies_parent_id'))

    op.drop_table('companies')
