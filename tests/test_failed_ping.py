"""A ping Twilio cannot deliver does not wait for the deadline: other channel, then unreachable."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from bot.transports import TransportError
from escalation.base.models import SMS, UNREACHABLE, WHATSAPP, OutboundMessage
from escalation.pings import PING
from tests.conftest import PUBLIC_URL, signature
from tests.stories import events, incidents, outbox, sms_to, text, tick, update_person


def only_ana(faro, people, **values):
    update_person(faro, people["beto"], checkin_time=None)  # Beto is not pinged in these stories
    if values:
        update_person(faro, people["ana"], **values)
    tick(faro, "2026-11-24T07:00:00-06:00")


def test_whatsapp_63016_falls_back_to_sms_at_once(faro, people, transport):
    faro.settings = replace(faro.settings, twilio_whatsapp_checkin_content_sid="HXcheckin")
    only_ana(faro, people, channel=WHATSAPP)
    transport.failures.append(TransportError("Twilio 400 63016: outside window", permanent=True,
                                             code="63016"))  # fmt: skip
    tick(faro, "2026-11-24T08:00:00-06:00")
    [envelope] = transport.sent
    assert (envelope.channel, envelope.to) == (SMS, people["ana"])
    assert envelope.body.startswith("Hola Ana, ¿todo bien hoy?")
    first, retry = outbox(faro, PING)
    assert first.status == "failed" and first.error_code == "63016"
    assert retry.failover_of_id == first.id and retry.channel == SMS
    [event] = events(faro, "checkin_failover")
    assert event.data == {"channel": SMS, "code": "63016"}


def test_sms_she_cannot_receive_opens_unreachable_before_the_deadline(faro, people, transport):
    only_ana(faro, people)
    transport.failures.append(TransportError("Twilio 400 21614: not a mobile number",
                                             permanent=True, code="21614"))  # fmt: skip
    tick(faro, "2026-11-24T08:00:00-06:00")
    tick(faro, "2026-11-24T08:00:15-06:00")  # the next tick, not 10:00
    [incident] = incidents(faro)
    assert incident.kind == UNREACHABLE
    for who in ("beto", "rosa"):
        assert any("no logramos entregar mensajes a Ana Lopez" in b
                   for b in sms_to(transport, people[who]))  # fmt: skip
    assert len(events(faro, "checkin_undeliverable")) == 1


def test_sms_fails_over_to_whatsapp_when_she_has_written_from_it(faro, people, transport):
    only_ana(faro, people)
    text(faro, "whatsapp:" + people["ana"], "menu", "2026-11-20T12:00:00-06:00")
    transport.failures.append(TransportError("Twilio 400 30003", permanent=True, code="30003"))
    tick(faro, "2026-11-24T08:00:00-06:00")
    assert [e.channel for e in transport.sent if e.to == people["ana"]][-1] == WHATSAPP


def test_a_failover_that_fails_too_means_unreachable(faro, people, transport):
    only_ana(faro, people, channel=WHATSAPP)
    transport.failures += [
        TransportError("Twilio 400 63016", permanent=True, code="63016"),
        TransportError("Twilio 400 30006", permanent=True, code="30006"),
    ]
    tick(faro, "2026-11-24T08:00:00-06:00")
    tick(faro, "2026-11-24T08:01:00-06:00")
    assert [i.kind for i in incidents(faro)] == [UNREACHABLE]


def test_an_undelivered_status_callback_is_followed_up_too(faro, people, transport, client):
    only_ana(faro, people, channel=WHATSAPP)
    tick(faro, "2026-11-24T08:00:00-06:00")
    with faro.sessions() as session:
        message = session.scalar(select(OutboundMessage).where(OutboundMessage.kind == PING))
    path = f"/twilio/status?id={message.id}"
    params = {"MessageSid": "SM" + "7" * 32, "MessageStatus": "undelivered", "ErrorCode": "63016"}
    headers = {"X-Twilio-Signature": signature(PUBLIC_URL + path, params)}
    assert client.post(path, data=params, headers=headers).status_code == 200
    faro.dispatch()
    assert [e.channel for e in transport.sent] == [WHATSAPP, SMS]


def test_her_answer_clears_unreachable(faro, people, transport):
    only_ana(faro, people)
    transport.failures.append(TransportError("Twilio 400 21614", permanent=True, code="21614"))
    tick(faro, "2026-11-24T08:00:00-06:00")
    tick(faro, "2026-11-24T08:01:00-06:00")
    text(faro, people["ana"], "1", "2026-11-24T09:00:00-06:00")
    assert incidents(faro)[0].status == "resolved"
