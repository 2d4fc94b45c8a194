"""One scheduler pass: small steps, each claiming its rows (one, or a small batch), looped
until idle.

APScheduler only triggers this; all durable state is in our tables, so any number of
processes may tick against one PostgreSQL. The pass takes its list of steps from its caller
(the edge composes the domain's steps with the conversation's retry of failed inbound texts),
so this module names no floor above the domain.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from escalation import deadlines, engine, heartbeat, pauses, pings, trips, wellbeing
from escalation.base.db import transaction
from escalation.base.models import Heartbeat

log = logging.getLogger(__name__)

MAX_UNITS = 100_000  # per step and pass: a runaway step cannot hold the pass forever


@dataclass(frozen=True)
class Step:
    """One kind of due work. `fn(session, now, config)` claims and handles what is due and
    says how much (True: one unit; False or 0: nothing was due). With `batch` > 1 it is called
    with `limit=batch` units per transaction, and a failed batch is redone one unit at a time,
    so one poisoned row (or a race lost to a unique constraint) costs only itself."""

    name: str
    fn: Callable[..., bool | int]
    batch: int = 1


# First: the heartbeat row still holds the previous pass, so an outage is noticed here.
RESUME = Step("resumed", heartbeat.handle_one_resume)
# The domain's due work, in the order a pass handles it.
DUE_WORK = (
    Step("pings", pings.handle_some_due_pings, pings.PING_BATCH),
    Step("reminders", deadlines.handle_some_reminders, deadlines.REMINDER_BATCH),
    Step("missed", deadlines.handle_some_deadlines, deadlines.DEADLINE_BATCH),
    Step("trip_asks", trips.handle_one_trip_ask),
    Step("trips_overdue", trips.handle_one_trip_overdue),
    Step("pauses", pauses.handle_one_pause_notice),
    Step("ack_checks", engine.handle_one_ack_check),
    Step("escalation", engine.handle_one_due_step),
    Step("failovers", engine.handle_one_failed_alert),
    Step("moods", wellbeing.handle_some_due_moods, wellbeing.MOOD_BATCH),
    Step("questionnaires", wellbeing.handle_one_due_phq),
    Step("questions_expired", wellbeing.handle_one_expired_question),
)


def tick(
    sessions: sessionmaker[Session], now: datetime, config: Any, steps: Sequence[Step]
) -> dict[str, int]:
    """Run every step until none has work; returns how many units each step handled."""
    done = {}
    # One connection for the whole pass, still a transaction per unit of work: a checkout per
    # transaction (PostgreSQL's pre-ping and reset round trips) was most of an idle tick.
    with sessions.kw["bind"].connect() as connection:
        on_it = partial(sessions, bind=connection)
        for step in steps:
            done[step.name] = _loop(on_it, now, step, config)
        with transaction(on_it) as session:
            record_heartbeat(session, now)
    return done


def _loop(sessions: sessionmaker[Session], now: datetime, step: Step, config: Any) -> int:
    count, singles = 0, 0  # singles: after a failed batch, units to redo one per transaction
    while count < MAX_UNITS:
        limit = 1 if singles else step.batch
        try:
            with transaction(sessions) as session:
                args = {"limit": limit} if step.batch > 1 else {}
                handled = int(step.fn(session, now, config, **args))
        except Exception as exc:
            if isinstance(exc, DBAPIError) and exc.connection_invalidated:
                raise  # the database went away: the pass ends here (its caller says so once)
            if step.batch > 1 and not singles:
                log.warning("tick step %s failed on a batch; redoing it one by one", step.name,
                            exc_info=True)  # fmt: skip
                singles = step.batch
                continue
            # One poisoned row must not stop the pass; it is logged and the others go on.
            log.exception("tick step %s failed", step.name)
            return count
        singles = max(0, singles - 1)
        if not handled:
            return count
        count += handled
    return count


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


def last_tick(session: Session) -> datetime | None:
    return session.scalar(select(Heartbeat.last_tick_at).where(Heartbeat.id == 1))
