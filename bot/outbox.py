"""The outbox dispatcher: claim a few due messages, send them outside any transaction, record
the results.

Claims are one conditional UPDATE over a small batch (rows still due, so a row another
dispatcher claimed meanwhile is left out; RETURNING says which we got), with `FOR UPDATE SKIP
LOCKED` on PostgreSQL so concurrent dispatchers pick different rows instead of queueing on the
same ones. The queue's order is priority (critical alerts, then the other cases' alerts, then
the rest), then `send_by` (a ping's deadline), then queueing time. A claim lasts CLAIM_SECONDS:
if a dispatcher dies mid-send its messages are picked up again (sending is at-least-once).

**The sender's speed.** Through Twilio a number sends about TWILIO_MPS messages a second and
queues the rest for hours. Every dispatcher, in every process, takes sending slots for its
texts from the `sender` row, locked with the claim: slots are 1/TWILIO_MPS apart in wall-clock
time and taken at most BURST seconds ahead, so together they never hand Twilio more. Calls are
not counted (Twilio paces calls itself). A paced batch starts each text at its slot (or, if a
thread was held up, at the next moment 1/TWILIO_MPS from the process's other texts), on a few
threads, each recording its message as soon as Twilio took it, so a crash re-sends at most one
message per thread. Unpaced (the console transport) a batch is sent in turn and recorded
together, and stops after BATCH_SECONDS so a critical message queued meanwhile waits one slice
at most.

**Failures.** A temporary error is retried with backoff, however long it lasts: a message is
dropped only when it is overtaken or a day old (escalation/sending.py), never failed by count.
When most recent sends of a process failed temporarily, the sender is down: one event, and all
dispatchers only probe it (one message every PROBE_SECONDS) until a probe goes through; then the
administrators hear of it once, and everything waiting is due at once, most urgent first.
"""

from __future__ import annotations

import logging
import math
import os
import random
import secrets
import socket
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.transports import Envelope, TransportError
from escalation import sending
from escalation.base.config import NO_CONFIG, DomainConfig
from escalation.base.db import is_postgres, skip_locked, transaction, utcnow
from escalation.base.models import VOICE, OutboundMessage, Sender
from escalation.base.timeline import event_row, record, record_many
from escalation.delivery import on_delivery_failed

log = logging.getLogger(__name__)

CLAIM_SECONDS = 60
BACKOFF_BASE = 5.0  # seconds; doubles per attempt, with jitter, capped
BACKOFF_CAP = 600.0
# Messages claimed per transaction, and how long an unpaced batch may spend sending before it
# hands the rest back.
BATCH = 50
BATCH_SECONDS = 0.5
UNPACED = (VOICE,)
BURST = 0.2  # seconds of slots a paced claim may take ahead (what a critical alert may wait)
CATCH_UP = 0.15  # seconds of slots just passed that a claim may still take
MAX_THREADS = 8
# The sender is down when, of a process's last OUTAGE_WINDOW sends, OUTAGE_SHARE or more
# failed temporarily (and at least OUTAGE_MIN did); while it is, one probe every PROBE_SECONDS.
OUTAGE_WINDOW = 20
OUTAGE_MIN = 10
OUTAGE_SHARE = 0.8
PROBE_SECONDS = 30
PROBE_TRIES = 20

_table = OutboundMessage.__table__
_sender = Sender.__table__


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter (so a Twilio outage does not end in a stampede)."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))


def threads_for(mps: float | None) -> int:
    """Sends in flight at once to keep up with `mps` (a Twilio request takes ~100-300 ms)."""
    return 1 if mps is None else max(1, min(MAX_THREADS, math.ceil(mps * 0.3)))


def _due(now: datetime):
    return (
        _table.c.next_attempt_at.is_not(None),
        _table.c.next_attempt_at <= now,
        or_(_table.c.claimed_until.is_(None), _table.c.claimed_until < now),
    )


_ORDER = (
    _table.c.priority.desc(),
    func.coalesce(_table.c.send_by, _table.c.next_attempt_at),
    _table.c.id,
)
_CLAIMED = (
    _table.c.id,
    _table.c.channel,
    _table.c.to_phone,
    _table.c.body,
    _table.c.content_sid,
    _table.c.content_variables,
    _table.c.attempts,
    _table.c.kind,
    _table.c.created_at,
    _table.c.person_id,
    _table.c.incident_id,
    _table.c.checkin_id,
)


class Claim:
    """What one claim got: the rows to send, whether they are a probe of a sender that is
    down, how long to wait before paced messages may be claimed again (0: no wait), and the
    wall-clock slot of its first text (the others follow 1/mps apart)."""

    def __init__(self, rows=(), *, probe=False, wait=0.0, slot=None):
        self.rows, self.probe, self.wait, self.slot = list(rows), probe, wait, slot


