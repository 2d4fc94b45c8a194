"""What a responder needs at 3 a.m. (the intern's phone, who else was told, how to answer),
and what the intern hears when somebody takes her case."""

from __future__ import annotations

from datetime import timedelta

import pytest

from escalation.base.messages import segments
from escalation.base.models import DURESS, EMERGENCY, MISSED_CHECKIN, SUPPORT, TRIP_OVERDUE
from tests.conftest import at
from tests.escalation_helpers import alerts, open_for, outbox

ADMIN = "+528100000099"
T0 = at("2026-11-25T03:00:00-06:00")


@pytest.fixture
def extra_settings():
    return {"ADMIN_PHONES": ADMIN}


def reply(text_faro, sender: str, body: str) -> str:
    return text_faro(sender, body).get_data(as_text=True)


def test_an_alert_carries_her_phone_who_else_was_told_and_how_to_answer(faro, people):
    case = open_for(faro, people["ana"], EMERGENCY, T0, admin_phones=(ADMIN,))
    [to_rosa] = alerts(faro, people["rosa"], "sms")
    assert people["ana"] in to_rosa.body
    assert "Tambien se aviso a Beto, Luis" in to_rosa.body  # not herself
    assert f"ATIENDO {case.code}" in to_rosa.body
    assert segments(to_rosa.body) <= 2


def test_a_later_step_names_those_told_before(faro, people):
    open_for(faro, people["ana"], MISSED_CHECKIN, T0, admin_phones=(ADMIN,))
    faro.run_pass(T0 + timedelta(minutes=30))  # step two: the coordinator
    [to_luis] = alerts(faro, people["luis"], "sms")
    assert "Tambien se aviso a Beto, Rosa" in to_luis.body


def test_a_duress_alert_says_not_to_call_her_and_gives_no_number(faro, people):
    open_for(faro, people["ana"], DURESS, T0, admin_phones=(ADMIN,))
    for alert in alerts(faro, channel="sms"):
        assert "NO la llames" in alert.body
        assert people["ana"] not in alert.body


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (EMERGENCY, "Rosa Martinez recibio tu alerta"),
        (MISSED_CHECKIN, "Rosa Martinez sabe que no respondiste tu registro"),
        (TRIP_OVERDUE, "Luis Herrera sabe que no confirmaste tu llegada"),
    ],
)
def test_the_intern_is_told_who_has_her_case(faro, people, text_faro, clock, kind, words):
    detail = {"left": "14:00", "destination": "Galeana"} if kind == TRIP_OVERDUE else None
    case = open_for(faro, people["ana"], kind, T0, admin_phones=(ADMIN,), detail=detail)
    clock.set(T0 + timedelta(minutes=4))
    responder = people["luis"] if kind == TRIP_OVERDUE else people["rosa"]  # the nurse is not
    reply(text_faro, responder, f"ATIENDO {case.code}")  # alerted of a trip
    [told] = outbox(faro, kind="ack_to_intern")
    assert told.to_phone == people["ana"] and words in told.body


@pytest.mark.parametrize("kind", [DURESS, SUPPORT])
def test_she_is_not_told_for_duress_or_support(faro, people, text_faro, clock, kind):
    case = open_for(faro, people["ana"], kind, T0, admin_phones=(ADMIN,))
    clock.set(T0 + timedelta(minutes=4))
    responder = people["rosa"] if kind == DURESS else people["sofia"]
    reply(text_faro, responder, f"ATIENDO {case.code}")
    assert outbox(faro, kind="ack_to_intern") == []


def test_an_administrator_acknowledges_and_closes_any_case(faro, people, text_faro, clock):
    case = open_for(faro, people["ana"], MISSED_CHECKIN, T0, admin_phones=(ADMIN,))
    clock.set(T0 + timedelta(minutes=2))
    assert f"Ya tienes el caso {case.code}" in reply(text_faro, ADMIN, f"ATIENDO {case.code}")
    notices = outbox(faro, kind="ack_notice")
    assert {m.to_phone for m in notices} == {people["beto"], people["rosa"]}
    assert all("la administracion de Faro atiende" in m.body for m in notices)
    assert f"Cerraste el caso {case.code}" in reply(text_faro, ADMIN, f"LISTO {case.code}")


def test_an_administrator_gets_help_for_anything_else(faro, people, text_faro, clock):
    clock.set(T0)
    assert "ATIENDO y el codigo" in reply(text_faro, ADMIN, "hola")


def test_estado_with_a_code_tells_a_responder_how_the_case_stands(faro, people, text_faro, clock):
    case = open_for(faro, people["ana"], EMERGENCY, T0, admin_phones=(ADMIN,))
    clock.set(T0 + timedelta(minutes=1))
    before = reply(text_faro, people["luis"], f"ESTADO {case.code}")
    assert f"Caso {case.code}, Ana Lopez (emergencia)" in before and "sin atender, paso 1" in before
    reply(text_faro, people["rosa"], f"ATIENDO {case.code}")
    after = reply(text_faro, ADMIN, f"estado {case.code}")
    assert "lo atiende Rosa Martinez desde las 03:01" in after


def test_estado_with_a_code_one_was_not_sent_reveals_nothing(faro, people, text_faro, clock):
    case = open_for(faro, people["ana"], SUPPORT, T0, admin_phones=(ADMIN,))  # Beto and Sofia
    clock.set(T0 + timedelta(minutes=1))
    answer = reply(text_faro, people["marta"], f"ESTADO {case.code}")
    assert "No hay un caso abierto" in answer and "Ana" not in answer


def test_a_bare_estado_is_still_the_interns_own_schedule(faro, people, text_faro, clock):
    clock.set(T0)
    assert "proximo registro" in reply(text_faro, people["ana"], "ESTADO")
