"""One scheduler pass: small steps, each claiming its rows (one, or a small batch), looped
until idle.

APScheduler only triggers this; all durable state is in our tables, so any number of
processes may tick against one PostgreSQL.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.conversation.inbound import reply_later
from escalation.base.db import skip_locked, transaction
from escalation.base.models import Heartbeat, InboundMessage

log = logging.getLogger(__name__)

# A stored message still unprocessed after this long had its first processing fail: the
# webhook's own second step runs within milliseconds of storing it.
RETRY_INBOUND_AFTER = timedelta(minutes=2)
MAX_STEPS = 100_000

# A step handles due work and says how much it did (True: one unit; False or 0: none was due):
# (session, now, settings). A batched step also takes `limit`, the units per transaction.
Step = Callable[..., bool | int]


def handle_one_unprocessed_inbound(session: Session, now: datetime, settings: Any) -> bool:
    query = (
        select(InboundMessage.id)
        .where(
            InboundMessage.processed_at.is_(None),
            InboundMessage.received_at <= now - RETRY_INBOUND_AFTER,
        )
        .order_by(InboundMessage.received_at)
        .limit(1)
    )
    message_id = session.scalar(skip_locked(query, session))
    if message_id is None:
        return False
    log.warning("processing inbound message %s again after a failure", message_id)
    return reply_later(session, now, message_id, settings.admin_phones) or True


def record_heartbeat(session: Session, now: datetime) -> None:
    updated = session.execute(
        update(Heartbeat).where(Heartbeat.id == 1).values(last_tick_at=now)
    ).rowcount
    if updated == 0:  # the very first tick; two racing first ticks both end with one row
        try:
            with session.begin_nested():
                session.add(Heartbeat(id=1, last_tick_at=now))
        except IntegrityError:
            session.execute(update(Heartbeat).where(Heartbeat.id == 1).values(last_tick_at=now))


def steps() -> dict[str, Step]:
    """Every kind of due work, in the order a pass handles them."""
    from escalation import checkins, engine, heartbeat, pauses, trips, wellbeing

    return {
        "resumed": heartbeat.handle_one_resume,  # first: the heartbeat is still the old one
        "inbound": handle_one_unprocessed_inbound,
        "pings": checkins.handle_some_due_pings,
        "reminders": checkins.handle_some_reminders,
        "missed": checkins.handle_some_deadlines,
        "trip_asks": trips.handle_one_trip_ask,
        "trips_overdue": trips.handle_one_trip_overdue,
        "pauses": pauses.handle_one_pause_notice,
        "ack_checks": engine.handle_one_ack_check,
        "escalation": engine.handle_one_due_step,
        "failovers": engine.handle_one_failed_alert,
        "questionnaires": wellbeing.handle_one_due_phq,
        "questions_expired": wellbeing.handle_one_expired_question,
    }


def tick(sessions: sessionmaker[Session], now: datetime, settings: Any) -> dict[str, int]:
    """Run every step until none has work; returns how many units each step handled.

    `settings` is bot.config.Settings (administrators' phones, WhatsApp templates …)."""
    done = {}
    # One connection for the whole pass, still a transaction per unit of work: a checkout per
    # transaction (PostgreSQL's pre-ping and reset round trips) was most of an idle tick.
    with sessions.kw["bind"].connect() as connection:
        on_it = partial(sessions, bind=connection)
        for name, step in steps().items():
            done[name] = _loop(on_it, now, step, settings)
        with transaction(on_it) as session:
            record_heartbeat(session, now)
    return done


def _loop(sessions: sessionmaker[Session], now: datetime, step: Step, settings: Any) -> int:
    count = 0
    batch = inspect.signature(step).parameters.get("limit")
    singles = 0  # after a failed batch: units to redo one per transaction
    while count < MAX_STEPS:
        try:
            with transaction(sessions) as session:
                if singles:
                    handled = int(step(session, now, settings, limit=1))
                    singles -= 1
                else:
                    handled = int(step(session, now, settings))
        except Exception:
            if batch is not None and not singles:
                # A batch shares one transaction: its units are redone one by one, so one
                # poisoned row (or a race lost to a unique constraint) costs only itself.
                log.warning("tick step failed on a batch; redoing it one by one", exc_info=True)
                singles = batch.default
                continue
            # One poisoned row must not stop the pass; it is logged and the others go on.
            log.exception("tick step failed")
            return count
        if not handled:
            return count
        count += handled
    return count


def last_tick(session: Session) -> datetime | None:
    return session.scalar(select(Heartbeat.last_tick_at).where(Heartbeat.id == 1))
