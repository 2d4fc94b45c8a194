"""Daily check-ins: the ping, the reminder, the deadline, and what an intern's answer records.

Due work lives in indexed "next due at" columns, so a tick with nothing due costs a few index
lookups whatever the roster size:
- `person.next_checkin_at`: her next ping (SCHEDULE_NOW: "her schedule changed: the next tick
  computes it as of the change");
- `checkin.remind_at` / `checkin.escalate_at`: the reminder and the deadline, cleared once done
  or answered.
Each step claims its rows with conditional UPDATEs (FOR UPDATE SKIP LOCKED first on
PostgreSQL) and does everything that follows from them in the same transaction; the
`handle_some_…` forms take a small batch per transaction (`handle_one_…`: a batch of one).
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, event, func, insert, inspect, or_, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from escalation.base.db import due_ids, skip_locked
from escalation.base.messages import render
from escalation.base.models import (
    INTERN,
    MISSED_CHECKIN,
    SMS,
    TRIP_OVERDUE,
    UNCLEAR,
    UNREACHABLE,
    WHATSAPP,
    CheckIn,
    InboundMessage,
    Incident,
    OutboundMessage,
    Person,
    Trip,
    University,
)
from escalation.base.schedule import Schedule, hhmm, local_day, next_ping
from escalation.base.timeline import (
    claim_follow_up,
    event_row,
    message_row,
    queue,
    queue_many,
    record,
    record_many,
)
from escalation.incidents import open_incident, resolve

# An answer counts for the latest unanswered ping of these last days (yesterday's, after midnight).
PENDING_DAYS = timedelta(days=3)

# Outbox kinds (delivery failures of these two are followed up: escalation/delivery.py).
PING = "checkin_ping"
REMINDER = "checkin_reminder"
# `next_checkin_at` set to this means "her schedule changed: compute the next ping at the
# next tick, as of the change". It is in the past, so the indexed due query finds it like any
# due ping. The change's moment is her row's `updated_at` (see `changed_at`): a ping that fell
# between the change and that tick is still sent, late, instead of being skipped.
SCHEDULE_NOW = datetime(2000, 1, 1, tzinfo=UTC)
# A ping that leaves this long after its time says so.
LATE_AFTER = timedelta(minutes=10)
DEFAULT_REMINDER_MINUTES = 30
DEFAULT_DEADLINE_MINUTES = 120
WHATSAPP_SESSION = timedelta(hours=24)
# Answering "ok" resolves these; an emergency or duress is only ever closed by a responder.
CLOSED_BY_INTERN_OK = (MISSED_CHECKIN, UNREACHABLE, TRIP_OVERDUE, UNCLEAR)
SCHEDULE_FIELDS = (
    "role", "active", "opted_out_at", "checkin_time", "timezone", "checkin_days", "paused_until"
)  # fmt: skip


def local_date(person: Person, now: datetime) -> date:
    return local_day(now, person.timezone)


def _people(session: Session, ids) -> dict[int, Person]:
    return {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(ids)))}


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
    """Set her next ping from her current schedule as of `now` (after HORA, PAUSA, REGRESO …).

    A change someone else made that no tick has computed yet (SCHEDULE_NOW, e.g. an import
    she asks ESTADO about) is computed as of that change, as the tick would: asking must not
    lose the late ping it is owed. A change of her schedule in this very session is hers,
    made `now`."""
    as_of = now
    if intern.next_checkin_at == SCHEDULE_NOW and not _schedule_edited(intern):
        as_of = changed_at(intern, now)
    intern.next_checkin_at = compute_next(session, intern, as_of)
    return intern.next_checkin_at


def changed_at(person: Person, now: datetime) -> datetime:
    """When her pending schedule change (SCHEDULE_NOW) was made: her row's last write, which
    is that change or a later edit (the roster import writes its own `now` there). Never after
    `now`: a writer whose clock ran ahead of the tick's changes nothing in the past."""
    written = person.updated_at
    return min(written, now) if written is not None else now


def _schedule_edited(person: Person) -> bool:
    state = inspect(person)
    return any(state.attrs[f].history.has_changes() for f in SCHEDULE_FIELDS)


