"""What a message's leaving, or its waiting, means: the outbox's questions to the domain.

The sender has a real speed (TWILIO_MPS) and is sometimes down for hours, so a message may
leave long after it was queued. Three rules keep that honest:
- a ping that left late moves her reminder and deadline by as much (`pings_left`): a slow
  sender never raises a false missed check-in; until it leaves, they wait for it
  (escalation/deadlines.py);
- a message that waited is asked whether it is still worth sending (`overtaken`): not a ping
  or reminder she has answered, not a ping of a day that is over, not an alert of a case
  someone has, nor one a later repeat to the same person replaced, nothing a day old;
- a provider-wide outage is one event and one notice (`provider_down`, `provider_back`), not
  a failure per message: temporary errors never become permanent by count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from escalation.base.config import DomainConfig
from escalation.base.models import CheckIn, Incident, OutboundMessage, Person
from escalation.base.schedule import local_day
from escalation.base.timeline import event_row, record, record_many
from escalation.deadlines import REMINDER
from escalation.engine import ALERT
from escalation.heartbeat import tell_admins
from escalation.pings import PING, minutes

# A message this much younger than its claim left about when it was queued: nothing to ask.
WAITED = timedelta(seconds=30)
# Nothing is worth sending a day late: the case, the ping or the question has moved on.
TOO_OLD = timedelta(hours=24)


# --- A ping that left late ---------------------------------------------------------------------


def pings_left(session: Session, now: datetime, sent: list) -> list[dict]:
    """Pings that left `WAITED` or more after they were queued (rows with `checkin_id`,
    `created_at`): their check-in's reminder and deadline count from now, as if queued now.
    Returns the `checkin_deadline_moved` events."""
    late = [row for row in sent if row.checkin_id is not None and now - row.created_at >= WAITED]
    if not late:
        return []
    checkins = session.scalars(
        select(CheckIn).where(
            CheckIn.id.in_([row.checkin_id for row in late]), CheckIn.answered_at.is_(None)
        )
    ).all()
    interns = {
        p.id: p
        for p in session.scalars(
            select(Person).where(Person.id.in_({c.intern_id for c in checkins}))
        )
    }
    events = []
    for checkin in checkins:
        queued = checkin.sent_at or checkin.due_at
        if checkin.missed_at is not None or queued is None or now <= queued:
            continue
        delay = now - queued
        reminder, _ = minutes(interns[checkin.intern_id])
        checkin.sent_at = now
        checkin.deadline_at += delay
        if checkin.escalate_at is not None:
            checkin.escalate_at = checkin.deadline_at
        if checkin.reminded_at is None and checkin.remind_at is not None:
            remind_at = now + timedelta(minutes=reminder)
            checkin.remind_at = remind_at if remind_at < checkin.deadline_at else None
        events.append(event_row(now, "checkin_deadline_moved", person_id=checkin.intern_id,
                                local_date=checkin.local_date.isoformat(),
                                waited_seconds=int(delay.total_seconds()),
                                deadline=checkin.deadline_at.isoformat()))  # fmt: skip
    return events


# --- A message that waited ---------------------------------------------------------------------


def overtaken(session: Session, now: datetime, rows: list) -> dict[int, str]:
    """Of claimed outbox rows (id, kind, created_at, checkin_id, incident_id, to_phone,
    channel), those
    no longer worth sending, with the reason. Only rows that waited are asked about."""
    waited = [row for row in rows if now - row.created_at >= WAITED]
    if not waited:
        return {}
    reasons = {row.id: "too_old" for row in waited if now - row.created_at >= TOO_OLD}
    rest = [row for row in waited if row.id not in reasons]
    reasons |= _checkins_moved_on(session, now, [r for r in rest if r.kind in (PING, REMINDER)])
    reasons |= _cases_moved_on(session, [r for r in rest if r.kind == ALERT])
    return reasons


def _checkins_moved_on(session: Session, now: datetime, rows: list) -> dict[int, str]:
    ids = {row.checkin_id for row in rows if row.checkin_id is not None}
    if not ids:
        return {}
    checkins = session.execute(
        select(CheckIn.id, CheckIn.local_date, CheckIn.answered_at, CheckIn.missed_at,
               Person.timezone)
        .join(Person, Person.id == CheckIn.intern_id)
        .where(CheckIn.id.in_(ids))
    ).all()  # fmt: skip
    by_id = {c.id: c for c in checkins}
    reasons = {}
    for row in rows:
        checkin = by_id.get(row.checkin_id)
        if checkin is None:
            continue
        if checkin.answered_at is not None:
            reasons[row.id] = "answered"
        elif row.kind == REMINDER and checkin.missed_at is not None:
            reasons[row.id] = "deadline_passed"
        elif row.kind == PING and local_day(now, checkin.timezone) > checkin.local_date:
            reasons[row.id] = "day_over"
    return reasons


def _cases_moved_on(session: Session, rows: list) -> dict[int, str]:
    incident_ids = {row.incident_id for row in rows if row.incident_id is not None}
    if not incident_ids:
        return {}
    states = session.execute(
        select(Incident.id, Incident.acknowledged_at, Incident.resolved_at).where(
            Incident.id.in_(incident_ids)
        )
    ).all()
    moved = {
        s.id: "resolved" if s.resolved_at is not None else "acknowledged"
        for s in states
        if s.resolved_at is not None or s.acknowledged_at is not None
    }
    # The newest alert of each case to each phone: an older one still queued was repeated.
    to = (OutboundMessage.incident_id, OutboundMessage.to_phone, OutboundMessage.channel)
    newest = {
        (r.incident_id, r.to_phone, r.channel): r.newest
        for r in session.execute(
            select(*to, func.max(OutboundMessage.id).label("newest"))
            .where(OutboundMessage.incident_id.in_(incident_ids), OutboundMessage.kind == ALERT)
            .group_by(*to)
        )
    }
    reasons = {}
    for row in rows:
        if row.incident_id in moved:
            reasons[row.id] = moved[row.incident_id]
        elif newest.get((row.incident_id, row.to_phone, row.channel), row.id) > row.id:
            reasons[row.id] = "repeated"
    return reasons


def dropped(session: Session, now: datetime, rows: list, reasons: dict[int, str]) -> None:
    """Record the messages `overtaken` found; a ping of a day that is over takes its
    check-in's reminder and deadline with it (she was never asked: nothing to miss)."""
    record_many(
        session,
        [
            event_row(now, "message_dropped", person_id=row.person_id,
                      incident_id=row.incident_id, message_id=row.id, message_kind=row.kind,
                      reason=reasons[row.id], queued=row.created_at.isoformat())
            for row in rows
            if row.id in reasons
        ],
    )  # fmt: skip
    never_asked = [r.checkin_id for r in rows if reasons.get(r.id) == "day_over" and r.kind == PING]
    if never_asked:
        session.execute(
            update(CheckIn)
            .where(CheckIn.id.in_(never_asked), CheckIn.answered_at.is_(None))
            .values(remind_at=None, escalate_at=None)
            .execution_options(synchronize_session=False)
        )


# --- A provider-wide outage --------------------------------------------------------------------


def provider_down(session: Session, now: datetime, failures: int, reason: str) -> None:
    """Most sends fail with temporary errors: the sender is down. One event; the outbox only
    probes until it is back (bot/outbox.py). No one is marked unreachable for it."""
    record(session, now, "sender_outage", failures=failures, reason=reason[:200])


def provider_back(session: Session, now: datetime, since: datetime, config: DomainConfig) -> int:
    """The sender works again: one notice to the administrators (it leaves first), and every
    message waiting out its backoff is due now, most urgent first. Returns how many."""
    waiting = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.next_attempt_at > now, OutboundMessage.attempts > 0)
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    record(session, now, "sender_recovered", since=since.isoformat(), waiting=waiting,
           minutes=int((now - since).total_seconds() // 60))  # fmt: skip
    tell_admins(session, now, config, "sender_recovered", since, waiting=waiting)
    return waiting
