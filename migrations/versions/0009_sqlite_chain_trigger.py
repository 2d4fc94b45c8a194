"""on SQLite, each event chained as it is inserted

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

SQLite's write lock, taken at BEGIN, serialises whole transactions, so an event's place in the
hash chain is known as it is inserted: the trigger `event_chained` numbers and hashes it then
(through `faro_link`, the chain's formula, which Faro registers on each connection it opens),
instead of three statements at every commit. PostgreSQL keeps `faro_chain` at commit: its
writers run side by side. A later migration that rebuilds the `event` table on SQLite (a batch
alteration) drops the trigger and must create it again.
"""

from __future__ import annotations

from alembic import op

from escalation.base.audit import SQLITE_TRIGGER

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER event_chained")
