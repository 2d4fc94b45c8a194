"""Her answer: "I am fine" answers her pending check-in, and what her OK closes.

An answer counts for the latest unanswered ping of the last few days (yesterday's, after
midnight), or for today's check-in when none is pending (an OK before the ping means no ping
today). Her OK also gives the all-clear on what her silence opened (a missed check-in, her
being unreachable, an overdue trip, unclear texts); an emergency or duress is only ever
closed by a responder.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, bindparam, exists, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from escalation.base.kinds import CLOSED_BY_HER_OK  # her OK closes these (the registry)
from escalation.base.models import (
    TRIP_OVERDUE,
    CheckIn,
    Incident,
    Person,
)
from escalation.base.schedule import local_date
from escalation.base.timeline import event_row, record_many
from escalation.incidents import resolve
from escalation.trips import end_open_trip
from escalation.wellbeing import MOOD_DELAY

# An answer counts for the latest unanswered ping of these last days (yesterday's, after midnight).
PENDING_DAYS = timedelta(days=3)


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


def open_checkin(session: Session, intern: Person, now: datetime) -> CheckIn | None:
    """Today's check-in while it waits for her answer: pinged, unanswered, and neither given
    up (a pause, an opt-out) nor undeliverable; a missed one still waits (her team is looking
    for her). Her check-in window, from the ping until it is closed."""
    return session.scalar(
        select(CheckIn).where(
            CheckIn.intern_id == intern.id,
            CheckIn.local_date == local_date(intern, now),
            CheckIn.sent_at.is_not(None),
            CheckIn.answered_at.is_(None),
            or_(CheckIn.escalate_at.is_not(None), CheckIn.missed_at.is_not(None)),
        )
    )


def fine(
    session: Session, now: datetime, intern: Person, *, message_id: int | None, via: str | None
) -> list[str]:
    """Her "I am fine", however it came (a text, or `via` a call, a key on a call: the timeline
    shows it): her check-in answered (`record_fine`, which also makes the day's mood question
    due, for the tick to ask), then the all-clear on what her silence opened (`all_clear`).
    What both need is read in one statement first: her recent check-ins and whether anything
    closable is open. Returns the codes closed. Core statements built once: every `OK` of the
    09:00 burst passes here."""
    today = local_date(intern, now)
    session.flush()  # what the conversation wrote before stays before her answer
    values = {"intern_id": intern.id, "since": today - PENDING_DAYS}
    rows = session.connection().execute(_HER_OK, values).all()
    recent = [row for row in rows if row.id is not None]
    answered = record_fine(session, now, intern, today, recent, message_id=message_id, via=via)
    record_many(session, [answered])
    return all_clear(session, now, intern, closable=bool(rows[0].closable))


def record_fine(
    session: Session,
    now: datetime,
    intern: Person,
    today: date,
    recent: list,
    *,
    message_id: int | None,
    via: str | None = None,
) -> dict:
    """The intern said she is fine: her pending check-in is answered (late if past its
    deadline), or today's if none is pending (an answer before the ping means no ping today).
    Its first answer makes the day's mood question due MOOD_DELAY later (after the thank-you
    it follows): the tick decides then whether to ask it. `recent`: her check-ins since
    `today - PENDING_DAYS`, newest first (`_HER_OK`). Returns its event as an `event_row`,
    for the caller to write (`record_many`)."""
    connection = session.connection()
    checkin = _answered_one(recent, today)
    first = checkin is None or checkin.answered_at is None
    mood_at = now + MOOD_DELAY
    if checkin is None:
        values = {"intern_id": intern.id, "local_date": today, "answered_at": now,
                  "mood_at": mood_at}  # fmt: skip
        connection.execute(_NEW, values)
    elif first:
        connection.execute(_ANSWER, {"checkin_id": checkin.id, "answered": now, "mood": mood_at})
        _forget_loaded(session, checkin.id)
    answered_at = now if first else checkin.answered_at
    deadline = checkin.deadline_at if checkin is not None else None
    return event_row(
        now,
        "checkin_answered",
        person_id=intern.id,
        message_id=message_id,
        local_date=(checkin.local_date if checkin is not None else today).isoformat(),
        late=bool(deadline and answered_at > deadline),
        repeated=not first,
        **({"via": via} if via else {}),
    )


_ANSWER = (
    update(CheckIn.__table__)
    .where(CheckIn.id == bindparam("checkin_id"))
    .values(
        answered_at=bindparam("answered"),
        remind_at=None,
        escalate_at=None,
        mood_at=bindparam("mood"),
    )
)
_NEW = insert(CheckIn.__table__)  # a check-in answered before any ping: today's


def _answered_one(recent: list, today: date):
    """The check-in her answer is for: the pending one, else today's (None if today has none)."""
    pending = [c for c in recent if c.sent_at is not None and c.answered_at is None]
    todays = [c for c in recent if c.local_date == today]
    return (pending or todays or [None])[0]


def _forget_loaded(session: Session, checkin_id: int) -> None:
    """A check-in this session loaded before (her window, looked at for a call) is read again
    when next used: it was answered by a statement the ORM did not see."""
    loaded = session.identity_map.get(identity_key(CheckIn, checkin_id))
    if loaded is not None:
        session.expire(loaded)


def all_clear(session: Session, now: datetime, intern: Person, *, closable: bool) -> list[str]:
    """Resolve her missed check-in, unreachable and trip-overdue incidents; never an emergency.
    An overdue trip ends with it (she is evidently safe). Returns the codes closed.
    `closable`: whether any of them is open (`_HER_OK`); only then are they loaded."""
    if intern.unreachable_since is not None:
        intern.unreachable_since = None
    if not closable:
        return []  # the common morning: nothing her silence opened
    closed = []
    open_now = _closable(session, intern)
    for kind in CLOSED_BY_HER_OK:
        incident = open_now.get(kind)
        if incident is None:
            continue
        if kind == TRIP_OVERDUE:
            end_open_trip(session, now, intern, how="intern_ok")
        resolve(session, now, incident, intern, "intern_ok")
        closed.append(incident.code)
    return closed


# Her open incidents that her OK closes (a drill never: she knows nothing of it). Every OK
# asks whether there is one (`_HER_OK`); only then are they loaded.
_CLOSABLE = (
    Incident.intern_id == bindparam("intern_id"),
    Incident.kind.in_(CLOSED_BY_HER_OK),
    Incident.resolved_at.is_(None),
    Incident.drill.is_(False),
)
_LOAD_CLOSABLE = select(Incident).where(*_CLOSABLE)
# In one row or more: whether her OK has anything to close, and her check-ins of the last
# few days, newest first (the pending one, or today's, is among them; NULLs when she has
# none). Built once.
_C = CheckIn.__table__.c
_HER = select(exists().where(*_CLOSABLE).label("closable")).subquery("her")
_HER_OK = (
    select(
        _HER.c.closable,
        _C.id,
        _C.local_date,
        _C.sent_at,
        _C.answered_at,
        _C.deadline_at,
    )  # fmt: skip
    .select_from(
        _HER.outerjoin(
            CheckIn.__table__,
            and_(_C.intern_id == bindparam("intern_id"), _C.local_date >= bindparam("since")),
        )
    )
    .order_by(_C.local_date.desc())
)


def _closable(session: Session, intern: Person) -> dict[str, Incident]:
    """Her open incidents that her OK closes, by kind."""
    found = session.scalars(_LOAD_CLOSABLE, {"intern_id": intern.id})
    return {incident.kind: incident for incident in found}
