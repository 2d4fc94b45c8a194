"""Texts from numbers Faro does not know, or from people no longer active on the roster.

An intern may write from a borrowed phone, or from her own after she was deactivated: words
of danger from such a number are never met with silence. Each one is answered with 911
advice, and the administrators get the number and the words (at most once every ten minutes
per number, so that a frightened stream of texts is not a stream of texts to them). Anything
else gets one neutral reply a day that says nothing about anyone. A call to Faro's number
from such a number hears the same 911 advice and may press 9 for the same alert
(`emergency(by_call=True)`, from bot.conversation.calls).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversation import interpret as i
from escalation.base.config import DomainConfig
from escalation.base.messages import render
from escalation.base.models import PRIORITY_CRITICAL, InboundMessage, Person
from escalation.base.schedule import hhmm
from escalation.base.timeline import queue, record

if TYPE_CHECKING:
    from bot.conversation.inbound import Claimed

log = logging.getLogger(__name__)

NEUTRAL_REPLY_EVERY = timedelta(hours=24)
ADMINS_EVERY = timedelta(minutes=10)
# Intents written on the stored message; the throttles read them back.
UNKNOWN_SENDER = "unknown_sender"
UNKNOWN_SOS = "unknown_sos"  # administrators texted
UNKNOWN_SOS_AGAIN = "unknown_sos_again"  # within ten minutes of the last one: answered only


def answer(
    session: Session,
    now: datetime,
    message: Claimed,
    person: Person | None,
    config: DomainConfig,
) -> tuple[str | None, str]:
    """(reply, intent) for a text from an unknown number or an inactive person."""
    log.warning("text from unknown or inactive number %s (message %s)",
                message.from_address, message.id)  # fmt: skip
    if i.interpret(message.body).kind == i.EMERGENCY:
        return emergency(session, now, message, person, config)
    record(session, now, "unknown_sender", message_id=message.id,
           phone=message.phone or message.from_address)  # fmt: skip
    if message.phone is None or _earlier(session, now, message, None, NEUTRAL_REPLY_EVERY):
        return None, UNKNOWN_SENDER
    return render("unknown_sender", person.language if person else "es"), UNKNOWN_SENDER


def emergency(
    session: Session,
    now: datetime,
    message: Claimed,
    person: Person | None,
    config: DomainConfig,
    *,
    by_call: bool = False,
) -> tuple[str, str]:
    """(reply, intent) for an emergency from an unknown or inactive number: words of danger
    in a text, or the emergency key on a call to Faro (`by_call`; the reply is then spoken).
    Texts and calls share the administrators' ten minutes."""
    told = _earlier(session, now, message, UNKNOWN_SOS, ADMINS_EVERY)
    phone = message.phone or message.from_address
    record(session, now, "unknown_emergency", person=person, message_id=message.id,
           phone=phone, admins_told=not told)  # fmt: skip
    log.error("emergency words from unknown or inactive number %s (message %s)", phone, message.id)
    if not told:
        facts = {
            "phone": phone,
            "name": person.name if person else None,
            "at": hhmm(now, person.timezone if person else config.default_timezone),
        }
        if by_call:
            body = render("unknown_call_admin", "es", **facts)
        else:
            body = render("unknown_emergency_admin", "es", words=" ".join(message.body.split()),
                          **facts)  # fmt: skip
        for admin in config.admin_phones:
            queue(session, now, kind="unknown_emergency", body=body, phone=admin,
                  priority=PRIORITY_CRITICAL)  # fmt: skip
    template = "call_unknown_sos" if by_call else "unknown_emergency"
    reply = render(template, person.language if person else "es")
    return reply, UNKNOWN_SOS_AGAIN if told else UNKNOWN_SOS


def _earlier(session, now, message, intent: str | None, within: timedelta) -> bool:
    """Whether this number had a text within `within` with `intent` (None: any replied one)."""
    sender = (
        InboundMessage.phone == message.phone
        if message.phone
        else InboundMessage.from_address == message.from_address
    )
    which = InboundMessage.reply.is_not(None) if intent is None else InboundMessage.intent == intent
    found = session.scalar(
        select(InboundMessage.id)
        .where(
            sender,
            which,
            InboundMessage.id != message.id,
            InboundMessage.received_at >= now - within,
        )  # fmt: skip
        .limit(1)
    )
    return found is not None
