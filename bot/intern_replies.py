"""What Faro answers an intern: her check-in, a call for help, the menu.

Each handler is `(conversation, intent) -> reply`; it changes the domain through
`escalation`, inside the conversation's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import interpret as i
from escalation.checkins import record_fine
from escalation.models import EMERGENCY, SUPPORT

if TYPE_CHECKING:
    from bot.inbound import Conversation


def on_ok(talk: Conversation, intent: i.Intent) -> str | None:
    if not talk.person.is_intern:
        from bot.responder_replies import on_ack

        return on_ack(talk, intent)
    record_fine(talk.session, talk.now, talk.person, message_id=talk.message.id)
    return talk.say("checkin_thanks")


def on_emergency(talk: Conversation, intent: i.Intent) -> str:
    talk.open(EMERGENCY)
    return talk.say("emergency_received")


def on_not_ok(talk: Conversation, intent: i.Intent) -> str:
    if not talk.person.is_intern:
        return talk.on_unknown(intent)
    talk.open(SUPPORT)
    return talk.say("support_received")


def on_menu(talk: Conversation, intent: i.Intent) -> str:
    return talk.say("menu")


HANDLERS = {
    i.OK: on_ok,
    i.EMERGENCY: on_emergency,
    i.NOT_OK: on_not_ok,
    i.MENU: on_menu,
}