def claim_batch(
    session: Session, now: datetime, token: str, limit: int = BATCH, mps: float | None = None
) -> Claim:
    """Claim up to `limit` due messages, most urgent first, within the sender's pace; `token`
    (worker + nonce) marks this batch's claims. Overtaken messages are dropped on the way."""
    sender = _lock_sender(session, paced=mps is not None)
    probe = False
    if sender is not None and sender.outage_since is not None:
        if sender.probe_at is not None and sender.probe_at > now:
            return Claim()  # down: the probe's turn has not come
        session.execute(update(_sender).values(probe_at=now + timedelta(seconds=PROBE_SECONDS)))
        limit, probe = 1, True
    wait, budget, slot = 0.0, limit, None
    if mps is not None:
        slot, budget = _slots(sender, mps, limit)
    for _ in range(PROBE_TRIES if probe else 1):  # a probe must be a message worth sending
        ids = _select(session, now, limit, budget, paced=mps is not None, probe=probe)
        rows = _drop_overtaken(session, now, _take(session, now, token, ids))
        if rows or not ids:
            break
    if mps is not None:
        texts = sum(1 for r in rows if r.channel not in UNPACED)
        if texts:
            after = slot + timedelta(seconds=texts / mps)
            session.execute(update(_sender).values(next_slot=after))
        elif not ids and budget == 0 and _paced_waiting(session, now):
            wait = max(0.001, (slot - utcnow()).total_seconds() - BURST)
    if ids and not rows:
        wait = 0.001  # every one was overtaken: there may be more behind them
    return Claim(rows, probe=probe, wait=wait, slot=slot)


def _lock_sender(session: Session, *, paced: bool):
    query = select(_sender).where(_sender.c.id == 1)
    if paced and is_postgres(session):
        query = query.with_for_update()  # the one sender row: claims queue here, briefly
    return session.execute(query).first()


def _slots(sender, mps: float, limit: int) -> tuple[datetime, int]:
    """The sender's next free slot and how many texts may be claimed from it: slots are
    1/mps apart in wall-clock time (the sender's speed is real time, whatever instant the pass
    is for), shared by every dispatcher, and taken at most BURST seconds ahead."""
    wall = utcnow()
    slot = wall if sender is None or sender.next_slot is None else sender.next_slot
    # A slot that passed while the last batch finished (its last request, its commit) is still
    # taken, so the pace is kept, not lost a little every batch; older ones are gone.
    slot = max(slot, wall - timedelta(seconds=CATCH_UP))
    ahead = (slot - wall).total_seconds()
    if ahead >= BURST:
        return slot, 0
    return slot, min(limit, math.floor((BURST - ahead) * mps) + 1)


def _select(session, now, limit: int, budget: int, *, paced: bool, probe: bool) -> list[int]:
    """The ids of the most urgent due rows, at most `limit`, of which texts within `budget`
    when paced; a probe is the single most urgent row, if the budget allows it."""

    query = select(_table.c.id, _table.c.channel).where(*_due(now)).order_by(*_ORDER)
    ids = []
    for row in session.execute(skip_locked(query.limit(1 if probe else limit), session)):
        if not paced or row.channel in UNPACED:
            ids.append(row.id)
        elif budget > 0:
            ids.append(row.id)
            budget -= 1
    return ids


def _paced_waiting(session: Session, now: datetime) -> bool:
    query = select(_table.c.id).where(*_due(now), _table.c.channel.not_in(UNPACED)).limit(1)
    return session.scalar(query) is not None


def _take(session: Session, now: datetime, token: str, ids: list[int]) -> list:
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
        .returning(*_CLAIMED)
    ).all()
    order = {message_id: n for n, message_id in enumerate(ids)}  # RETURNING has no order
    return sorted(claimed, key=lambda row: order[row.id])


def _drop_overtaken(session: Session, now: datetime, rows: list) -> list:
    """The domain says which claimed messages are no longer worth sending: those leave the
    queue (`dropped_at`, not an attempt) with their reason; the rest are sent."""
    reasons = sending.overtaken(session, now, rows)
    if not reasons:
        return rows
    session.execute(
        update(_table)
        .where(_table.c.id.in_(list(reasons)))
        .values(dropped_at=now, next_attempt_at=None, claimed_by=None, claimed_until=None,
                attempts=_table.c.attempts - 1)
    )  # fmt: skip
    sending.dropped(session, now, rows, reasons)
    log.info("dropped %s overtaken messages", len(reasons))
    return [r for r in rows if r.id not in reasons]


