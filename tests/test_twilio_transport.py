"""The real `twilio` SDK, sending through TwilioTransport to a local server speaking Twilio's API.

First the transport alone (what it posts, how it reads each kind of failure), then the whole
path: an SOS through the signed webhook leaves the outbox through Twilio.
"""

from __future__ import annotations

import json
import re
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.config import load_settings
from bot.outbox import BACKOFF_BASE
from bot.transports import Envelope, TransportError, TwilioTransport
from escalation.base.db import utcnow
from escalation.base.models import (
    SMS,
    VOICE,
    WHATSAPP,
    Event,
    OutboundMessage,
)
from tests import conftest
from tests.twilio_mock import (
    ACCOUNT_SID,
    MESSAGING_SERVICE_SID,
    SMS_FROM,
    WHATSAPP_FROM,
    Answer,
    garbage,
    hang_up,
    http_error,
    mock_env,
    stall,
    twilio_error,
)

CALLBACK = "https://faro.example.org/twilio/status?id=7"
ROSA = "+524881000003"


def transport_for(url: str, *, timeout: float = 10, **extra: str) -> TwilioTransport:
    env = mock_env(url, **{"TWILIO_AUTH_TOKEN": conftest.AUTH_TOKEN, **extra})
    return TwilioTransport(load_settings(env), timeout=timeout)


@pytest.fixture
def transport(twilio):
    transport = transport_for(twilio.url)
    yield transport
    transport.close()


def envelope(channel: str = SMS, to: str = ROSA, body: str = "Ana Lopez pide ayuda") -> Envelope:
    return Envelope(7, channel, to, body, CALLBACK)


# --- what goes out ---------------------------------------------------------------------------


def test_an_sms_is_posted_with_to_from_body_callback_and_basic_auth(twilio, transport):
    sid = transport.send(envelope())
    [request] = twilio.received
    assert (request.method, request.path) == (
        "POST",
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
    )
    assert request.auth == (ACCOUNT_SID, conftest.AUTH_TOKEN)
    assert request.form == {
        "To": ROSA,
        "From": SMS_FROM,
        "Body": "Ana Lopez pide ayuda",
        "StatusCallback": CALLBACK,
    }
    assert re.fullmatch(r"SM[0-9a-f]{32}", sid)


def test_the_sid_returned_is_the_one_twilio_gave(twilio, transport):
    first, second = transport.send(envelope()), transport.send(envelope())
    assert first != second
    assert len(twilio.messages()) == 2


def test_accents_and_enye_reach_twilio_intact(twilio, transport):
    transport.send(envelope(body="Señal débil en Galeana ¿todo bien?"))
    assert twilio.messages()[0]["Body"] == "Señal débil en Galeana ¿todo bien?"


def test_whatsapp_goes_to_the_whatsapp_address_from_the_whatsapp_sender(twilio, transport):
    transport.send(envelope(WHATSAPP))
    [form] = twilio.messages()
    assert form["To"] == f"whatsapp:{ROSA}"
    assert form["From"] == WHATSAPP_FROM


def test_the_messaging_service_replaces_the_sms_sender_when_configured(twilio):
    transport = transport_for(twilio.url, TWILIO_MESSAGING_SERVICE_SID=MESSAGING_SERVICE_SID)
    try:
        sid = transport.send(envelope())
    finally:
        transport.close()
    [form] = twilio.messages()
    assert form["MessagingServiceSid"] == MESSAGING_SERVICE_SID
    assert "From" not in form
    assert sid.startswith("SM")


def test_whatsapp_still_uses_its_own_sender_with_a_messaging_service(twilio):
    transport = transport_for(twilio.url, TWILIO_MESSAGING_SERVICE_SID=MESSAGING_SERVICE_SID)
    try:
        transport.send(envelope(WHATSAPP))
    finally:
        transport.close()
    [form] = twilio.messages()
    assert (form["From"], form["To"]) == (WHATSAPP_FROM, f"whatsapp:{ROSA}")
    assert "MessagingServiceSid" not in form


