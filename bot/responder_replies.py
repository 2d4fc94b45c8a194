"""What Faro answers a responder: ATIENDO / OK <code> acknowledges, LISTO <code> closes.

A responder may only act on incidents she was alerted to: a code she was not sent gets the
same answer as a code that does not exist, so codes reveal nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import interpret as i
from escalation.incidents import acknowledge, holder_name, resolve
from escalation.models import Incident
from escalation.timeline import record

if TYPE_CHECKING:
    from bot.inbound import Conversation


def on_ack(talk: Conversation, intent: i.Intent) -> str:
    incident, reply = _case(talk, intent)
    if incident is None:
        return reply
    intern = incident.intern
    if acknowledge(talk.session, talk.now, incident, talk.person):
        return talk.say("ack_thanks", code=incident.code, intern=intern.name)
    holder = holder_name(talk.session, incident, talk.person.language)
    return talk.say("ack_already", responder=holder, code=incident.code, intern=intern.name)


def on_resolve(talk: Conversation, intent: i.Intent) -> str:
    incident, reply = _case(talk, intent)
    if incident is None:
        return reply
    if not resolve(talk.session, talk.now, incident, talk.person, "responder"):
        return talk.say("case_none")  # closed meanwhile by someone else
    return talk.say("resolve_thanks", code=incident.code, intern=incident.intern.name)


def _case(talk: Conversation, intent: i.Intent) -> tuple[Incident | None, str | None]:
    """The incident a responder's code names, among those she was alerted to."""
    cases = talk.cases
    if intent.code is not None:
        match = [c for c in cases if c.code == intent.code]
        if match:
            return match[0], None
        record(talk.session, talk.now, "unknown_code", person=talk.person, code=intent.code)
        return None, talk.say("case_unknown", code=intent.code)
    if len(cases) == 1:
        return cases[0], None
    if not cases:
        return None, talk.say("case_none")
    codes = ", ".join(c.code for c in cases)
    return None, talk.say("case_which", codes=codes, example=cases[0].code)


HANDLERS = {
    i.ACK: on_ack,
    i.RESOLVE: on_resolve,
}
