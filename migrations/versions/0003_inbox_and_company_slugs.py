"""inbox and company slugs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

The inbox every inbound message is stored in before it is acknowledged, and a slug per company
for addresses such as request+<slug>@MAIL_DOMAIN (existing companies get one from their name).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tautan.core.model

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedup_key', sa.String(length=80), nullable=False),
    sa.Column('message_id', sa.String(length=998), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('mail_from', sa.String(length=320), nullable=False),
    sa.Column('rcpt_tos', sa.JSON(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('received_at', tautan.core.model.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', tautan.core.model.UTCDateTime(timezone=True), nullable=True),
    sa.Column('processed_at', tautan.core.model.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('new', 'processing', 'done', 'failed')", name=op.f('ck_inbox_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_inbox_dedup_key'))
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_due', ['status', 'received_at', 'id'], unique=False)

    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slug', sa.String(length=80), nullable=True))
    connection = op.get_bind()
    companies = sa.table("companies", sa.column("id", sa.Integer), sa.column("name", sa.String),
                         sa.column("parent_id", sa.Integer), sa.column("slug", sa.String))
    slugs: dict[int, str] = {}
    rows = connection.execute(sa.select(companies.c.id, companies.c.name, companies.c.parent_id)
                              .order_by(companies.c.parent_id.is_not(None), companies.c.id)).all()
    for id_, name, parent_id in rows:
        base = tautan.core.model.slugify(name)
        if parent_id is not None:
            base = f"{slugs[parent_id]}-{base}"
        slug, n = base, 1
        while slug in slugs.values():
            n += 1
            slug = f"{base}-{n}"
        slugs[id_] = slug
        connection.execute(companies.update().where(companies.c.id == id_).values(slug=slug))
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.alter_column('slug', existing_type=sa.String(length=80), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_companies_slug'), ['slug'])



def downgrade() -> None:
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_companies_slug'), type_='unique')
        batch_op.drop_column('slug')

    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_due')

    op.drop_table('inbox')
