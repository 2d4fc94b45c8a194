"""Daily check-ins: the ping, the reminder, the deadline, and what an intern's answer records.

Due work lives in indexed "next due at" columns, so a tick with nothing due costs a few index
lookups whatever the roster size:
- `person.next_checkin_at`: her next ping (SCHEDULE_NOW: "compute it at the next tick");
- `checkin.remind_at` / `checkin.escalate_at`: the reminder and the deadline, cleared once done
  or answered.
Each `handle_one_…` step claims one row with a conditional UPDATE (FOR UPDATE SKIP LOCKED
first on PostgreSQL) and does everything that follows from it in the same transaction.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event, func, inspect, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from bot.messages import render
from escalation.db import is_postgres
from escalation.incidents import open_incident, open_incident_of, resolve
from escalation.models import (
    INTERN,
    MISSED_CHECKIN,
    SMS,
    TRIP_OVERDUE,
    UNREACHABLE,
    WHATSAPP,
    CheckIn,
    InboundMessage,
    OutboundMessage,
    Person,
    Trip,
)
from escalation.schedule import Schedule, hhmm, local_day, next_ping
from escalation.timeline import queue, record

# Outbox kinds (delivery failures of these two are followed up: escalation/delivery.py).
PING = "checkin_ping"
REMINDER = "checkin_reminder"
# `next_checkin_at` set to this means "her schedule changed: compute the next ping at the
# next tick". It is in the past, so the indexed due query finds it like any due ping, and the
# tick computes from its own `now` (frozen in tests), not from the clock of whoever edited her.
SCHEDULE_NOW = datetime(2000, 1, 1, tzinfo=UTC)
# A ping that leaves this long after its time says so.
LATE_AFTER = timedelta(minutes=10)
DEFAULT_REMINDER_MINUTES = 30
DEFAULT_DEADLINE_MINUTES = 120
WHATSAPP_SESSION = timedelta(hours=24)
# Answering "ok" resolves these; an emergency or duress is only ever closed by a responder.
CLOSED_BY_INTERN_OK = (MISSED_CHECKIN, UNREACHABLE, TRIP_OVERDUE)
SCHEDULE_FIELDS = ("role", "active", "checkin_time", "timezone", "checkin_days", "paused_until")


def local_date(person: Person, now: datetime) -> date:
    return local_day(now, person.timezone)


def first_due(session: Session, column, now: datetime) -> int | None:
    """The id of the earliest row whose `column` is due, skipping rows another transaction
    holds on PostgreSQL (so concurrent ticks spread over different rows)."""
    model = column.class_
    query = select(model.id).where(column <= now).order_by(column).limit(1)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return session.scalar(query)


# --- Scheduling ------------------------------------------------------------------------------


def last_checkin_date(session: Session, intern: Person) -> date | None:
    """The last local date a ping was due for her (answered-early rows have no due time yet)."""
    return session.scalar(
        select(func.max(CheckIn.local_date)).where(
            CheckIn.intern_id == intern.id, CheckIn.due_at.is_not(None)
        )
    )


def compute_next(session: Session, intern: Person, now: datetime) -> datetime | None:
    schedule = Schedule.of(intern)
    if schedule is None:
        return None
    return next_ping(schedule, now, last_pinged=last_checkin_date(session, intern))


def reschedule(session: Session, now: datetime, intern: Person) -> datetime | None:
    """Set her next ping from her current schedule (after HORA, PAUSA, REGRESO …)."""
    intern.next_checkin_at = compute_next(session, intern, now)
    return intern.next_checkin_at


@event.listens_for(Session, "before_flush")
def _schedule_changed_people(session: Session, _context, _instances) -> None:
    """Whoever creates an intern or changes her schedule (roster import, the admin console, a
    test fixture), the next tick computes her next ping: SCHEDULE_NOW marks it. Code that sets
    `next_checkin_at` itself in the same flush (the intern's own commands) is left alone."""
    for person in (*session.new, *session.dirty):
        if not isinstance(person, Person):
            continue
        state = inspect(person)
        if state.attrs.next_checkin_at.history.has_changes():
            continue
        if person in session.new:
            wanted = person.role == INTERN and person.active is not False
        else:
            wanted = any(state.attrs[f].history.has_changes() for f in SCHEDULE_FIELDS)
        if wanted and (person.is_intern or person.next_checkin_at is not None):
            person.next_checkin_at = SCHEDULE_NOW


# --- The ping --------------------------------------------------------------------------------


def minutes(intern: Person) -> tuple[int, int]:
    """(reminder, deadline) minutes after the ping: hers, else her university's, else defaults."""
    uni = intern.university
    reminder = intern.reminder_minutes or (uni.reminder_minutes if uni else None)
    deadline = intern.deadline_minutes or (uni.deadline_minutes if uni else None)
    return reminder or DEFAULT_REMINDER_MINUTES, deadline or DEFAULT_DEADLINE_MINUTES


def handle_one_due_ping(session: Session, now: datetime, settings: Any) -> bool:
    query = (
        select(Person)
        .where(Person.next_checkin_at <= now)
        .order_by(Person.next_checkin_at)
        .limit(1)
        .options(joinedload(Person.university))  # her reminder and deadline minutes
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True, of=Person)
    intern = session.scalar(query)
    if intern is None:
        return False
    due = intern.next_checkin_at
    if due == SCHEDULE_NOW:
        _claim_next(session, intern, due, compute_next(session, intern, now))
        record(session, now, "checkin_scheduled", person=intern, next=_iso(intern.next_checkin_at))
        return True
    schedule = Schedule.of(intern)
    if schedule is None:  # deactivated, or no longer an intern: nothing more to send
        if _claim_next(session, intern, due, None):
            record(session, now, "checkin_unscheduled", person=intern, due=_iso(due))
        return True
    day = local_day(due, intern.timezone)
    # From `due`, not `now`: after a long outage every missed day gets its own step and event.
    if _claim_next(session, intern, due, next_ping(schedule, due, last_pinged=day)):
        ping(session, now, intern, due, day, settings)
    return True


def _claim_next(session: Session, intern: Person, due: datetime, new: datetime | None) -> bool:
    """Move her next ping from `due` to `new`, if nobody else has (the claim)."""
    person = Person.__table__
    claimed = session.execute(
        update(person)
        .where(person.c.id == intern.id, person.c.next_checkin_at == due)
        .values(next_checkin_at=new)
    ).rowcount
    if claimed == 1:  # written already; keep the loaded object in step without a new UPDATE
        set_committed_value(intern, "next_checkin_at", new)
    return claimed == 1


def ping(
    session: Session, now: datetime, intern: Person, due: datetime, day: date, settings: Any
) -> CheckIn | None:
    """Create `day`'s check-in and queue its ping, late if need be; or say why not (an event)."""
    reminder, deadline = minutes(intern)
    deadline_at = max(due + timedelta(minutes=deadline), now + timedelta(minutes=reminder))
    window_end = due + timedelta(minutes=deadline)
    if now >= window_end:  # the scheduler was down through the whole window
        record(session, now, "checkin_skipped", person=intern, local_date=day.isoformat(),
               due=_iso(due), reason="scheduler_down_past_deadline")  # fmt: skip
        return None
    existing = session.scalar(
        select(CheckIn).where(CheckIn.intern_id == intern.id, CheckIn.local_date == day)
    )
    if existing is not None:
        return _already_there(session, now, intern, existing, due)
    remind_at = now + timedelta(minutes=reminder)
    checkin = CheckIn(
        intern_id=intern.id,
        local_date=day,
        due_at=due,
        sent_at=now,
        deadline_at=deadline_at,
        remind_at=remind_at if remind_at < deadline_at else None,
        escalate_at=deadline_at,
        created_at=now,
    )
    # Should an answer create the day's row at this very moment, the unique constraint fails
    # this transaction; the claim is rolled back with it and the next pass finds the row.
    session.add(checkin)
    _queue_ping(session, now, intern, checkin, settings)
    return checkin


def _already_there(session, now, intern: Person, checkin: CheckIn, due: datetime) -> None:
    """The day has its row already: she answered before the ping (an early OK), or it was
    pinged under another schedule. Either way no second ping that day."""
    reason = "answered_early" if checkin.answered_at is not None else "already_pinged"
    if checkin.due_at is None:
        checkin.due_at = due
    record(session, now, "checkin_ping_not_needed", person=intern, reason=reason,
           local_date=checkin.local_date.isoformat())  # fmt: skip
    return None


def _queue_ping(session, now, intern: Person, checkin: CheckIn, settings: Any) -> None:
    late = now - checkin.due_at > LATE_AFTER
    template = "checkin_ping_late" if late else "checkin_ping"
    body = render(
        template,
        intern.language,
        name=intern.first_name,
        time=hhmm(checkin.due_at, intern.timezone),
        deadline=hhmm(checkin.deadline_at, intern.timezone),
    )
    message = queue(session, now, kind=PING, body=body, person=intern)
    how = _whatsapp_form(session, now, intern, settings)
    if how == "template":
        message.content_sid = settings.twilio_whatsapp_checkin_content_sid
        message.content_variables = json.dumps({"1": intern.first_name})
    record(session, now, "checkin_sent", person=intern,
           local_date=checkin.local_date.isoformat(), late=late, channel=intern.channel,
           **({"whatsapp": how} if how else {}))  # fmt: skip


def _whatsapp_form(session, now, intern: Person, settings: Any) -> str | None:
    """How a WhatsApp ping goes: inside the 24-hour session (she wrote to us on WhatsApp in
    the last 24 h) as free text; outside it as the approved template when one is configured,
    else as free text (which WhatsApp may refuse with 63016: then SMS, see delivery.py)."""
    if intern.channel != WHATSAPP:
        return None
    last = session.scalar(
        select(func.max(InboundMessage.received_at)).where(
            InboundMessage.phone == intern.phone, InboundMessage.channel == WHATSAPP
        )
    )
    if last is not None and now - last < WHATSAPP_SESSION:
        return "session_text"
    if getattr(settings, "twilio_whatsapp_checkin_content_sid", ""):
        return "template"
    return "text_no_template"


# --- Reminder and deadline -------------------------------------------------------------------


def handle_one_reminder(session: Session, now: datetime, settings: Any) -> bool:
    checkin_id = first_due(session, CheckIn.remind_at, now)
    if checkin_id is None:
        return False
    claimed = session.execute(
        update(CheckIn)
        .where(CheckIn.id == checkin_id, CheckIn.remind_at <= now, CheckIn.answered_at.is_(None))
        .values(remind_at=None, reminded_at=now)
    ).rowcount
    if claimed != 1:
        return True
    checkin = session.get(CheckIn, checkin_id)
    intern = session.get(Person, checkin.intern_id)
    if checkin.escalate_at is None or checkin.escalate_at <= now:
        # Caught up after downtime past the deadline: the incident says more than a reminder.
        record(session, now, "checkin_reminder_skipped", person=intern,
               local_date=checkin.local_date.isoformat(), reason="deadline_passed")  # fmt: skip
        return True
    body = render(
        "checkin_reminder",
        intern.language,
        name=intern.first_name,
        deadline=hhmm(checkin.deadline_at, intern.timezone),
    )
    message = queue(session, now, kind=REMINDER, body=body, person=intern)
    session.flush()
    record(session, now, "checkin_reminded", person=intern, message_id=message.id,
           local_date=checkin.local_date.isoformat())  # fmt: skip
    return True


def handle_one_deadline(session: Session, now: datetime, settings: Any) -> bool:
    checkin_id = first_due(session, CheckIn.escalate_at, now)
    if checkin_id is None:
        return False
    claimed = session.execute(
        update(CheckIn)
        .where(CheckIn.id == checkin_id, CheckIn.escalate_at <= now, CheckIn.answered_at.is_(None))
        .values(escalate_at=None, remind_at=None, missed_at=now)
    ).rowcount
    if claimed != 1:
        return True
    checkin = session.get(CheckIn, checkin_id)
    intern = session.get(Person, checkin.intern_id)
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
        admin_phones=tuple(getattr(settings, "admin_phones", ())),
        detail={
            "checkin_at": hhmm(checkin.due_at, intern.timezone),
            "local_date": checkin.local_date.isoformat(),
            "checkin_id": checkin.id,
        },
    )
    return True


