"""STOP / BAJA and START / ALTA from anyone on the roster (the domain side: escalation.optout)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.conversation import interpret as i
from escalation.optout import BY_TEXT, opt_in, opt_out

if TYPE_CHECKING:
    from bot.conversation.inbound import Conversation


def on_opt_out(talk: Conversation, intent: i.Intent) -> str:
    opt_out(talk.session, talk.now, talk.person, via=BY_TEXT, config=talk.config,
            message_id=talk.message.id)  # fmt: skip
    return talk.say("opted_out")


def on_opt_in(talk: Conversation, intent: i.Intent) -> str:
    was_out = opt_in(talk.session, talk.now, talk.person, message_id=talk.message.id)
    time = talk.person.checkin_time if talk.person.is_intern else None
    return talk.say("opted_in", was_out=was_out, time=time)


HANDLERS = {
    i.OPT_OUT: on_opt_out,
    i.OPT_IN: on_opt_in,
}
