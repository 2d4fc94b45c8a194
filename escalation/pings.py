"""The daily ping: when her next one is due, and the step that sends the due ones.

Due work lives in an indexed column, so a tick with nothing due costs one index lookup
whatever the roster size: `person.next_checkin_at` is her next ping, or SCHEDULE_NOW ("her
schedule changed: the next tick computes it as of the change", see `schedule_changed`).
The step claims its interns with a conditional UPDATE (FOR UPDATE SKIP LOCKED first on
PostgreSQL), a small batch per transaction, and creates each one's check-in with its reminder
and deadline (escalation/deadlines.py follows them up).
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, inspect, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from escalation.base.config import DomainConfig
from escalation.base.db import skip_locked
from escalation.base.messages import render
from escalation.base.models import WHATSAPP, CheckIn, InboundMessage, Person
from escalation.base.schedule import (
    SCHEDULE_FIELDS,
    SCHEDULE_NOW,
    Schedule,
    hhmm,
    local_day,
    next_ping,
)
from escalation.base.timeline import event_row, message_row, queue_many, record_many
from escalation.wellbeing import close_open_questions

# Outbox kind (a delivery failure of it is followed up: escalation/ping_failures.py).
PING = "checkin_ping"
# A ping that leaves this long after its time says so.
LATE_AFTER = timedelta(minutes=10)
DEFAULT_REMINDER_MINUTES = 30
DEFAULT_DEADLINE_MINUTES = 120
WHATSAPP_SESSION = timedelta(hours=24)
# Interns per transaction in the ping step: enough to spread the commit over many, few enough
# that concurrent ticks still share the work and a failed batch is cheap to redo one by one.
PING_BATCH = 50


# --- When her next ping is due ---------------------------------------------------------------


def schedule_changed(person: Person) -> None:
    """Her schedule changed outside her own commands (she was added or reactivated, the roster
    moved her time, zone or role): the next tick computes her next ping as of the change, the
    moment her row is written (`updated_at`, see `changed_at`). Her own commands compute it at
    once instead (`reschedule`). Someone never pinged who is no intern has nothing to move; an
    intern Faro may text first and who has no questionnaire date gets her first one computed."""
    if person.is_intern or person.next_checkin_at is not None:
        person.next_checkin_at = SCHEDULE_NOW
    # (`takes_prompts` would read a new row's unset `active` as False)
    prompts = person.active is not False and person.opted_out_at is None
    if person.is_intern and prompts and person.next_phq_at is None:
        person.next_phq_at = SCHEDULE_NOW


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


def minutes(intern: Person) -> tuple[int, int]:
    """(reminder, deadline) minutes after the ping: hers, else her university's, else defaults."""
    uni = intern.university
    reminder = intern.reminder_minutes or (uni.reminder_minutes if uni else None)
    deadline = intern.deadline_minutes or (uni.deadline_minutes if uni else None)
    return reminder or DEFAULT_REMINDER_MINUTES, deadline or DEFAULT_DEADLINE_MINUTES


# --- The ping step ---------------------------------------------------------------------------


def handle_some_due_pings(
    session: Session, now: datetime, config: DomainConfig, limit: int = PING_BATCH
) -> int:
    """Up to `limit` interns whose next ping is due, in one transaction; returns how many.

    Each is claimed like a single one (a conditional UPDATE moving her `next_checkin_at` on,
    under FOR UPDATE SKIP LOCKED on PostgreSQL); what follows is written in bulk."""
    interns = _due_interns(session, now, limit)
    if not interns:
        return 0
    events, pings = [], []
    claimed = _claim_next(session, next_pings(session, now, interns))
    for intern, due, new in claimed:
        if due == SCHEDULE_NOW:
            events.append(event_row(now, "checkin_scheduled", person_id=intern.id, next=_iso(new)))
        elif Schedule.of(intern) is None:  # deactivated, or no longer an intern
            events.append(event_row(now, "checkin_unscheduled", person_id=intern.id, due=_iso(due)))
        else:
            pings.append((intern, due, local_day(due, intern.timezone)))
    events += ping_all(session, now, pings, config)
    record_many(session, events)
    return len(claimed)  # ours: the pass counts what it handled, not what it looked at


def _due_interns(session: Session, now: datetime, limit: int) -> list[Person]:
    query = (
        select(Person)
        .where(Person.next_checkin_at <= now)
        .order_by(Person.next_checkin_at)
        .limit(limit)
        .options(joinedload(Person.university))  # her reminder and deadline minutes
    )
    return list(session.scalars(skip_locked(query, session, of=Person)))


def next_pings(session: Session, now: datetime, interns: list[Person]) -> list[tuple]:
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


