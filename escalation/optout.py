"""Leaving Faro and coming back: STOP / BAJA … and START / ALTA, or the carrier saying so.

Carriers and people expect STOP to work: once she opted out (by text, or Twilio refused a
message with 21610 because she blocked us at the carrier) Faro sends her nothing that
expects an answer (no pings, no questions), so her silence never becomes a *missed check-in*
or *unreachable* incident. Her coordinator and her unit's nurse are told once, as a notice
with nothing to acknowledge (the administrators when nobody covers her, or when the one who
left is a responder). Her own emergency words still work: she is still on the roster.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from escalation.base.config import DomainConfig
from escalation.base.messages import render
from escalation.base.models import COORDINATOR, NURSE, Person
from escalation.base.schedule import SCHEDULE_NOW, day_and_time
from escalation.base.timeline import queue, record, record_many
from escalation.deadlines import stop_waiting
from escalation.engine import covering
from escalation.wellbeing import close_open_questions

log = logging.getLogger(__name__)

CARRIER_OPTED_OUT = "21610"  # Twilio: "Attempt to send to unsubscribed recipient"
BY_TEXT, BY_CARRIER = "text", "carrier"
NOTICE = "optout_notice"


def opt_out(
    session: Session,
    now: datetime,
    person: Person,
    *,
    via: str,
    config: DomainConfig,
    message_id: int | None = None,
) -> bool:
    """Mark her opted out, once (conditional UPDATE): returns False if she already was."""
    claimed = session.execute(
        update(Person)
        .where(Person.id == person.id, Person.opted_out_at.is_(None))
        .values(opted_out_at=now, next_checkin_at=None, next_phq_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(person)
    if claimed != 1:
        return False
    if person.is_intern:  # a ping already sent, or an open question, is not waited for
        stop_waiting(session, [person.id])
        record_many(session, close_open_questions(session, now, [person.id], reason="opted_out"))
    record(session, now, "opted_out", person=person, message_id=message_id, via=via)
    log.info("person %s opted out (%s)", person.id, via)
    _notify(session, now, person, via, config.admin_phones)
    return True


def opt_in(session: Session, now: datetime, person: Person, *, message_id: int | None) -> bool:
    """START / ALTA: pings and questions resume from her schedule. False if she was in."""
    claimed = session.execute(
        update(Person)
        .where(Person.id == person.id, Person.opted_out_at.is_not(None))
        .values(
            opted_out_at=None,
            next_checkin_at=SCHEDULE_NOW,
            next_phq_at=SCHEDULE_NOW,
            updated_at=now,
        )  # the schedule change counts from now (pings.changed_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(person)
    if claimed != 1:
        return False
    record(session, now, "opted_in", person=person, message_id=message_id)
    return True


def _notify(session, now, person: Person, via: str, admin_phones: tuple[str, ...]) -> None:
    """Her coordinator and nurse (an intern), else the administrators: a notice, once."""
    told = (
        [*covering(session, person, COORDINATOR), *covering(session, person, NURSE)]
        if person.is_intern
        else []
    )
    for responder in told:
        queue(session, now, kind=NOTICE, body=_notice(person, via, now, responder.language),
              person=responder)  # fmt: skip
    if told:
        return
    body = _notice(person, via, now, "es")
    for phone in admin_phones:
        queue(session, now, kind=NOTICE, body=body, phone=phone)


def _notice(person: Person, via: str, now: datetime, language: str) -> str:
    if not person.is_intern:  # a responder: her alerts fail over to calls
        return render("responder_opted_out_notice", language, name=person.name,
                      phone=person.phone, via=via)  # fmt: skip
    return render(
        "opted_out_notice",
        language,
        intern=person.name,
        unit=person.unit.name if person.unit else "-",
        via=via,
        at=day_and_time(now, person.timezone),
    )
