"""check-ins, trips, escalation policies

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import escalation.base.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('university_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('updated_at', escalation.base.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['university_id'], ['university.id'], name=op.f('fk_policy_university_id_university')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy')),
    sa.UniqueConstraint('university_id', 'kind', name=op.f('uq_policy_university_id'))
    )
    op.create_table('trip',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('intern_id', sa.Integer(), nullable=False),
    sa.Column('destination', sa.String(length=100), nullable=True),
    sa.Column('started_at', escalation.base.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expected_at', escalation.base.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ask_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('overdue_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['intern_id'], ['person.id'], name=op.f('fk_trip_intern_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trip'))
    )
    with op.batch_alter_table('trip', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trip_ask_at'), ['ask_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_trip_overdue_at'), ['overdue_at'], unique=False)
        batch_op.create_index('uq_trip_open', ['intern_id'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))

    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sent_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deadline_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('remind_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalate_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('missed_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_checkin_escalate_at'), ['escalate_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_remind_at'), ['remind_at'], unique=False)

    with op.batch_alter_table('heartbeat', schema=None) as batch_op:
        batch_op.add_column(sa.Column('silence_alerted_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resume_notified_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('step', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('repeats', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_step_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('ack_check_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('ack_reminded_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('detail', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.create_index(batch_op.f('ix_incident_ack_check_at'), ['ack_check_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_next_step_at'), ['next_step_at'], unique=False)

    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_sid', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('content_variables', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('failover_of_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbound_message_failover_of_id_outbound_message'), 'outbound_message', ['failover_of_id'], ['id'])

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_days', sa.String(length=7), nullable=False, server_default='1234567'))
        batch_op.add_column(sa.Column('reminder_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('deadline_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('paused_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('next_checkin_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pause_notice_at', escalation.base.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('unreachable_since', escalation.base.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_person_next_checkin_at'), ['next_checkin_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_pause_notice_at'), ['pause_notice_at'], unique=False)

    with op.batch_alter_table('university', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_minutes', sa.Integer(), nullable=False, server_default='30'))
        batch_op.add_column(sa.Column('deadline_minutes', sa.Integer(), nullable=False, server_default='120'))
        batch_op.add_column(sa.Column('trip_grace_minutes', sa.Integer(), nullable=False, server_default='20'))
        batch_op.add_column(sa.Column('mood_enabled', sa.Boolean(), nullable=False, server_default=sa.true()))



def downgrade() -> None:
    with op.batch_alter_table('university', schema=None) as batch_op:
        batch_op.drop_column('mood_enabled')
        batch_op.drop_column('trip_grace_minutes')
        batch_op.drop_column('deadline_minutes')
        batch_op.drop_column('reminder_minutes')

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_pause_notice_at'))
        batch_op.drop_index(batch_op.f('ix_person_next_checkin_at'))
        batch_op.drop_column('unreachable_since')
        batch_op.drop_column('pause_notice_at')
        batch_op.drop_column('next_checkin_at')
        batch_op.drop_column('paused_until')
        batch_op.drop_column('deadline_minutes')
        batch_op.drop_column('reminder_minutes')
        batch_op.drop_column('checkin_days')

    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbound_message_failover_of_id_outbound_message'), type_='foreignkey')
        batch_op.drop_column('failover_of_id')
        batch_op.drop_column('content_variables')
        batch_op.drop_column('content_sid')

    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_next_step_at'))
        batch_op.drop_index(batch_op.f('ix_incident_ack_check_at'))
        batch_op.drop_column('detail')
        batch_op.drop_column('ack_reminded_at')
        batch_op.drop_column('ack_check_at')
        batch_op.drop_column('next_step_at')
        batch_op.drop_column('repeats')
        batch_op.drop_column('step')

    with op.batch_alter_table('heartbeat', schema=None) as batch_op:
        batch_op.drop_column('resume_notified_at')
        batch_op.drop_column('silence_alerted_at')

    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_remind_at'))
        batch_op.drop_index(batch_op.f('ix_checkin_escalate_at'))
        batch_op.drop_column('missed_at')
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('escalate_at')
        batch_op.drop_column('remind_at')
        batch_op.drop_column('deadline_at')
        batch_op.drop_column('sent_at')
        batch_op.drop_column('due_at')

    with op.batch_alter_table('trip', schema=None) as batch_op:
        batch_op.drop_index('uq_trip_open', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_trip_overdue_at'))
        batch_op.drop_index(batch_op.f('ix_trip_ask_at'))

    op.drop_table('trip')
    op.drop_table('policy')
