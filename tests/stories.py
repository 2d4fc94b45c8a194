"""Small helpers for the check-in stories: frozen-time passes and texts, and what they left."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import event, select

from bot.conversation.inbound import receive
from escalation.base.models import CheckIn, Event, Incident, OutboundMessage, Person
from escalation.base.schedule import SCHEDULE_FIELDS
from escalation.pings import schedule_changed
from tests.conftest import at

_sids = itertools.count(1)


def tick(faro, when: str | datetime) -> dict[str, int]:
    """One scheduler pass (and the outbox) as of `when` (ISO text with offset, or an instant)."""
    return faro.run_pass(at(when) if isinstance(when, str) else when)


def text(faro, phone: str, body: str, when: str) -> str | None:
    """The intern texts Faro at a frozen instant (what the webhook does, without the clock)."""
    result = receive(
        faro.sessions, at(when), sid=f"SMstory{next(_sids):026d}", from_address=phone, body=body
    )
    faro.dispatch(at(when))
    return result.reply


def rows(faro, model, *where):
    with faro.sessions() as session:
        return list(session.scalars(select(model).where(*where).order_by(model.id)))


def events(faro, kind: str) -> list[Event]:
    return rows(faro, Event, Event.kind == kind)


def checkins(faro) -> list[CheckIn]:
    return rows(faro, CheckIn)


def incidents(faro, kind: str | None = None) -> list[Incident]:
    return rows(faro, Incident, *([Incident.kind == kind] if kind else []))


def outbox(faro, kind: str | None = None) -> list[OutboundMessage]:
    return rows(faro, OutboundMessage, *([OutboundMessage.kind == kind] if kind else []))


def person(faro, phone: str) -> Person:
    return rows(faro, Person, Person.phone == phone)[0]


def update_person(faro, phone: str, **values) -> None:
    """Change her row as the roster import (or a console) would: when a field her schedule
    follows from changes, the next tick computes her next ping as of the change."""
    with faro.sessions() as session, session.begin():
        target = session.scalar(select(Person).where(Person.phone == phone))
        moved = any(
            name in SCHEDULE_FIELDS and getattr(target, name) != value
            for name, value in values.items()
        )
        for name, value in values.items():
            setattr(target, name, value)
        if moved and "next_checkin_at" not in values:  # a next ping given is left as given
            schedule_changed(target)


def scheduled(person: Person) -> Person:
    """A new intern, marked for the next tick to compute her first ping as of her row's
    time, as the roster import (or a console) does for whoever it adds."""
    schedule_changed(person)
    return person


def sms_to(transport, phone: str) -> list[str]:
    return [e.body for e in transport.sent if e.to == phone and e.channel in ("sms", "whatsapp")]


MOOD_QUESTION = "¿Como te sientes hoy del 1 al 5?"


def checkin_texts(transport, phone: str) -> list[str]:
    """What she was sent about her check-in: everything but the daily mood question, which
    follows every answered check-in (issue 5) and is tested on its own."""
    return [body for body in sms_to(transport, phone) if not body.startswith(MOOD_QUESTION)]


@contextmanager
def statements(faro, prefix: str = "") -> Iterator[list[str]]:
    """The statements sent to the database meanwhile (those starting with `prefix`, in any
    case), each on one line."""
    seen: list[str] = []

    def count(_connection, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(prefix):
            seen.append(" ".join(statement.split()))

    engine = faro.sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
