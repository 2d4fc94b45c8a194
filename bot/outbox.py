"""The outbox dispatcher: claim a few due messages, send them outside any transaction, record
the results.

Claims are one conditional UPDATE over a small batch (rows still due, so a row another
dispatcher claimed meanwhile is left out; RETURNING says which we got), with `FOR UPDATE SKIP
LOCKED` on PostgreSQL so concurrent dispatchers pick different rows instead of queueing on the
same ones. A claim lasts CLAIM_SECONDS: if a dispatcher dies mid-send its messages are picked up
again (sending is at-least-once; every other path is exactly once). A batch is small and stops
sending after BATCH_SECONDS, releasing the rest, so a crash re-sends little and a critical
message queued meanwhile waits for at most one slice: the next claim takes it first.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.transports import Envelope, TransportError
from escalation.base.config import NO_CONFIG, DomainConfig
from escalation.base.db import skip_locked, transaction
from escalation.base.models import OutboundMessage
from escalation.base.timeline import event_row, record, record_many
from escalation.delivery import on_delivery_failed

log = logging.getLogger(__name__)

CLAIM_SECONDS = 60
MAX_ATTEMPTS = 12
BACKOFF_BASE = 5.0  # seconds; doubles per attempt, with jitter, capped
BACKOFF_CAP = 600.0
# Messages claimed per transaction, and how long a batch may spend sending before it hands the
# rest back (through Twilio a send takes ~100-300 ms, so a slice is a few messages; with the
# console transport it is the whole batch).
BATCH = 50
BATCH_SECONDS = 0.5

_table = OutboundMessage.__table__


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter (so a Twilio outage does not end in a stampede)."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))


def _due(now: datetime):
    return (
        _table.c.next_attempt_at.is_not(None),
        _table.c.next_attempt_at <= now,
        or_(_table.c.claimed_until.is_(None), _table.c.claimed_until < now),
    )


def claim_batch(session: Session, now: datetime, token: str, limit: int = BATCH) -> list:
    """Claim up to `limit` due messages, most urgent first; `token` (worker + nonce) marks
    this batch's claims. Rows of what sending needs, `attempts` counting this one."""
    query = (
        select(_table.c.id)
        .where(*_due(now))
        .order_by(_table.c.priority.desc(), _table.c.next_attempt_at)
        .limit(limit)
    )
    query = skip_locked(query, session)
    ids = list(session.scalars(query))
    if not ids:
        return []
    claimed = session.execute(
        update(_table)
        .where(_table.c.id.in_(ids), *_due(now))
        .values(
            claimed_by=token,
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
            attempts=_table.c.attempts + 1,
        )
        .returning(
            _table.c.id,
            _table.c.channel,
            _table.c.to_phone,
            _table.c.body,
            _table.c.content_sid,
            _table.c.content_variables,
            _table.c.attempts,
        )
    ).all()
    order = {message_id: n for n, message_id in enumerate(ids)}  # RETURNING has no order
    return sorted(claimed, key=lambda row: order[row.id])


def handle_some_outbound(
    sessions: sessionmaker[Session],
    transport,
    *,
    now: datetime,
    worker: str,
    callback_url: Callable[[int], str | None] = lambda _id: None,
    config: DomainConfig = NO_CONFIG,
    limit: int = BATCH,
) -> int:
    """Send a batch of due messages; returns how many were handled (0: nothing was due)."""
    token = f"{worker[:50]}:{secrets.token_hex(4)}"  # claimed_by is 64 characters
    with transaction(sessions) as session:
        claimed = claim_batch(session, now, token, limit)
    if not claimed:
        return 0
    sent, failed, handed_back = [], [], []
    started = time.monotonic()
    for n, row in enumerate(claimed):
        if n and time.monotonic() - started > BATCH_SECONDS:
            handed_back = [r.id for r in claimed[n:]]
            break
        envelope = Envelope(row.id, row.channel, row.to_phone, row.body, callback_url(row.id),
                            row.content_sid, row.content_variables)  # fmt: skip
        try:
            sent.append((row.id, transport.send(envelope)))
        except TransportError as exc:
            failed.append((envelope, row.attempts, exc))
        except Exception as exc:  # a bug or an SDK surprise must not lose the message: retry it
            log.exception("transport crashed on message %s", row.id)
            crash = TransportError(f"transport crashed: {exc!r}")
            failed.append((envelope, row.attempts, crash))
    _sent(sessions, now, sent, handed_back, token)
    for envelope, attempts, exc in failed:  # one transaction each, as the domain may act on it
        _failed(sessions, now, envelope, attempts, exc, config)
    return len(claimed) - len(handed_back)


def _sent(sessions, now: datetime, sent: list[tuple[int, str]], handed_back, token) -> None:
    """Record a batch's accepted messages (and hand back the ones it had no time for) in one
    transaction: until it commits, a crash means those messages go out again."""
    if not sent and not handed_back:
        return
    with transaction(sessions) as session:
        if sent:
            session.execute(
                update(_table)
                .where(_table.c.id == bindparam("message_id"))
                .values(
                    sent_at=now,
                    provider_sid=bindparam("provider_sid"),
                    next_attempt_at=None,
                    claimed_by=None,
                    claimed_until=None,
                    # An earlier attempt's error goes; a status callback that already came
                    # for this one (a fast "undelivered") keeps its code.
                    error_code=case(
                        (_table.c.delivery_status.is_(None), None), else_=_table.c.error_code
                    ),
                    error_message=case(
                        (_table.c.delivery_status.is_(None), None), else_=_table.c.error_message
                    ),
                ),
                [{"message_id": m, "provider_sid": sid} for m, sid in sent],
            )
            about = session.execute(
                select(_table.c.id, _table.c.person_id, _table.c.incident_id).where(
                    _table.c.id.in_([m for m, _ in sent])
                )
            )
            sids = dict(sent)
            record_many(
                session,
                [
                    event_row(now, "sent", person_id=r.person_id, incident_id=r.incident_id,
                              message_id=r.id, provider_sid=sids[r.id])
                    for r in sorted(about, key=lambda r: r.id)
                ],
            )  # fmt: skip
        if handed_back:  # not tried: not an attempt
            session.execute(
                update(_table)
                .where(_table.c.id.in_(handed_back), _table.c.claimed_by == token)
                .values(claimed_by=None, claimed_until=None, attempts=_table.c.attempts - 1)
            )


def _failed(
    sessions, now: datetime, envelope: Envelope, attempts: int, exc: TransportError, config
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
            on_delivery_failed(session, now, message, config)
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
    config: DomainConfig = NO_CONFIG,
    limit: int = 100_000,
) -> int:
    """Send due messages until none is left (or `limit`); returns how many were handled."""
    worker = worker_name()
    count = 0
    options = {"worker": worker, "callback_url": callback_url, "config": config}
    while count < limit:
        batch = min(BATCH, limit - count)
        done = handle_some_outbound(sessions, transport, now=clock(), limit=batch, **options)
        if done == 0:
            return count
        count += done
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
