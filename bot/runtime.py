"""The per-process wiring: settings, engine, sessions, transport, dispatcher and scheduler."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from bot import spool
from bot.config import Settings
from bot.conversation.retry import RETRY_INBOUND
from bot.outbox import Dispatcher, dispatch_due
from bot.spool import Spool
from bot.transports import make_transport
from escalation.base.db import make_engine, make_sessionmaker, transaction, utcnow
from escalation.base.timeline import wake_on_commit
from escalation.tick import DUE_WORK, RESUME, tick

log = logging.getLogger(__name__)
INSTANCE = Path(__file__).resolve().parents[1] / "instance"  # Flask's instance folder for app.py

# A scheduler pass: the outage check first (the heartbeat still holds the last pass), then the
# texts whose first processing failed, then the domain's due work.
STEPS = (RESUME, RETRY_INBOUND, *DUE_WORK)


class Faro:
    def __init__(self, settings: Settings, transport=None, *, instance: Path = INSTANCE):
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.sessions: sessionmaker[Session] = make_sessionmaker(self.engine)
        self.transport = transport or make_transport(settings)
        self.dispatcher = Dispatcher(self.dispatch)
        self.scheduler = None
        self.spool = Spool(spool.directory_for(instance, settings.database_url))
        self.replayer = spool.Replayer(self.replay_spool, self.spool.pending)
        if self.spool.pending():  # texts a previous run could not store
            self.replayer.start()

    def replay_spool(self) -> int:
        """Store and act on the texts the webhook spooled while the database was away."""
        return spool.replay(self.spool, self.sessions, self.settings.domain, self.wake)

    def wake(self, urgent: bool = False) -> None:
        """After a commit that queued messages to leave at once: the dispatcher sends them now
        rather than at the next tick (every message, so `urgent` changes nothing today)."""
        self.dispatcher.nudge()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A request's unit of work whose queued messages leave as soon as it commits."""
        with transaction(self.sessions) as session:
            wake_on_commit(session, self.wake)
            yield session

    def callback_url(self, message_id: int) -> str | None:
        if self.transport.name != "twilio":
            return None
        return f"{self.settings.public_base_url}/twilio/status?id={message_id}"

    def dispatch(self, now: datetime | None = None, patience: float | None = None) -> int:
        """Send what is due as of `now` (default: the clock), at the sender's pace; waiting
        for its sending slots at most `patience` seconds (None: until nothing is due)."""
        clock = utcnow if now is None else (lambda: now)
        return dispatch_due(
            self.sessions,
            self.transport,
            clock=clock,
            callback_url=self.callback_url,
            config=self.settings.domain,
            mps=self.settings.sender_mps,
            patience=patience,
        )

    def run_pass(self, now: datetime | None = None, patience: float | None = None) -> dict:
        """One scheduler pass as of `now` (default: the clock), then the outbox as of the same
        instant: what `flask tick`, the scheduler and the tests run. The scheduler loop gives
        the outbox little `patience`, so a long queue at a slow sender does not hold up the
        next pass: the dispatcher thread sends the rest (bot/scheduler.py)."""
        done = tick(self.sessions, now or utcnow(), self.settings.domain, STEPS)
        done["sent"] = self.dispatch(now, patience)
        return done

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        self.replayer.stop()
        self.dispatcher.stop()
        if hasattr(self.transport, "close"):
            self.transport.close()
        self.engine.dispose()


def faro() -> Faro:
    return current_app.extensions["faro"]
