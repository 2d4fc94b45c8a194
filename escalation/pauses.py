"""PAUSA / VACACIONES … REGRESO: no pings until a local date, and a notice the day before.

`person.paused_until` is the first local date pings resume (an exclusive end);
`person.pause_notice_at` is the pause's next due work: first the "pings resume tomorrow"
notice (the day before, at her check-in time), then the end of the pause itself (midnight of
`paused_until`, when the pause is cleared and written on the timeline).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from escalation.base.config import DomainConfig
from escalation.base.db import first_due
from escalation.base.messages import render
from escalation.base.models import CheckIn, Person
from escalation.base.schedule import local_date, local_start, ping_instant
from escalation.base.timeline import queue, record
from escalation.pings import reschedule, schedule_changed

PAUSE_NOTICE = "pause_notice"


def pause(session: Session, now: datetime, intern: Person, until: date) -> datetime | None:
    """No pings before `until`; today's unanswered check-in stops waiting (she wrote to us).
    Returns her next ping."""
    intern.paused_until = until
    intern.pause_notice_at = _notice_at(intern, until, now)
    _cancel_pending(session, now, intern)
    record(session, now, "paused", person=intern, until=until.isoformat())
    return reschedule(session, now, intern)


def resume(session: Session, now: datetime, intern: Person) -> tuple[bool, datetime | None]:
    """REGRESO: pings resume from the next occurrence (today if her time is still ahead and
    today had no ping). Returns (was paused, next ping)."""
    was_paused = intern.paused_until is not None and intern.paused_until > local_date(intern, now)
    intern.paused_until = None
    intern.pause_notice_at = None
    record(session, now, "resumed", person=intern, was_paused=was_paused)
    return was_paused, reschedule(session, now, intern)


def _notice_at(intern: Person, until: date, now: datetime) -> datetime:
    """The day before the pause ends, at her check-in time; or the end itself when that day
    is already here (a one-day pause needs no notice)."""
    end = local_start(until, intern.timezone)
    if intern.checkin_time:
        notice = ping_instant(until - timedelta(days=1), intern.checkin_time, intern.timezone)
        if notice > now and notice < end:
            return notice
    return end


def _cancel_pending(session: Session, now: datetime, intern: Person) -> None:
    pending = session.scalars(
        select(CheckIn).where(
            CheckIn.intern_id == intern.id,
            CheckIn.answered_at.is_(None),
            CheckIn.escalate_at.is_not(None),
        )
    )
    for checkin in pending:
        checkin.remind_at = checkin.escalate_at = None
        record(session, now, "checkin_cancelled", person=intern, reason="paused",
               local_date=checkin.local_date.isoformat())  # fmt: skip


def handle_one_pause_notice(session: Session, now: datetime, config: DomainConfig) -> bool:
    person_id = first_due(session, Person.pause_notice_at, now)
    if person_id is None:
        return False
    intern = session.get(Person, person_id)
    due = intern.pause_notice_at
    until = intern.paused_until
    ending = until is None or now >= local_start(until, intern.timezone)
    after = None if ending else local_start(until, intern.timezone)
    claimed = session.execute(
        update(Person)
        .where(Person.id == person_id, Person.pause_notice_at == due)
        .values(pause_notice_at=after)
    ).rowcount
    if claimed != 1:
        return True
    if ending:
        if until is not None:
            intern.paused_until = None
            schedule_changed(intern)  # her schedule changed: the next tick recomputes her ping
            record(session, now, "pause_ended", person=intern, until=until.isoformat())
        return True
    body = render(
        "pause_notice",
        intern.language,
        name=intern.first_name,
        until=until.strftime("%d/%m"),
        time=intern.checkin_time or "",
    )
    message = queue(session, now, kind=PAUSE_NOTICE, body=body, person=intern)
    session.flush()
    record(session, now, "pause_notice_sent", person=intern, message_id=message.id)
    return True
