"""The phone simulator (console transport only): be any roster phone, see what Faro answers.

Texts go through the same code path as the Twilio webhook (`bot.conversation.inbound.receive`),
minus the signature, which only Twilio can produce. It is off with the Twilio transport: with
real phones in the roster it would let anyone speak for them.

It reads like a phone: the chosen phone's conversation oldest first, Faro's direct replies
(the answer to a text, which never enters the outbox) told apart from what it sent later
(pings, alerts, notices), and a call shown as a call. "Everything Faro sent" is all of it,
direct replies included, newest first.

Calls to Faro's number too: a missed call, or a call with keys pressed (none: she stays
silent), played through the voice webhook's own steps (`bot.calls.on_call`, `on_key`,
`on_menu`) by following the TwiML they answer as Twilio would, minutes of silence
included; the page shows what Faro said on the call. One clock: every time is formatted here, on the
server, in the chosen person's zone (the default zone for a phone not in the roster).
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, abort, jsonify, render_template, request
from sqlalchemy import or_, select

from bot import calls
from bot.conversation.calls import CHECKIN, SILENT
from bot.conversation.inbound import receive
from bot.runtime import faro
from escalation.base.channels import CHANNELS
from escalation.base.db import utcnow
from escalation.base.models import (
    VOICE,
    InboundMessage,
    OutboundMessage,
    Person,
    outbound_status,
)
from escalation.base.schedule import day_and_time

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
SHOWN = 100
DIRECT_REPLY = "reply"  # the kind a direct reply is listed under (a late one is an outbox "reply")
CALL_KEYS = 6  # keys one simulated call may press
CALL_STEPS = 10  # webhook requests one simulated call may make (a real one ends sooner)


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


@bp.post("/call")
def call():
    """A call to Faro's number: `missed` hangs up as soon as Faro answers (a rejected call
    never is); otherwise `keys` are pressed one per menu, and with none left she stays on
    the line in silence. Returns what Faro said and whether it rejected the call."""
    data = request.get_json(silent=True) or {}
    phone = str(data.get("phone", ""))
    if not phone:
        return jsonify(error="pick a phone"), 400
    keys = [k for k in str(data.get("keys", "")) if k.isdigit() or k in "*#"][:CALL_KEYS]
    return jsonify(play_call(phone, keys, missed=bool(data.get("missed"))))


def play_call(phone: str, keys: list[str], *, missed: bool) -> dict:
    sid = f"SIMCA{secrets.token_hex(14)}"
    said: list[str] = []
    pressed: list[str] = []
    response = calls.on_call(sid, phone)
    for _step in range(CALL_STEPS):
        root = ET.fromstring(response.get_data(as_text=True))
        if root.find("Reject") is not None:
            return {"rejected": True, "said": said, "pressed": ""}
        follow = _heard(root, said, keys, pressed, missed)
        if follow is None:
            break
        response = _request(sid, phone, *follow)
    return {"rejected": False, "said": said, "pressed": "".join(pressed)}


def _heard(root, said: list[str], keys: list[str], pressed: list[str], missed: bool):
    """Listen to one TwiML answer, as Twilio plays it: (where to go next, key) or None."""
    for verb in root:
        if verb.tag == "Gather" and missed:
            return None  # she hangs up as soon as Faro answers
        said += [say.text for say in verb.iter("Say") if say.text]
        if verb.tag == "Gather":
            if keys:
                pressed.append(keys.pop(0))
                return verb.get("action"), pressed[-1]
        elif verb.tag == "Redirect":
            return verb.text, ""
        elif verb.tag == "Hangup":
            return None
    return None


def _request(sid: str, phone: str, url: str, key: str):
    parts = urlsplit(url)
    attempt = int(parse_qs(parts.query).get("attempt", ["1"])[0])
    if parts.path.endswith("/gather"):
        return calls.on_key(sid, phone, key, attempt)
    return calls.on_menu(sid, phone, attempt)


@bp.get("/messages")
def messages():
    """The chosen phone's conversation (oldest first) and everything Faro sent (newest first),
    every time in that person's zone."""
    phone = request.args.get("phone", "")
    app = faro()
    with app.sessions() as session:
        people = {p.phone: p for p in session.scalars(select(Person))}
        person = people.get(phone)
        zone = person.timezone if person else app.settings.default_timezone
        left = or_(OutboundMessage.sent_at.is_not(None), OutboundMessage.failed_at.is_not(None))
        sent = session.scalars(
            select(OutboundMessage).where(left).order_by(OutboundMessage.id.desc()).limit(SHOWN)
        ).all()
        replied = session.scalars(
            select(InboundMessage)
            .where(InboundMessage.reply.is_not(None))
            .order_by(InboundMessage.id.desc())
            .limit(SHOWN)
        ).all()
        inbound = session.scalars(
            select(InboundMessage)
            .where(InboundMessage.phone == phone)
            .order_by(InboundMessage.id.desc())
            .limit(SHOWN)
        ).all()
        to_phone = session.scalars(
            select(OutboundMessage)
            .where(left, OutboundMessage.to_phone == phone)
            .order_by(OutboundMessage.id.desc())
            .limit(SHOWN)
        ).all()
        names = {number: p.name for number, p in people.items()}
        return jsonify(
            phone=phone,
            name=person.name if person else "",
            zone=zone,
            conversation=_conversation(inbound, to_phone, zone),
            outbox=_outbox(sent, replied, names, zone),
        )