@event.listens_for(Session, "before_flush")
def _schedule_changed_people(session: Session, _context, _instances) -> None:
    """Whoever creates an intern or changes her schedule (roster import, the admin console, a
    test fixture), the next tick computes her next ping as of the change: SCHEDULE_NOW marks
    it (this flush writes the change's moment, `updated_at`). Code that sets
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
            wanted = _schedule_edited(person)
        if wanted and (person.is_intern or person.next_checkin_at is not None):
            person.next_checkin_at = SCHEDULE_NOW
        # (`takes_prompts` would read a new row's unset `active` as False)
        prompts = person.active is not False and person.opted_out_at is None
        if person.is_intern and prompts and person.next_phq_at is None:
            person.next_phq_at = SCHEDULE_NOW


# --- The ping --------------------------------------------------------------------------------


def minutes(intern: Person) -> tuple[int, int]:
    """(reminder, deadline) minutes after the ping: hers, else her university's, else defaults."""
    uni = intern.university
    reminder = intern.reminder_minutes or (uni.reminder_minutes if uni else None)
    deadline = intern.deadline_minutes or (uni.deadline_minutes if uni else None)
    return reminder or DEFAULT_REMINDER_MINUTES, deadline or DEFAULT_DEADLINE_MINUTES


# Interns per transaction in the ping step: enough to spread the commit over many, few enough
# that concurrent ticks still share the work and a failed batch is cheap to redo one by one.
PING_BATCH = 50


def handle_one_due_ping(session: Session, now: datetime, settings: Any) -> bool:
    return handle_some_due_pings(session, now, settings, limit=1) > 0


def handle_some_due_pings(
    session: Session, now: datetime, settings: Any, limit: int = PING_BATCH
) -> int:
    """Up to `limit` interns whose next ping is due, in one transaction; returns how many.

    Each is claimed like a single one (a conditional UPDATE moving her `next_checkin_at` on,
    under FOR UPDATE SKIP LOCKED on PostgreSQL); what follows is written in bulk."""
    query = (
        select(Person)
        .where(Person.next_checkin_at <= now)
        .order_by(Person.next_checkin_at)
        .limit(limit)
        .options(joinedload(Person.university))  # her reminder and deadline minutes
    )
    query = skip_locked(query, session, of=Person)
    interns = list(session.scalars(query))
    if not interns:
        return 0
    moves = _next_pings(session, now, interns)
    events, pings = [], []
    for intern, due, new in _claim_next(session, moves):
        if due == SCHEDULE_NOW:
            events.append(event_row(now, "checkin_scheduled", person_id=intern.id, next=_iso(new)))
        elif Schedule.of(intern) is None:  # deactivated, or no longer an intern
            events.append(event_row(now, "checkin_unscheduled", person_id=intern.id, due=_iso(due)))
        else:
            pings.append((intern, due, local_day(due, intern.timezone)))
    events += ping_all(session, now, pings, settings)
    record_many(session, events)
    return len(interns)


def _next_pings(session: Session, now: datetime, interns: list[Person]) -> list[tuple]:
    """(intern, due, next) for each: a changed schedule is computed as of the change (a ping
    it made due since is then due at once); a due ping moves on from `due`, not `now` (after
    a long outage every missed day gets its own step and event)."""
    changed = [i.id for i in interns if i.next_checkin_at == SCHEDULE_NOW]
    last = _last_checkin_dates(session, changed) if changed else {}
    moves = []
    for intern in interns:
        due = intern.next_checkin_at
        schedule = Schedule.of(intern)
        if schedule is None:
            new = None
        elif due == SCHEDULE_NOW:
            as_of = changed_at(intern, now)
            new = next_ping(schedule, as_of, last_pinged=last.get(intern.id))
        else:
            new = next_ping(schedule, due, last_pinged=local_day(due, intern.timezone))
        moves.append((intern, due, new))
    return moves


def _last_checkin_dates(session: Session, intern_ids: list[int]) -> dict[int, date]:
    """`last_checkin_date` for several interns in one query."""
    rows = session.execute(
        select(CheckIn.intern_id, func.max(CheckIn.local_date))
        .where(CheckIn.intern_id.in_(intern_ids), CheckIn.due_at.is_not(None))
        .group_by(CheckIn.intern_id)
    )
    return dict(rows.all())


