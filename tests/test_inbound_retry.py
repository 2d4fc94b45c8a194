"""A text stored but not acted on (the second step failed: a lost connection, a bug) is
answered at once, still honestly, and acted on by the next pass, which answers by text."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.conversation import inbound
from escalation.base.models import EMERGENCY, InboundMessage, Incident, OutboundMessage
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
