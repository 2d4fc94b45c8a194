"""A text stored but not acted on (the second step failed: a lost connection, a bug) is
answered at once, still honestly, and acted on by the next pass, which answers by text."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from bot.conversation import inbound
from escalation.base.models import EMERGENCY, Event, InboundMessage, Incident, OutboundMessage
from tests.conftest import at


def test_an_sos_whose_processing_fails_is_told_911_and_escalated_by_the_next_pass(
    faro, people, text_faro, clock, monkeypatch
):
    real = inbound.process

    def fails_once(*args, **kwargs):
        monkeypatch.setattr(inbound, "process", real)
        raise ConnectionError("the second step lost its connection")

    monkeypatch.setattr(inbound, "process", fails_once)
    now = at("2026-11-24T21:00:00-06:00")
    clock.set(now)

    answer = text_faro(people["ana"], "sos").get_data(as_text=True)

    assert "Llama al 911 ahora" in answer
    with faro.sessions() as session:
        stored = session.scalars(select(InboundMessage)).one()
        assert stored.processed_at is None
    faro.run_pass(now + timedelta(minutes=3))
    with faro.sessions() as session:
        assert session.scalars(select(Incident.kind)).all() == [EMERGENCY]
        reply = session.scalars(
            select(OutboundMessage.body).where(
                OutboundMessage.kind == "reply", OutboundMessage.to_phone == people["ana"]
            )
        ).one()
    assert "avisando a tu equipo" in reply


def test_two_deliveries_of_one_text_at_once_are_acted_on_once(faro, people, clock, monkeypatch):
    """Twilio may deliver a text twice, the second while the first is being acted on: on
    PostgreSQL the second is acted on first here, and the first, finding it claimed when it
    settles, rolls back; on SQLite the second waits for the first's write lock. Either way
    one incident, one answer, the same for both."""
    now = at("2026-11-24T21:00:00-06:00")
    clock.set(now)
    real_sender, inside, go_on = inbound.sender_asked, threading.Event(), threading.Event()

    def first_waits(session, phone, now):
        found = real_sender(session, phone, now)
        if threading.current_thread().name == "first":
            inside.set()
            go_on.wait(timeout=10)
        return found

    monkeypatch.setattr(inbound, "sender_asked", first_waits)
    answers = {}

    def deliver() -> None:
        name = threading.current_thread().name
        answers[name] = inbound.receive(faro.sessions, now, sid="SMtwice",
                                        from_address=people["ana"], body="sos",
                                        config=faro.settings.domain)  # fmt: skip

    first = threading.Thread(target=deliver, name="first")
    first.start()
    assert inside.wait(timeout=10)
    second = threading.Thread(target=deliver, name="second")
    second.start()
    second.join(timeout=1)  # done on PostgreSQL; on SQLite, queued behind the first
    go_on.set()
    first.join(timeout=10)
    second.join(timeout=10)

    assert answers["first"] == answers["second"]
    assert "avisando a tu equipo" in answers["first"].reply
    with faro.sessions() as session:
        assert session.scalars(select(Incident.kind)).all() == [EMERGENCY]
        stored = session.scalars(select(InboundMessage)).one()
        assert stored.processed_at is not None and stored.reply == answers["first"].reply
        acted = session.scalars(select(Event.kind).where(Event.message_id == stored.id)).all()
    assert acted == ["incident_opened"]  # not also "incident_repeated" by the other delivery
