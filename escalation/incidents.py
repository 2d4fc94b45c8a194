"""Incidents: opening one, acknowledging it and resolving it.

Plain functions of `(session, now, …)`: no request, no clock, no network. The alerts they
write are outbox rows committed in the caller's transaction. Whom each step reaches and when
lives in `escalation.engine`, driven by the university's policy (`escalation.policy`).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from escalation.base.config import DomainConfig
from escalation.base.kinds import KINDS, RESPONDER
from escalation.base.messages import render
from escalation.base.models import (
    DURESS,
    SMS,
    Event,
    Incident,
    OutboundMessage,
    Person,
)
from escalation.base.timeline import queue, record
from escalation.engine import (
    ACK_REMIND_AFTER,
    ALERT,
    DRILL_ENDED,
    alerted,
    alerted_people,
    drill_account,
    last_acknowledgement,
    mark_of,
    realert_step_one,
    start,
)

__all__ = [
    "acknowledge",
    "alerted_people",
    "open_incident",
    "open_incident_of",
    "open_incidents",
    "open_incidents_alerted_to",
    "resolve",
]

# A second SOS re-alerts step one, but never more often than this: a flood of texts from a
# frightened intern must not become a flood of calls to her team.
REALERT_AFTER = timedelta(minutes=2)
INTERN_OK = "intern_ok"


def open_incident(
    session: Session,
    now: datetime,
    intern: Person,
    kind: str,
    *,
    config: DomainConfig,
    message_id: int | None = None,
    detail: dict | None = None,
) -> tuple[Incident, bool]:
    """Open an incident of `kind` for `intern` and alert step one; or join the open one.

    Returns (incident, opened). One open incident per intern and kind is guaranteed by a
    partial unique index, so two processes racing here end with one incident.
    """
    existing = open_incident_of(session, intern, kind)
    if existing is not None:
        _rejoin(session, now, existing, intern, config, message_id)
        return existing, False
    incident = insert_incident(session, now, intern, kind, detail=detail)
    if incident is None and open_incident_of(session, intern, kind) is None:
        # The clash was on the code, which another process took a moment ago: another code.
        incident = insert_incident(session, now, intern, kind, detail=detail)
    if incident is None:
        existing = open_incident_of(session, intern, kind)
        if existing is None:
            raise RuntimeError(f"no incident of {kind} could be opened for person {intern.id}")
        _rejoin(session, now, existing, intern, config, message_id)
        return existing, False
    record(session, now, "incident_opened", person=intern, incident=incident, message_id=message_id)
    start(session, now, incident, config)
    return incident, True


def insert_incident(
    session: Session, now: datetime, intern: Person, kind: str, *, detail=None, drill=False
) -> Incident | None:
    """A new open incident (or drill) of `kind` for `intern`, with a free code; None when the
    partial unique index says one is already open (another process won the race)."""
    incident = Incident(
        code=_free_code(session),
        intern_id=intern.id,
        kind=kind,
        severity=KINDS[kind].severity,
        opened_at=now,
        detail=detail or {},
        drill=drill,
    )
    try:
        with session.begin_nested():
            session.add(incident)
    except IntegrityError:
        return None
    return incident


def open_incident_of(
    session: Session, intern: Person, kind: str, *, drill: bool = False
) -> Incident | None:
    """Her open incident of `kind`: the real one (by default), or her open drill of that
    kind. A drill is never what her own texts join, close or are blocked by."""
    return session.scalar(
        select(Incident).where(
            Incident.intern_id == intern.id,
            Incident.kind == kind,
            Incident.resolved_at.is_(None),
            Incident.drill.is_(drill),
        )
    )


def _rejoin(session, now, incident, intern, config, message_id) -> None:
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
        realert_step_one(session, now, incident, config)


def _free_code(session: Session) -> str:
    """A code no open incident has, real or drill: `ATIENDO <code>` always names one case."""
    taken = set(session.scalars(select(Incident.code).where(Incident.resolved_at.is_(None))))
    while True:
        code = str(1000 + secrets.randbelow(9000))
        if code not in taken:
            return code


# --- who was told ------------------------------------------------------------------------------


def open_incidents(session: Session) -> list[Incident]:
    """Every open incident, oldest first (what an administrator may answer)."""
    query = select(Incident).where(Incident.resolved_at.is_(None)).order_by(Incident.opened_at)
    return list(session.scalars(query))


def open_incidents_alerted_to(session: Session, person: Person) -> list[Incident]:
    alerted_ids = select(OutboundMessage.incident_id).where(
        OutboundMessage.person_id == person.id, OutboundMessage.kind == ALERT
    )
    query = select(Incident).where(Incident.id.in_(alerted_ids), Incident.resolved_at.is_(None))
    return list(session.scalars(query.order_by(Incident.opened_at)))


def holder_name(session: Session, incident: Incident, language: str = "es") -> str:
    """Who has the incident: the acknowledger's name, the console account that took it, or
    the administration's (an administrator's phone)."""
    holder = (
        session.get(Person, incident.acknowledged_by_id) if incident.acknowledged_by_id else None
    )
    if holder is not None:
        return holder.name
    account = last_acknowledgement(session, incident).get("account")  # taken from the console
    return account or render("admin_name", language)


# --- acknowledging and closing ------------------------------------------------------------------


def acknowledge(
    session: Session,
    now: datetime,
    incident: Incident,
    responder: Person | None,
    *,
    channel: str = SMS,
    phone: str | None = None,
    account: str | None = None,
) -> bool:
    """First acknowledgement wins (claimed by conditional UPDATE): the steps stop and everyone
    already alerted hears who has it. Returns False if someone had it already (or it is closed).

    `responder` is None for an administrator's phone, which has no roster row (`phone` says who),
    and for a console account (`account`: her email, written on the timeline).
    """
    phone = phone or (responder.phone if responder else None)
    claimed = session.execute(
        update(Incident)
        .where(
            Incident.id == incident.id,
            Incident.acknowledged_at.is_(None),
            Incident.resolved_at.is_(None),
        )
        .values(
            acknowledged_at=now,
            acknowledged_by_id=responder.id if responder else None,
            next_step_at=None,
            ack_check_at=now + ACK_REMIND_AFTER,
            ack_reminded_at=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(incident)
    if claimed != 1:
        record(session, now, "ack_repeated", person=responder, incident=incident,
               channel=channel, phone=phone, **_console(account))  # fmt: skip
        return False
    record(session, now, "acknowledged", person=responder, incident=incident,
           channel=channel, phone=phone, **_console(account))  # fmt: skip
    name = responder.name if responder else (account or render("admin_name", "es"))
    _tell_the_others(session, now, incident, phone, "ack_notice", responder=name)
    if KINDS[incident.kind].tells_intern_on_ack and not incident.drill:  # she is not in it
        _tell_the_intern(session, now, incident, responder)
    return True


def _tell_the_intern(session: Session, now: datetime, incident: Incident, responder) -> None:
    intern = incident.intern
    name = responder.name if responder else render("admin_name", intern.language)
    body = render("ack_to_intern", intern.language, responder=name, kind=incident.kind)
    queue(session, now, kind="ack_to_intern", body=body, person=intern, incident=incident)


def resolve(
    session: Session,
    now: datetime,
    incident: Incident,
    by: Person | None,
    how: str,
    *,
    account: str | None = None,
    note: str | None = None,
) -> bool:
    """Close the incident, write who closed it and how, send the all-clear to everyone alerted.

    An emergency or a duress incident is never closed by the intern herself (her text may be
    coerced), and neither is anything while she has a duress incident open. Returns whether
    this call closed it. A drill is closed by a responder or by itself, never by her OK (she
    knows nothing of it)."""
    if by is not None and by.id == incident.intern_id and incident.drill:
        return False
    if by is not None and by.id == incident.intern_id and _intern_may_not_close(session, incident):
        record(session, now, "close_refused", person=by, incident=incident, how=how)
        return False
    values = {
        "resolved_at": now,
        "resolved_by_id": by.id if by else None,
        "resolution": how,
        "next_step_at": None,
        "ack_check_at": None,
    }
    if incident.acknowledged_at is None:
        values |= {"acknowledged_at": now, "acknowledged_by_id": by.id if by else None}
    claimed = session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.resolved_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(incident)
    if claimed != 1:
        return False
    record(session, now, "resolved", person=by, incident=incident, how=how,
           by=by.name if by else None, **_console(account, note))  # fmt: skip
    if incident.drill:
        record(session, now, DRILL_ENDED, person=incident.intern, incident=incident, how=how,
               account=drill_account(session, incident),
               **({"closed_by": account} if account else {}))  # fmt: skip
    template = "all_clear_intern_ok" if how == INTERN_OK else "all_clear"
    name = by.name if by else (account or render("admin_name", "es"))
    _tell_the_others(session, now, incident, by.phone if by else None, template, responder=name)
    return True


def _console(account: str | None, note: str | None = None) -> dict[str, str]:
    """What a console action adds to its event: who (her account) and her note, when given."""
    return {k: v for k, v in (("account", account), ("note", note)) if v}


def _intern_may_not_close(session: Session, incident: Incident) -> bool:
    if KINDS[incident.kind].closed_by == RESPONDER:  # her own text may be coerced
        return True
    duress = open_incident_of(session, incident.intern, DURESS)
    return duress is not None


def _tell_the_others(session, now, incident, skip_phone: str | None, template: str, **ctx) -> None:
    intern = incident.intern
    for r in alerted(session, incident):
        if r.phone == skip_phone:
            continue
        body = render(template, r.language, mark=mark_of(incident), code=incident.code,
                      intern=intern.name, **ctx)  # fmt: skip
        queue(session, now, kind=template, body=body, person=r.person, phone=r.phone,
              incident=incident)  # fmt: skip
