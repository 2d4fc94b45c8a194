"""A real outage: PostgreSQL stopped (as a crash would) under the signed webhook. Every text
sent meanwhile is answered, kept in the spool, and stored and acted on once it is back, with
nobody restarting anything."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from escalation.base.db import make_engine
from escalation.base.migrate import upgrade
from escalation.base.models import EMERGENCY, InboundMessage, Incident, OutboundMessage
from tests import pg
from tests.conftest import unavailable


@pytest.fixture
def server():
    """PostgreSQL of this test's own, so stopping it stops nobody else's."""
    try:
        server = pg.ThrowawayServer()
        server.url = server.start()
    except (pg.Unavailable, RuntimeError, OSError) as exc:
        unavailable(f"PostgreSQL: {exc}")
    yield server
    server.stop()


@pytest.fixture
def database_url(server):
    engine = make_engine(server.url)
    upgrade(engine)
    engine.dispose()
    return server.url


def test_texts_sent_while_postgres_is_down_are_answered_kept_and_acted_on_after(
    server, faro, people, text_faro
):
    assert text_faro(people["ana"], "ok").status_code == 200

    server.pause()
    during = [text_faro(people["ana"], "sos"), text_faro(people["beto"], "estoy bien")]

    assert [r.status_code for r in during] == [200, 200]
    assert "Llama al 911 ahora" in during[0].get_data(as_text=True)
    assert "quedo guardado" in during[1].get_data(as_text=True)
    assert len(faro.spool.pending()) == 2

    server.resume()
    assert faro.replayer.wait(30)
    assert faro.dispatcher.wait_idle(10)

    with faro.sessions() as session:
        bodies = session.scalars(select(InboundMessage.body).order_by(InboundMessage.id)).all()
        emergency = session.scalars(select(Incident).where(Incident.kind == EMERGENCY)).one()
        alerted = session.scalars(
            select(OutboundMessage.to_phone).where(OutboundMessage.incident_id == emergency.id)
        ).all()
    assert bodies == ["ok", "sos", "estoy bien"]
    assert {people["beto"], people["rosa"], people["luis"]} <= set(alerted)


def test_a_text_neither_stored_nor_spooled_is_a_500_so_twilio_tries_the_fallback_url(
    server, faro, people, text_faro, tmp_path
):
    full = tmp_path / "not-a-folder"
    full.write_text("a file where the spool should be")
    faro.spool.directory = full / "spool"

    server.pause()
    try:
        response = text_faro(people["ana"], "sos")
    finally:
        server.resume()

    assert response.status_code == 500
