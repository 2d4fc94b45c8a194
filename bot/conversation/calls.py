"""A call to Faro's own number, from storage to what Faro says: the voice webhook
(`bot.calls`) and the phone simulator both call `receive_call`.

A call is stored like a text, and for the same reason: nothing a frightened intern did is lost
if acting on it fails. Each step of a call is one InboundMessage row (channel `voice`), keyed
by its own sid so a webhook Twilio retries is answered the same and acted on once:

    <CallSid>             the call arriving: her check-in (rejected, free) or the menu
    <CallSid>:gather:<n>  the key pressed after the n-th menu (the row's body holds it)
    <CallSid>:silent      the menu said twice and no key: someone checks on her

The row is committed first; a second transaction claims it (`processed_at IS NULL` → now)
and acts: the same domain calls as her texts `OK`, `MAL` and `SOS`, with their events and
outbox rows. A row whose acting failed stays unprocessed; the tick's retry acts on it
(`act_later`) and texts her what the call would have said.

What a call means:
- an intern's call during her check-in window (today's ping sent, not yet answered) is her
  check-in, by missed call: rejected at once, so it costs her nothing, and thanked by text;
- a call within LET_RING of a call Faro rejected, or any other call of hers, gets the menu:
  1 fine, 2 support, 9 emergency;
- a number Faro does not know hears the strangers' 911 advice, and 9 alerts the
  administrators as a stranger's SOS text does;
- a responder hears that the line is the interns', and how to take a case.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.conversation import intern_replies, strangers
from bot.conversation import interpret as i
from bot.conversation.inbound import Conversation, claim, clean_body, keep, sender, settle
from escalation.answers import open_checkin
from escalation.base.config import NO_CONFIG, DomainConfig
from escalation.base.db import transaction
from escalation.base.messages import LANGUAGES, render
from escalation.base.models import SILENT_CALL, VOICE, InboundMessage, Person
from escalation.base.timeline import queue, record, wake_on_commit

log = logging.getLogger(__name__)

# A call this soon after a call Faro rejected is one she let ring on: she wants the menu.
LET_RING = timedelta(minutes=2)

# The steps of a call, read back from the row's sid.
ARRIVAL, KEYPRESS, SILENCE = "arrival", "keypress", "silence"
_STEP = re.compile(r":gather:(?P<attempt>\d+)$|(?P<silent>:silent)$")

# How each step was answered (inbound_message.intent): the edge's TwiML follows from it.
CHECKIN = "call_checkin"  # rejected: her check-in, by missed call
MENU = "call_menu"  # 1 fine, 2 support, 9 emergency
OTHER_KEY = "call_other_key"  # a key the menu does not know: the menu again
SILENT = "call_silent"  # no key after the menu twice: her team checks on her
RESPONDER = "call_responder"  # not an intern's line: how to take a case
UNKNOWN_MENU = "call_unknown"  # a stranger: 911 advice, 9 to alert the administrators
UNKNOWN_KEY = "call_unknown_key"  # a stranger's other key or silence: the advice, goodbye
KEYS = {"1": i.OK, "2": i.NOT_OK, "9": i.EMERGENCY}
# How her check-in came, on its `checkin_answered` event (the console shows it).
BY_MISSED_CALL, BY_CALL = "missed_call", "call"
# What the tick texts her when a step could only be acted on later (the call was over).
TEXTED_LATER = {i.OK, i.NOT_OK, i.EMERGENCY, SILENT, strangers.UNKNOWN_SOS}


@dataclass(frozen=True)
class CallAnswer:
    intent: str | None  # None while pending
    reply: str | None  # what Faro says on the call (None: a rejected call says nothing)
    language: str
    pending: bool = False  # stored, but acting on it failed: the tick will


def step_sid(call_sid: str, step: str, attempt: int = 1) -> str:
    if step == KEYPRESS:
        return f"{call_sid}:gather:{attempt}"
    return f"{call_sid}:silent" if step == SILENCE else call_sid


def step_of(sid: str) -> tuple[str, int]:
    """(step, menu attempt) of a stored call row, from its sid."""
    found = _STEP.search(sid)
    if found is None:
        return ARRIVAL, 0
    return (SILENCE, 0) if found["silent"] else (KEYPRESS, int(found["attempt"]))


def receive_call(
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    sid: str,
    from_address: str,
    digits: str = "",
    config: DomainConfig = NO_CONFIG,
    wake: Callable[[bool], object] | None = None,
) -> CallAnswer:
    """Store, then act on, one step of a call; a retried step gets its first answer again.
    The database being unavailable raises (bot.spool.UNAVAILABLE) from storing."""
    message_id = store_call(sessions, now, sid=sid, from_address=from_address, digits=digits)
    try:
        with transaction(sessions) as session:
            if wake is not None:
                wake_on_commit(session, wake)
            claimed, answer = process_call(session, now, message_id, config=config)
    except Exception:
        log.exception("processing call step %s failed; the tick will retry it", message_id)
        return CallAnswer(None, None, config.default_language, pending=True)
    if not claimed:  # acted on before (Twilio retried the webhook): the same answer
        with sessions() as session:
            return _stored_answer(session, session.get(InboundMessage, message_id))
    return answer


def store_call(
    sessions: sessionmaker[Session], now: datetime, *, sid: str, from_address: str, digits: str
) -> int:
    """Commit the call step first; the same sid again returns the first row."""
    return keep(sessions, now, sid=sid, from_address=from_address, body=clean_body(digits, 8),
                channel=VOICE).id  # fmt: skip


def process_call(
    session: Session, now: datetime, message_id: int, *, config: DomainConfig = NO_CONFIG
) -> tuple[bool, CallAnswer | None]:
    """Claim and act on one stored call step: (False, None) if it was acted on before."""
    message = claim(session, now, message_id)
    if message is None:
        return False, None
    step, _attempt = step_of(message.message_sid)
    found = sender(session, message.phone)
    person = found if found is not None and found.active else None
    if person is not None and person.is_intern:
        intent, reply = _intern(Conversation(session, now, person, message, config), step)
    elif person is not None or message.phone in config.admin_phones:
        intent, reply = RESPONDER, render("call_responder", language_of(person))
    else:
        intent, reply = _stranger(session, now, message, found, config, step)
    settle(session, message, person, intent, reply)
    return True, CallAnswer(intent, reply, language_of(person or found))


def language_of(person: Person | None) -> str:
    return person.language if person is not None and person.language in LANGUAGES else "es"


def _stored_answer(session: Session, message: InboundMessage) -> CallAnswer:
    """The answer a step was given, again (the caller's language, as when it was acted on)."""
    return CallAnswer(message.intent, message.reply, language_of(sender(session, message.phone)))


# --- an intern's call ----------------------------------------------------------------------


def _intern(talk: Conversation, step: str) -> tuple[str, str | None]:
    if step == ARRIVAL:
        if open_checkin(talk.session, talk.person, talk.now) and not _rejected_lately(talk):
            _missed_call_checkin(talk)
            return CHECKIN, None  # a rejected call says nothing: the thanks go by text
        record(talk.session, talk.now, "call_menu", person=talk.person, message_id=talk.message.id)
        return MENU, talk.say("call_menu")
    if step == SILENCE:  # told "your team is asked" only when someone of it was queued
        return SILENT, talk.open_and_say(SILENT_CALL, "call_silent")
    intent = KEYS.get(talk.message.body)
    if intent == i.OK:
        cleared = intern_replies.fine(talk, via=BY_CALL)
        return intent, talk.say("checkin_thanks_all_clear" if cleared else "checkin_thanks")
    if intent == i.NOT_OK:
        return intent, intern_replies.on_not_ok(talk, i.Intent(i.NOT_OK))
    if intent == i.EMERGENCY:
        return intent, intern_replies.on_emergency(talk, i.Intent(i.EMERGENCY))
    return OTHER_KEY, talk.say("call_menu")  # the menu again


def _rejected_lately(talk: Conversation) -> bool:
    """Whether Faro rejected a call of hers within LET_RING: calling again, she wants to talk."""
    found = talk.session.scalar(
        select(InboundMessage.id)
        .where(
            InboundMessage.phone == talk.phone,
            InboundMessage.channel == VOICE,
            InboundMessage.intent == CHECKIN,
            InboundMessage.id != talk.message.id,
            InboundMessage.received_at >= talk.now - LET_RING,
        )
        .limit(1)
    )
    return found is not None


def _missed_call_checkin(talk: Conversation) -> None:
    """Her check-in by missed call, as her `OK` would be; thanked by text on her own channel
    unless she opted out or texts no longer reach her (read before her OK clears that)."""
    intern = talk.person
    texts_reach_her = intern.opted_out_at is None and intern.unreachable_since is None
    cleared = intern_replies.fine(talk, via=BY_MISSED_CALL)
    if texts_reach_her:
        thanks = talk.say("call_checkin_thanks", cleared=bool(cleared))
        queue(talk.session, talk.now, kind="reply", body=thanks, person=intern)


# --- a stranger's call -----------------------------------------------------------------------


def _stranger(session, now, message, found, config, step) -> tuple[str, str]:
    language = language_of(found)
    if step == KEYPRESS and message.body == "9":
        reply, intent = strangers.emergency(session, now, message, found, config, by_call=True)
        return intent, reply
    phone = message.phone or message.from_address
    if step == ARRIVAL:
        log.warning("call from unknown or inactive number %s (message %s)", phone, message.id)
        record(session, now, "unknown_call", person=found, message_id=message.id, phone=phone)
        return UNKNOWN_MENU, render("call_unknown_menu", language)
    return UNKNOWN_KEY, render("unknown_sender", language)


# --- the tick's retry ------------------------------------------------------------------------


def act_later(
    session: Session, now: datetime, message_id: int, config: DomainConfig = NO_CONFIG
) -> bool:
    """For the tick: act on a call step whose first processing failed. The call is over, so
    what it would have said about a key (her check-in, her team alerted) goes by text."""
    claimed, answer = process_call(session, now, message_id, config=config)
    if not claimed:
        return False
    message = session.get(InboundMessage, message_id)
    if answer.intent not in TEXTED_LATER or not answer.reply or message.phone is None:
        return True
    person = session.get(Person, message.person_id) if message.person_id else None
    if person is not None and person.opted_out_at is not None:
        return True
    queue(session, now, kind="reply", body=answer.reply, person=person, phone=message.phone)
    return True
