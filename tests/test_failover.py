"""An alert that cannot be delivered goes to the same person by her next channel at once
(SMS → WhatsApp when configured → call), without holding back the next step; a responder
whom no channel reaches is flagged for the administrators."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.transports import TransportError
from escalation.base.models import EMERGENCY, MISSED_CHECKIN, SMS, VOICE, WHATSAPP
from tests.conftest import at
from tests.escalation_helpers import (
    alerts,
    calls,
    events,
    incident,
    open_for,
    outbox,
    person,
    texts,
    twilio_post,
)

T0 = at("2025-11-24T10:00:00-06:00")
ADMIN = "+528112345678"


@pytest.fixture
def extra_settings():
    return {"ADMIN_PHONES": ADMIN}


def report(client, message, status: str, error_code: str = "30003"):
    params = {"MessageSid": message.provider_sid or "SMx", "MessageStatus": status,
              "ErrorCode": error_code}  # fmt: skip
    return twilio_post(client, f"/twilio/status?id={message.id}", params)


def test_an_undelivered_text_becomes_a_call_at_once(faro, people, client, clock, transport):
    case = open_for(faro, people["ana"], MISSED_CHECKIN, T0)
    faro.run_pass(T0)
    [to_rosa] = texts(faro, people["rosa"])
    clock.set(T0 + timedelta(minutes=2))
    assert report(client, to_rosa, "undelivered").status_code == 200
    faro.dispatcher.wait_idle()
    [call] = calls(faro, people["rosa"])
    assert call.failover_of_id == to_rosa.id and "Ana Lopez" in call.body
    assert call.sent_at is not None  # left at once, not at the next tick
    assert [e.channel for e in transport.sent if e.to == people["rosa"]] == [SMS, VOICE]
    [failed_over] = events(faro, "failed_over", case.id)
    assert (failed_over.data["from_channel"], failed_over.data["to_channel"]) == (SMS, VOICE)
    # The next step's timer was not held back.
    assert incident(faro, case.id).next_step_at == T0 + timedelta(minutes=30)
    # Twilio repeating itself does not fail over twice.
    report(client, to_rosa, "failed")
    assert len(calls(faro, people["rosa"])) == 1


@pytest.mark.parametrize(
    "extra_settings",
    [{"ADMIN_PHONES": ADMIN, "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886"}],
)
def test_with_whatsapp_on_a_failed_text_goes_by_whatsapp_then_by_call(faro, people, client, clock):
    open_for(faro, people["ana"], MISSED_CHECKIN, T0)
    faro.run_pass(T0)
    [to_rosa] = texts(faro, people["rosa"])
    clock.set(T0 + timedelta(minutes=1))
    report(client, to_rosa, "failed", "30006")
    faro.dispatcher.wait_idle()
    [whatsapp] = alerts(faro, people["rosa"], WHATSAPP)
    assert whatsapp.failover_of_id == to_rosa.id
    report(client, whatsapp, "undelivered", "63016")
    faro.dispatcher.wait_idle()
    [call] = calls(faro, people["rosa"])
    assert call.failover_of_id == whatsapp.id


def test_a_send_refused_for_good_fails_over_at_the_next_tick(faro, people, transport):
    case = open_for(faro, people["ana"], MISSED_CHECKIN, T0)
    transport.failures.append(TransportError("Twilio 400 21614: not a mobile", permanent=True))
    faro.run_pass(T0)
    [failed] = [m for m in alerts(faro) if m.failed_at is not None]
    assert failed.channel == SMS
    faro.run_pass(T0 + timedelta(seconds=15))
    [follow] = alerts(faro, failed.to_phone, VOICE)
    assert follow.failover_of_id == failed.id and follow.sent_at is not None
    faro.run_pass(T0 + timedelta(seconds=30))
    assert len(alerts(faro, failed.to_phone)) == 2  # once, never again
    assert incident(faro, case.id).next_step_at == T0 + timedelta(minutes=30)


def test_a_responder_no_channel_reaches_is_flagged_for_the_administrators(faro, people, transport):
    case = open_for(faro, people["ana"], MISSED_CHECKIN, T0)
    # The first text sent and then the call that replaces it (in the same pass: a failure at
    # send time fails over at once) fail for good.
    transport.failing[people["beto"]] = TransportError("Twilio 400 21211: bad", permanent=True)
    faro.run_pass(T0)
    beto = [m for m in alerts(faro) if m.failed_at is not None]
    assert {m.to_phone for m in beto} == {people["beto"]}
    assert [m.channel for m in beto] == [SMS, VOICE]
    with faro.sessions() as session:
        assert person(session, beto[0].to_phone).unreachable_since == T0
    [flag] = events(faro, "responder_unreachable", case.id)
    assert flag.data["phone"] == beto[0].to_phone
    [notice] = outbox(faro, kind="unreachable_notice")
    assert notice.to_phone == ADMIN and "no logramos contactar a" in notice.body
    assert f"({beto[0].to_phone}) por ningun medio en el caso {case.code}" in notice.body


def test_the_administrators_hear_of_an_unreachable_responder_once_an_hour(faro, people, transport):
    """Two cases that meet the same unreachable responder within the hour: one notice. An hour
    later, a third case tells them again (she may still be out of reach)."""
    transport.failing[people["rosa"]] = TransportError("Twilio 400 21211: bad", permanent=True)
    first = open_for(faro, people["ana"], MISSED_CHECKIN, T0)
    faro.run_pass(T0)
    faro.run_pass(T0 + timedelta(minutes=1))
    second = open_for(faro, people["ana"], "unclear", T0 + timedelta(minutes=20))
    faro.run_pass(T0 + timedelta(minutes=20))
    faro.run_pass(T0 + timedelta(minutes=21))

    flags = events(faro, "responder_unreachable")
    assert {f.incident_id for f in flags} == {first.id, second.id}
    assert [f.data["admins_told"] for f in flags] == [True, False]
    assert len(outbox(faro, kind="unreachable_notice")) == 1

    third = open_for(faro, people["ana"], EMERGENCY, T0 + timedelta(minutes=75))
    faro.run_pass(T0 + timedelta(minutes=75))
    faro.run_pass(T0 + timedelta(minutes=76))
    assert [f.data["admins_told"] for f in events(faro, "responder_unreachable")][-1] is True
    assert {f.incident_id for f in events(faro, "responder_unreachable")} >= {third.id}
    assert len(outbox(faro, kind="unreachable_notice")) == 2
