"""After the ping: the reminder, the deadline (a missed check-in), and stopping both.

Both are indexed due columns of the check-in, `checkin.remind_at` and `checkin.escalate_at`,
set by the ping (escalation/pings.py) and cleared once done or answered. Each step claims a
small batch per transaction with one conditional UPDATE (FOR UPDATE SKIP LOCKED first on
PostgreSQL, `due_ids`); RETURNING says which rows are ours.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from escalation.base.config import DomainConfig
from escalation.base.db import due_ids
from escalation.base.messages import render
from escalation.base.models import MISSED_CHECKIN, UNREACHABLE, CheckIn, OutboundMessage, Person
from escalation.base.schedule import hhmm
from escalation.base.timeline import event_row, message_row, queue_many, record, record_many
from escalation.incidents import open_incident
from escalation.pings import PING

# Outbox kind (a delivery failure of it is followed up: escalation/ping_failures.py).
REMINDER = "checkin_reminder"
# Check-ins per transaction in the reminder and deadline steps.
REMINDER_BATCH = 50
DEADLINE_BATCH = 10  # each opens an incident and alerts: heavier, and rarer
IDS_PER_STATEMENT = 500  # an IN list stays far below SQLite's limit on bound parameters
# How soon a reminder or deadline whose ping is still queued is looked at again.
RECHECK = timedelta(minutes=1)


def stop_waiting(session: Session, intern_ids: list[int]) -> None:
    """Pings already sent to these interns are no longer waited for (she was deactivated, or
    opted out): no reminder to her, no missed check-in to her team. The check-ins stay,
    unanswered, in her history; open incidents and trips are not touched."""
    for start in range(0, len(intern_ids), IDS_PER_STATEMENT):
        session.execute(
            update(CheckIn)
            .where(
                CheckIn.intern_id.in_(intern_ids[start : start + IDS_PER_STATEMENT]),
                CheckIn.answered_at.is_(None),
                or_(CheckIn.remind_at.is_not(None), CheckIn.escalate_at.is_not(None)),
            )
            .values(remind_at=None, escalate_at=None)
            .execution_options(synchronize_session=False)
        )


def _not_waiting(session: Session, now: datetime, column, ids: list[int]) -> tuple[list, int]:
    """Of these due check-ins, those whose ping has left, and how many others were put off:
    their reminder or deadline waits for the ping (it counts from when the ping leaves,
    escalation/sending.py)."""
    waiting = _waiting_for_their_ping(session, ids)
    _postpone(session, now, column, waiting)
    return [i for i in ids if i not in waiting], len(waiting)


def _waiting_for_their_ping(session: Session, checkin_ids: list[int]) -> set[int]:
    """Of these check-ins, those whose ping is still in the outbox (queued, not yet sent)."""
    if not checkin_ids:
        return set()
    rows = session.scalars(
        select(OutboundMessage.checkin_id).where(
            OutboundMessage.checkin_id.in_(checkin_ids),
            OutboundMessage.kind == PING,
            OutboundMessage.next_attempt_at.is_not(None),
        )
    )
    return set(rows)


def _postpone(session: Session, now: datetime, column, checkin_ids: set[int]) -> None:
    """Look at these due reminders or deadlines again in a minute: their ping has not left."""
    if checkin_ids:
        session.execute(
            update(CheckIn)
            .where(CheckIn.id.in_(checkin_ids))
            .values({column.key: now + RECHECK})
            .execution_options(synchronize_session=False)
        )


def _people(session: Session, ids) -> dict[int, Person]:
    return {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(ids)))}


# --- The reminder ----------------------------------------------------------------------------


def handle_some_reminders(
    session: Session, now: datetime, config: DomainConfig, limit: int = REMINDER_BATCH
) -> int:
    """Up to `limit` due reminders in one transaction, claimed by one conditional UPDATE
    (rows answered meanwhile are left out; RETURNING says which are ours)."""
    due = due_ids(session, CheckIn.remind_at, now, limit)
    ids, put_off = _not_waiting(session, now, CheckIn.remind_at, due)
    if not ids:
        return put_off  # handled too: the pass goes on to the next batch
    claimed = _claim_reminders(session, now, ids)
    interns = _people(session, {c.intern_id for c in claimed})
    events, reminders, reminded = [], [], []
    for checkin in claimed:
        intern = interns[checkin.intern_id]
        day = checkin.local_date.isoformat()
        if checkin.escalate_at is None or checkin.escalate_at <= now:
            # Caught up after downtime past the deadline: the incident says more than a reminder.
            events.append(event_row(now, "checkin_reminder_skipped", person_id=intern.id,
                                    local_date=day, reason="deadline_passed"))  # fmt: skip
            continue
        reminders.append(_reminder(now, intern, checkin))
        reminded.append((intern.id, day))
    message_ids = queue_many(session, reminders, returning=True)
    for (intern_id, day), message_id in zip(reminded, message_ids, strict=True):
        events.append(event_row(now, "checkin_reminded", person_id=intern_id,
                                message_id=message_id, local_date=day))  # fmt: skip
    record_many(session, events)
    return len(claimed)  # ours: the pass counts what it handled, not what it looked at


def _claim_reminders(session: Session, now: datetime, ids: list[int]) -> list:
    """The due reminders among `ids` that are ours, in the order of `ids`."""
    table = CheckIn.__table__
    claimed = session.execute(
        update(table)
        .where(table.c.id.in_(ids), table.c.remind_at <= now, table.c.answered_at.is_(None))
        .values(remind_at=None, reminded_at=now)
        .returning(
            table.c.id,
            table.c.intern_id,
            table.c.local_date,
            table.c.deadline_at,
            table.c.escalate_at,
        )
    ).all()
    order = {checkin_id: n for n, checkin_id in enumerate(ids)}  # RETURNING has no order
    return sorted(claimed, key=lambda c: order[c.id])


def _reminder(now: datetime, intern: Person, checkin) -> dict[str, Any]:
    body = render(
        "checkin_reminder",
        intern.language,
        name=intern.first_name,
        deadline=hhmm(checkin.deadline_at, intern.timezone),
    )
    return message_row(now, kind=REMINDER, body=body, person=intern, checkin_id=checkin.id,
                       send_by=checkin.deadline_at)  # fmt: skip


# --- The deadline ----------------------------------------------------------------------------


def handle_some_deadlines(
    session: Session, now: datetime, config: DomainConfig, limit: int = DEADLINE_BATCH
) -> int:
    """Up to `limit` passed deadlines in one transaction, claimed by one conditional UPDATE
    (rows answered meanwhile are left out), each opening its incident."""
    due = due_ids(session, CheckIn.escalate_at, now, limit)
    ids, put_off = _not_waiting(session, now, CheckIn.escalate_at, due)
    if not ids:
        return put_off  # handled too: the pass goes on to the next batch
    table = CheckIn.__table__
    claimed = session.scalars(
        update(table)
        .where(table.c.id.in_(ids), table.c.escalate_at <= now, table.c.answered_at.is_(None))
        .values(escalate_at=None, remind_at=None, missed_at=now)
        .returning(table.c.id)
    ).all()
    checkins = {c.id: c for c in session.scalars(select(CheckIn).where(CheckIn.id.in_(claimed)))}
    interns = _people(session, {c.intern_id for c in checkins.values()})
    for checkin_id in ids:
        if checkin_id in checkins:
            checkin = checkins[checkin_id]
            _missed(session, now, interns[checkin.intern_id], checkin, config)
    return len(claimed)


def _missed(session: Session, now: datetime, intern: Person, checkin: CheckIn, config) -> None:
    # Undeliverable since this check-in's ping: her team hears "unreachable", not "silent".
    unreachable = intern.unreachable_since is not None and intern.unreachable_since >= (
        checkin.sent_at or checkin.due_at
    )
    kind = UNREACHABLE if unreachable else MISSED_CHECKIN
    record(session, now, "checkin_missed", person=intern, local_date=checkin.local_date.isoformat(),
           incident_kind=kind)  # fmt: skip
    open_incident(
        session,
        now,
        intern,
        kind,
        config=config,
        detail={
            "checkin_at": hhmm(checkin.due_at, intern.timezone),
            "local_date": checkin.local_date.isoformat(),
            "checkin_id": checkin.id,
        },
    )
