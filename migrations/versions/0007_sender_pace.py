"""the sender's pace and outages; what a queued message is for

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

`sender` is one row every dispatcher shares: the next free sending slot, which keeps Faro
within the sender's TWILIO_MPS across processes, and the provider-wide outage, if one is going on
(bot/outbox.py). An outbox row now says which check-in it serves and until when it is useful
(its order in a queue longer than a second of sending), and a row no longer worth sending is
dropped (`dropped_at`), not failed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import escalation.base.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    instant = escalation.base.db.UTCDateTime
    sender = op.create_table(
        "sender",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("next_slot", instant(), nullable=True),
        sa.Column("outage_since", instant(), nullable=True),
        sa.Column("probe_at", instant(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sender")),
    )
    op.bulk_insert(sender, [{"id": 1}])
    with op.batch_alter_table("outbound_message") as batch:
        batch.add_column(sa.Column("checkin_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("send_by", instant(), nullable=True))
        batch.add_column(sa.Column("dropped_at", instant(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_outbound_message_checkin_id_checkin"), "checkin", ["checkin_id"], ["id"]
        )
        batch.create_index(batch.f("ix_outbound_message_checkin_id"), ["checkin_id"])


def downgrade() -> None:
    with op.batch_alter_table("outbound_message") as batch:
        batch.drop_index(batch.f("ix_outbound_message_checkin_id"))
        batch.drop_constraint(batch.f("fk_outbound_message_checkin_id_checkin"), type_="foreignkey")
        batch.drop_column("dropped_at")
        batch.drop_column("send_by")
        batch.drop_column("checkin_id")
    op.drop_table("sender")
