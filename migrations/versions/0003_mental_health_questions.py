"""mental-health questions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import escalation.base.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('intern_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('asked_at', escalation.base.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expired_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answer', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['intern_id'], ['person.id'], name=op.f('fk_question_intern_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question')),
    sa.UniqueConstraint('intern_id', 'kind', 'local_date', name=op.f('uq_question_intern_id'))
    )
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index('ix_question_intern_open', ['intern_id', 'answered_at', 'expired_at'], unique=False)

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_phq_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_person_next_phq_at'), ['next_phq_at'], unique=False)

    with op.batch_alter_table('university', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phq_weekday', sa.Integer(), nullable=False, server_default='7'))
        batch_op.add_column(sa.Column('phq_time', sa.String(length=5), nullable=False, server_default='19:00'))



def downgrade() -> None:
    with op.batch_alter_table('university', schema=None) as batch_op:
        batch_op.drop_column('phq_time')
        batch_op.drop_column('phq_weekday')

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_next_phq_at'))
        batch_op.drop_column('next_phq_at')

    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_index('ix_question_intern_open')
        batch_op.drop_index(batch_op.f('ix_question_expires_at'))

    op.drop_table('question')