def handle_some_outbound(
    sessions: sessionmaker[Session],
    transport,
    *,
    now: datetime,
    worker: str,
    callback_url: Callable[[int], str | None] = lambda _id: None,
    config: DomainConfig = NO_CONFIG,
    limit: int = BATCH,
    mps: float | None = None,
) -> Claim:
    """Send a batch of due messages; returns the claim (its rows: the messages handled)."""
    token = f"{worker[:50]}:{secrets.token_hex(4)}"  # claimed_by is 64 characters
    with transaction(sessions) as session:
        claim = claim_batch(session, now, token, limit, mps)
    if not claim.rows:
        return claim
    send = _Send(sessions, transport, now, token, callback_url, config, claim.probe)
    if mps is None:
        send.in_turn(claim.rows)
    else:
        send.paced(claim.rows, mps, claim.slot)
    return claim


class _Turns:
    """The moments this process's texts leave, at least 1/mps apart: a text waits for its slot
    and for a moment no other text of the process has taken, so a thread held up (recording,
    waiting for the database) does not send the texts queued behind it in one burst."""

    def __init__(self):
        self._lock, self._taken = threading.Lock(), []

    def wait(self, turn: float, interval: float) -> None:
        with self._lock:
            now = time.monotonic()
            self._taken = [t for t in self._taken if t > now - interval]
            turn = max(turn, now)
            for taken in sorted(self._taken):
                if turn + interval <= taken:
                    break  # it fits before this one
                turn = max(turn, taken + interval)
            self._taken.append(turn)
        time.sleep(max(0.0, turn - time.monotonic()))


_TURNS = _Turns()


class _Send:
    """One claimed batch on its way: sending, recording, and the sender's health."""

    def __init__(self, sessions, transport, now, token, callback_url, config, probe):
        self.sessions, self.transport, self.now, self.token = sessions, transport, now, token
        self.callback_url, self.config, self.probe = callback_url, config, probe

    def one(self, row) -> tuple:
        envelope = Envelope(row.id, row.channel, row.to_phone, row.body, self.callback_url(row.id),
                            row.content_sid, row.content_variables)  # fmt: skip
        try:
            return row, self.transport.send(envelope), None
        except TransportError as exc:
            return row, None, exc
        except Exception as exc:  # a bug or an SDK surprise must not lose the message: retry it
            log.exception("transport crashed on message %s", row.id)
            return row, None, TransportError(f"transport crashed: {exc!r}")

    def in_turn(self, rows: list) -> None:
        """Send one after another, record the accepted ones together; hand back what the slice
        had no time for."""
        results, handed_back = [], []
        started = time.monotonic()
        for n, row in enumerate(rows):
            if n and time.monotonic() - started > BATCH_SECONDS:
                handed_back = [r.id for r in rows[n:]]
                break
            results.append(self.one(row))
        self.record(results, handed_back)

    def paced(self, rows: list, mps: float, slot: datetime) -> None:
        """Start each text at its slot (from `slot`, 1/mps apart; calls at once), each on one
        of a few threads that records its message as soon as Twilio answered."""
        started = time.monotonic() + (slot - utcnow()).total_seconds()
        texts = 0
        with ThreadPoolExecutor(max_workers=min(threads_for(mps), len(rows))) as pool:
            futures = []
            for row in rows:
                turn = None
                if row.channel not in UNPACED:
                    turn = started + texts / mps
                    texts += 1
                futures.append(pool.submit(self._at_turn, row, turn, 1 / mps))
            for future in futures:
                future.result()

    def _at_turn(self, row, turn: float | None, interval: float) -> None:
        if turn is not None:
            _TURNS.wait(turn, interval)
        self.record([self.one(row)])

    def record(self, results: list[tuple], handed_back=()) -> None:
        sent = [(row, sid) for row, sid, exc in results if exc is None]
        _sent(self.sessions, self.now, sent, list(handed_back), self.token)
        for row, _sid, exc in results:
            if exc is not None:  # one transaction each, as the domain may act on it
                _failed(self.sessions, self.now, row, exc, self.config)
        health_of(self.sessions).heard(self.sessions, self.now, results, self.probe, self.config)


def _sent(sessions, now: datetime, sent: list[tuple], handed_back, token) -> None:
    """Record accepted messages (and hand back the ones not tried) in one transaction: until
    it commits, a crash means those messages go out again. A ping that left late moves its
    check-in's reminder and deadline (escalation/sending.py)."""
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
                [{"message_id": row.id, "provider_sid": sid} for row, sid in sent],
            )
            events = [
                event_row(now, "sent", person_id=row.person_id, incident_id=row.incident_id,
                          message_id=row.id, provider_sid=sid)
                for row, sid in sorted(sent, key=lambda pair: pair[0].id)
            ]  # fmt: skip
            events += sending.pings_left(session, now, [row for row, _ in sent])
            record_many(session, events)
        if handed_back:  # not tried: not an attempt
            session.execute(
                update(_table)
                .where(_table.c.id.in_(handed_back), _table.c.claimed_by == token)
                .values(claimed_by=None, claimed_until=None, attempts=_table.c.attempts - 1)
            )


