"""An emergency from a number Faro does not know (a borrowed phone, a taken one, an intern
deactivated on the roster) is always answered with 911 advice, and the administrators get the
number and the words, at most once every ten minutes per number."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from escalation.base.models import OutboundMessage, Person
from escalation.pings import schedule_changed
from tests.conftest import at
from tests.stories import rows

ADMIN = "+528100000099"
STRANGER = "+528188887777"
T0 = at("2026-11-24T22:00:00-06:00")


@pytest.fixture
def extra_settings():
    return {"ADMIN_PHONES": ADMIN}


def reply(text_faro, sender: str, body: str) -> str:
    return text_faro(sender, body).get_data(as_text=True)


def admin_texts(faro) -> list[OutboundMessage]:
    return rows(faro, OutboundMessage, OutboundMessage.kind == "unknown_emergency")


def test_every_sos_from_an_unknown_number_gets_911_advice(faro, people, text_faro, clock):
    for minutes, body in enumerate(["hola", "SOS", "me vienen siguiendo, ayuda", "AYUDA"]):
        clock.set(T0 + timedelta(minutes=minutes))
        answer = reply(text_faro, STRANGER, body)
        if body != "hola":
            assert "Llama al 911 ahora" in answer, body
    [notice] = admin_texts(faro)  # three emergencies within ten minutes: one text to them
    assert notice.to_phone == ADMIN
    assert STRANGER in notice.body and '"SOS"' in notice.body and "22:01" in notice.body


def test_the_administrators_hear_again_after_ten_minutes(faro, people, text_faro, clock):
    clock.set(T0)
    reply(text_faro, STRANGER, "auxilio")
    clock.set(T0 + timedelta(minutes=9))
    reply(text_faro, STRANGER, "auxilio")
    clock.set(T0 + timedelta(minutes=11))
    reply(text_faro, STRANGER, "me quieren llevar")
    assert len(admin_texts(faro)) == 2


def test_a_second_ordinary_text_of_the_day_still_gets_silence(faro, people, text_faro, clock):
    clock.set(T0)
    assert "no esta registrado" in reply(text_faro, STRANGER, "hola")
    clock.set(T0 + timedelta(hours=1))
    assert "<Message>" not in reply(text_faro, STRANGER, "quien eres")
    clock.set(T0 + timedelta(hours=2))
    assert "911" in reply(text_faro, STRANGER, "SOS")  # but never for danger


def test_a_deactivated_intern_in_danger_is_named_to_the_administrators(
    faro, people, text_faro, clock
):
    with faro.sessions() as session, session.begin():
        ana = session.scalar(select(Person).where(Person.phone == people["ana"]))
        ana.active = False
        schedule_changed(ana)  # as the roster import does when it deactivates her
    clock.set(T0)
    assert "911" in reply(text_faro, people["ana"], "SOS")
    [notice] = admin_texts(faro)
    assert "Ana Lopez" in notice.body and "de baja" in notice.body
