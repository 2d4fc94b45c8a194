"""The conversation's own due work: a stored text whose first processing failed.

The webhook commits every text before acting on it, so nothing an intern sent is lost when
the second step fails; this tick step processes such a text again and answers through the
outbox (`inbound.reply_later`). A call to Faro's number is stored the same way and acted on
again by `calls.act_later`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversation import calls
from bot.conversation.inbound import reply_later
from escalation.base.db import skip_locked
from escalation.base.models import VOICE, InboundMessage
from escalation.tick import Step

log = logging.getLogger(__name__)

# A stored message still unprocessed after this long had its first processing fail: the
# webhook's own second step runs within milliseconds of storing it.
RETRY_INBOUND_AFTER = timedelta(minutes=2)


def handle_one_unprocessed_inbound(session: Session, now: datetime, config: Any) -> bool:
    query = (
        select(InboundMessage.id, InboundMessage.channel)
        .where(
            InboundMessage.processed_at.is_(None),
            InboundMessage.received_at <= now - RETRY_INBOUND_AFTER,
        )
        .order_by(InboundMessage.received_at)
        .limit(1)
    )
    found = session.execute(skip_locked(query, session)).first()
    if found is None:
        return False
    message_id, channel = found
    log.warning("processing inbound message %s again after a failure", message_id)
    if channel == VOICE:
        calls.act_later(session, now, message_id, config)
    else:
        reply_later(session, now, message_id, config)
    return True


RETRY_INBOUND = Step("inbound", handle_one_unprocessed_inbound)
