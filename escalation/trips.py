"""Trips: `VIAJE 3h Monterrey` starts a timer on the road, `LLEGUE` stops it.

At the expected arrival Faro asks "¿Llegaste bien?" (`trip.ask_at`); with no arrival within
the university's grace (default 20 min) a trip-overdue incident opens (`trip.overdue_at`),
saying where she was going and when she left. Both are indexed due work, cleared once done.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from escalation.base.config import DomainConfig
from escalation.base.db import first_due
from escalation.base.messages import render
from escalation.base.models import TRIP_OVERDUE, Person, Trip
from escalation.base.schedule import hhmm
from escalation.base.timeline import queue, record
from escalation.incidents import open_incident, open_incident_of, resolve

DEFAULT_GRACE_MINUTES = 20
TRIP_ASK = "trip_ask"


def open_trip(session: Session, intern: Person) -> Trip | None:
    return session.scalar(select(Trip).where(Trip.intern_id == intern.id, Trip.ended_at.is_(None)))


def grace(intern: Person) -> timedelta:
    minutes = intern.university.trip_grace_minutes if intern.university else None
    return timedelta(minutes=minutes or DEFAULT_GRACE_MINUTES)


def _set_timer(trip: Trip, intern: Person, expected: datetime) -> None:
    trip.expected_at = expected
    trip.ask_at = expected
    trip.overdue_at = expected + grace(intern)


def start_trip(
    session: Session, now: datetime, intern: Person, minutes: int, destination: str | None
) -> Trip:
    """A new timer; a trip still open is ended first (she is evidently on a new one)."""
    previous = open_trip(session, intern)
    if previous is not None:
        end_trip(session, now, intern, previous, how="replaced")
        session.flush()  # the open-trip unique index must see the old one ended first
    trip = Trip(intern_id=intern.id, destination=destination, started_at=now, expected_at=now)
    _set_timer(trip, intern, now + timedelta(minutes=minutes))
    session.add(trip)
    session.flush()
    record(session, now, "trip_started", person=intern, trip_id=trip.id, minutes=minutes,
           destination=destination, expected=trip.expected_at.isoformat())  # fmt: skip
    return trip


def extend_trip(session: Session, now: datetime, intern: Person, minutes: int) -> Trip | None:
    """VIAJE +1h: later arrival (from the later of now and the current one); None without a
    trip. An overdue alert already out is resolved: she has just written to us."""
    trip = open_trip(session, intern)
    if trip is None:
        return None
    _set_timer(trip, intern, max(trip.expected_at, now) + timedelta(minutes=minutes))
    record(session, now, "trip_extended", person=intern, trip_id=trip.id, minutes=minutes,
           expected=trip.expected_at.isoformat())  # fmt: skip
    _resolve_overdue(session, now, intern, "intern_extended")
    return trip


def end_open_trip(session: Session, now: datetime, intern: Person, *, how: str) -> Trip | None:
    trip = open_trip(session, intern)
    if trip is not None:
        end_trip(session, now, intern, trip, how=how)
    return trip


def end_trip(session: Session, now: datetime, intern: Person, trip: Trip, *, how: str) -> None:
    trip.ended_at = now
    trip.ask_at = trip.overdue_at = None
    record(session, now, "trip_ended", person=intern, trip_id=trip.id, how=how)


def arrived(session: Session, now: datetime, intern: Person) -> Trip | None:
    """LLEGUE: the trip ends and an overdue alert gets its all-clear."""
    trip = end_open_trip(session, now, intern, how="arrived")
    _resolve_overdue(session, now, intern, "intern_arrived")
    return trip


def _resolve_overdue(session: Session, now: datetime, intern: Person, how: str) -> None:
    incident = open_incident_of(session, intern, TRIP_OVERDUE)
    if incident is not None:
        resolve(session, now, incident, intern, how)


def handle_one_trip_ask(session: Session, now: datetime, config: DomainConfig) -> bool:
    trip_id = first_due(session, Trip.ask_at, now)
    if trip_id is None:
        return False
    claimed = session.execute(
        update(Trip)
        .where(Trip.id == trip_id, Trip.ask_at <= now, Trip.ended_at.is_(None))
        .values(ask_at=None)
    ).rowcount
    if claimed != 1:
        return True
    trip = session.get(Trip, trip_id)
    intern = session.get(Person, trip.intern_id)
    if trip.overdue_at is not None and trip.overdue_at <= now:
        # Caught up after downtime past the grace: "we will alert in 20 min" would be false,
        # and the overdue step alerts her team in this same pass.
        record(session, now, "trip_ask_skipped", person=intern, trip_id=trip.id,
               reason="overdue_passed")  # fmt: skip
        return True
    body = render(
        "trip_ask",
        intern.language,
        name=intern.first_name,
        destination=trip.destination,
        grace=int(grace(intern).total_seconds() // 60),
    )
    message = queue(session, now, kind=TRIP_ASK, body=body, person=intern)
    session.flush()
    record(session, now, "trip_asked", person=intern, trip_id=trip.id, message_id=message.id)
    return True


def handle_one_trip_overdue(session: Session, now: datetime, config: DomainConfig) -> bool:
    trip_id = first_due(session, Trip.overdue_at, now)
    if trip_id is None:
        return False
    claimed = session.execute(
        update(Trip)
        .where(Trip.id == trip_id, Trip.overdue_at <= now, Trip.ended_at.is_(None))
        .values(overdue_at=None, ask_at=None)
    ).rowcount
    if claimed != 1:
        return True
    trip = session.get(Trip, trip_id)
    intern = session.get(Person, trip.intern_id)
    record(session, now, "trip_overdue", person=intern, trip_id=trip.id)
    open_incident(
        session,
        now,
        intern,
        TRIP_OVERDUE,
        config=config,
        detail={
            "left": hhmm(trip.started_at, intern.timezone),
            "destination": trip.destination or "destino sin indicar",
            "expected": hhmm(trip.expected_at, intern.timezone),
            "trip_id": trip.id,
        },
    )
    return True
