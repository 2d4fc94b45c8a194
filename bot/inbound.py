"""An inbound text, from storage to reply. The webhook and the phone simulator both call `receive`.

Two transactions, on purpose: the message is stored (and deduplicated on its MessageSid) and
committed first, so that nothing a frightened intern sent is lost if the second step fails;
the second step claims the stored row (`processed_at IS NULL` → now, rowcount 1) and applies
the domain change, its events and its outbox rows together. A row whose processing failed
stays unprocessed and the scheduler's tick tries it again, answering through the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot import interpret as i
from bot.messages import render
from bot.phones import BadPhone, split_address
from escalation.checkins import local_date
from escalation.db import transaction
from escalation.incidents import open_incident, open_incidents_alerted_to
from escalation.models import InboundMessage, Incident, Person, Question
from escalation.timeline import queue, record
from escalation.wellbeing import SCALE, open_question

log = logging.getLogger(__name__)

MAX_BODY = 1600  # Twilio's own limit for one inbound message
UNKNOWN_REPLY_EVERY = timedelta(hours=24)


@dataclass(frozen=True)
class Received:
    reply: str | None
    urgent: bool = False  # critical alerts were queued: dispatch now, not at the next tick
    queued: bool = False


def clean_body(body: str | None) -> str:
    """Text safe to store on both engines: no NULs (PostgreSQL rejects them), no lone surrogates."""
    text = (body or "").replace("\x00", "")
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:MAX_BODY]


def receive(
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    sid: str,
    from_address: str,
    body: str | None,
    admin_phones: tuple[str, ...] = (),
) -> Received:
    message_id = store(sessions, now, sid=sid, from_address=from_address, body=body)
    try:
        with transaction(sessions) as session:
            claimed, reply = process(session, now, message_id, admin_phones=admin_phones)
            queued = session.info.pop("queued", [])
    except Exception:
        # The message is stored; the tick processes it again and answers through the outbox.
        log.exception("processing inbound message %s failed; the tick will retry it", message_id)
        return Received(None)
    if not claimed:  # processed already (a retried delivery): the same answer again
        with sessions() as session:
            return Received(session.get(InboundMessage, message_id).reply)
    return Received(reply, urgent=any(p > 0 for p in queued), queued=bool(queued))


def store(
    sessions: sessionmaker[Session], now: datetime, *, sid: str, from_address: str, body: str | None
) -> int:
    """Commit the message first; a second delivery of the same MessageSid returns the first row."""
    try:
        channel, phone = split_address(from_address)
    except BadPhone:
        channel, phone = "sms", None
    row = InboundMessage(
        message_sid=sid[:64],
        from_address=from_address[:64],
        phone=phone,
        channel=channel,
        body=clean_body(body),
        received_at=now,
    )
    try:
        with transaction(sessions) as session:
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:
        with sessions() as session:
            existing = session.scalar(
                select(InboundMessage.id).where(InboundMessage.message_sid == sid[:64])
            )
        if existing is None:
            raise
        log.info("duplicate delivery of %s ignored", sid)
        return existing


def process(
    session: Session, now: datetime, message_id: int, *, admin_phones: tuple[str, ...] = ()
) -> tuple[bool, str | None]:
    """Claim and act on one stored message: (False, None) if it was processed before, else
    (True, the reply or None when silence is the answer)."""
    claimed = session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == message_id, InboundMessage.processed_at.is_(None))
        .values(processed_at=now)
    ).rowcount
    if claimed != 1:
        return False, None
    message = session.get(InboundMessage, message_id)
    person = (
        session.scalar(select(Person).where(Person.phone == message.phone))
        if message.phone
        else None
    )
    if person is None or not person.active:
        reply, intent = _unknown_sender(session, now, message), "unknown_sender"
    else:
        talk = Conversation(session, now, person, message, admin_phones)
        reply, intent = talk.answer(), talk.intent
    # Set last, together: written in one UPDATE at commit rather than one per autoflush.
    message.person_id = person.id if person is not None and person.active else None
    message.intent, message.reply = intent, reply
    return True, reply


def _unknown_sender(session: Session, now: datetime, message: InboundMessage) -> str | None:
    """One neutral reply a day to a number we do not know; it says nothing about anyone."""
    log.warning("text from unknown number %s (message %s)", message.from_address, message.id)
    record(
        session,
        now,
        "unknown_sender",
        message_id=message.id,
        phone=message.phone or message.from_address,
    )
    earlier = session.scalar(
        select(InboundMessage.id).where(
            InboundMessage.phone == message.phone,
            InboundMessage.id != message.id,
            InboundMessage.reply.is_not(None),
            InboundMessage.received_at >= now - UNKNOWN_REPLY_EVERY,
        )
    )
    if message.phone is None or earlier is not None:
        return None
    return render("unknown_sender", "es")


class Conversation:
    """What one text from a known person means and what we answer.

    The answers themselves live by audience: `bot.intern_replies` (check-ins, help, trips,
    pauses …) and `bot.responder_replies` (acknowledging and closing incidents).
    """

    def __init__(
        self, session: Session, now: datetime, person: Person, message: InboundMessage, admin_phones
    ):
        self.session, self.now, self.person, self.message = session, now, person, message
        self.admin_phones = tuple(admin_phones)
        self.intent: str | None = None  # what the text meant, once answered

    def answer(self) -> str | None:
        context = i.Context(
            intern=self.person.is_intern,
            # A buddy is an intern too: she is a responder while she has an alert open to
            # answer (then `OK 4821` acknowledges); her bare `OK` stays her own check-in.
            responder=not self.person.is_intern
            or (i.may_answer_a_case(self.message.body) and bool(self.cases)),
            duress_word=self.person.duress_word,
            question=SCALE[self.question.kind] if self.question else None,
            today=local_date(self.person, self.now),
        )
        intent = i.interpret(self.message.body, context)
        self.intent = intent.kind
        handler = HANDLERS.get(intent.kind)
        return handler(self, intent) if handler else self.on_unknown(intent)

    @cached_property
    def question(self) -> Question | None:
        """The mental-health question waiting for her answer: a digit answers it."""
        return open_question(self.session, self.person, self.now) if self.person.is_intern else None

    @cached_property
    def cases(self) -> list[Incident]:
        """The open incidents this person was alerted to (only looked up for an ack or a close)."""
        return open_incidents_alerted_to(self.session, self.person)

    def say(self, template: str, **context: object) -> str:
        return render(template, self.person.language, name=self.person.first_name, **context)

    def on_unknown(self, intent: i.Intent) -> str:
        record(
            self.session, self.now, "not_understood", person=self.person, message_id=self.message.id
        )
        return self.say("not_understood")

    def open(self, kind: str, **detail: object) -> Incident:
        incident, _opened = open_incident(
            self.session,
            self.now,
            self.person,
            kind,
            admin_phones=self.admin_phones,
            message_id=self.message.id,
            detail=detail or None,
        )
        return incident


def reply_later(
    session: Session, now: datetime, message_id: int, admin_phones: tuple[str, ...] = ()
) -> bool:
    """For the tick: process a message whose first processing failed; reply via the outbox."""
    claimed, reply = process(session, now, message_id, admin_phones=admin_phones)
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
    from bot import duress_replies, intern_replies, responder_replies, wellbeing_replies

    return {
        **intern_replies.HANDLERS,
        **responder_replies.HANDLERS,
        **duress_replies.HANDLERS,
        **wellbeing_replies.HANDLERS,
    }


HANDLERS = _handlers()
