"""the events' hash chain; drills

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Chains the events already stored, oldest first, with the same hash as every later commit
(escalation.base.audit), and starts the head row every committer locks.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import escalation.base.db
from escalation.base import audit

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(batch.f("uq_event_seq"), ["seq"])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    with op.batch_alter_table("incident") as batch:
        batch.add_column(
            sa.Column("drill", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _open_incident_indexes(drills_apart=True)
    if op.get_bind().dialect.name == "postgresql":
        # Committers extend the chain in one call (escalation/base/audit.py says why); a
        # change to the function is a new migration that replaces it.
        op.execute(audit.POSTGRESQL_FUNCTION)
    _chain_what_is_stored()


def _open_incident_indexes(*, drills_apart: bool) -> None:
    """One open incident per intern and kind; with drills, a drill never counts against a
    real case (her SOS during a drill opens a real one) and has its own one-open rule."""
    op.drop_index("uq_incident_open_kind", table_name="incident")
    real = "resolved_at IS NULL AND NOT drill" if drills_apart else "resolved_at IS NULL"
    op.create_index(
        "uq_incident_open_kind", "incident", ["intern_id", "kind"], unique=True,
        sqlite_where=sa.text(real), postgresql_where=sa.text(real),
    )  # fmt: skip
    if drills_apart:
        drill = "resolved_at IS NULL AND drill"
        op.create_index(
            "uq_incident_open_drill_kind", "incident", ["intern_id", "kind"], unique=True,
            sqlite_where=sa.text(drill), postgresql_where=sa.text(drill),
        )  # fmt: skip
    else:
        op.drop_index("uq_incident_open_drill_kind", table_name="incident")


def _chain_what_is_stored() -> None:
    connection = op.get_bind()
    # The columns as this revision has them (a later one may add more to the model).
    event = sa.table(
        "event",
        sa.column("id", sa.Integer),
        sa.column("at", escalation.base.db.UTCDateTime()),
        sa.column("kind", sa.String),
        sa.column("person_id", sa.Integer),
        sa.column("incident_id", sa.Integer),
        sa.column("message_id", sa.Integer),
        sa.column("data", sa.JSON),
    )
    events = sa.select(event).order_by(event.c.id)
    links = audit.chain(connection.execute(events), audit.Head(0, audit.GENESIS))
    if links:
        audit.write_links(connection, links)
    top = links[-1] if links else {"seq": 0, "hash": audit.GENESIS}
    head = sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("hash"))
    connection.execute(head.insert().values(id=audit.HEAD_ID, seq=top["seq"], hash=top["hash"]))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS faro_chain(bigint[], text[])")
    _open_incident_indexes(drills_apart=False)
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("drill")
    op.drop_table("audit_head")
    with op.batch_alter_table("event") as batch:
        batch.drop_constraint(batch.f("uq_event_seq"), type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
