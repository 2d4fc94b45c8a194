"""Voice escalations: the TwiML Twilio fetches for a call, the keypress, the call's outcome.

    POST /twilio/voice/<outbox id>          what to say (the alert's facts), then "press 1 / 2"
    POST /twilio/voice/<outbox id>/gather   the key pressed: 1 acknowledges, 2 repeats
    POST /twilio/voice/<outbox id>/status   the call's outcome (CallStatus)

Signed like every Twilio webhook. Only a 1 pressed by whoever answered acknowledges: no
answer, busy, a failed call or one that ends without a keypress is written to the timeline as
the call's result and the steps go on.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from twilio.twiml.voice_response import VoiceResponse

from bot.runtime import faro
from bot.webhook import ROW_ID_MAX, check_signature, field
from escalation.base.db import utcnow
from escalation.base.messages import render
from escalation.base.models import VOICE, Incident, OutboundMessage, Person
from escalation.base.timeline import record
from escalation.delivery import on_delivery_failed
from escalation.engine import alert_facts
from escalation.incidents import acknowledge, holder_name

log = logging.getLogger(__name__)
bp = Blueprint("twilio_voice", __name__, url_prefix="/twilio/voice")
bp.before_request(check_signature)

SAY_LANGUAGE = {"es": "es-MX", "en": "en-US"}
GATHER_SECONDS = 8
# CallStatus values that mean the call could not be placed at all: the number, not the person.
CALL_FAILED = "failed"


@bp.post("/<int:message_id>")
def call(message_id: int):
    with faro().transaction() as session:
        found = _call(session, message_id)
        if found is None:
            return _hang_up("voice_unknown", "es")
        message, incident, language = found
        if incident.resolved_at is not None:
            return _hang_up("voice_closed", language)
        record(session, utcnow(), "call_answered", person_id=message.person_id,
               incident=incident, message_id=message.id)  # fmt: skip
        return _menu(message, incident, language)


@bp.post("/<int:message_id>/gather")
def gather(message_id: int):
    digits = field("Digits").strip()
    now = utcnow()
    with faro().transaction() as session:
        found = _call(session, message_id)
        if found is None:
            return _hang_up("voice_unknown", "es")
        message, incident, language = found
        record(session, now, "call_keypress", person_id=message.person_id, incident=incident,
               message_id=message.id, digits=digits[:4])  # fmt: skip
        if digits != "1":
            return _menu(message, incident, language)  # 2 (or any other key): say it all again
        if incident.resolved_at is not None:
            return _hang_up("voice_closed", language)
        person = session.get(Person, message.person_id) if message.person_id else None
        spoken = alert_facts(incident, incident.intern)["code_spoken"]
        if acknowledge(session, now, incident, person, channel=VOICE, phone=message.to_phone):
            reply = render("voice_ack_thanks", language, code_spoken=spoken)
        else:
            holder = holder_name(session, incident, language)
            reply = render("voice_ack_already", language, responder=holder, code_spoken=spoken)
    return _say(reply, language)


@bp.post("/<int:message_id>/status")
def status(message_id: int):
    call_status = field("CallStatus").strip().lower()
    now = utcnow()
    with faro().transaction() as session:
        message = _outbox_row(session, message_id)
        if message is None or message.channel != VOICE:
            log.info("call status %r for unknown message id=%s", call_status, message_id)
            return "", 200
        first = message.delivery_status != CALL_FAILED
        message.delivery_status = call_status[:20] or message.delivery_status
        message.delivery_updated_at = now
        record(
            session,
            now,
            "call_result",
            person_id=message.person_id,
            incident_id=message.incident_id,
            message_id=message.id,
            status=call_status,
            duration=request.form.get("CallDuration"),
            answered_by=request.form.get("AnsweredBy"),
        )
        if call_status == CALL_FAILED and first:
            on_delivery_failed(session, now, message, faro().settings.domain)
    return "", 200


def _outbox_row(session, message_id: int) -> OutboundMessage | None:
    """The call's outbox row; an id no row can have (the path takes any number) is none."""
    return session.get(OutboundMessage, message_id) if 0 < message_id <= ROW_ID_MAX else None


def _call(session, message_id: int) -> tuple[OutboundMessage, Incident, str] | None:
    message = _outbox_row(session, message_id)
    if message is None or message.channel != VOICE or message.incident_id is None:
        log.info("voice request for unknown call id=%s", message_id)
        return None
    incident = session.get(Incident, message.incident_id)
    person = session.get(Person, message.person_id) if message.person_id else None
    language = person.language if person and person.language in SAY_LANGUAGE else "es"
    return message, incident, language


def _menu(message: OutboundMessage, incident: Incident, language: str) -> Response:
    base = f"{faro().settings.public_base_url}/twilio/voice/{message.id}"
    response = VoiceResponse()
    keys = response.gather(
        num_digits=1, action=f"{base}/gather", method="POST", timeout=GATHER_SECONDS
    )
    keys.say(message.body, language=SAY_LANGUAGE[language])
    keys.say(render("voice_menu", language), language=SAY_LANGUAGE[language])
    # Reached only when no key was pressed: not an acknowledgement; the steps go on.
    spoken = alert_facts(incident, incident.intern)["code_spoken"]
    no_input = render("voice_no_input", language, code_spoken=spoken)
    response.say(no_input, language=SAY_LANGUAGE[language])
    return _xml(response)


def _hang_up(template: str, language: str) -> Response:
    return _say(render(template, language), language)


def _say(text: str, language: str) -> Response:
    response = VoiceResponse()
    response.say(text, language=SAY_LANGUAGE[language])
    response.hangup()
    return _xml(response)


def _xml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")