# --- The answer ------------------------------------------------------------------------------


def checkin_for(session: Session, intern: Person, day: date) -> CheckIn:
    """`day`'s check-in row for `intern`, created if the day has none yet."""
    checkin = session.scalar(
        select(CheckIn).where(CheckIn.intern_id == intern.id, CheckIn.local_date == day)
    )
    if checkin is None:
        checkin = CheckIn(intern_id=intern.id, local_date=day)
        session.add(checkin)
        session.flush()
    return checkin


def pending_checkin(session: Session, intern: Person, now: datetime) -> CheckIn | None:
    """The latest pinged, unanswered check-in of the last few days (yesterday's missed one
    when she answers after midnight)."""
    since = local_date(intern, now) - timedelta(days=3)
    return session.scalar(
        select(CheckIn)
        .where(
            CheckIn.intern_id == intern.id,
            CheckIn.sent_at.is_not(None),
            CheckIn.answered_at.is_(None),
            CheckIn.local_date >= since,
        )
        .order_by(CheckIn.local_date.desc())
        .limit(1)
    )


def record_fine(
    session: Session, now: datetime, intern: Person, *, message_id: int | None
) -> CheckIn:
    """The intern said she is fine: her pending check-in is answered (late if past its
    deadline), or today's if none is pending (an answer before the ping means no ping today).
    The caller decides whether the answer also gives the all-clear (`all_clear`)."""
    checkin = pending_checkin(session, intern, now) or checkin_for(
        session, intern, local_date(intern, now)
    )
    first = checkin.answered_at is None
    if first:
        checkin.answered_at = now
        checkin.remind_at = checkin.escalate_at = None
    record(session, now, "checkin_answered", person=intern, message_id=message_id,
           local_date=checkin.local_date.isoformat(), late=checkin.late,
           repeated=not first)  # fmt: skip
    return checkin