class _ClaimLost(Exception):
    pass


def _claim_next(session: Session, moves: list[tuple]) -> list[tuple]:
    """Move each intern's next ping from `due` to `next` where nobody else has (the claim);
    returns the moves that were ours. One executemany; should its rowcount fall short (the
    row locks make that unlikely), it is undone and the rows are claimed one at a time."""
    person = Person.__table__
    claim = (
        update(person)
        .where(person.c.id == bindparam("pid"), person.c.next_checkin_at == bindparam("due"))
        .values(next_checkin_at=bindparam("new"))
    )
    rows = [{"pid": intern.id, "due": due, "new": new} for intern, due, new in moves]
    try:
        with session.begin_nested() if len(rows) > 1 else nullcontext():
            if session.execute(claim, rows).rowcount != len(rows):
                raise _ClaimLost
        claimed = moves
    except _ClaimLost:
        if len(rows) == 1:
            return []
        claimed = [
            m
            for m, row in zip(moves, rows, strict=True)
            if session.execute(claim, row).rowcount == 1
        ]
    for intern, _due, new in claimed:  # written already; keep the objects in step, no UPDATE
        set_committed_value(intern, "next_checkin_at", new)
    return claimed


def ping_all(session: Session, now: datetime, pings: list[tuple], settings: Any) -> list[dict]:
    """For each (intern, due, day): create the day's check-in and queue its ping, or say why
    not. Check-ins and messages are inserted in bulk; the events are returned to the caller.
    A ping also closes any question still open from before, so her answer is read as this
    check-in's."""
    events, open_ = _skip_gone(now, pings)
    if not open_:
        return events
    existing = _existing_checkins(session, open_)
    forms = _whatsapp_forms(session, now, [i for i, _, _ in open_], settings)
    checkins, messages = [], []
    for intern, due, day in open_:
        found = existing.get((intern.id, day))
        if found is not None:
            events.append(_already_there(now, intern, found, due))
            continue
        checkin = _checkin_row(now, intern, due, day)
        checkins.append(checkin)
        message, event = _ping_message(now, intern, checkin, forms.get(intern.id), settings)
        messages.append(message)
        events.append(event)
    # Should an answer create one of these rows at this very moment, the unique constraint
    # fails this transaction; the claims roll back with it and the tick redoes them one by one.
    if checkins:
        session.execute(insert(CheckIn.__table__), checkins)
    queue_many(session, messages)
    from escalation.wellbeing import close_open_questions  # wellbeing imports this module

    pinged = [row["intern_id"] for row in checkins]
    return events + close_open_questions(session, now, pinged, reason="new_checkin")


def _skip_gone(now: datetime, pings: list[tuple]) -> tuple[list[dict], list[tuple]]:
    """The `checkin_skipped` events of the pings that can no longer be served, and the rest."""
    events, open_ = [], []
    for intern, due, day in pings:
        if _gone(now, due, day, intern.timezone, minutes(intern)[1]):
            events.append(event_row(now, "checkin_skipped", person_id=intern.id,
                                    local_date=day.isoformat(), due=_iso(due),
                                    reason="scheduler_down_all_day"))  # fmt: skip
        else:
            open_.append((intern, due, day))
    return events, open_


def _gone(now: datetime, due: datetime, day: date, timezone: str, deadline: int) -> bool:
    """Whether a due ping can no longer be served: its window (`deadline` minutes) closed, the
    scheduler down through it, and so did its local day. A window that closed on a day not
    over yet is still served, late, with a fresh window (`_checkin_row`)."""
    window_end = due + timedelta(minutes=deadline)
    return now >= window_end and local_day(now, timezone) > day


def _existing_checkins(session: Session, pings: list[tuple]) -> dict[tuple[int, date], CheckIn]:
    wanted = {(intern.id, day) for intern, _, day in pings}
    rows = session.scalars(
        select(CheckIn).where(
            CheckIn.intern_id.in_({i for i, _ in wanted}),
            CheckIn.local_date.in_({d for _, d in wanted}),
        )
    )
    return {(c.intern_id, c.local_date): c for c in rows if (c.intern_id, c.local_date) in wanted}


