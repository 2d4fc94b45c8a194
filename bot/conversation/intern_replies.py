"""What Faro answers an intern: her check-in, a call for help, trips, pauses, her schedule.

Each handler is `(conversation, intent) -> reply`; it changes the domain through
`escalation`, inside the conversation's transaction, and every change writes an event there.
Replies are one short GSM-7 text from the catalog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.conversation import interpret as i
from escalation import answers, pauses, trips
from escalation.base.models import EMERGENCY, SUPPORT
from escalation.base.schedule import SCHEDULE_NOW, day_and_time, hhmm, local_date
from escalation.base.timeline import record
from escalation.crowding import crowded
from escalation.pings import changed_at, compute_next, reschedule
from escalation.trips import open_trip

if TYPE_CHECKING:
    from datetime import datetime

    from bot.conversation.inbound import Conversation


def _when(talk: Conversation, instant: datetime | None) -> str | None:
    return day_and_time(instant, talk.person.timezone) if instant else None


def on_ok(talk: Conversation, intent: i.Intent) -> str | None:
    if not talk.person.is_intern:
        from bot.conversation.responder_replies import on_ack

        return on_ack(talk, intent)
    cleared = fine(talk)
    return talk.say("checkin_thanks_all_clear" if cleared else "checkin_thanks")


def fine(talk: Conversation, via: str | None = None) -> list[str]:
    """Her "I am fine", however it came (a text, or `via` a call): `answers.fine`. Returns the
    codes closed."""
    return answers.fine(talk.session, talk.now, talk.person, message_id=talk.message.id, via=via)


def on_emergency(talk: Conversation, intent: i.Intent) -> str:
    return talk.open_and_say(EMERGENCY, "emergency_received")


def on_not_ok(talk: Conversation, intent: i.Intent) -> str:
    if not talk.person.is_intern:
        return talk.on_unknown(intent)
    return talk.open_and_say(SUPPORT, "support_received")


def on_menu(talk: Conversation, intent: i.Intent) -> str:
    record(talk.session, talk.now, "menu_sent", person=talk.person, message_id=talk.message.id)
    return talk.say("menu")


def on_trip_start(talk: Conversation, intent: i.Intent) -> str:
    trip = trips.start_trip(talk.session, talk.now, talk.person, intent.value, intent.text)
    return talk.say(
        "trip_started",
        destination=trip.destination,
        eta=hhmm(trip.expected_at, talk.person.timezone),
    )


def on_trip_extend(talk: Conversation, intent: i.Intent) -> str:
    trip = trips.extend_trip(talk.session, talk.now, talk.person, intent.value)
    if trip is None:
        record(talk.session, talk.now, "trip_extend_refused", person=talk.person,
               message_id=talk.message.id, reason="no_trip")  # fmt: skip
        return talk.say("trip_none")
    return talk.say("trip_extended", eta=hhmm(trip.expected_at, talk.person.timezone))


def on_trip_end(talk: Conversation, intent: i.Intent) -> str:
    if trips.arrived(talk.session, talk.now, talk.person) is None:
        record(talk.session, talk.now, "trip_end_without_trip", person=talk.person,
               message_id=talk.message.id)  # fmt: skip
        return talk.say("trip_none")
    return talk.say("trip_ended")


def on_pause(talk: Conversation, intent: i.Intent) -> str:
    until = intent.until or local_date(talk.person, talk.now)
    next_at = pauses.pause(talk.session, talk.now, talk.person, until)
    return talk.say("pause_started", until=until.strftime("%d/%m/%Y"), next=_when(talk, next_at))


def on_resume(talk: Conversation, intent: i.Intent) -> str:
    was_paused, next_at = pauses.resume(talk.session, talk.now, talk.person)
    return talk.say("resumed", was_paused=was_paused, next=_when(talk, next_at))


def on_set_time(talk: Conversation, intent: i.Intent) -> str:
    """HORA 07:45: the new time from its next occurrence; today keeps its one ping (or, if
    the new time has passed and the old one had not, today's ping is given up: she has just
    written to us, and the reply and the event say so)."""
    intern, now = talk.person, talk.now
    old_time, old_next = intern.checkin_time, intern.next_checkin_at
    if old_next == SCHEDULE_NOW:  # a change no tick has computed yet: as the tick would
        old_next = compute_next(talk.session, intern, changed_at(intern, now))
    intern.checkin_time = intent.at.strftime("%H:%M")
    next_at = reschedule(talk.session, now, intern)
    today = local_date(intern, now)
    skipped_today = bool(
        old_next
        and old_next > now
        and local_date(intern, old_next) == today
        and (next_at is None or local_date(intern, next_at) != today)
    )
    record(talk.session, now, "checkin_time_changed", person=intern, message_id=talk.message.id,
           old=old_time, new=intern.checkin_time, next=_when(talk, next_at),
           skipped_today=skipped_today)  # fmt: skip
    crowd = crowded(talk.session, now, talk.config.sender_mps,
                    only=(intern.checkin_time, intern.timezone))  # fmt: skip
    if crowd:  # many share her minute: the sender needs a while to reach the last of them
        return talk.say("time_set_crowded", time=intern.checkin_time, next=_when(talk, next_at),
                        minutes=crowd[0].minutes)  # fmt: skip
    return talk.say("time_set", time=intern.checkin_time, next=_when(talk, next_at))


def on_status(talk: Conversation, intent: i.Intent) -> str:
    intern = talk.person
    trip = open_trip(talk.session, intern)
    paused = (
        intern.paused_until
        if intern.paused_until and intern.paused_until > local_date(intern, talk.now)
        else None
    )
    next_at = intern.next_checkin_at
    if next_at == SCHEDULE_NOW:  # changed since the last tick: compute it now
        next_at = reschedule(talk.session, talk.now, intern)
    record(talk.session, talk.now, "status_sent", person=intern, message_id=talk.message.id)
    return talk.say(
        "status",
        next=_when(talk, next_at),
        time=intern.checkin_time,
        until=paused.strftime("%d/%m/%Y") if paused else None,
        eta=_when(talk, trip.expected_at) if trip else None,
        destination=trip.destination if trip else None,
    )


def on_any_status(talk: Conversation, intent: i.Intent) -> str:
    """ESTADO 4821 is a responder asking about a case; a bare ESTADO is an intern's own."""
    if intent.code is not None:
        from bot.conversation.responder_replies import on_case_status

        return on_case_status(talk, intent)
    if not talk.person.is_intern:
        return talk.on_unknown(intent)
    return on_status(talk, intent)


def _interns_only(handler):
    """A responder who is not an intern has no trips, pauses or check-in time of her own."""

    def guarded(talk: Conversation, intent: i.Intent) -> str | None:
        if not talk.person.is_intern:
            return talk.on_unknown(intent)
        return handler(talk, intent)

    return guarded


HANDLERS = {
    i.OK: on_ok,
    i.EMERGENCY: on_emergency,
    i.NOT_OK: on_not_ok,
    i.MENU: on_menu,
    i.TRIP_START: _interns_only(on_trip_start),
    i.TRIP_EXTEND: _interns_only(on_trip_extend),
    i.TRIP_END: _interns_only(on_trip_end),
    i.PAUSE: _interns_only(on_pause),
    i.RESUME: _interns_only(on_resume),
    i.SET_TIME: _interns_only(on_set_time),
    i.STATUS: on_any_status,
}
