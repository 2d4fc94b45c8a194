"""A ping or reminder that could not be delivered: her other channel, else "unreachable".

escalation/delivery.py calls `follow_up_failed` for every message that failed for good (at
send time, or Twilio's status callback said so); only pings and reminders are followed up.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.answers import pending_checkin
from escalation.base.models import SMS, WHATSAPP, InboundMessage, OutboundMessage, Person
from escalation.base.timeline import claim_follow_up, queue, record
from escalation.deadlines import REMINDER
from escalation.pings import PING

FOLLOWED_KINDS = (PING, REMINDER)


def follow_up_failed(session: Session, now: datetime, message: OutboundMessage) -> None:
    """A ping or reminder failed for good (at send time, or Twilio's callback said so): the
    same text at once on her other channel (WhatsApp → SMS always; SMS → WhatsApp when she
    has written to us on WhatsApp); when that fails too, or there is none, her check-in's
    deadline moves to now and the deadline step opens an *unreachable* incident (nurse and
    buddies) instead of waiting for the deadline. Once per message, however many report it."""
    if message.kind not in FOLLOWED_KINDS or message.person_id is None:
        return
    if not claim_follow_up(session, message):
        return
    intern = session.get(Person, message.person_id)
    other = _other_channel(session, intern, message)
    if other is not None:
        retry = queue(session, now, kind=message.kind, body=message.body, person=intern,
                      channel=other)  # fmt: skip
        retry.failover_of_id = message.id
        retry.checkin_id, retry.send_by = message.checkin_id, message.send_by
        record(session, now, "checkin_failover", person=intern, message_id=message.id,
               channel=other, code=message.error_code)  # fmt: skip
        return
    _unreachable(session, now, intern, message)


def _unreachable(session: Session, now: datetime, intern: Person, message: OutboundMessage) -> None:
    """No channel left: her pending check-in's deadline is now (the deadline step then opens
    an *unreachable* incident), and she is marked unreachable since her first failure."""
    if intern.unreachable_since is None:
        intern.unreachable_since = now
    pending = pending_checkin(session, intern, now)
    if pending is not None and pending.escalate_at is not None and pending.escalate_at > now:
        pending.escalate_at = now
        pending.remind_at = None
    record(session, now, "checkin_undeliverable", person=intern, message_id=message.id,
           channel=message.channel, code=message.error_code)  # fmt: skip


def _other_channel(session: Session, intern: Person, message: OutboundMessage) -> str | None:
    if message.failover_of_id is not None:
        return None  # the failover itself failed
    if message.channel == WHATSAPP:
        return SMS
    used_whatsapp = session.scalar(
        select(InboundMessage.id)
        .where(InboundMessage.phone == intern.phone, InboundMessage.channel == WHATSAPP)
        .limit(1)
    )
    return WHATSAPP if used_whatsapp is not None else None