def _checkin_row(now: datetime, intern: Person, due: datetime, day: date) -> dict[str, Any]:
    """The reminder counts from when the ping leaves. So does the deadline when the planned
    one has passed (the scheduler was down through her whole window); otherwise the planned
    deadline holds, leaving her at least the reminder delay."""
    reminder, deadline = minutes(intern)
    planned = due + timedelta(minutes=deadline)
    if now >= planned:
        deadline_at = now + timedelta(minutes=deadline)
    else:
        deadline_at = max(planned, now + timedelta(minutes=reminder))
    remind_at = now + timedelta(minutes=reminder)
    return {
        "intern_id": intern.id,
        "local_date": day,
        "due_at": due,
        "sent_at": now,
        "deadline_at": deadline_at,
        "remind_at": remind_at if remind_at < deadline_at else None,
        "escalate_at": deadline_at,
        "reminded_at": None,
        "missed_at": None,
        "answered_at": None,
        "created_at": now,
    }


def _already_there(now: datetime, intern: Person, checkin: CheckIn, due: datetime) -> dict:
    """The day has its row already: she answered before the ping (an early OK), or it was
    pinged under another schedule. Either way no second ping that day."""
    reason = "answered_early" if checkin.answered_at is not None else "already_pinged"
    if checkin.due_at is None:
        checkin.due_at = due
    return event_row(now, "checkin_ping_not_needed", person_id=intern.id, reason=reason,
                     local_date=checkin.local_date.isoformat())  # fmt: skip


def _ping_message(now, intern: Person, checkin: dict, how: str | None, settings: Any):
    """The ping's outbox row and its `checkin_sent` event."""
    late = now - checkin["due_at"] > LATE_AFTER
    body = render(
        "checkin_ping_late" if late else "checkin_ping",
        intern.language,
        name=intern.first_name,
        time=hhmm(checkin["due_at"], intern.timezone),
        deadline=hhmm(checkin["deadline_at"], intern.timezone),
    )
    template = {}
    if how == "template":
        template = {
            "content_sid": settings.twilio_whatsapp_checkin_content_sid,
            "content_variables": json.dumps({"1": intern.first_name}),
        }
    message = message_row(now, kind=PING, body=body, person=intern, **template)
    event = event_row(now, "checkin_sent", person_id=intern.id,
                      local_date=checkin["local_date"].isoformat(), late=late,
                      channel=intern.channel, **({"whatsapp": how} if how else {}))  # fmt: skip
    return message, event


def _whatsapp_forms(session, now, interns: list[Person], settings: Any) -> dict[int, str]:
    """How each WhatsApp intern's ping goes: inside the 24-hour session (she wrote to us on
    WhatsApp in the last 24 h) as free text; outside it as the approved template when one is
    configured, else as free text (which WhatsApp may refuse with 63016: then SMS, see
    delivery.py). SMS interns are left out."""
    phones = {i.phone: i.id for i in interns if i.channel == WHATSAPP}
    if not phones:
        return {}
    last = dict(
        session.execute(
            select(InboundMessage.phone, func.max(InboundMessage.received_at))
            .where(InboundMessage.phone.in_(phones), InboundMessage.channel == WHATSAPP)
            .group_by(InboundMessage.phone)
        ).all()
    )
    template = bool(getattr(settings, "twilio_whatsapp_checkin_content_sid", ""))
    forms = {}
    for phone, intern_id in phones.items():
        if last.get(phone) is not None and now - last[phone] < WHATSAPP_SESSION:
            forms[intern_id] = "session_text"
        else:
            forms[intern_id] = "template" if template else "text_no_template"
    return forms


# --- How many pings an outage made late (the administrators' resume notice) -----------------


