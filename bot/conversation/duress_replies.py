"""The duress word: `CLAVE palabra` sets it; the word itself is answered exactly like `OK`.

Whoever stands over an intern and makes her text "estoy bien" must see nothing different:
the reply is `on_ok`'s own (its check-in side effects happen too, in the same transaction and
at the same speed), while a critical duress incident opens silently and its alerts tell the
responders not to call or text her back. No reply to the intern ever mentions it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.conversation import interpret as i
from bot.conversation.intern_replies import on_ok
from escalation.base.models import DURESS
from escalation.base.timeline import record

if TYPE_CHECKING:
    from bot.conversation.inbound import Conversation

MIN_LENGTH = 4
MAX_LENGTH = 100  # the column's size


def on_duress(talk: Conversation, intent: i.Intent) -> str | None:
    if talk.person.is_intern:
        # First, so that the "ok" below cannot close her other incidents as if all were well.
        talk.open(DURESS)
    return on_ok(talk, intent)


def on_set_duress(talk: Conversation, intent: i.Intent) -> str:
    if not talk.person.is_intern:
        return talk.on_unknown(intent)
    word = (intent.text or "").strip()
    if not MIN_LENGTH <= len(word) <= MAX_LENGTH or i.clashes_with_vocabulary(word):
        # The word is never repeated back, nor written to the timeline.
        record(talk.session, talk.now, "duress_word_refused", person=talk.person,
               message_id=talk.message.id)  # fmt: skip
        return talk.say("duress_refused")
    talk.person.duress_word = word
    record(talk.session, talk.now, "duress_word_set", person=talk.person,
           message_id=talk.message.id)  # fmt: skip
    return talk.say("duress_set")


HANDLERS = {
    i.DURESS: on_duress,
    i.SET_DURESS: on_set_duress,
}
