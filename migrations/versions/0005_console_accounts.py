"""console accounts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import escalation.base.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('university_id', sa.Integer(), nullable=True),
    sa.Column('municipality', sa.String(length=200), nullable=True),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', escalation.base.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['university_id'], ['university.id'], name=op.f('fk_account_university_id_university')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('email', name=op.f('uq_account_email'))
    )


def downgrade() -> None:
    op.drop_table('account')