def all_clear(session: Session, now: datetime, intern: Person) -> list[str]:
    """Resolve her missed check-in, unreachable and trip-overdue incidents; never an emergency."""
    intern.unreachable_since = None
    closed = []
    for kind in CLOSED_BY_INTERN_OK:
        incident = open_incident_of(session, intern, kind)
        if incident is None:
            continue
        if kind == TRIP_OVERDUE:
            from escalation.trips import end_open_trip

            end_open_trip(session, now, intern, how="intern_ok")
        resolve(session, now, incident, intern, "intern_ok")
        closed.append(incident.code)
    return closed


def open_trip(session: Session, intern: Person) -> Trip | None:
    return session.scalar(select(Trip).where(Trip.intern_id == intern.id, Trip.ended_at.is_(None)))


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant else None


# --- A ping that could not be delivered ------------------------------------------------------

FOLLOWED_KINDS = (PING, REMINDER)


def follow_up_failed(session: Session, now: datetime, message: OutboundMessage) -> None:
    """A ping or reminder failed for good (at send time, or Twilio's callback said so): the
    same text at once on her other channel (WhatsApp → SMS always; SMS → WhatsApp when she
    has written to us on WhatsApp); when that fails too, or there is none, her check-in's
    deadline moves to now and the deadline step opens an *unreachable* incident (nurse and
    buddies) instead of waiting for the deadline. Safe to call twice for one message (the
    outbox and the status webhook may both report one failure)."""
    if message.kind not in FOLLOWED_KINDS or message.person_id is None:
        return
    followed = session.info.setdefault("followed_up_messages", set())
    if message.id in followed:  # already followed up in this transaction
        return
    followed.add(message.id)
    intern = session.get(Person, message.person_id)
    other = _other_channel(session, intern, message)
    if other is not None:
        if _failover_exists(session, message):
            return
        retry = queue(session, now, kind=message.kind, body=message.body, person=intern,
                      channel=other)  # fmt: skip
        retry.failover_of_id = message.id
        record(session, now, "checkin_failover", person=intern, message_id=message.id,
               channel=other, code=message.error_code)  # fmt: skip
        return
    if intern.unreachable_since is None:
        intern.unreachable_since = now
    pending = pending_checkin(session, intern, now)
    if pending is not None and pending.escalate_at is not None and pending.escalate_at > now:
        pending.escalate_at = now
        pending.remind_at = None
    record(session, now, "checkin_undeliverable", person=intern, message_id=message.id,
           channel=message.channel, code=message.error_code)  # fmt: skip


def _other_channel(session: Session, intern: Person, message: OutboundMessage) -> str | None:
    if message.failover_of_id is not None:
        return None  # the failover itself failed
    if message.channel == WHATSAPP:
        return SMS
    used_whatsapp = session.scalar(
        select(InboundMessage.id)
        .where(InboundMessage.phone == intern.phone, InboundMessage.channel == WHATSAPP)
        .limit(1)
    )
    return WHATSAPP if used_whatsapp is not None else None


def _failover_exists(session: Session, message: OutboundMessage) -> bool:
    if message.id is None:
        return False
    return (
        session.scalar(
            select(OutboundMessage.id)
            .where(
                OutboundMessage.person_id == message.person_id,
                OutboundMessage.kind == message.kind,
                OutboundMessage.failover_of_id == message.id,
            )
            .limit(1)
        )
        is not None
    )