def test_whatsapp_without_a_whatsapp_sender_fails_for_good_without_calling_twilio(twilio):
    transport = transport_for(twilio.url, TWILIO_WHATSAPP_FROM="")
    with pytest.raises(TransportError) as caught:
        transport.send(envelope(WHATSAPP))
    transport.close()
    assert caught.value.permanent
    assert twilio.received == []


def test_no_status_callback_means_none_is_sent(twilio, transport):
    transport.send(Envelope(7, SMS, ROSA, "hola"))
    assert "StatusCallback" not in twilio.messages()[0]


def test_wrong_credentials_keep_the_message_for_later(twilio):
    transport = transport_for(twilio.url, TWILIO_AUTH_TOKEN="not-the-token")
    with pytest.raises(TransportError) as caught:
        transport.send(envelope())
    transport.close()
    assert (caught.value.permanent, caught.value.code) == (False, "20003")
    assert twilio.received[0].auth == (ACCOUNT_SID, "not-the-token")


# --- how failures read -----------------------------------------------------------------------


def test_a_base_url_where_twilio_is_not_keeps_the_message_for_later(twilio):
    """A 404 on Messages.json means a wrong account or TWILIO_API_BASE_URL: an operator's fix."""
    transport = transport_for(twilio.url + "/not-twilio")
    with pytest.raises(TransportError) as caught:
        transport.send(envelope())
    transport.close()
    assert (caught.value.permanent, caught.value.code) == (False, "20404")
    assert twilio.received[0].path == f"/not-twilio/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def test_a_problem_details_answer_is_read_like_a_twilio_error(twilio, transport):
    """Newer Twilio APIs answer errors as RFC 9457 problem details; the SDK raises another class."""
    problem = {
        "type": "https://www.twilio.com/docs/errors/21211",
        "title": "Invalid 'To' Phone Number",
        "status": 400,
        "code": 21211,
        "detail": "The 'To' number +52488 is not a valid phone number.",
    }
    twilio.answer_next(Answer(400, json.dumps(problem).encode()))
    with pytest.raises(TransportError) as caught:
        transport.send(envelope())
    assert (caught.value.permanent, caught.value.code) == (True, "21211")
    assert caught.value.reason == f"Twilio 400 21211: {problem['detail']}"


@pytest.mark.parametrize("code", [21211, 21610, 21614, 63016])
def test_a_twilio_error_about_the_message_is_permanent_with_its_code(twilio, transport, code):
    twilio.answer_next(twilio_error(code))
    with pytest.raises(TransportError) as caught:
        transport.send(envelope())
    assert caught.value.permanent is True
    assert caught.value.code == str(code)
    assert caught.value.reason.startswith(f"Twilio 400 {code}:")


def test_the_reason_carries_twilios_message(twilio, transport):
    twilio.answer_next(twilio_error(21211))
    with pytest.raises(TransportError) as caught:
        transport.send(envelope())
    assert "The 'To' number is not a valid phone number." in caught.value.reason


@pytest.mark.parametrize("status", [500, 503, 429])
def test_an_overloaded_or_broken_twilio_is_temporary(twilio, transport, status):
    twilio.answer_next(http_error(status))
    with pytest.raises(TransportError) as caught:
        transport.send(envelope())
    assert caught.value.permanent is False
    assert caught.value.reason.startswith(f"Twilio {status}")


def test_a_5xx_without_a_twilio_body_is_temporary_and_has_no_twilio_code(twilio, transport):
    twilio.answer_next(garbage(502))
    with pytest.raises(TransportError) as caught:
        transport.send(envelope())
    assert (caught.value.permanent, caught.value.code) == (False, None)


def test_after_a_failure_the_next_send_goes_through(twilio, transport):
    twilio.answer_next(http_error(503))
    with pytest.raises(TransportError):
        transport.send(envelope())
    assert transport.send(envelope()).startswith("SM")
    assert len(twilio.messages()) == 2


