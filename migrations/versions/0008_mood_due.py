"""the day's mood question as due work of the answered check-in

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

Her OK no longer asks the mood question itself: it marks her check-in `mood_at` (when the
question is due, a few seconds after the thank-you), and the scheduler's tick asks every due
one in batches, deciding then whether she gets it (not twice a day, not while another
question or a self-harm incident is open).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import escalation.base.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("checkin") as batch:
        batch.add_column(sa.Column("mood_at", escalation.base.db.UTCDateTime(), nullable=True))
        batch.create_index(batch.f("ix_checkin_mood_at"), ["mood_at"])


def downgrade() -> None:
    with op.batch_alter_table("checkin") as batch:
        batch.drop_index(batch.f("ix_checkin_mood_at"))
        batch.drop_column("mood_at")
