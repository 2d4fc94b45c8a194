"""POST /twilio/sms: signed, stored first, deduplicated, never a 500, never sends by itself."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from escalation.base.models import CheckIn, Event, InboundMessage, Incident, OutboundMessage
from tests.conftest import PUBLIC_URL, signature


def count(faro, model) -> int:
    with faro.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_missing_signature_is_refused(client, faro, people):
    response = client.post(
        "/twilio/sms", data={"MessageSid": "SM1", "From": people["ana"], "Body": "ok"}
    )
    assert response.status_code == 403
    assert count(faro, InboundMessage) == 0


def test_a_wrong_signature_is_refused(client, faro, people):
    params = {"MessageSid": "SM1", "From": people["ana"], "Body": "ok"}
    response = client.post(
        "/twilio/sms", data=params, headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
    )
    assert response.status_code == 403


def test_a_signature_for_another_body_is_refused(client, faro, people):
    """A forged "I'm fine": a valid signature lifted from another message does not carry over."""
    signed = {"MessageSid": "SM1", "From": people["ana"], "Body": "sos"}
    forged = {**signed, "Body": "ok"}
    headers = {"X-Twilio-Signature": signature(f"{PUBLIC_URL}/twilio/sms", signed)}
    response = client.post("/twilio/sms", data=forged, headers=headers)
    assert response.status_code == 403
    assert count(faro, CheckIn) == 0


def test_a_signature_for_another_url_is_refused(client, people):
    params = {"MessageSid": "SM1", "From": people["ana"], "Body": "ok"}
    headers = {"X-Twilio-Signature": signature("https://evil.example/twilio/sms", params)}
    assert client.post("/twilio/sms", data=params, headers=headers).status_code == 403


def test_ok_records_the_checkin_and_thanks_her(text_faro, faro, people):
    response = text_faro(people["ana"], "ok")
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert "Gracias Ana" in response.get_data(as_text=True)
    with faro.sessions() as session:
        checkin = session.scalar(select(CheckIn))
        assert checkin.answered_at is not None
        assert session.scalar(select(InboundMessage.intent)) == "ok"


def test_a_retried_delivery_changes_nothing_and_gets_the_same_answer(
    text_faro, faro, people, transport
):
    first = text_faro(people["ana"], "sos", sid="SMretry")
    faro.dispatcher.wait_idle()
    second = text_faro(people["ana"], "sos", sid="SMretry")
    faro.dispatcher.wait_idle()
    assert first.get_data() == second.get_data()
    assert count(faro, InboundMessage) == 1
    assert count(faro, Incident) == 1
    assert len(transport.sent) == 6  # Beto, Rosa, Luis: a text and a call each, once


def test_whatsapp_and_old_mobile_prefix_find_the_same_person(text_faro, faro, people):
    response = text_faro("whatsapp:+5214881000001", "bien")
    assert "Gracias Ana" in response.get_data(as_text=True)
    with faro.sessions() as session:
        message = session.scalar(select(InboundMessage))
        assert (message.channel, message.phone) == ("whatsapp", people["ana"])


def test_an_unknown_number_gets_one_neutral_reply(text_faro, faro, people):
    first = text_faro("+528112345678", "hola, quien es Ana?").get_data(as_text=True)
    second = text_faro("+528112345678", "hola?").get_data(as_text=True)
    assert "no esta registrado" in first
    assert "Ana" not in first
    assert "<Message>" not in second
    with faro.sessions() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Event).where(Event.kind == "unknown_sender")
            )
            == 2
        )


@pytest.mark.parametrize("missing", ["MessageSid", "From"])
def test_missing_sid_or_sender_is_a_bad_request(client, people, missing):
    params = {"MessageSid": "SM1", "From": people["ana"], "Body": "ok"}
    del params[missing]
    headers = {"X-Twilio-Signature": signature(f"{PUBLIC_URL}/twilio/sms", params)}
    assert client.post("/twilio/sms", data=params, headers=headers).status_code == 400


@pytest.mark.parametrize(
    "body",
    ["", "   ", "😀🙏🏽", "x" * 1600, "a\x00b sos\x00", "ok" + "\u200b" * 50, "<Response>&amp;"],
)
def test_odd_bodies_never_cause_a_500(text_faro, faro, people, body):
    response = text_faro(people["ana"], body)
    assert response.status_code == 200
    with faro.sessions() as session:
        stored = session.scalar(select(InboundMessage.body))
        assert "\x00" not in stored


def test_invalid_utf8_bytes_are_stored_not_crashed_on(client, faro, people):
    raw = b"MessageSid=SMbytes&From=%2B524881000001&Body=%FF%FEok"
    # Werkzeug keeps percent-escapes that are not UTF-8 as they came; that is what gets signed.
    params = {"MessageSid": "SMbytes", "From": people["ana"], "Body": "%FF%FEok"}
    headers = {
        "X-Twilio-Signature": signature(f"{PUBLIC_URL}/twilio/sms", params),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    response = client.post("/twilio/sms", data=raw, headers=headers)
    assert response.status_code == 200
    with faro.sessions() as session:
        assert session.scalar(select(InboundMessage.body)) == "%FF%FEok"


def test_the_webhook_only_queues_and_the_dispatcher_sends(text_faro, faro, people, transport):
    text_faro(people["ana"], "sos")
    faro.dispatcher.wait_idle()
    with faro.sessions() as session:
        rows = session.scalars(select(OutboundMessage)).all()
    assert {m.to_phone for m in rows} == {people["beto"], people["rosa"], people["luis"]}
    assert all(m.sent_at is not None for m in rows)
    assert {e.to for e in transport.sent} == {people["beto"], people["rosa"], people["luis"]}
