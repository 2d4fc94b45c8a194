"""The mental-health path: words of self-harm at any time, and the questionnaires' answers.

Everything said here is health data. Replies to the intern are warm, short and always give
the crisis line (templates/sms/SAFE_MESSAGING.md); responders hear only that support is
needed, never what she wrote.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.conversation import interpret as i
from escalation import wellbeing
from escalation.base.models import SELF_HARM

if TYPE_CHECKING:
    from bot.conversation.inbound import Conversation


def on_self_harm(talk: Conversation, intent: i.Intent) -> str:
    """Crisis line at once, and a self-harm incident to the mental-health contact."""
    if not talk.person.is_intern:
        return talk.say("mh_crisis_line")
    return talk.open_and_say(SELF_HARM, "mh_crisis_line")


def on_answer(talk: Conversation, intent: i.Intent) -> str:
    """A digit (or SI/NO) answering the open question; its follow-up is the reply."""
    question = talk.question
    if question is None:  # the interpreter only answers with a question open
        return talk.on_unknown(intent)
    return wellbeing.answer(
        talk.session, talk.now, talk.person, question, intent.value, talk.config
    )


HANDLERS = {
    i.SELF_HARM: on_self_harm,
    i.ANSWER: on_answer,
}
