"""What a failed delivery means, by what the message was for.

Twilio's status callback (bot/webhook.py) calls `on_delivery_failed` in the same transaction
that records the status, so the follow-up (the same text on another channel, an incident, a
flag for the administrators) is committed with it and leaves through the outbox.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from escalation.base.config import DomainConfig
from escalation.base.models import OutboundMessage, Person
from escalation.optout import BY_CARRIER, CARRIER_OPTED_OUT, opt_out
from escalation.ping_failures import FOLLOWED_KINDS, follow_up_failed

log = logging.getLogger(__name__)


def on_delivery_failed(
    session: Session, now: datetime, message: OutboundMessage, config: DomainConfig
) -> None:
    """Called once per message, when Twilio first reports it failed or undelivered."""
    log.warning(
        "delivery of %s message %s to %s failed (%s)",
        message.kind,
        message.id,
        message.to_phone,
        message.error_code,
    )
    if message.error_code == CARRIER_OPTED_OUT and message.person_id is not None:
        # She blocked us at the carrier: opted out, not unreachable. Alerts to a responder
        # still fail over (a call reaches her); a ping is not tried again.
        person = session.get(Person, message.person_id)
        opt_out(session, now, person, via=BY_CARRIER, config=config)
        if message.kind in FOLLOWED_KINDS:
            return
    if message.kind in FOLLOWED_KINDS:  # a check-in ping: other channel, or "unreachable" early
        follow_up_failed(session, now, message)
    if message.kind == "alert":  # an escalation alert: the same person by her next channel
        from escalation.engine import fail_over

        fail_over(session, now, message, config)