def test_a_refused_connection_is_temporary():
    with socket.socket() as probe:  # a port that was free a moment ago and is closed now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = transport_for(f"http://127.0.0.1:{port}")
    with pytest.raises(TransportError) as caught:
        transport.send(envelope())
    transport.close()
    assert caught.value.permanent is False
    assert "unreachable" in caught.value.reason


def test_a_dropped_connection_is_temporary(twilio, transport):
    twilio.answer_next(hang_up())
    with pytest.raises(TransportError) as caught:
        transport.send(envelope())
    assert caught.value.permanent is False
    assert len(twilio.received) == 1


def test_a_stalled_twilio_times_out_as_temporary(twilio):
    transport = transport_for(twilio.url, timeout=0.3)  # short, so the test does not wait 10 s
    twilio.answer_next(stall())
    with pytest.raises(TransportError) as caught:
        transport.send(envelope())
    transport.close()
    assert caught.value.permanent is False
    assert "in time" in caught.value.reason


@pytest.mark.parametrize(
    "answer",
    [
        garbage(201),
        garbage(200, b"not json at all"),
        garbage(201, b""),  # the SDK reads an empty body as {}
        garbage(201, b"{}"),
        garbage(201, b"[1, 2, 3]"),
        garbage(201, b'"SM123"'),
        garbage(201, b'{"sid": 42}'),
        garbage(201, b'{"sid": "SMx", "date_created": 17}'),
        garbage(201, b'{"sid": "SMx", "truncated'),
    ],
    ids=["html", "text", "empty", "no-sid", "list", "string", "numeric-sid", "bad-date", "cut"],
)
def test_a_success_status_with_a_body_that_is_not_twilios_is_a_temporary_error(
    twilio, transport, answer
):
    twilio.answer_next(answer)
    with pytest.raises(TransportError) as caught:
        transport.send(envelope())
    assert caught.value.permanent is False


def test_the_mock_answers_calls_like_twilio(twilio, transport):
    """The recording server speaks Calls.json too (voice escalations use it)."""
    call = transport.client.calls.create(
        to=ROSA,
        from_=SMS_FROM,
        twiml="<Response><Say>Hola</Say></Response>",
        status_callback=CALLBACK,
    )
    assert re.fullmatch(r"CA[0-9a-f]{32}", call.sid)
    [form] = twilio.calls()
    assert form["Twiml"] == "<Response><Say>Hola</Say></Response>"
    assert (form["To"], form["From"], form["StatusCallback"]) == (ROSA, SMS_FROM, CALLBACK)


# --- the whole path: webhook → outbox → Twilio ------------------------------------------------


@pytest.fixture
def app(database_url, twilio):
    """The app as production builds it: no transport given, so TwilioTransport from settings.

    It overrides conftest's `app`, so `faro`, `client`, `text_faro` and `people` use this one."""
    from app import create_app

    settings = conftest.settings_for(
        database_url,
        SMS_TRANSPORT="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_SMS_FROM=SMS_FROM,
        TWILIO_API_BASE_URL=twilio.url,
        ADMIN_PHONES="+528100000099",
        # Paced, but a pass of an SOS's three texts ends well inside the shortest backoff
        # (BACKOFF_BASE / 2): at one a second, a slow machine let a 503'd text come due again
        # within the same pass, and the test saw it sent instead of waiting.
        TWILIO_MPS="10",
    )
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    faro = app.extensions["faro"]
    faro.close()
    faro.transport.close()


def outbox(faro) -> list[OutboundMessage]:
    with faro.sessions() as session:
        return list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def test_the_app_builds_the_twilio_transport_from_settings(faro):
    assert isinstance(faro.transport, TwilioTransport)


