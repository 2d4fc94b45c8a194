"""Hostile or odd requests to the signed webhooks, found when Faro was tried from outside: each
gets a clear answer, never a 500, and never changes what another message means."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from escalation.base.models import CheckIn, InboundMessage
from tests.conftest import PUBLIC_URL, signature


def count(faro, model) -> int:
    with faro.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def post_status(client, query: str, params: dict[str, str]):
    url = f"/twilio/status?{query}"
    headers = {"X-Twilio-Signature": signature(f"{PUBLIC_URL}{url}", params)}
    return client.post(url, data=params, headers=headers)


@pytest.mark.parametrize("value", [str(2**64), str(2**31), "-5", "0", "1e3", "１２"])
def test_a_signed_status_for_an_id_that_cannot_be_ours_is_answered_200(client, faro, value):
    response = post_status(client, f"id={value}", {"MessageSid": "SM1", "MessageStatus": "sent"})
    assert response.status_code == 200


def test_an_over_long_message_sid_is_refused_not_cut(text_faro, faro, people):
    """Cut to the column's 64 characters, two such ids would be one message and the second
    text would be dropped as a duplicate."""
    first = text_faro(people["ana"], "ok", sid="SM" + "a" * 64 + "1")
    second = text_faro(people["ana"], "sos", sid="SM" + "a" * 64 + "2")

    assert (first.status_code, second.status_code) == (400, 400)
    assert count(faro, InboundMessage) == 0
    assert text_faro(people["ana"], "ok", sid="SM" + "b" * 62).status_code == 200


def test_the_signature_covers_every_value_of_a_repeated_field(client, faro, people):
    """Signed with Body=sos, re-posted with a second Body=ok appended: a validator reading only
    the first value of each field would accept it."""
    signed = {"MessageSid": "SM" + "7" * 32, "From": people["ana"], "Body": "sos"}
    headers = {"X-Twilio-Signature": signature(f"{PUBLIC_URL}/twilio/sms", signed)}
    form = MultiDict([*signed.items(), ("Body", "ok")])

    response = client.post(
        "/twilio/sms",
        data=urlencode(list(form.items(multi=True))),
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 403
    assert count(faro, InboundMessage) == count(faro, CheckIn) == 0


def test_a_form_with_repeated_fields_signed_as_twilio_would_is_accepted(client, faro, people):
    pairs = [("MessageSid", "SM" + "8" * 32), ("From", people["ana"]), ("Body", "ok"),
             ("MediaUrl", "https://a.example/1"), ("MediaUrl", "https://a.example/2")]  # fmt: skip
    form = MultiDict(pairs)
    headers = {"X-Twilio-Signature": signature(f"{PUBLIC_URL}/twilio/sms", form)}

    response = client.post(
        "/twilio/sms",
        data=urlencode(pairs),
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 200
    assert count(faro, CheckIn) == 1


def test_the_twilio_sdk_logs_no_line_per_request():
    import bot.transports  # noqa: F401 (quiets the SDK on import)

    assert not logging.getLogger("twilio.http_client").isEnabledFor(logging.INFO)


def test_a_body_over_the_request_limit_is_refused_unread_and_nothing_is_stored(client, faro):
    params = {"MessageSid": "SMbig", "From": "+528112345678", "Body": "x" * (17 * 1024 * 1024)}
    headers = {"X-Twilio-Signature": signature(f"{PUBLIC_URL}/twilio/sms", params)}
    assert client.post("/twilio/sms", data=params, headers=headers).status_code == 413
    assert count(faro, InboundMessage) == 0
