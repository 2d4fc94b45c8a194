"""Daily check-ins: what an intern's answer records."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.models import CheckIn, Person
from escalation.timeline import record


def local_date(person: Person, now: datetime) -> date:
    return now.astimezone(ZoneInfo(person.timezone)).date()


def checkin_for(session: Session, intern: Person, day: date) -> CheckIn:
    """Today's check-in row for `intern`, created if the day has none yet."""
    checkin = session.scalar(
        select(CheckIn).where(CheckIn.intern_id == intern.id, CheckIn.local_date == day)
    )
    if checkin is None:
        checkin = CheckIn(intern_id=intern.id, local_date=day)
        session.add(checkin)
        session.flush()
    return checkin


def record_fine(
    session: Session, now: datetime, intern: Person, *, message_id: int | None
) -> CheckIn:
    """The intern said she is fine: today's check-in is answered (the first answer counts)."""
    checkin = checkin_for(session, intern, local_date(intern, now))
    if checkin.answered_at is None:
        checkin.answered_at = now
    record(session, now, "checkin_answered", person=intern, message_id=message_id)
    return checkin