def test_an_sos_reaches_twilio_as_three_texts_and_three_calls_with_their_callbacks(
    text_faro, faro, people, twilio
):
    text_faro(people["ana"], "SOS")
    assert faro.dispatcher.wait_idle()
    rows = outbox(faro)
    team = sorted(people[w] for w in ("beto", "rosa", "luis"))
    texts = [row for row in rows if row.channel == SMS]
    calls = [row for row in rows if row.channel == VOICE]
    assert sorted(row.to_phone for row in texts) == team
    assert sorted(row.to_phone for row in calls) == team
    forms = {form["To"]: form for form in twilio.messages()}
    assert len(twilio.messages()) == 3
    sids = twilio.sids()
    for row in texts:
        form = forms[row.to_phone]
        assert form["StatusCallback"] == f"{conftest.PUBLIC_URL}/twilio/status?id={row.id}"
        assert (form["From"], form["Body"]) == (SMS_FROM, row.body)
        assert row.provider_sid == sids[row.to_phone]
        assert (row.status, row.attempts, row.next_attempt_at) == ("sent", 1, None)
    placed = {form["To"]: form for form in twilio.calls()}
    assert len(twilio.calls()) == 3
    for row in calls:
        form = placed[row.to_phone]
        voice = f"{conftest.PUBLIC_URL}/twilio/voice/{row.id}"
        assert (form["From"], form["Url"], form["Method"]) == (SMS_FROM, voice, "POST")
        assert form["StatusCallback"] == f"{voice}/status"
        assert row.provider_sid.startswith("CA") and row.status == "sent"
    assert {r.auth for r in twilio.received} == {(ACCOUNT_SID, conftest.AUTH_TOKEN)}


def test_a_503_keeps_the_alert_pending_and_a_later_pass_sends_it(text_faro, faro, people, twilio):
    twilio.answer_next(http_error(503))
    text_faro(people["ana"], "SOS")
    assert faro.dispatcher.wait_idle()
    [pending] = [row for row in outbox(faro) if row.sent_at is None]
    assert (pending.attempts, pending.failed_at, pending.claimed_by) == (1, None, None)
    assert pending.error_code == "20503"
    # backed off: due again later than it was first due (never at once, never dropped)
    assert pending.next_attempt_at - pending.created_at >= timedelta(seconds=BACKOFF_BASE / 2)
    assert len(twilio.received) == 6  # five went through, one was answered 503

    assert faro.dispatch(utcnow() + timedelta(minutes=10)) == 1

    [retried] = [row for row in outbox(faro) if row.id == pending.id]
    resource = "Calls" if pending.channel == "voice" else "Messages"
    tries = [
        r for r in twilio.received if r.resource == resource and r.form["To"] == pending.to_phone
    ]
    assert [r.status for r in tries] == [503, 201]  # sent concurrently: any of the six got it
    assert retried.provider_sid == tries[-1].answer["sid"]
    assert (retried.status, retried.attempts, retried.next_attempt_at) == ("sent", 2, None)
    assert all(row.status == "sent" for row in outbox(faro))


def test_an_invalid_number_fails_for_good_and_the_timeline_says_so(text_faro, faro, people, twilio):
    twilio.answer_next(twilio_error(21211))
    text_faro(people["ana"], "SOS")
    assert faro.dispatcher.wait_idle()
    [failed] = [row for row in outbox(faro) if row.sent_at is None]
    assert failed.failed_at is not None
    assert (failed.status, failed.error_code, failed.next_attempt_at) == ("failed", "21211", None)
    assert "not a valid phone number" in failed.error_message
    with faro.sessions() as session:
        [event] = session.scalars(select(Event).where(Event.kind == "send_failed")).all()
    assert (event.message_id, event.person_id, event.incident_id) == (
        failed.id,
        failed.person_id,
        failed.incident_id,
    )
    assert event.data["code"] == "21211"
    assert faro.dispatch(utcnow() + timedelta(hours=1)) == 0  # nothing left to retry
    assert len(twilio.messages()) == 3
