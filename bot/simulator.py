"""The phone simulator (console transport only): be any roster phone, see what Faro answers.

Texts go through the same code path as the Twilio webhook (`bot.conversation.inbound.receive`),
minus the signature, which only Twilio can produce. It is off with the Twilio transport: with
real phones in the roster it would let anyone speak for them.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, jsonify, render_template, request
from sqlalchemy import or_, select

from bot.conversation.inbound import receive
from bot.runtime import faro
from escalation.base.db import utcnow
from escalation.base.models import InboundMessage, OutboundMessage, Person, outbound_status

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
SHOWN = 100


@bp.before_request
def console_only():
    if faro().settings.sms_transport != "console":
        abort(404)


@bp.get("/")
def page():
    with faro().sessions() as session:
        people = session.scalars(
            select(Person).order_by(Person.role != "intern", Person.name)
        ).all()
    return render_template("simulator.html", people=people)


@bp.post("/send")
def send():
    data = request.get_json(silent=True) or {}
    phone, body = str(data.get("phone", "")), str(data.get("body", ""))
    if not phone:
        return jsonify(error="pick a phone"), 400
    app = faro()
    result = receive(
        app.sessions,
        utcnow(),
        sid=f"SIM{secrets.token_hex(16)}",
        from_address=phone,
        body=body,
        config=app.settings.domain,
        wake=app.wake,
    )
    return jsonify(reply=result.reply)


@bp.get("/messages")
def messages():
    """The chosen phone's conversation and every message the console sent, newest first."""
    phone = request.args.get("phone", "")
    with faro().sessions() as session:
        names = dict(session.execute(select(Person.phone, Person.name)).tuples().all())
        sent = session.scalars(
            select(OutboundMessage)
            .where(
                or_(OutboundMessage.sent_at.is_not(None), OutboundMessage.failed_at.is_not(None))
            )
            .order_by(OutboundMessage.id.desc())
            .limit(SHOWN)
        ).all()
        inbound = session.scalars(
            select(InboundMessage)
            .where(InboundMessage.phone == phone)
            .order_by(InboundMessage.id.desc())
            .limit(SHOWN)
        ).all()
    return jsonify(
        conversation=_conversation(inbound, [m for m in sent if m.to_phone == phone]),
        outbox=[_outbound(m, names) for m in sent],
    )


def _outbound(message: OutboundMessage, names: dict[str, str]) -> dict:
    return {
        "at": (message.sent_at or message.failed_at).isoformat(),
        "to": message.to_phone,
        "name": names.get(message.to_phone, ""),
        "channel": message.channel,
        "kind": message.kind,
        "body": message.body,
        "status": outbound_status(message),
    }


def _conversation(inbound: list[InboundMessage], outbound: list[OutboundMessage]) -> list[dict]:
    # (time, order) sorts a reply just after the text it answers, which shares its timestamp.
    items = []
    for message in inbound:
        items.append((message.received_at, 0, {"from": "me", "body": message.body}))
        if message.reply:
            items.append((message.received_at, 1, {"from": "faro", "body": message.reply}))
    for message in outbound:
        items.append(
            (message.sent_at or message.failed_at, 1, {"from": "faro", "body": message.body})
        )
    items.sort(key=lambda item: item[:2], reverse=True)
    return [{"at": at.isoformat(), **item} for at, _order, item in items[:SHOWN]]
