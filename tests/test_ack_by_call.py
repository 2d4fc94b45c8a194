"""Voice escalations: the TwiML says the facts in es-MX (or en-US) and asks for a key; 1
acknowledges, 2 repeats; no answer, busy, a failed call or hanging up without a key is not an
acknowledgement, only a call result on the timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest

from escalation.base.db import transaction
from escalation.base.models import EMERGENCY, MISSED_CHECKIN
from tests.conftest import at
from tests.escalation_helpers import (
    answer_call,
    call_ended,
    call_params,
    calls,
    events,
    incident,
    open_for,
    outbox,
    person,
    press,
)

T0 = at("2025-11-24T10:00:00-06:00")
ADMIN = "+528112345678"


@pytest.fixture
def extra_settings():
    return {"ADMIN_PHONES": ADMIN}


def emergency_call_to(faro, people, who: str):
    case = open_for(faro, people["ana"], EMERGENCY, T0)
    faro.run_pass(T0)
    [call] = calls(faro, people[who])
    return case, call


def test_press_2_says_it_again_and_press_1_acknowledges(faro, people, client, clock):
    case, call = emergency_call_to(faro, people, "rosa")
    clock.set(T0 + timedelta(minutes=1))
    again = press(client, call, "2").get_data(as_text=True)
    assert "Ana Lopez" in again and "<Gather" in again
    assert incident(faro, case.id).acknowledged_at is None
    assert "queda a su cargo" in press(client, call, "1").get_data(as_text=True)
    acked = incident(faro, case.id)
    assert acked.status == "acknowledged"
    [ack] = events(faro, "acknowledged", case.id)
    assert (ack.data["channel"], ack.data["phone"]) == ("voice", people["rosa"])
    assert [e.data["digits"] for e in events(faro, "call_keypress", case.id)] == ["2", "1"]


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed", "completed", "canceled"])
def test_a_call_without_a_keypress_is_not_an_acknowledgement(faro, people, client, clock, status):
    case, call = emergency_call_to(faro, people, "rosa")
    clock.set(T0 + timedelta(minutes=1))
    if status == "completed":
        answer_call(client, call)  # picked up, listened, hung up
    assert call_ended(client, call, status, "21").status_code == 200
    assert incident(faro, case.id).acknowledged_at is None
    [result] = events(faro, "call_result", case.id)
    assert (result.data["status"], result.person_id) == (status, call.person_id)
    faro.run_pass(T0 + timedelta(minutes=10))  # the steps go on: Marta is called
    assert len(calls(faro, people["marta"])) == 1


def test_the_second_to_press_1_hears_who_has_it(faro, people, client, clock):
    case, rosa_call = emergency_call_to(faro, people, "rosa")
    [luis_call] = calls(faro, people["luis"])
    clock.set(T0 + timedelta(minutes=1))
    press(client, luis_call, "1")
    later = press(client, rosa_call, "1").get_data(as_text=True)
    assert "Luis Herrera ya atiende" in later
    assert incident(faro, case.id).acknowledged_by_id == luis_call.person_id


def test_an_english_speaker_hears_english(faro, people, client, clock):
    with transaction(faro.sessions) as session:
        person(session, people["luis"]).language = "en"
    case, call = emergency_call_to(faro, people, "luis")
    clock.set(T0 + timedelta(minutes=1))
    twiml = answer_call(client, call).get_data(as_text=True)
    assert '<Say language="en-US">Faro alert. Ana Lopez' in twiml
    assert "press 1" in twiml
    assert "Case " + ", ".join(case.code) in twiml


def test_a_call_about_a_closed_case_says_so(faro, people, client, clock, text_faro):
    case, call = emergency_call_to(faro, people, "rosa")
    clock.set(T0 + timedelta(minutes=2))
    text_faro(people["luis"], f"LISTO {case.code}")
    assert "ya fue cerrado" in answer_call(client, call).get_data(as_text=True)
    assert "ya fue cerrado" in press(client, call, "1").get_data(as_text=True)


def test_an_administrator_can_acknowledge_by_call(faro, people, client, clock):
    case = open_for(faro, people["ana"], MISSED_CHECKIN, T0)
    for minutes in range(0, 211, 30):  # steps at +30, +90; repeats +120..+180; final +210
        faro.run_pass(T0 + timedelta(minutes=minutes))
    [admin_call, *_] = calls(faro, ADMIN)
    clock.set(T0 + timedelta(minutes=211))
    assert "queda a su cargo" in press(client, admin_call, "1").get_data(as_text=True)
    acked = incident(faro, case.id)
    assert (acked.status, acked.acknowledged_by_id) == ("acknowledged", None)
    notices = outbox(faro, kind="ack_notice", to=people["rosa"])
    assert "la administracion de Faro atiende" in notices[0].body


def test_voice_webhooks_are_signed(faro, people, client):
    _case, call = emergency_call_to(faro, people, "rosa")
    params = call_params(call, Digits="1")
    assert client.post(f"/twilio/voice/{call.id}/gather", data=params).status_code == 403
    forged = {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
    assert client.post(f"/twilio/voice/{call.id}", data=params, headers=forged).status_code == 403


def test_an_unknown_call_id_answers_politely(faro, people, client, clock):
    from tests.escalation_helpers import twilio_post

    clock.set(T0)
    answer = twilio_post(client, "/twilio/voice/999999", {"CallSid": "CAx"})
    assert answer.status_code == 200 and "ya no esta vigente" in answer.get_data(as_text=True)
    assert (
        twilio_post(client, "/twilio/voice/999999/status", {"CallStatus": "busy"}).status_code
        == 200
    )
