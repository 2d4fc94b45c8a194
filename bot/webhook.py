"""Twilio's webhooks: inbound messages and delivery status. Signed, quick, never sending.

The signature is checked first, against PUBLIC_BASE_URL + the path Twilio called (a proxy in
front of us must not change what we validate), with every form field and every value of a
repeated one (the form itself, not its first values, goes to the SDK's validator).
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, request
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.conversation.inbound import receive
from bot.conversation.intents import EMERGENCY
from bot.conversation.interpret import interpret
from bot.runtime import faro
from bot.spool import UNAVAILABLE
from escalation.base.db import utcnow
from escalation.base.messages import render
from escalation.base.models import OutboundMessage
from escalation.base.timeline import record
from escalation.delivery import on_delivery_failed

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/twilio")
SID_LENGTH = 64  # inbound_message.message_sid; Twilio's own are 34 characters
ROW_ID_MAX = 2**31 - 1  # an Integer primary key on PostgreSQL

# Twilio may report statuses out of order; a later callback never moves a message backwards.
STATUS_RANK = {
    "accepted": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "read": 5,
}
TIMELINE_STATUSES = {"delivered", "undelivered", "failed", "read"}


@bp.before_request
def check_signature():
    settings = faro().settings
    url = settings.public_base_url + request.path + _query(request.query_string)
    signature = request.headers.get("X-Twilio-Signature", "")
    token = settings.twilio_auth_token
    if (
        not token
        or not signature
        or not RequestValidator(token).validate(url, request.form, signature)
    ):
        log.warning(
            "rejected unsigned or forged request to %s from %s", request.path, request.remote_addr
        )
        abort(403)


def _query(raw: bytes) -> str:
    """`?` and the query exactly as requested (a query may itself end in `?`); bytes that are
    not UTF-8, which Twilio never sends, cannot match its signature."""
    return "?" + raw.decode("utf-8", "replace") if raw else ""


@bp.post("/sms")
def inbound_sms():
    sid = request.form.get("MessageSid", "").strip()
    sender = request.form.get("From", "").strip()
    if not sid or not sender:
        log.warning("inbound webhook without MessageSid or From")
        abort(400)
    if len(sid) > SID_LENGTH:  # cut, two such ids would be one message: never Twilio's
        log.warning("inbound webhook with a %d-character MessageSid refused", len(sid))
        abort(400)
    app, arrived, body = faro(), utcnow(), request.form.get("Body")
    try:
        result = receive(
            app.sessions,
            arrived,
            sid=sid,
            from_address=sender,
            body=body,
            config=app.settings.domain,
            wake=app.wake,
        )
    except UNAVAILABLE as exc:
        # Twilio will not send it again: keep the signed form here, answer her all the same.
        try:
            path = app.spool.write(arrived, list(request.form.items(multi=True)),
                                   request.headers["X-Twilio-Signature"])  # fmt: skip
        except OSError:
            # Neither stored nor kept: an error sends Twilio to the number's Fallback URL.
            log.critical("text %s from %s could not be stored nor spooled", sid, sender,
                         exc_info=True)  # fmt: skip
            abort(500)
        log.error("database unavailable (%s): text %s from %s spooled to %s",
                  exc.__class__.__name__, sid, sender, path.name)  # fmt: skip
        app.replayer.start()
        return twiml(held(body, app.settings.domain.default_language))
    if result.pending:
        return twiml(held(body, app.settings.domain.default_language))
    return twiml(result.reply)


def held(body: str | None, language: str) -> str:
    """Her answer while Faro cannot act on her text yet (read without the database): it is
    kept and will be acted on; an emergency word is told to call 911 now."""
    emergency = interpret(body).kind == EMERGENCY
    return render("held_emergency" if emergency else "held", language)


def twiml(reply: str | None) -> Response:
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return Response(str(response), mimetype="text/xml")


def field(name: str) -> str:
    """A form field's first value ("" when absent) without NULs, which PostgreSQL can neither
    store nor compare: a callback carrying one would fail on every retry."""
    return request.form.get(name, "").replace("\x00", "")


@bp.post("/status")
def delivery_status():
    status = field("MessageStatus").strip().lower()
    message_id = request.args.get("id", type=_row_id)
    now = utcnow()
    with faro().transaction() as session:
        message = session.get(OutboundMessage, message_id) if message_id else None
        if message is None:
            sid = field("MessageSid")
            message = (
                session.scalar(select(OutboundMessage).where(OutboundMessage.provider_sid == sid))
                if sid
                else None
            )
        if message is None:
            log.info("status %r for unknown message id=%s", status, message_id)
            return "", 200
        _apply_status(
            session,
            now,
            message,
            status,
            field("ErrorCode") or None,
            config=faro().settings.domain,
        )
    return "", 200


def _row_id(text: str) -> int:
    """`?id=` as one of our outbox ids; anything else is a ValueError (read as absent)."""
    value = int(text)
    if not 0 < value <= ROW_ID_MAX:
        raise ValueError(text)
    return value


def _apply_status(
    session, now, message: OutboundMessage, status: str, error_code: str | None, *, config
) -> None:
    if status not in STATUS_RANK or STATUS_RANK[status] <= STATUS_RANK.get(
        message.delivery_status or "", -1
    ):
        return  # unknown, a repeat, or a late callback that would move the status backwards
    message.delivery_status = status
    message.delivery_updated_at = now
    if error_code:
        message.error_code = error_code[:16]
    if status in TIMELINE_STATUSES:
        record(
            session,
            now,
            f"delivery_{status}",
            person_id=message.person_id,
            incident_id=message.incident_id,
            message_id=message.id,
            code=error_code,
        )
    if status in ("failed", "undelivered"):
        log.warning(
            "message %s to %s %s (error %s)", message.id, message.to_phone, status, error_code
        )
        # The follow-up (another channel, a flag) commits with the status, through the outbox.
        on_delivery_failed(session, now, message, config)