def late_pings_due(session: Session, now: datetime) -> int:
    """How many of the pings due at `now` the pings step will send late (more than LATE_AFTER
    after their time), by its rules but before it runs: the resume notice is the tick's first
    step (escalation/heartbeat.py). A day that is gone is skipped, not counted; a day she
    answered early is not pinged. Interns are counted by schedule, so after an outage the
    cost is a few grouped rows, whatever the roster size."""
    late = _late_changed(session, now)
    by_schedule = _late_by_schedule(session, now)
    if by_schedule:
        late += sum(n for _, n in by_schedule.values()) - _answered_early(session, now, by_schedule)
    return late


def _served(now: datetime, schedule: Schedule | None, deadline: int, due) -> datetime | None:
    """The ping the pings step will send for a due one: `due` itself, or past every day that
    is gone (skipped, one step each), the first that is not; None if none is due by `now`."""
    while schedule is not None and due is not None and due <= now:
        day = local_day(due, schedule.timezone)
        if not _gone(now, due, day, schedule.timezone, deadline):
            return due
        due = next_ping(schedule, due, last_pinged=day)
    return None


def _late(now: datetime, instant: datetime | None) -> bool:
    return instant is not None and now - instant > LATE_AFTER


def _late_changed(session: Session, now: datetime) -> int:
    """Schedules changed since the last tick (few): computed one by one, as of the change."""
    interns = session.scalars(
        select(Person)
        .where(Person.next_checkin_at == SCHEDULE_NOW)
        .options(joinedload(Person.university))
    ).all()
    late = []
    for intern, _due, new in _next_pings(session, now, list(interns)):
        instant = _served(now, Schedule.of(intern), minutes(intern)[1], new)
        if _late(now, instant):
            late.append((intern, instant, local_day(instant, intern.timezone)))
    existing = _existing_checkins(session, late) if late else {}
    return sum((intern.id, day) not in existing for intern, _, day in late)


# What decides a scheduled intern's catch-up: her due ping, schedule and deadline minutes.
_CATCH_UP_KEY = (
    Person.next_checkin_at,
    Person.checkin_time,
    Person.timezone,
    Person.checkin_days,
    Person.paused_until,
    Person.deadline_minutes,
    University.deadline_minutes,
)


def _due_and_late(query, now: datetime):
    """Interns with a schedule (`Schedule.of`) whose ping was due over LATE_AFTER ago."""
    return query.outerjoin(University, University.id == Person.university_id).where(
        Person.next_checkin_at <= now - LATE_AFTER,
        Person.next_checkin_at != SCHEDULE_NOW,
        Person.role == INTERN,
        Person.active.is_(True),
        Person.opted_out_at.is_(None),
        Person.checkin_time.is_not(None),
    )


def _late_by_schedule(session: Session, now: datetime) -> dict[tuple, tuple[date, int]]:
    """{catch-up key: (the local date that will be pinged late, how many interns)}."""
    counted = session.execute(
        _due_and_late(select(*_CATCH_UP_KEY, func.count()), now).group_by(*_CATCH_UP_KEY)
    ).all()
    late = {}
    for *key, n in counted:
        due, checkin_time, timezone, days, paused, own, university = key
        schedule = Schedule(checkin_time, timezone, days or "", paused)
        deadline = own or university or DEFAULT_DEADLINE_MINUTES  # as `minutes` decides
        instant = _served(now, schedule, deadline, due)
        if _late(now, instant):
            late[tuple(key)] = (local_day(instant, timezone), n)
    return late


def _answered_early(session: Session, now: datetime, late: dict[tuple, tuple[date, int]]) -> int:
    """How many of those already have the day's check-in (an OK before the ping): no ping."""
    first_day = min(day for day, _ in late.values())
    rows = session.execute(
        _due_and_late(select(*_CATCH_UP_KEY, CheckIn.local_date), now)
        .join(CheckIn, CheckIn.intern_id == Person.id)
        .where(CheckIn.local_date >= first_day)
    ).all()
    return sum(1 for *key, day in rows if late.get(tuple(key), (None,))[0] == day)


# --- Reminder and deadline -------------------------------------------------------------------


# Check-ins per transaction in the reminder and deadline steps.
REMINDER_BATCH = 50
DEADLINE_BATCH = 10  # each opens an incident and alerts: heavier, and rarer


