"""What Faro answers a responder: ATIENDO / OK <code> acknowledges, LISTO <code> closes,
ESTADO <code> tells how a case stands.

A responder may only act on incidents she was alerted to: a code she was not sent gets the
same answer as a code that does not exist, so codes reveal nothing. The administrators'
phones (`ADMIN_PHONES`) may act on every open case, with or without a roster row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.conversation import interpret as i
from escalation.base.kinds import KINDS
from escalation.base.messages import render
from escalation.base.models import Incident
from escalation.base.timeline import record
from escalation.engine import mark_of
from escalation.incidents import acknowledge, holder_name, resolve

if TYPE_CHECKING:
    from bot.conversation.inbound import Conversation


def on_ack(talk: Conversation, intent: i.Intent) -> str:
    incident, reply = _case(talk, intent)
    if incident is None:
        return reply
    intern = incident.intern
    if acknowledge(talk.session, talk.now, incident, talk.person, phone=talk.phone):
        return talk.say("ack_thanks", mark=mark_of(incident), code=incident.code,
                        intern=intern.name)  # fmt: skip
    holder = holder_name(talk.session, incident, talk.language)
    return talk.say("ack_already", mark=mark_of(incident), responder=holder, code=incident.code,
                    intern=intern.name)  # fmt: skip


def on_resolve(talk: Conversation, intent: i.Intent) -> str:
    incident, reply = _case(talk, intent)
    if incident is None:
        return reply
    if not resolve(talk.session, talk.now, incident, talk.person, "responder"):
        return talk.say("case_none")  # closed meanwhile by someone else
    return talk.say("resolve_thanks", mark=mark_of(incident), code=incident.code,
                    intern=incident.intern.name)  # fmt: skip


def on_case_status(talk: Conversation, intent: i.Intent) -> str:
    """ESTADO 4821: who has the case, since when, or which step it is at."""
    incident, reply = _case(talk, intent)
    if incident is None:
        return reply
    record(talk.session, talk.now, "case_status_sent", person=talk.person, incident=incident,
           phone=talk.phone)  # fmt: skip
    zone = ZoneInfo(incident.intern.timezone)
    acked = incident.acknowledged_at
    return talk.say(
        "case_status",
        mark=mark_of(incident),  # a drill's state reads SIMULACRO first
        code=incident.code,
        intern=incident.intern.name,
        kind_name=render(KINDS[incident.kind].name_template, talk.language),
        since=incident.opened_at.astimezone(zone).strftime("%H:%M"),
        holder=holder_name(talk.session, incident, talk.language) if acked else None,
        acked=acked.astimezone(zone).strftime("%H:%M") if acked else None,
        step=incident.step,
    )


def for_admin_phone(talk: Conversation, intent: i.Intent) -> str:
    """An administrator's phone with no roster row: her cases, or how to answer them."""
    handler = {i.ACK: on_ack, i.RESOLVE: on_resolve}.get(intent.kind)
    if handler is not None:
        return handler(talk, intent)
    if intent.kind == i.STATUS and intent.code is not None:
        return on_case_status(talk, intent)
    record(talk.session, talk.now, "responder_help_sent", phone=talk.phone,
           message_id=talk.message.id)  # fmt: skip
    return talk.say("responder_help")


def _case(talk: Conversation, intent: i.Intent) -> tuple[Incident | None, str | None]:
    """The incident a responder's code names, among those she may answer."""
    cases = talk.cases
    if intent.code is not None:
        match = [c for c in cases if c.code == intent.code]
        if match:
            return match[0], None
        record(talk.session, talk.now, "unknown_code", person=talk.person, phone=talk.phone,
               code=intent.code)  # fmt: skip
        return None, talk.say("case_unknown", code=intent.code)
    if len(cases) == 1:
        return cases[0], None
    if not cases:
        return None, talk.say("case_none")
    # A real case and a drill side by side: the drill's code says so.
    codes = ", ".join(render("drill_code", talk.language, code=c.code) if c.drill else c.code
                      for c in cases)  # fmt: skip
    return None, talk.say("case_which", codes=codes, example=cases[0].code)


HANDLERS = {
    i.ACK: on_ack,
    i.RESOLVE: on_resolve,
}
