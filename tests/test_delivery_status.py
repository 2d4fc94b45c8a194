"""Twilio's delivery callbacks: `POST /twilio/status?id=<our outbox id>`, signed like every webhook.

A callback refines a sent message's status, writes the terminal ones to the timeline, never moves
a message backwards (Twilio may report out of order) and answers 200 for ids it does not know, so
Twilio stops retrying.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from escalation.base.db import transaction, utcnow
from escalation.base.models import Event, OutboundMessage, Person
from tests.conftest import PUBLIC_URL, signature

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
SID = "SM" + "5" * 32
SENT_AT = datetime(2025, 11, 24, 15, 0, tzinfo=UTC)


def sent_alert(faro, phone: str, *, sid: str = SID) -> int:
    """An alert to `phone` that Twilio accepted (sid `sid`); returns its outbox id."""
    with transaction(faro.sessions) as session:
        person = session.scalar(select(Person).where(Person.phone == phone))
        message = OutboundMessage(
            person_id=person.id,
            to_phone=phone,
            kind="alert",
            body="Ana Lopez pidio ayuda",
            created_at=SENT_AT,
            attempts=1,
            next_attempt_at=None,
            sent_at=SENT_AT,
            provider_sid=sid,
        )
        session.add(message)
        session.flush()
        return message.id


def callback_params(status: str, *, sid: str = SID, error_code: str | None = None) -> dict:
    """What Twilio posts to a StatusCallback."""
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": "+15005550006",
        "MessageSid": sid,
        "MessageStatus": status,
        "SmsSid": sid,
        "SmsStatus": status,
        "To": "+524881000003",
    }
    if error_code:
        params["ErrorCode"] = error_code
    return params


def report(client, message_id, status: str, **kwargs):
    """Post a status callback for our outbox id, signed as Twilio signs it."""
    path = f"/twilio/status?id={message_id}"
    params = callback_params(status, **kwargs)
    headers = {"X-Twilio-Signature": signature(PUBLIC_URL + path, params)}
    return client.post(path, data=params, headers=headers)


def message(faro, message_id: int) -> OutboundMessage:
    with faro.sessions() as session:
        return session.get(OutboundMessage, message_id)


def delivery_events(faro) -> list[Event]:
    with faro.sessions() as session:
        query = select(Event).where(Event.kind.like("delivery_%")).order_by(Event.id)
        return list(session.scalars(query))


def test_delivered_is_recorded_on_the_message_and_the_timeline(client, faro, people):
    message_id = sent_alert(faro, people["rosa"])
    before = utcnow()
    response = report(client, message_id, "delivered")
    assert (response.status_code, response.get_data()) == (200, b"")
    row = message(faro, message_id)
    assert (row.delivery_status, row.status, row.error_code) == ("delivered", "delivered", None)
    assert row.delivery_updated_at is not None and row.delivery_updated_at >= before
    [event] = delivery_events(faro)
    assert (event.kind, event.message_id, event.person_id) == (
        "delivery_delivered",
        message_id,
        row.person_id,
    )


@pytest.mark.parametrize(
    ("status", "code"),
    [("failed", "30008"), ("undelivered", "30003")],
    ids=["failed", "undelivered"],
)
def test_a_message_that_did_not_arrive_keeps_twilios_error_code(client, faro, people, status, code):
    message_id = sent_alert(faro, people["rosa"])
    assert report(client, message_id, status, error_code=code).status_code == 200
    row = message(faro, message_id)
    assert (row.delivery_status, row.status, row.error_code) == (status, status, code)
    [event] = delivery_events(faro)
    assert (event.kind, event.message_id) == (f"delivery_{status}", message_id)
    assert event.data["code"] == code


def test_intermediate_statuses_refine_the_message_without_filling_the_timeline(
    client, faro, people
):
    message_id = sent_alert(faro, people["rosa"])
    report(client, message_id, "queued")
    report(client, message_id, "sent")
    assert message(faro, message_id).delivery_status == "sent"
    assert delivery_events(faro) == []


def test_a_late_sent_never_moves_a_delivered_message_back(client, faro, people):
    message_id = sent_alert(faro, people["rosa"])
    report(client, message_id, "delivered")
    assert report(client, message_id, "sent").status_code == 200
    assert report(client, message_id, "queued").status_code == 200
    assert message(faro, message_id).delivery_status == "delivered"
    assert [e.kind for e in delivery_events(faro)] == ["delivery_delivered"]


def test_read_on_whatsapp_follows_delivered(client, faro, people):
    message_id = sent_alert(faro, people["rosa"])
    report(client, message_id, "delivered")
    report(client, message_id, "read")
    report(client, message_id, "delivered")  # late, after read
    assert message(faro, message_id).delivery_status == "read"
    assert [e.kind for e in delivery_events(faro)] == ["delivery_delivered", "delivery_read"]


def test_a_status_nobody_knows_changes_nothing(client, faro, people):
    message_id = sent_alert(faro, people["rosa"])
    report(client, message_id, "sent")
    assert report(client, message_id, "teleported").status_code == 200
    assert message(faro, message_id).delivery_status == "sent"


def test_each_callback_touches_only_its_own_message(client, faro, people):
    to_rosa = sent_alert(faro, people["rosa"], sid="SM" + "1" * 32)
    to_luis = sent_alert(faro, people["luis"], sid="SM" + "2" * 32)
    report(client, to_rosa, "failed", sid="SM" + "1" * 32, error_code="30006")
    assert message(faro, to_rosa).delivery_status == "failed"
    untouched = message(faro, to_luis)
    assert (untouched.delivery_status, untouched.error_code) == (None, None)


def test_twilio_retrying_a_callback_does_not_write_the_event_twice(client, faro, people):
    message_id = sent_alert(faro, people["rosa"])
    report(client, message_id, "delivered")
    report(client, message_id, "delivered")
    assert [e.kind for e in delivery_events(faro)] == ["delivery_delivered"]


def test_an_unknown_id_is_answered_200_and_changes_nothing(client, faro, people):
    message_id = sent_alert(faro, people["rosa"])
    response = report(client, message_id + 1000, "failed", sid="SM" + "9" * 32, error_code="30008")
    assert response.status_code == 200  # so Twilio stops retrying
    row = message(faro, message_id)
    assert (row.delivery_status, row.error_code, row.delivery_updated_at) == (None, None, None)
    assert delivery_events(faro) == []


def test_an_unsigned_callback_is_refused(client, faro, people):
    message_id = sent_alert(faro, people["rosa"])
    path = f"/twilio/status?id={message_id}"
    assert client.post(path, data=callback_params("failed", error_code="30008")).status_code == 403
    assert message(faro, message_id).delivery_status is None
    assert delivery_events(faro) == []


def test_a_callback_signed_with_another_token_is_refused(client, faro, people):
    message_id = sent_alert(faro, people["rosa"])
    path = f"/twilio/status?id={message_id}"
    params = callback_params("failed", error_code="30008")
    forged = RequestValidator("not-our-token").compute_signature(PUBLIC_URL + path, params)
    response = client.post(path, data=params, headers={"X-Twilio-Signature": forged})
    assert response.status_code == 403
    assert message(faro, message_id).delivery_status is None


def test_a_signature_for_another_message_or_status_is_refused(client, faro, people):
    """The signature covers the URL (our id) and every field: neither can be swapped."""
    first = sent_alert(faro, people["rosa"], sid="SM" + "1" * 32)
    second = sent_alert(faro, people["luis"], sid="SM" + "2" * 32)
    signed = callback_params("delivered", sid="SM" + "1" * 32)
    valid = signature(f"{PUBLIC_URL}/twilio/status?id={first}", signed)
    headers = {"X-Twilio-Signature": valid}
    other_id = client.post(f"/twilio/status?id={second}", data=signed, headers=headers)
    other_status = client.post(
        f"/twilio/status?id={first}", data={**signed, "MessageStatus": "failed"}, headers=headers
    )
    assert (other_id.status_code, other_status.status_code) == (403, 403)
    assert message(faro, first).delivery_status is None
    assert message(faro, second).delivery_status is None
    assert delivery_events(faro) == []
