"""Check-in minutes shared by more interns than the sender can ping before their reminder.

A long code sends about one text a second (TWILIO_MPS): 2,000 interns at 09:00 means the last
ping leaves at 09:33. Nothing breaks (reminders and deadlines count from when a ping left), but
she is asked late, and her reminder with it. So the roster import and `HORA` say so when a
minute is that crowded, and how late its last ping leaves.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from escalation.base.models import INTERN, Person, University
from escalation.base.schedule import local_day, ping_instant
from escalation.pings import DEFAULT_REMINDER_MINUTES


@dataclass(frozen=True)
class Crowd:
    """Interns whose pings fall due at the same instant: the local times (with zones) that
    make it, how many they are, and how long their last ping takes to leave."""

    times: tuple[str, ...]  # "09:00 America/Monterrey", …
    interns: int
    minutes: int  # until the last of their pings has left
    reminder: int  # the shortest reminder delay among them


def crowded(session: Session, now: datetime, mps: float | None, *, only=None) -> list[Crowd]:
    """The instants of today whose pings the sender cannot all send within the shortest
    reminder delay among them, most crowded first; `only` = (checkin_time, zone) keeps the
    one that minute falls in. Nothing with no pace (the console transport)."""
    if mps is None:
        return []
    reminder = func.coalesce(
        Person.reminder_minutes, University.reminder_minutes, DEFAULT_REMINDER_MINUTES
    )
    groups = session.execute(
        select(Person.checkin_time, Person.timezone, func.count(), func.min(reminder))
        .outerjoin(University, University.id == Person.university_id)
        .where(
            Person.role == INTERN,
            Person.active.is_(True),
            Person.opted_out_at.is_(None),
            Person.checkin_time.is_not(None),
        )
        .group_by(Person.checkin_time, Person.timezone)
    ).all()
    instants: dict[datetime, list] = defaultdict(list)
    for time, zone, count, shortest in groups:
        instants[ping_instant(local_day(now, zone), time, zone)].append(
            (time, zone, count, shortest)
        )
    if only is not None:
        time, zone = only
        wanted = ping_instant(local_day(now, zone), time, zone)
        instants = {wanted: instants.get(wanted, [])}
    crowds = []
    for shares in instants.values():
        interns = sum(count for _, _, count, _ in shares)
        minutes = math.ceil(interns / mps / 60)
        shortest = min((s for *_, s in shares), default=DEFAULT_REMINDER_MINUTES)
        if interns / mps > shortest * 60:
            times = tuple(sorted(f"{time} {zone}" for time, zone, _, _ in shares))
            crowds.append(Crowd(times, interns, minutes, shortest))
    return sorted(crowds, key=lambda c: -c.interns)