def _failed(sessions, now: datetime, row, exc: TransportError, config) -> None:
    with transaction(sessions) as session:
        message = session.get(OutboundMessage, row.id)
        message.error_code = exc.code
        message.error_message = exc.reason[:500]
        message.claimed_by = message.claimed_until = None
        if exc.permanent:
            message.failed_at = now
            message.next_attempt_at = None
            record(session, now, "send_failed", **_about(message), code=exc.code,
                   reason=exc.reason[:200])  # fmt: skip
            log.error("message %s to %s failed for good: %s", row.id, row.to_phone, exc.reason)
            # What the failure means (another channel, an incident, a flag) is the domain's
            # call, committed with the failure itself.
            on_delivery_failed(session, now, message, config)
        else:
            message.next_attempt_at = now + backoff(row.attempts)
            log.warning("message %s to %s will be retried (attempt %s): %s", row.id,
                        row.to_phone, row.attempts, exc.reason)  # fmt: skip


def _about(message: OutboundMessage) -> dict:
    return {
        "person_id": message.person_id,
        "incident_id": message.incident_id,
        "message_id": message.id,
    }


class _SenderHealth:
    """This process's last sends: enough temporary failures declare the sender down (in the
    shared row, once, whoever sees it first); a probe that goes through ends the outage."""

    def __init__(self):
        self._lock = threading.Lock()
        self._recent: deque[bool] = deque(maxlen=OUTAGE_WINDOW)

    def heard(self, sessions, now: datetime, results: list[tuple], probe: bool, config) -> None:
        answered = [exc is None or exc.permanent for _row, _sid, exc in results]
        if probe and any(answered):
            _end_outage(sessions, now, config)
        with self._lock:
            self._recent.extend(answered)
            failures = self._recent.count(False)
            down = failures >= OUTAGE_MIN and failures >= OUTAGE_SHARE * len(self._recent)
            if down:
                self._recent.clear()
        if down and not probe:
            reason = next(exc.reason for _r, _s, exc in results if exc is not None)
            _begin_outage(sessions, now, failures, reason)


_healths: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_healths_lock = threading.Lock()


def health_of(sessions) -> _SenderHealth:
    """The sends this process made to one database (one Faro: in production, the process)."""
    with _healths_lock:
        return _healths.setdefault(sessions, _SenderHealth())


def _begin_outage(sessions, now: datetime, failures: int, reason: str) -> None:
    with transaction(sessions) as session:
        began = session.execute(
            update(_sender)
            .where(_sender.c.id == 1, _sender.c.outage_since.is_(None))
            .values(outage_since=now, probe_at=now + timedelta(seconds=PROBE_SECONDS))
        ).rowcount
        if began == 1:
            sending.provider_down(session, now, failures, reason)
            log.error("the sender is down (%s of the last sends failed: %s); probing every %ss",
                      failures, reason, PROBE_SECONDS)  # fmt: skip


def _end_outage(sessions, now: datetime, config) -> None:
    with transaction(sessions) as session:
        since = session.scalar(select(_sender.c.outage_since).where(_sender.c.id == 1))
        ended = (
            since is not None
            and session.execute(
                update(_sender)
                .where(_sender.c.id == 1, _sender.c.outage_since == since)
                .values(outage_since=None, probe_at=None)
            ).rowcount
            == 1
        )
        if ended:
            waiting = sending.provider_back(session, now, since, config)
            log.warning("the sender works again; %s waiting messages are due now", waiting)


def dispatch_due(
    sessions: sessionmaker[Session],
    transport,
    *,
    clock: Callable[[], datetime],
    callback_url: Callable[[int], str | None] = lambda _id: None,
    config: DomainConfig = NO_CONFIG,
    limit: int = 100_000,
    mps: float | None = None,
    patience: float | None = None,
) -> int:
    """Send due messages until none is left (or `limit`); returns how many were handled.
    Paced, it waits for the sender's slots, for at most `patience` seconds (None: until the
    queue is empty), then leaves the rest to the next dispatcher."""
    worker = worker_name()
    count = 0
    options = {"worker": worker, "callback_url": callback_url, "config": config, "mps": mps}
    give_up = None if patience is None else time.monotonic() + patience
    while count < limit:
        batch = min(BATCH, limit - count)
        claim = handle_some_outbound(sessions, transport, now=clock(), limit=batch, **options)
        count += len(claim.rows)
        if claim.rows:
            continue
        if not claim.wait or (give_up is not None and time.monotonic() + claim.wait > give_up):
            return count
        time.sleep(claim.wait)
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
