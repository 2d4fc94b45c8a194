"""An inbound text, from storage to reply. The webhook and the phone simulator both call `receive`.

Two transactions, on purpose: the message is stored (and deduplicated on its MessageSid) and
committed first, so that nothing a frightened intern sent is lost if the second step fails;
the second step applies the domain change, its events and its outbox rows, and claims the
stored row (`processed_at IS NULL` → now, rowcount 1) in the UPDATE that settles it, all
together: a second delivery of the same text that was acted on meanwhile finds it claimed
and rolls back. A row whose processing failed stays unprocessed and the scheduler's tick tries
it again (claiming it first), answering through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.conversation import interpret as i
from bot.conversation import responder_replies, strangers
from escalation.base.config import NO_CONFIG, DomainConfig
from escalation.base.db import alone, one_writer
from escalation.base.messages import render
from escalation.base.models import UNCLEAR, InboundMessage, Incident, Person, Question
from escalation.base.phones import BadPhone, split_address
from escalation.base.schedule import local_date
from escalation.base.timeline import queue, record, wake_on_commit
from escalation.incidents import alerted, open_incident, open_incidents, open_incidents_alerted_to
from escalation.wellbeing import SCALE, open_question_kind, open_question_of

log = logging.getLogger(__name__)

MAX_BODY = 1600  # Twilio's own limit for one inbound message
SID_LENGTH = 64  # inbound_message.message_sid and from_address
UNCLEAR_AFTER, UNCLEAR_WINDOW = 3, timedelta(minutes=15)


@dataclass(frozen=True)
class Received:
    reply: str | None
    pending: bool = False  # stored, but acting on it failed: the tick will (and answers then)


def clean_body(body: str | None, limit: int = MAX_BODY) -> str:
    """Text safe to store on both engines: no NULs (PostgreSQL rejects them), no lone surrogates."""
    text = (body or "").replace("\x00", "")
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:limit]


def receive(
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    sid: str,
    from_address: str,
    body: str | None,
    config: DomainConfig = NO_CONFIG,
    wake: Callable[[bool], object] | None = None,
) -> Received:
    """Store, then act on, one inbound text; `wake` (the edge's dispatcher nudge) is called
    after the commit when messages were queued to leave at once. Both transactions run on
    one connection, taken from the pool once, as one writer (`one_writer`)."""
    row = _row(now, sid=sid, from_address=from_address, body=body)
    with sessions.kw["bind"].connect() as connection, one_writer(connection):
        stored = _keep(connection, row)
        if stored.processed:  # a retried delivery of a text acted on before: the same answer
            return Received(stored.reply)
        # As stored: what acting on it reads, claimed as it is settled (`process`).
        message = Claimed(stored.id, *(row[name] for name in _FIELDS))
        try:
            with sessions(bind=connection) as session, session.begin():
                if wake is not None:
                    wake_on_commit(session, wake)
                _claimed, reply = process(session, now, stored.id, config=config, stored=message)
        except Exception:
            first = _acted_on(connection, row["message_sid"])
            if first is not None:  # by another delivery of it (`Overtaken`), meanwhile
                return Received(first.reply)
            # Stored: the tick processes it again and answers through the outbox.
            log.exception("processing inbound message %s failed; the tick will retry it",
                          stored.id)  # fmt: skip
            return Received(None, pending=True)
    return Received(reply)


@dataclass(frozen=True)
class Stored:
    id: int
    processed: bool = False  # a repeat of a message already acted on …
    reply: str | None = None  # … and what it was answered


def keep(
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    sid: str,
    from_address: str,
    body: str | None,
    channel: str | None = None,
    connection: Connection | None = None,
) -> Stored:
    """Commit the message first, in one statement; a repeated MessageSid is refused by its
    unique key, and then the first row's id is read, and its reply once it was acted on.
    Core, not the ORM: nothing here needs an object, and every `ok` passes here.
    `channel`: what it came by when the address does not say (a call); `connection`: the
    caller's, outside a transaction (else one from the pool)."""
    row = _row(now, sid=sid, from_address=from_address, body=body)
    if channel is not None:
        row["channel"] = channel
    if connection is None:
        with sessions.kw["bind"].connect() as connection:
            return _keep(connection, row)
    return _keep(connection, row)


def _keep(connection: Connection, row: dict) -> Stored:
    try:
        with alone(connection):  # one statement: on PostgreSQL, without BEGIN and COMMIT
            return Stored(connection.scalar(_INSERT, row))
    except IntegrityError:  # its MessageSid is stored already, or something is wrong
        first = _first(connection, row["message_sid"])
        if first is None:
            raise
    log.info("duplicate delivery of %s ignored", row["message_sid"])
    return Stored(first.id, first.processed_at is not None, first.reply)


def _acted_on(connection: Connection, sid: str):
    """The stored row of `sid` if it was acted on; None if not, or if it cannot be read now
    (the failure that got us here may be the database's)."""
    try:
        first = _first(connection, sid)
    except SQLAlchemyError:
        return None
    return first if first is not None and first.processed_at is not None else None


def _first(connection: Connection, sid: str):
    """The stored row of MessageSid `sid` (id, processed_at, reply), or None."""
    with alone(connection):
        return connection.execute(_FIRST, {"sid": sid}).one_or_none()


# A plain INSERT, built once, and a repeat known by its unique MessageSid: SQLAlchemy 2.0 cannot
# cache the compiled form of an `INSERT … ON CONFLICT`, and compiling it is most of its cost.
_INSERT = insert(InboundMessage.__table__).returning(InboundMessage.__table__.c.id)
_FIRST = select(InboundMessage.id, InboundMessage.processed_at, InboundMessage.reply).where(
    InboundMessage.message_sid == bindparam("sid")
)


def _row(now: datetime, *, sid: str, from_address: str, body: str | None) -> dict:
    # Cleaned like the body: a NUL would make every retry fail, as if the database were away.
    sid, from_address = clean_body(sid, SID_LENGTH), clean_body(from_address, SID_LENGTH)
    try:
        channel, phone = split_address(from_address)
    except BadPhone:
        channel, phone = "sms", None
    return {
        "message_sid": sid,
        "from_address": from_address,
        "phone": phone,
        "channel": channel,
        "body": clean_body(body),
        "received_at": now,
    }


def store(
    sessions: sessionmaker[Session], now: datetime, *, sid: str, from_address: str, body: str | None
) -> int:
    """Commit the message first; a second delivery of the same MessageSid returns the first row."""
    return keep(sessions, now, sid=sid, from_address=from_address, body=body).id


class Overtaken(Exception):
    """The message was claimed by another delivery of it while this one acted on it."""


def process(
    session: Session,
    now: datetime,
    message_id: int,
    *,
    config: DomainConfig = NO_CONFIG,
    stored: Claimed | None = None,
) -> tuple[bool, str | None]:
    """Claim and act on one stored message: (False, None) if it was processed before, else
    (True, the reply or None when silence is the answer). `stored`: the message as the
    caller has just stored it; then it is claimed by the UPDATE that settles it (one statement
    less for every text), and `Overtaken` is raised, for the caller to roll back, if another
    delivery of it was acted on meanwhile."""
    message = stored if stored is not None else claim(session, now, message_id)
    if message is None:
        return False, None
    found, asked = sender_asked(session, message.phone, now)
    person = found if found is not None and found.active else None
    admin = message.phone is not None and message.phone in config.admin_phones
    if person is not None or admin:
        talk = Conversation(session, now, person, message, config)
        if talk.is_intern:
            talk.question_kind = asked  # read with her: one statement less for every text
        reply, intent = talk.answer(), talk.intent
    else:
        reply, intent = strangers.answer(session, now, message, found, config)
    settle(session, message, person, intent, reply, claimed_at=now if stored else None)
    return True, reply


@dataclass
class Claimed:
    """A stored message claimed for acting on: what its handlers read. What they made of it
    (`person_id`, `intent`, `reply`) is written back by `settle`."""

    id: int
    message_sid: str
    from_address: str
    phone: str | None
    channel: str
    body: str


_MESSAGE = InboundMessage.__table__
_CLAIM = (
    update(_MESSAGE)
    .where(_MESSAGE.c.id == bindparam("message_id"), _MESSAGE.c.processed_at.is_(None))
    .values(processed_at=bindparam("claimed_at"))
    .returning(*(_MESSAGE.c[name] for name in Claimed.__dataclass_fields__))
)
_SETTLE = (
    update(_MESSAGE)
    .where(_MESSAGE.c.id == bindparam("message_id"))
    .values(
        person_id=bindparam("sender_id"), intent=bindparam("meant"), reply=bindparam("answered")
    )
)
_CLAIM_AND_SETTLE = _SETTLE.where(_MESSAGE.c.processed_at.is_(None)).values(
    processed_at=bindparam("claimed_at")
)
_FIELDS = tuple(Claimed.__dataclass_fields__)[1:]  # what `Claimed` holds after its id


def claim(session: Session, now: datetime, message_id: int) -> Claimed | None:
    """Claim a stored message for acting on it (`processed_at IS NULL` → now), and read it, in
    one statement; None if it was claimed before. Core, built once: every text passes here."""
    row = session.connection().execute(_CLAIM, {"message_id": message_id, "claimed_at": now})
    found = row.first()
    return Claimed(*found) if found is not None else None


def settle(
    session: Session,
    message: Claimed,
    person: Person | None,
    intent: str | None,
    reply: str | None,
    *,
    claimed_at: datetime | None = None,
) -> None:
    """Write what acting on `message` made of it: its sender, its intent and its reply (the
    answer a repeated delivery gets), in one UPDATE; with `claimed_at`, that UPDATE claims it
    too, and `Overtaken` says another delivery of it had claimed it first."""
    values = {
        "message_id": message.id,
        "sender_id": person.id if person is not None else None,
        "meant": intent,
        "answered": reply,
    }
    if claimed_at is None:
        session.connection().execute(_SETTLE, values)
    elif (
        session.connection()
        .execute(_CLAIM_AND_SETTLE, values | {"claimed_at": claimed_at})
        .rowcount
        != 1
    ):
        raise Overtaken(message.id)


# Her row alone: what answering an OK needs. Her university and unit are loaded when an
# answer reads them (an emergency's alert, a trip's grace), one statement each, then.
_SENDER = select(Person).where(Person.phone == bindparam("phone"))


def sender(session: Session, phone: str | None) -> Person | None:
    """The roster's person with this phone (active or not)."""
    if phone is None:
        return None
    return session.scalar(_SENDER, {"phone": phone})


_SENDER_ASKED = _SENDER.add_columns(*open_question_of(Person.id))


def sender_asked(
    session: Session, phone: str | None, now: datetime
) -> tuple[Person | None, tuple[int, str] | None]:
    """`sender`, with the mental-health question waiting for her answer (id, kind) if she is an
    intern who has one, in one statement."""
    if phone is None:
        return None, None
    found = session.execute(_SENDER_ASKED, {"phone": phone, "now": now}).first()
    if found is None:
        return None, None
    person, question_id, kind = found
    return person, (question_id, kind) if question_id is not None else None


class Conversation:
    """What one text from a known sender means and what we answer.

    The sender is a person on the roster, or an administrator's phone (`ADMIN_PHONES`) that
    may have no roster row (`person` is None); administrators answer any case. The answers
    live by audience: `bot.conversation.intern_replies` (check-ins, help, trips, pauses …),
    `bot.conversation.responder_replies` (acknowledging, closing and asking about incidents) and
    `bot.conversation.optout_replies` (leaving and rejoining).
    """

    def __init__(
        self,
        session: Session,
        now: datetime,
        person: Person | None,
        message: Claimed,
        config: DomainConfig,
    ):
        self.session, self.now, self.person, self.message = session, now, person, message
        self.config = config
        self.phone = message.phone
        self.is_admin = message.phone in config.admin_phones
        self.language = person.language if person else "es"
        self.intent: str | None = None  # what the text meant, once answered

    @property
    def is_intern(self) -> bool:
        return self.person is not None and self.person.is_intern

    def answer(self) -> str | None:
        context = i.Context(
            intern=self.is_intern,
            # A buddy is an intern too: she is a responder while she has an alert open to
            # answer (then `OK 4821` acknowledges); her bare `OK` stays her own check-in.
            responder=not self.is_intern
            or (i.may_answer_a_case(self.message.body) and bool(self.cases)),
            duress_word=self.person.duress_word if self.person else None,
            question=SCALE[self.question_kind[1]] if self.question_kind else None,
            today=local_date(self.person, self.now) if self.person else None,
        )
        intent = i.interpret(self.message.body, context)
        self.intent = intent.kind
        if self.person is None:  # an administrator's phone that is not on the roster
            return responder_replies.for_admin_phone(self, intent)
        handler = HANDLERS.get(intent.kind)
        return handler(self, intent) if handler else self.on_unknown(intent)

    @cached_property
    def question_kind(self) -> tuple[int, str] | None:
        """(id, kind) of the mental-health question waiting for her answer: a digit answers it."""
        return open_question_kind(self.session, self.person, self.now) if self.is_intern else None

    @cached_property
    def question(self) -> Question | None:
        """That question, to record her answer."""
        found = self.question_kind
        return self.session.get(Question, found[0]) if found is not None else None

    @cached_property
    def cases(self) -> list[Incident]:
        """The open incidents this sender may answer: those she was alerted to, or every open
        incident for an administrator (only looked up for an ack, a close or ESTADO)."""
        if self.is_admin:
            return open_incidents(self.session)
        return open_incidents_alerted_to(self.session, self.person)

    def say(self, template: str, **context: object) -> str:
        name = self.person.first_name if self.person else ""
        return render(template, self.language, name=name, **context)

    def on_unknown(self, intent: i.Intent) -> str:
        record(self.session, self.now, "not_understood", person=self.person,
               message_id=self.message.id)  # fmt: skip
        if self.is_intern and self._third_unclear():
            return self.open_and_say(UNCLEAR, "unclear_received")
        return self.say("not_understood")

    def _third_unclear(self) -> bool:
        """Whether this is her third text in UNCLEAR_WINDOW that Faro could not understand: a
        frightened person types badly, so someone checks on her (once per run of three)."""
        earlier = self.session.scalar(
            select(func.count(InboundMessage.id)).where(
                InboundMessage.phone == self.phone,
                InboundMessage.id != self.message.id,
                InboundMessage.intent == i.UNKNOWN,
                InboundMessage.received_at >= self.now - UNCLEAR_WINDOW,
            )
        )
        return earlier == UNCLEAR_AFTER - 1

    def open(self, kind: str, **detail: object) -> Incident:
        incident, _opened = open_incident(
            self.session,
            self.now,
            self.person,
            kind,
            config=self.config,
            message_id=self.message.id,
            detail=detail or None,
        )
        return incident

    def open_and_say(self, kind: str, template: str, **context: object) -> str:
        """Open (or join) an incident and answer with `template`, which says her team is
        being told: only when somebody of her team was actually queued. Otherwise she is told
        so, with 911, and the administrators (queued by the engine's last stage) have it."""
        incident = self.open(kind)
        if any(r.person is not None for r in alerted(self.session, incident)):
            return self.say(template, **context)
        return self.say("no_team", kind=kind, admins=bool(self.config.admin_phones))


def reply_later(
    session: Session, now: datetime, message_id: int, config: DomainConfig = NO_CONFIG
) -> bool:
    """For the tick: process a message whose first processing failed; reply via the outbox."""
    claimed, reply = process(session, now, message_id, config=config)
    if not claimed:
        return False
    message = session.get(InboundMessage, message_id)
    if reply is None or message.phone is None:
        return True
    person = session.get(Person, message.person_id) if message.person_id else None
    queue(
        session,
        now,
        kind="reply",
        body=reply,
        person=person,
        phone=message.phone,
        channel=message.channel,
    )
    return True


def _handlers() -> dict:
    from bot.conversation import duress_replies, intern_replies, optout_replies, wellbeing_replies

    return {
        **intern_replies.HANDLERS,
        **responder_replies.HANDLERS,
        **duress_replies.HANDLERS,
        **wellbeing_replies.HANDLERS,
        **optout_replies.HANDLERS,
    }


HANDLERS = _handlers()