def _when(instant: datetime, zone: str) -> dict:
    return {"at": instant.isoformat(), "time": day_and_time(instant, zone)}


def _is_call(channel: str) -> bool:
    known = CHANNELS.get(channel)
    return known is not None and not known.text


def _faro_said(message: OutboundMessage) -> dict:
    """What Faro sent later (not as the answer to a text): a text, or a call and its script."""
    return {
        "from": "faro",
        "body": message.body,
        "kind": message.kind,
        "channel": message.channel,
        "status": outbound_status(message),
        "direct": False,
        "call": _is_call(message.channel),
    }


def _direct_reply(message: InboundMessage) -> dict:
    """Faro's answer to a text, given in the same exchange (TwiML, or here the simulator);
    on a call to Faro's number, what Faro said on it."""
    return {
        "from": "faro",
        "body": message.reply,
        "kind": DIRECT_REPLY,
        "channel": message.channel,
        "status": "sent",
        "direct": True,
        "call": message.channel == VOICE,
    }


def _theirs(message: InboundMessage) -> dict:
    """What the phone sent: a text, or a step of a call to Faro's number."""
    if message.channel != VOICE:
        return {"from": "me", "body": message.body}
    if message.intent == CHECKIN:
        body = "Missed call (rejected: her check-in)"
    elif message.body:
        body = f"Pressed {message.body}"
    elif message.intent == SILENT:
        body = "Stayed silent"
    else:
        body = "Called Faro"
    return {"from": "me", "body": body, "call": True}


def _conversation(
    inbound: list[InboundMessage], outbound: list[OutboundMessage], zone: str
) -> list[dict]:
    """The newest SHOWN texts both ways and calls, oldest first, as a phone shows them."""
    # (time, order, id) sorts a reply just after the text it answers, which shares its time.
    items = []
    for message in inbound:
        items.append((message.received_at, 0, message.id, _theirs(message)))
        if message.reply is not None:
            items.append((message.received_at, 1, message.id, _direct_reply(message)))
    for message in outbound:
        items.append((message.sent_at or message.failed_at, 2, message.id, _faro_said(message)))
    items.sort(key=lambda item: item[:3])
    return [_when(at, zone) | item for at, _order, _id, item in items[-SHOWN:]]


def _outbox(
    sent: list[OutboundMessage], replied: list[InboundMessage], names: dict[str, str], zone: str
) -> list[dict]:
    """Everything Faro sent to anyone, its direct replies included, newest first."""
    items = []
    for message in sent:
        items.append(
            (
                message.sent_at or message.failed_at,
                1,
                message.id,
                message.to_phone,
                _faro_said(message),
            )
        )
    for message in replied:
        to = message.phone or message.from_address
        items.append((message.received_at, 0, message.id, to, _direct_reply(message)))
    items.sort(key=lambda item: item[:3], reverse=True)
    rows = []
    for at, _order, _id, to, item in items[:SHOWN]:
        item = {key: value for key, value in item.items() if key != "from"}
        rows.append(_when(at, zone) | {"to": to, "name": names.get(to, "")} | item)
    return rows
