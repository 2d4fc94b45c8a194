"""Incidents: opening one, alerting the first responders, acknowledging and resolving.

Plain functions of `(session, now, …)`: no request, no clock, no network. The alerts they
write are outbox rows committed in the caller's transaction.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.messages import render
from escalation.models import (
    COORDINATOR,
    CRITICAL,
    DURESS,
    EMERGENCY,
    HIGH,
    MENTAL_HEALTH,
    MISSED_CHECKIN,
    NORMAL,
    NURSE,
    PRIORITY_CRITICAL,
    PRIORITY_NORMAL,
    SELF_HARM,
    SUPERVISOR,
    SUPPORT,
    TRIP_OVERDUE,
    UNREACHABLE,
    Event,
    Incident,
    OutboundMessage,
    Person,
)
from escalation.timeline import queue, record

SEVERITY = {
    EMERGENCY: CRITICAL,
    DURESS: CRITICAL,
    MISSED_CHECKIN: HIGH,
    UNREACHABLE: HIGH,
    TRIP_OVERDUE: HIGH,
    SELF_HARM: HIGH,
    SUPPORT: NORMAL,
}
ALERT_TEMPLATE = {kind: f"alert_{kind}" for kind in SEVERITY}
ALERT_TEMPLATE[DURESS] = "alert_emergency"
BUDDIES = "buddies"
# Step one of each kind (DESIGN.md "Escalation defaults").
FIRST_STEP = {
    EMERGENCY: (BUDDIES, NURSE, COORDINATOR),
    DURESS: (BUDDIES, NURSE, COORDINATOR),
    MISSED_CHECKIN: (BUDDIES, NURSE),
    UNREACHABLE: (BUDDIES, NURSE),
    TRIP_OVERDUE: (BUDDIES, COORDINATOR),
    SELF_HARM: (MENTAL_HEALTH,),
    SUPPORT: (BUDDIES, MENTAL_HEALTH),
}
# A second SOS re-alerts step one, but never more often than this: a flood of texts from a
# frightened intern must not become a flood of calls to her team.
REALERT_AFTER = timedelta(minutes=2)


def first_responders(session: Session, intern: Person, kind: str) -> list[Person]:
    """Who hears of `kind` first (FIRST_STEP): buddies and the people covering the intern."""
    people = []
    for role in FIRST_STEP[kind]:
        people += list(intern.buddies) if role == BUDDIES else _covering(session, intern, role)
    unique = {p.id: p for p in people if p.active and p.id != intern.id}
    return list(unique.values())


def _covering(session: Session, intern: Person, role: str) -> list[Person]:
    query = select(Person).where(Person.role == role, Person.active.is_(True))
    if role == NURSE:
        if intern.unit_id is None:
            return []
        query = query.where(Person.unit_id == intern.unit_id)
    elif role == SUPERVISOR:
        municipality = intern.unit.municipality if intern.unit else None
        if municipality is None:
            return []
        query = query.where(Person.municipality == municipality)
    elif intern.university_id is None:
        return []
    else:
        query = query.where(Person.university_id == intern.university_id)
    return list(session.scalars(query.order_by(Person.id)))


def open_incident(
    session: Session,
    now: datetime,
    intern: Person,
    kind: str,
    *,
    admin_phones: tuple[str, ...] = (),
    message_id: int | None = None,
    detail: dict | None = None,
) -> tuple[Incident, bool]:
    """Open an incident of `kind` for `intern` and alert step one; or join the open one.

    Returns (incident, opened). One open incident per intern and kind is guaranteed by a
    partial unique index, so two processes racing here end with one incident.
    """
    existing = open_incident_of(session, intern, kind)
    if existing is not None:
        _rejoin(session, now, existing, intern, admin_phones, message_id)
        return existing, False
    incident = Incident(
        code=_free_code(session),
        intern_id=intern.id,
        kind=kind,
        severity=SEVERITY.get(kind, NORMAL),
        opened_at=now,
        detail=detail or {},
    )
    try:
        with session.begin_nested():
            session.add(incident)
    except IntegrityError:
        existing = open_incident_of(session, intern, kind)
        if existing is None:
            raise
        _rejoin(session, now, existing, intern, admin_phones, message_id)
        return existing, False
    record(session, now, "incident_opened", person=intern, incident=incident, message_id=message_id)
    alert_step_one(session, now, incident, intern, admin_phones)
    return incident, True


def open_incident_of(session: Session, intern: Person, kind: str) -> Incident | None:
    return session.scalar(
        select(Incident).where(
            Incident.intern_id == intern.id, Incident.kind == kind, Incident.resolved_at.is_(None)
        )
    )


def _rejoin(session, now, incident, intern, admin_phones, message_id) -> None:
    record(
        session, now, "incident_repeated", person=intern, incident=incident, message_id=message_id
    )
    last = session.scalar(
        select(Event.at)
        .where(Event.incident_id == incident.id, Event.kind == "alerted")
        .order_by(Event.at.desc())
        .limit(1)
    )
    if incident.acknowledged_at is None and (last is None or now - last >= REALERT_AFTER):
        alert_step_one(session, now, incident, intern, admin_phones)


def _free_code(session: Session) -> str:
    taken = set(session.scalars(select(Incident.code).where(Incident.resolved_at.is_(None))))
    while True:
        code = str(1000 + secrets.randbelow(9000))
        if code not in taken:
            return code


def alert_step_one(
    session: Session,
    now: datetime,
    incident: Incident,
    intern: Person,
    admin_phones: tuple[str, ...],
) -> None:
    """Queue the first alerts; when nobody covers the intern, the on-call administrators."""
    responders = first_responders(session, intern, incident.kind)
    priority = PRIORITY_CRITICAL if incident.severity == CRITICAL else PRIORITY_NORMAL
    for person in responders:
        body = alert_text(incident, intern, person.language)
        queue(
            session,
            now,
            kind="alert",
            body=body,
            person=person,
            incident=incident,
            priority=priority,
        )
    for phone in admin_phones if not responders else ():
        body = alert_text(incident, intern, "es")
        queue(
            session, now, kind="alert", body=body, phone=phone, incident=incident, priority=priority
        )
    record(
        session,
        now,
        "alerted",
        person=intern,
        incident=incident,
        to=[p.id for p in responders] or list(admin_phones),
    )


def alert_text(incident: Incident, intern: Person, language: str) -> str:
    unit = intern.unit
    since = incident.opened_at.astimezone(ZoneInfo(intern.timezone)).strftime("%H:%M")
    return render(
        ALERT_TEMPLATE.get(incident.kind, "alert_emergency"),
        language,
        intern=intern.name,
        unit=unit.name if unit else "sin unidad",
        municipality=(unit.municipality if unit else None) or "sin municipio",
        since=since,
        code=incident.code,
        **incident.detail,
    )


def alerted_people(session: Session, incident: Incident) -> list[Person]:
    """Everyone an alert for `incident` was queued to."""
    ids = select(OutboundMessage.person_id).where(
        OutboundMessage.incident_id == incident.id, OutboundMessage.kind == "alert"
    )
    return list(session.scalars(select(Person).where(Person.id.in_(ids)).order_by(Person.id)))


def open_incidents_alerted_to(session: Session, person: Person) -> list[Incident]:
    alerted = select(OutboundMessage.incident_id).where(
        OutboundMessage.person_id == person.id, OutboundMessage.kind == "alert"
    )
    query = select(Incident).where(Incident.id.in_(alerted), Incident.resolved_at.is_(None))
    return list(session.scalars(query.order_by(Incident.opened_at)))


def acknowledge(session: Session, now: datetime, incident: Incident, responder: Person) -> bool:
    """First acknowledgement wins and tells the others; returns False if someone already had it."""
    if incident.acknowledged_at is not None:
        record(session, now, "ack_repeated", person=responder, incident=incident)
        return False
    incident.acknowledged_at = now
    incident.acknowledged_by_id = responder.id
    record(session, now, "acknowledged", person=responder, incident=incident)
    _tell_the_others(session, now, incident, responder, "ack_notice")
    return True


def resolve(session: Session, now: datetime, incident: Incident, by: Person, how: str) -> None:
    """Close the incident and send the all-clear to everyone who was alerted."""
    if incident.acknowledged_at is None:
        incident.acknowledged_at = now
        incident.acknowledged_by_id = by.id
    incident.resolved_at = now
    incident.resolved_by_id = by.id
    incident.resolution = how
    record(session, now, "resolved", person=by, incident=incident, how=how)
    _tell_the_others(session, now, incident, by, "all_clear")


def _tell_the_others(session, now, incident, responder: Person, template: str) -> None:
    intern = incident.intern
    for person in alerted_people(session, incident):
        if person.id == responder.id:
            continue
        body = render(
            template,
            person.language,
            responder=responder.name,
            code=incident.code,
            intern=intern.name,
        )
        queue(session, now, kind=template, body=body, person=person, incident=incident)
