"""The number's voice webhook: a call to Faro, answered with TwiML. Signed like every webhook.

    POST /twilio/call                     the call arrives ("A call comes in" on the number)
    POST /twilio/call/gather?attempt=<n>  the key pressed after the n-th menu (<Gather>'s action)
    POST /twilio/call/menu?attempt=<n>    no key after menu n-1 (its <Redirect>): the menu once
                                          more, then, said twice and unanswered, a silent call

An intern's call in her check-in window is `<Reject reason="busy"/>`: never answered, so it
costs her nothing, and it is her check-in (a text thanks her). Her other calls, and one within
two minutes of a call Faro rejected (she let it ring on: she wants to talk), hear the menu,
`<Gather numDigits="1">` around `<Say language="es-MX">` (her language's voice): 1 fine,
2 support, 9 emergency, another key the menu again. Pressing nothing, the menu repeats once;
then her buddies and her unit's nurse are asked to check on her (she may be unable to speak;
a pocket dial looks the same), a short goodbye and `<Hangup/>`.

What each step means and does is `bot.conversation.calls` (stored first, then acted on);
this module only turns its answer into TwiML. The phone simulator plays calls through
`on_call`, `on_key` and `on_menu`, the same functions the routes call.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, request
from twilio.twiml.voice_response import VoiceResponse

from bot.conversation import calls
from bot.conversation.inbound import sender
from bot.runtime import faro
from bot.spool import UNAVAILABLE
from bot.voice import GATHER_SECONDS, SAY_LANGUAGE
from bot.webhook import check_signature, field
from escalation.base.db import utcnow
from escalation.base.messages import render
from escalation.base.phones import BadPhone, normalize_phone

log = logging.getLogger(__name__)
bp = Blueprint("twilio_call", __name__, url_prefix="/twilio/call")
bp.before_request(check_signature)

CALL_SID_LENGTH = 40  # room for ":gather:<n>" in inbound_message.message_sid; Twilio's are 34
MENU_TIMES = 2  # the menu said this often without a key: a silent call
MENU_TIMES_AT_MOST = 3  # keys the menu does not know get it again, this often in all
REJECT_REASON = "busy"  # she hears a busy tone; "rejected" would say the number is not in service


@bp.post("")
def incoming():
    return on_call(*_caller())


@bp.post("/gather")
def gather():
    return on_key(*_caller(), field("Digits").strip()[:1], _attempt())


@bp.post("/menu")
def menu():
    return on_menu(*_caller(), _attempt())


def _caller() -> tuple[str, str]:
    sid, caller = field("CallSid").strip(), field("From").strip()
    if not sid or len(sid) > CALL_SID_LENGTH:
        log.warning("voice webhook without a usable CallSid (%d characters)", len(sid))
        abort(400)
    return sid, caller


def _attempt() -> int:
    """The menu's count, from our own signed URL; anything else is the first."""
    attempt = request.args.get("attempt", default=1, type=int)
    return min(max(attempt, 1), MENU_TIMES_AT_MOST + 1)


# --- the steps (the routes and the simulator) -----------------------------------------------


def on_call(call_sid: str, caller: str) -> Response:
    try:
        return _answer(_receive(call_sid, caller, calls.ARRIVAL), call_sid, caller, 1)
    except UNAVAILABLE as exc:
        return _unavailable(exc, call_sid, caller)


def on_key(call_sid: str, caller: str, digits: str, attempt: int) -> Response:
    try:
        answer = _receive(call_sid, caller, calls.KEYPRESS, digits, attempt)
        return _answer(answer, call_sid, caller, attempt)
    except UNAVAILABLE as exc:
        return _unavailable(exc, call_sid, caller)


def on_menu(call_sid: str, caller: str, attempt: int) -> Response:
    """No key after the menu: once more, or, said MENU_TIMES times, a silent call."""
    try:
        if attempt > MENU_TIMES:
            return _silent(call_sid, caller)
        with faro().sessions() as session:
            language = calls.language_of(sender(session, _phone(caller)))
    except UNAVAILABLE as exc:
        return _unavailable(exc, call_sid, caller)
    return _menu(render("call_menu", language), language, attempt)


def _silent(call_sid: str, caller: str) -> Response:
    return _answer(_receive(call_sid, caller, calls.SILENCE), call_sid, caller, MENU_TIMES)


def _receive(
    call_sid: str, caller: str, step: str, digits: str = "", attempt: int = 1
) -> calls.CallAnswer:
    """Store and act on one step (raising UNAVAILABLE when it cannot even be stored)."""
    app = faro()
    return calls.receive_call(
        app.sessions,
        utcnow(),
        sid=calls.step_sid(call_sid, step, attempt),
        from_address=caller,
        digits=digits,
        config=app.settings.domain,
        wake=app.wake,
    )


def _answer(answer: calls.CallAnswer, call_sid: str, caller: str, attempt: int) -> Response:
    if answer.pending:  # stored; the tick acts on it and texts her
        return _say(render("call_held", answer.language), answer.language)
    if answer.intent == calls.CHECKIN:
        response = VoiceResponse()
        response.reject(reason=REJECT_REASON)
        return _xml(response)
    if answer.intent == calls.MENU:
        return _menu(answer.reply, answer.language, attempt)
    if answer.intent == calls.OTHER_KEY:
        if attempt >= MENU_TIMES_AT_MOST:
            return _silent(call_sid, caller)
        return _menu(answer.reply, answer.language, attempt + 1)
    if answer.intent == calls.UNKNOWN_MENU:
        return _stranger_menu(answer.reply, answer.language)
    return _say(answer.reply, answer.language)


def _unavailable(exc: Exception, call_sid: str, caller: str) -> Response:
    # Twilio does not retry a call: she is told to call 911 if it is an emergency.
    log.error("database unavailable (%s): call %s from %s not recorded",
              exc.__class__.__name__, call_sid, caller)  # fmt: skip
    language = faro().settings.domain.default_language
    return _say(render("call_unavailable", language), language)


def _phone(caller: str) -> str | None:
    try:
        return normalize_phone(caller)
    except BadPhone:
        return None


# --- TwiML -----------------------------------------------------------------------------------


def _url(step: str, attempt: int) -> str:
    return f"{faro().settings.public_base_url}/twilio/call/{step}?attempt={attempt}"


def _menu(text: str, language: str, attempt: int) -> Response:
    """The menu inside a <Gather>; reached only without a key, the <Redirect> says it again."""
    response = VoiceResponse()
    keys = response.gather(
        num_digits=1, action=_url("gather", attempt), method="POST", timeout=GATHER_SECONDS
    )
    keys.say(text, language=SAY_LANGUAGE[language])
    response.redirect(_url("menu", attempt + 1), method="POST")
    return _xml(response)


def _stranger_menu(text: str, language: str) -> Response:
    """911 advice and "press 9"; without a key, the advice once more and goodbye."""
    response = VoiceResponse()
    keys = response.gather(
        num_digits=1, action=_url("gather", 1), method="POST", timeout=GATHER_SECONDS
    )
    keys.say(text, language=SAY_LANGUAGE[language])
    response.say(render("unknown_sender", language), language=SAY_LANGUAGE[language])
    response.hangup()
    return _xml(response)


def _say(text: str | None, language: str) -> Response:
    response = VoiceResponse()
    if text:
        response.say(text, language=SAY_LANGUAGE[language])
    response.hangup()
    return _xml(response)


def _xml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")
