"""The tick and the outbox work in small batches, and that changes nothing anyone can see:
critical messages still leave first, and one broken row does not hold back its batch."""

from __future__ import annotations

from sqlalchemy import insert, select

from bot import outbox
from escalation.base.db import transaction
from escalation.base.models import (
    INTERN,
    PRIORITY_CRITICAL,
    OutboundMessage,
    Person,
    University,
)
from escalation.base.timeline import queue
from tests.conftest import RecordingTransport, at
from tests.stories import events, rows, sms_to, tick

EIGHT = "2026-11-24T08:00:00-06:00"


def queue_texts(faro, count: int, *, priority: int = 0, first: str = "Aviso") -> None:
    with transaction(faro.sessions) as session:
        rosa = session.scalar(select(Person).where(Person.name == "Rosa Martinez"))
        for n in range(count):
            queue(session, at(EIGHT), kind="test", body=f"{first} {n}", person=rosa,
                  priority=priority)  # fmt: skip


def test_the_most_urgent_message_leaves_first(faro, people, transport):
    queue_texts(faro, 3)
    queue_texts(faro, 1, priority=PRIORITY_CRITICAL, first="Alerta")
    faro.dispatch(at(EIGHT))
    assert [e.body for e in transport.sent] == ["Alerta 0", "Aviso 0", "Aviso 1", "Aviso 2"]


class AlertMidBatch(RecordingTransport):
    """While the first message is with Twilio, a webhook commits a critical alert."""

    def __init__(self, faro_factory):
        super().__init__()
        self.faro_factory = faro_factory

    def send(self, envelope) -> str:
        if not self.sent:
            queue_texts(self.faro_factory(), 1, priority=PRIORITY_CRITICAL, first="Alerta")
        return super().send(envelope)


def test_a_critical_message_queued_mid_batch_goes_next(faro, people, monkeypatch):
    monkeypatch.setattr(outbox, "BATCH_SECONDS", 0.0)  # every batch runs out of time at once
    transport = AlertMidBatch(lambda: faro)
    faro.transport = transport
    queue_texts(faro, 5)
    faro.dispatch(at(EIGHT))
    assert [e.body for e in transport.sent][:2] == ["Aviso 0", "Alerta 0"]
    assert sorted(e.body for e in transport.sent) == ["Alerta 0"] + [f"Aviso {n}" for n in range(5)]
    # Handed back untried: not an attempt, and no claim left behind.
    sent = rows(faro, OutboundMessage, OutboundMessage.kind == "test")
    assert {(m.attempts, m.claimed_by, m.next_attempt_at) for m in sent} == {(1, None, None)}
    assert len(events(faro, "sent")) == 6


def test_a_broken_intern_does_not_hold_back_the_rest_of_her_batch(faro, people, transport):
    tick(faro, "2026-11-24T07:00:00-06:00")  # Ana and Beto: 08:00
    with transaction(faro.sessions) as session:
        uanl = session.scalar(select(University.id))
        session.execute(
            insert(Person),
            [
                {"role": INTERN, "name": f"Interna {n}", "phone": f"+5248830000{n}",
                 "checkin_time": "08:00", "university_id": uanl, "next_checkin_at": at(EIGHT)}
                for n in range(3)
            ]
            + [
                {"role": INTERN, "name": "Rota Zona", "phone": "+524883000099",
                 "checkin_time": "08:00", "timezone": "America/Nowhere",
                 "next_checkin_at": at("2026-11-24T08:00:01-06:00")}
            ],
        )  # fmt: skip
    done = tick(faro, "2026-11-24T08:00:05-06:00")
    assert done["pings"] == 5  # the batch failed on her; the others were redone one by one
    for phone in [people["ana"], people["beto"]] + [f"+5248830000{n}" for n in range(3)]:
        assert len(sms_to(transport, phone)) == 1
    assert sms_to(transport, "+524883000099") == []
    assert len(events(faro, "checkin_sent")) == 5
