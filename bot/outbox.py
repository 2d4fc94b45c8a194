"""The outbox dispatcher: claim one due message, send it outside any transaction, record the result.

Claims are conditional UPDATEs (rowcount 1 or someone else has it), with `FOR UPDATE SKIP
LOCKED` on PostgreSQL so concurrent dispatchers pick different rows instead of queueing on the
same one. A claim lasts CLAIM_SECONDS: if a dispatcher dies mid-send its message is picked up
again (sending is at-least-once; every other path is exactly once).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.transports import Envelope, TransportError
from escalation.db import is_postgres, transaction
from escalation.delivery import on_delivery_failed
from escalation.models import OutboundMessage
from escalation.timeline import record

log = logging.getLogger(__name__)

CLAIM_SECONDS = 60
MAX_ATTEMPTS = 12
BACKOFF_BASE = 5.0  # seconds; doubles per attempt, with jitter, capped
BACKOFF_CAP = 600.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter (so a Twilio outage does not end in a stampede)."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))


def _due(now: datetime):
    return (
        OutboundMessage.next_attempt_at.is_not(None),
        OutboundMessage.next_attempt_at <= now,
        or_(OutboundMessage.claimed_until.is_(None), OutboundMessage.claimed_until < now),
    )


def claim_one(session: Session, now: datetime, worker: str) -> OutboundMessage | None:
    """Claim the most urgent due message, or return None when nothing is due."""
    query = (
        select(OutboundMessage.id)
        .where(*_due(now))
        .order_by(OutboundMessage.priority.desc(), OutboundMessage.next_attempt_at)
        .limit(1)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    message_id = session.scalar(query)
    if message_id is None:
        return None
    claimed = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id, *_due(now))
        .values(
            claimed_by=worker,
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
            attempts=OutboundMessage.attempts + 1,
        )
    ).rowcount
    return session.get(OutboundMessage, message_id) if claimed == 1 else None


def handle_one_outbound(
    sessions: sessionmaker[Session],
    transport,
    *,
    now: datetime,
    worker: str,
    callback_url: Callable[[int], str | None] = lambda _id: None,
    settings: Any = None,
) -> bool:
    """Send one due message. Returns whether there was one to send."""
    with transaction(sessions) as session:
        message = claim_one(session, now, worker)
        if message is None:
            return False
        envelope = Envelope(
            message.id,
            message.channel,
            message.to_phone,
            message.body,
            callback_url(message.id),
            message.content_sid,
            message.content_variables,
        )
        attempts = message.attempts
    try:
        provider_id = transport.send(envelope)
    except TransportError as exc:
        _failed(sessions, now, envelope, attempts, exc, settings)
    except Exception as exc:  # a bug or an SDK surprise must not lose the message: retry it
        log.exception("transport crashed on message %s", envelope.id)
        crash = TransportError(f"transport crashed: {exc!r}")
        _failed(sessions, now, envelope, attempts, crash, settings)
    else:
        _sent(sessions, now, envelope.id, provider_id, worker)
    return True


def _sent(sessions, now: datetime, message_id: int, provider_id: str, worker: str) -> None:
    with transaction(sessions) as session:
        message = session.get(OutboundMessage, message_id)
        message.sent_at = now
        message.provider_sid = provider_id
        message.next_attempt_at = None
        message.claimed_by = message.claimed_until = None
        message.error_code = message.error_message = None
        record(session, now, "sent", **_about(message), provider_sid=provider_id)


def _failed(
    sessions, now: datetime, envelope: Envelope, attempts: int, exc: TransportError, settings
) -> None:
    final = exc.permanent or attempts >= MAX_ATTEMPTS
    with transaction(sessions) as session:
        message = session.get(OutboundMessage, envelope.id)
        message.error_code = exc.code
        message.error_message = exc.reason[:500]
        message.claimed_by = message.claimed_until = None
        if final:
            message.failed_at = now
            message.next_attempt_at = None
            record(
                session,
                now,
                "send_failed",
                **_about(message),
                code=exc.code,
                reason=exc.reason[:200],
            )
            log.error("message %s to %s failed for good: %s", envelope.id, envelope.to, exc.reason)
            # What the failure means (another channel, an incident, a flag) is the domain's
            # call, committed with the failure itself.
            on_delivery_failed(session, now, message, settings)
        else:
            message.next_attempt_at = now + backoff(attempts)
            log.warning(
                "message %s to %s will be retried (attempt %s): %s",
                envelope.id,
                envelope.to,
                attempts,
                exc.reason,
            )


def _about(message: OutboundMessage) -> dict:
    return {
        "person_id": message.person_id,
        "incident_id": message.incident_id,
        "message_id": message.id,
    }


def dispatch_due(
    sessions: sessionmaker[Session],
    transport,
    *,
    clock: Callable[[], datetime],
    callback_url: Callable[[int], str | None] = lambda _id: None,
    settings: Any = None,
    limit: int = 100_000,
) -> int:
    """Send due messages until none is left (or `limit`); returns how many were handled."""
    worker = worker_name()
    count = 0
    options = {"worker": worker, "callback_url": callback_url, "settings": settings}
    while count < limit and handle_one_outbound(sessions, transport, now=clock(), **options):
        count += 1
    return count


class Dispatcher:
    """A per-process sender thread, woken after a commit that queued messages.

    The webhook never sends: it commits its outbox rows and nudges this thread, so a critical
    alert leaves within milliseconds instead of waiting for the next tick.
    """

    def __init__(self, drain: Callable[[], int]):
        self._drain = drain
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def nudge(self) -> None:
        self._idle.clear()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="faro-dispatcher", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until everything nudged so far has been handled (tests, graceful shutdown)."""
        return self._idle.wait(timeout)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait()
            self._wake.clear()
            try:
                self._drain()
            except Exception:  # the thread must survive a database hiccup; the tick retries
                log.exception("dispatcher pass failed")
            if not self._wake.is_set():
                self._idle.set()
