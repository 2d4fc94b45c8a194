"""How many pings an outage made late: the figure in the administrators' resume notice.

The resume notice is the tick's first step (escalation/heartbeat.py), so it counts what the
pings step (escalation/pings.py) is about to send late, by that step's rules, before it runs.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from escalation.base.models import INTERN, CheckIn, Person, University
from escalation.base.schedule import SCHEDULE_NOW, Schedule, local_day, next_ping
from escalation.pings import (
    DEFAULT_DEADLINE_MINUTES,
    LATE_AFTER,
    existing_checkins,
    gone,
    minutes,
    next_pings,
)

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


def late_pings_due(session: Session, now: datetime) -> int:
    """How many of the pings due at `now` the pings step will send late (more than LATE_AFTER
    after their time). A day that is gone is skipped, not counted; a day she answered early
    is not pinged. Interns are counted by schedule, so after an outage the cost is a few
    grouped rows, whatever the roster size."""
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
        if not gone(now, due, day, schedule.timezone, deadline):
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
    for intern, _due, new in next_pings(session, now, list(interns)):
        instant = _served(now, Schedule.of(intern), minutes(intern)[1], new)
        if _late(now, instant):
            late.append((intern, instant, local_day(instant, intern.timezone)))
    existing = existing_checkins(session, late) if late else {}
    return sum((intern.id, day) not in existing for intern, _, day in late)


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
