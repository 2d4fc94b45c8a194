"""Ana texts SOS: a critical incident opens; her buddy, nurse and coordinator hear at once."""

from __future__ import annotations

import re

from sqlalchemy import select

from escalation.base.models import CRITICAL, EMERGENCY, SMS, VOICE, Event, Incident, OutboundMessage


def texts_to(transport, phone: str) -> list[str]:
    return [e.body for e in transport.sent if e.to == phone and e.channel == SMS]


def calls_to(transport, phone: str) -> list[str]:
    return [e.body for e in transport.sent if e.to == phone and e.channel == VOICE]


def test_sos_texts_and_calls_beto_rosa_and_luis_at_once(text_faro, faro, people, transport):
    reply = text_faro(people["ana"], "S.O.S").get_data(as_text=True)
    assert "Estamos avisando a tu equipo" in reply
    assert "911" in reply
    assert faro.dispatcher.wait_idle(5)
    with faro.sessions() as session:
        incident = session.scalar(select(Incident))
    assert (incident.kind, incident.severity, incident.status) == (EMERGENCY, CRITICAL, "open")
    assert re.fullmatch(r"\d{4}", incident.code)
    for who in ("beto", "rosa", "luis"):
        [alert] = texts_to(transport, people[who])
        [call] = calls_to(transport, people[who])  # step one of an emergency: SMS + call
        assert "Ana Lopez" in call and " ".join(incident.code) in call.replace(",", "")
        assert "Ana Lopez" in alert
        assert "CS Doctor Arroyo" in alert and "Doctor Arroyo" in alert
        assert f"ATIENDO {incident.code}" in alert
        assert re.search(r"a las \d\d:\d\d", alert)
    assert transport.to(people["marta"]) == []  # the supervisor is step two, not step one
    assert transport.to(people["sofia"]) == []  # mental health is not told of an emergency


def test_the_timeline_says_what_happened(text_faro, faro, people):
    text_faro(people["ana"], "ayuda")
    faro.dispatcher.wait_idle()
    with faro.sessions() as session:
        kinds = [e.kind for e in session.scalars(select(Event).order_by(Event.id))]
    assert kinds[:2] == ["incident_opened", "alerted"]
    assert kinds.count("sent") == 6  # three texts and three calls


def test_a_second_sos_joins_the_open_incident_without_a_new_flood(
    text_faro, faro, people, transport
):
    text_faro(people["ana"], "sos")
    text_faro(people["ana"], "SOS!!")
    faro.dispatcher.wait_idle()
    with faro.sessions() as session:
        assert len(session.scalars(select(Incident)).all()) == 1
        assert session.scalar(select(Event).where(Event.kind == "incident_repeated")) is not None
    assert len(transport.sent) == 6  # step one once: three texts, three calls


def test_nobody_covering_her_means_the_administrators_hear(database_url, transport):
    from app import create_app
    from escalation.base.db import transaction
    from escalation.base.models import INTERN, Person
    from tests.conftest import PUBLIC_URL, settings_for, signature
    from tests.stories import scheduled

    app = create_app(settings_for(database_url, ADMIN_PHONES="+528112345678"), transport=transport)
    faro = app.extensions["faro"]
    with transaction(faro.sessions) as session:
        session.add(
            scheduled(
                Person(role=INTERN, name="Eva Solis", phone="+524881009999", checkin_time="08:00")
            )
        )
    params = {"MessageSid": "SMeva", "From": "+524881009999", "Body": "peligro"}
    headers = {"X-Twilio-Signature": signature(f"{PUBLIC_URL}/twilio/sms", params)}
    assert app.test_client().post("/twilio/sms", data=params, headers=headers).status_code == 200
    faro.dispatcher.wait_idle()
    assert [(e.to, e.channel) for e in transport.sent] == [
        ("+528112345678", SMS),
        ("+528112345678", VOICE),
    ]
    faro.close()


def test_ack_by_a_responder_tells_the_others(text_faro, faro, people, transport):
    text_faro(people["ana"], "sos")
    faro.dispatcher.wait_idle()
    with faro.sessions() as session:
        code = session.scalar(select(Incident.code))
    reply = text_faro(people["rosa"], f"atiendo {code}").get_data(as_text=True)
    assert f"Ya tienes el caso {code}" in reply
    faro.dispatcher.wait_idle()
    assert any("Rosa Martinez atiende" in body for body in transport.to(people["luis"]))
    assert any("Rosa Martinez atiende" in body for body in transport.to(people["beto"]))
    again = text_faro(people["luis"], f"OK {code}").get_data(as_text=True)
    assert "Rosa Martinez ya atiende" in again


def test_an_intern_cannot_close_her_own_emergency_but_a_responder_can(
    text_faro, faro, people, transport
):
    text_faro(people["ana"], "sos")
    text_faro(people["ana"], "ok")  # her check-in, not a closing: it may be coerced
    with faro.sessions() as session:
        incident = session.scalar(select(Incident))
        assert incident.resolved_at is None
    text_faro(people["luis"], f"LISTO {incident.code}")
    faro.dispatcher.wait_idle()
    with faro.sessions() as session:
        incident = session.scalar(select(Incident))
        assert (incident.status, incident.resolution) == ("resolved", "responder")
        all_clear = session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == "all_clear")
        ).all()
    assert {m.to_phone for m in all_clear} == {people["beto"], people["rosa"]}


def test_a_wrong_code_reveals_nothing(text_faro, faro, people):
    text_faro(people["ana"], "sos")
    reply = text_faro(people["rosa"], "ATIENDO 0000").get_data(as_text=True)
    assert "No hay un caso abierto con el codigo 0000" in reply
