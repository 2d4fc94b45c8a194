"""Writing to the append-only timeline and to the outbox, always inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from escalation.models import (
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
) -> OutboundMessage:
    """Put one message in the outbox; it leaves when the transaction commits and a dispatcher
    claims it. `session.info["queued"]` lets the caller nudge the dispatcher after commit."""
    message = OutboundMessage(
        person_id=person.id if person else None,
        to_phone=phone or person.phone,
        channel=channel or (person.channel if person else SMS),
        kind=kind,
        body=body,
        incident_id=incident.id if incident else None,
        priority=priority,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(message)
    session.info.setdefault("queued", []).append(priority)
    return message