def ping_all(
    session: Session, now: datetime, pings: list[tuple], config: DomainConfig
) -> list[dict]:
    """For each (intern, due, day): create the day's check-in and queue its ping, or say why
    not. Check-ins and messages are inserted in bulk; the events are returned to the caller.
    A ping also closes any question still open from before, so her answer is read as this
    check-in's."""
    events, open_ = _skip_gone(now, pings)
    if not open_:
        return events
    checkins, messages, more = _new_pings(session, now, open_, config)
    # Should an answer create one of these rows at this very moment, the unique constraint
    # fails this transaction; the claims roll back with it and the tick redoes them one by one.
    if checkins:
        statement = insert(CheckIn.__table__).returning(
            CheckIn.__table__.c.id, sort_by_parameter_order=True
        )
        ids = session.execute(statement, checkins).scalars()
        for message, checkin, checkin_id in zip(messages, checkins, ids, strict=True):
            message.update(checkin_id=checkin_id, send_by=checkin["deadline_at"])
    queue_many(session, messages)
    pinged = [row["intern_id"] for row in checkins]
    return events + more + close_open_questions(session, now, pinged, reason="new_checkin")


def _new_pings(session: Session, now: datetime, pings: list[tuple], config: DomainConfig) -> tuple:
    """(check-in rows, outbox rows, events) for pings whose day has no check-in yet; a day
    that has one gets only its `checkin_ping_not_needed` event."""
    existing = existing_checkins(session, pings)
    forms = _whatsapp_forms(session, now, [i for i, _, _ in pings], config)
    checkins, messages, events = [], [], []
    for intern, due, day in pings:
        found = existing.get((intern.id, day))
        if found is not None:
            events.append(_already_there(now, intern, found, due))
            continue
        checkin = _checkin_row(now, intern, due, day)
        checkins.append(checkin)
        message, event = _ping_message(now, intern, checkin, forms.get(intern.id), config)
        messages.append(message)
        events.append(event)
    return checkins, messages, events


def _skip_gone(now: datetime, pings: list[tuple]) -> tuple[list[dict], list[tuple]]:
    """The `checkin_skipped` events of the pings that can no longer be served, and the rest."""
    events, open_ = [], []
    for intern, due, day in pings:
        if gone(now, due, day, intern.timezone, minutes(intern)[1]):
            events.append(event_row(now, "checkin_skipped", person_id=intern.id,
                                    local_date=day.isoformat(), due=_iso(due),
                                    reason="scheduler_down_all_day"))  # fmt: skip
        else:
            open_.append((intern, due, day))
    return events, open_


def gone(now: datetime, due: datetime, day: date, timezone: str, deadline: int) -> bool:
    """Whether a due ping can no longer be served: its window (`deadline` minutes) closed, the
    scheduler down through it, and so did its local day. A window that closed on a day not
    over yet is still served, late, with a fresh window (`_checkin_row`)."""
    window_end = due + timedelta(minutes=deadline)
    return now >= window_end and local_day(now, timezone) > day


def existing_checkins(session: Session, pings: list[tuple]) -> dict[tuple[int, date], CheckIn]:
    """The check-ins already there for these (intern, due, day), by (intern id, day)."""
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


def _ping_message(now, intern: Person, checkin: dict, how: str | None, config: DomainConfig):
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
            "content_sid": config.whatsapp_checkin_template,
            "content_variables": json.dumps({"1": intern.first_name}),
        }
    message = message_row(now, kind=PING, body=body, person=intern, **template)
    event = event_row(now, "checkin_sent", person_id=intern.id,
                      local_date=checkin["local_date"].isoformat(), late=late,
                      channel=intern.channel, **({"whatsapp": how} if how else {}))  # fmt: skip
    return message, event


# --- How a WhatsApp ping goes ----------------------------------------------------------------


def _whatsapp_forms(session, now, interns: list[Person], config: DomainConfig) -> dict[int, str]:
    """How each WhatsApp intern's ping goes: inside the 24-hour session (she wrote to us on
    WhatsApp in the last 24 h) as free text; outside it as the approved template when one is
    configured, else as free text (which WhatsApp may refuse with 63016: then SMS, see
    delivery.py). SMS interns are left out."""
    phones = {i.phone: i.id for i in interns if i.channel == WHATSAPP}
    if not phones:
        return {}
    last = _last_whatsapp(session, list(phones))
    template = bool(config.whatsapp_checkin_template)
    forms = {}
    for phone, intern_id in phones.items():
        if last.get(phone) is not None and now - last[phone] < WHATSAPP_SESSION:
            forms[intern_id] = "session_text"
        else:
            forms[intern_id] = "template" if template else "text_no_template"
    return forms


def _last_whatsapp(session: Session, phones: list[str]) -> dict[str, datetime]:
    """When each of these phones last wrote to us on WhatsApp (phones that never did: absent)."""
    rows = session.execute(
        select(InboundMessage.phone, func.max(InboundMessage.received_at))
        .where(InboundMessage.phone.in_(phones), InboundMessage.channel == WHATSAPP)
        .group_by(InboundMessage.phone)
    )
    return dict(rows.all())


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant else None