def handle_one_reminder(session: Session, now: datetime, settings: Any) -> bool:
    return handle_some_reminders(session, now, settings, limit=1) > 0


def handle_some_reminders(
    session: Session, now: datetime, settings: Any, limit: int = REMINDER_BATCH
) -> int:
    """Up to `limit` due reminders in one transaction, claimed by one conditional UPDATE
    (rows answered meanwhile are left out; RETURNING says which are ours)."""
    ids = due_ids(session, CheckIn.remind_at, now, limit)
    if not ids:
        return 0
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
    interns = _people(session, {c.intern_id for c in claimed})
    events, reminders, reminded = [], [], []
    for checkin in sorted(claimed, key=lambda c: order[c.id]):
        intern = interns[checkin.intern_id]
        day = checkin.local_date.isoformat()
        if checkin.escalate_at is None or checkin.escalate_at <= now:
            # Caught up after downtime past the deadline: the incident says more than a reminder.
            events.append(event_row(now, "checkin_reminder_skipped", person_id=intern.id,
                                    local_date=day, reason="deadline_passed"))  # fmt: skip
            continue
        body = render(
            "checkin_reminder",
            intern.language,
            name=intern.first_name,
            deadline=hhmm(checkin.deadline_at, intern.timezone),
        )
        reminders.append(message_row(now, kind=REMINDER, body=body, person=intern))
        reminded.append((intern.id, day))
    message_ids = queue_many(session, reminders, returning=True)
    for (intern_id, day), message_id in zip(reminded, message_ids, strict=True):
        events.append(event_row(now, "checkin_reminded", person_id=intern_id,
                                message_id=message_id, local_date=day))  # fmt: skip
    record_many(session, events)
    return len(ids)


def handle_one_deadline(session: Session, now: datetime, settings: Any) -> bool:
    return handle_some_deadlines(session, now, settings, limit=1) > 0


def handle_some_deadlines(
    session: Session, now: datetime, settings: Any, limit: int = DEADLINE_BATCH
) -> int:
    """Up to `limit` passed deadlines in one transaction, claimed by one conditional UPDATE
    (rows answered meanwhile are left out), each opening its incident."""
    ids = due_ids(session, CheckIn.escalate_at, now, limit)
    if not ids:
        return 0
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
            _missed(session, now, interns[checkin.intern_id], checkin, settings)
    return len(ids)


def _missed(session: Session, now: datetime, intern: Person, checkin: CheckIn, settings) -> None:
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


IDS_PER_STATEMENT = 500  # an IN list stays far below SQLite's limit on bound parameters


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


def pending_checkin(session: Session, intern: Person, now: datetime) -> CheckIn | None:
    """The latest pinged, unanswered check-in of the last few days (yesterday's missed one
    when she answers after midnight)."""
    since = local_date(intern, now) - PENDING_DAYS
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
    today = local_date(intern, now)
    recent = session.scalars(  # one read for both: the pending one, or today's
        select(CheckIn)
        .where(CheckIn.intern_id == intern.id, CheckIn.local_date >= today - PENDING_DAYS)
        .order_by(CheckIn.local_date.desc())
    ).all()
    pending = [c for c in recent if c.sent_at is not None and c.answered_at is None]
    todays = [c for c in recent if c.local_date == today]
    checkin = (pending or todays or [None])[0]
    if checkin is None:
        checkin = CheckIn(intern_id=intern.id, local_date=today)
        session.add(checkin)
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
    open_now = {
        incident.kind: incident
        for incident in session.scalars(
            select(Incident).where(
                Incident.intern_id == intern.id,
                Incident.kind.in_(CLOSED_BY_INTERN_OK),
                Incident.resolved_at.is_(None),
            )
        )
    }
    for kind in CLOSED_BY_INTERN_OK:
        incident = open_now.get(kind)
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
    buddies) instead of waiting for the deadline. Once per message, however many report it."""
    if message.kind not in FOLLOWED_KINDS or message.person_id is None:
        return
    if not claim_follow_up(session, message):
        return
    intern = session.get(Person, message.person_id)
    other = _other_channel(session, intern, message)
    if other is not None:
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
