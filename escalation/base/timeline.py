"""Writing to the append-only timeline and to the outbox, always inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, insert, or_, update
from sqlalchemy.orm import Session

from escalation.base import audit
from escalation.base.models import (
    PRIORITY_NORMAL,
    SMS,
    Event,
    Incident,
    OutboundMessage,
    Person,
)


def record(
    session: Session,
    now: datetime,
    kind: str,
    *,
    person: Person | None = None,
    incident: Incident | None = None,
    message_id: int | None = None,
    person_id: int | None = None,
    incident_id: int | None = None,
    **data: Any,
) -> Event:
    """Append one event; `person`/`incident` objects or their ids, whichever the caller has."""
    event = Event(
        at=now,
        kind=kind,
        person_id=person.id if person else person_id,
        incident_id=incident.id if incident else incident_id,
        message_id=message_id,
        data=data,
    )
    session.add(event)
    return event


def queue(
    session: Session,
    now: datetime,
    *,
    kind: str,
    body: str,
    person: Person | None = None,
    phone: str | None = None,
    channel: str | None = None,
    incident: Incident | None = None,
    priority: int = PRIORITY_NORMAL,
    delay: timedelta = timedelta(0),
) -> OutboundMessage:
    """Put one message in the outbox; it leaves when the transaction commits and a dispatcher
    claims it (after `delay`; a delayed message is left to the tick). A hook registered with
    `wake_on_commit` hears of it after the commit."""
    message = OutboundMessage(
        person_id=person.id if person else None,
        to_phone=phone or person.phone,
        channel=channel or (person.channel if person else SMS),
        kind=kind,
        body=body,
        incident_id=incident.id if incident else None,
        priority=priority,
        created_at=now,
        next_attempt_at=now + delay,
    )
    session.add(message)
    if not delay:
        _leaves_now(session, [priority])
    return message


# --- The edge's after-commit hook ---------------------------------------------------------------

_LEAVING = "faro.outbox_leaving_now"  # read and written in this module only


def _leaves_now(session: Session, priorities: list[int]) -> None:
    if priorities:
        session.info.setdefault(_LEAVING, []).extend(priorities)


_WAKE = "faro.wake_on_commit"  # read and written in this module only


def wake_on_commit(session: Session, wake: Callable[[bool], object]) -> None:
    """Once this session's transaction commits, call `wake(urgent)` if it queued messages that
    leave at once (`urgent`: a critical alert among them). The edge registers its dispatcher's
    nudge here, so a critical alert leaves within milliseconds, not at the next tick; a commit
    that queued nothing (or only delayed messages) wakes nobody."""
    session.info[_WAKE] = wake


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    # One listener for every session (a listener per session costs more than its work).
    if session.in_nested_transaction():
        return  # a SAVEPOINT released inside the transaction: not the commit yet
    leaving = session.info.pop(_LEAVING, None)
    wake = session.info.get(_WAKE)
    if leaving and wake is not None:
        wake(any(p > PRIORITY_NORMAL for p in leaving))


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    if not session.in_transaction():
        session.info.pop(_LEAVING, None)  # nothing of it leaves


# A failed message whose follow-up (another channel, an incident, a flag) has been decided.
# Its claim columns are free for good once it failed, so the mark lives there.
FOLLOWED_UP = "followed-up"


def not_followed_up():
    return or_(OutboundMessage.claimed_by.is_(None), OutboundMessage.claimed_by != FOLLOWED_UP)


def claim_follow_up(session: Session, message: OutboundMessage) -> bool:
    """Claim deciding what `message`'s failure means, once, whoever notices it first (the
    outbox, the status webhook, a tick step; any process): a conditional UPDATE, rowcount 1."""
    claimed = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message.id, not_followed_up())
        .values(claimed_by=FOLLOWED_UP)
        .execution_options(synchronize_session=False)
    ).rowcount
    return claimed == 1


# --- Bulk forms, for steps that handle a batch in one transaction ------------------------------


def event_row(
    now: datetime,
    kind: str,
    *,
    person_id: int | None = None,
    incident_id: int | None = None,
    message_id: int | None = None,
    **data: Any,
) -> dict[str, Any]:
    """One event as a row for `record_many` (the same fields `record` writes)."""
    return {
        "at": now,
        "kind": kind,
        "person_id": person_id,
        "incident_id": incident_id,
        "message_id": message_id,
        "data": data,
    }


def record_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append `event_row`s in one multi-row INSERT (a flush per event is the cost at scale).
    SQLite chains them as they are inserted; PostgreSQL when the transaction commits, as the
    INSERT returned them (RETURNING has no order, but each row comes back whole: nothing is
    read back at commit)."""
    if not rows:
        return
    connection = session.connection()
    if audit.chained_as_inserted(connection):
        connection.execute(_INSERT_EVENTS, rows)
    else:
        audit.written(session, connection.execute(_INSERT_EVENTS_RETURNING, rows).all())


_INSERT_EVENTS = insert(Event.__table__)
_INSERT_EVENTS_RETURNING = _INSERT_EVENTS.returning(*audit.CONTENT_COLUMNS)


def message_row(
    now: datetime,
    *,
    kind: str,
    body: str,
    person: Person,
    priority: int = PRIORITY_NORMAL,
    content_sid: str | None = None,
    content_variables: str | None = None,
    checkin_id: int | None = None,
    send_by: datetime | None = None,
    delay: timedelta = timedelta(0),
) -> dict[str, Any]:
    """One outbox row to a roster person on her channel, as `queue` would write it (a ping or
    reminder says which check-in it serves, and that it is of use until her deadline; a
    delayed row is left to the tick)."""
    return {
        "person_id": person.id,
        "to_phone": person.phone,
        "channel": person.channel,
        "kind": kind,
        "body": body,
        "incident_id": None,
        "priority": priority,
        "created_at": now,
        "next_attempt_at": now + delay,
        "attempts": 0,
        "content_sid": content_sid,
        "content_variables": content_variables,
        "checkin_id": checkin_id,
        "send_by": send_by,
    }


def queue_many(session: Session, rows: list[dict[str, Any]], *, returning: bool = False):
    """Put `message_row`s in the outbox in one multi-row INSERT; with `returning`, their ids
    in the order of `rows`. A `wake_on_commit` hook hears of them like of `queue`'s."""
    if not rows:
        return []
    if returning:
        ids = list(session.connection().execute(_INSERT_MESSAGES_IDS, rows).scalars())
    else:
        session.connection().execute(_INSERT_MESSAGES, rows)
        ids = []
    _leaves_now(session, [r["priority"] for r in rows if r["next_attempt_at"] <= r["created_at"]])
    return ids


_INSERT_MESSAGES = insert(OutboundMessage.__table__)
_INSERT_MESSAGES_IDS = _INSERT_MESSAGES.returning(
    OutboundMessage.__table__.c.id, sort_by_parameter_order=True
)
