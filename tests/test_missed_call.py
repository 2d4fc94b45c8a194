"""Check-ins by missed call, and the voice menu (POST /twilio/call, the number's voice webhook).

Ana's prepaid phone has no credit for a text. In her check-in window her call is rejected at
once (`<Reject>`: it costs her nothing) and is her check-in, thanked by text. A call she lets
ring on, or one outside her window, hears a menu: 1 fine, 2 support, 9 emergency; silence
twice asks her buddy and her nurse to check on her. A number Faro does not know hears the
911 advice and may press 9 to reach the administrators. Every answer is parsed as TwiML and
checked against Twilio's verbs.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy.exc import OperationalError

from escalation.base.models import (
    CRITICAL,
    EMERGENCY,
    NORMAL,
    SILENT_CALL,
    SUPPORT,
    CheckIn,
    Event,
    InboundMessage,
    Incident,
    OutboundMessage,
)
from escalation.history import calendar
from tests.conftest import ANA, PUBLIC_URL, at, signature
from tests.escalation_helpers import alerts, person
from tests.stories import rows, tick

ADMIN = "+528100000099"
STRANGER = "+528188887777"
PING = "2026-11-24T08:00:00-06:00"
_sids = itertools.count(1)


@pytest.fixture
def extra_settings():
    return {"ADMIN_PHONES": ADMIN}


# --- Twilio's side of a call -----------------------------------------------------------------


class Call:
    """One call to Faro's number, as Twilio's webhooks make it (signed, same CallSid)."""

    def __init__(self, client, caller: str):
        self.client, self.caller = client, caller
        self.sid = f"CA{next(_sids):032d}"

    def post(self, url: str, **extra: str):
        path = url.removeprefix(PUBLIC_URL)
        params = {
            "CallSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.caller,
            "To": "+15005550006",
            "Direction": "inbound",
            "CallStatus": "ringing" if path == "/twilio/call" else "in-progress",
            **extra,
        }
        headers = {"X-Twilio-Signature": signature(PUBLIC_URL + path, params)}
        response = self.client.post(path, data=params, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/xml"
        return twiml(response.get_data(as_text=True))

    def arrive(self):
        return self.post(f"{PUBLIC_URL}/twilio/call")

    def press(self, menu: ET.Element, digits: str):
        """The key pressed while the menu's <Gather> listens: Twilio posts to its action."""
        return self.post(gather(menu).get("action"), Digits=digits)

    def wait(self, menu: ET.Element):
        """No key: Twilio goes on after the <Gather> and follows the <Redirect>."""
        return self.post(menu.find("Redirect").text)


# Twilio's voice verbs as documented: where each may stand and the attributes it takes.
VERBS = {
    "Say": {"language", "voice", "loop"},
    "Gather": {"numDigits", "action", "method", "timeout", "input", "finishOnKey"},
    "Redirect": {"method"},
    "Hangup": set(),
    "Reject": {"reason"},
}
IN_GATHER = {"Say", "Play", "Pause"}


def twiml(text: str) -> ET.Element:
    """The parsed <Response>, checked: known verbs and attributes, <Say> only with its es-MX
    or en-US voice and inside <Gather> only what may nest there, <Reject> alone as the first
    verb (so the call is never answered), nothing after <Hangup> or <Redirect>."""
    root = ET.fromstring(text)
    assert root.tag == "Response"
    verbs = list(root)
    for n, verb in enumerate(verbs):
        assert verb.tag in VERBS, verb.tag
        assert set(verb.attrib) <= VERBS[verb.tag], (verb.tag, verb.attrib)
        if verb.tag in ("Hangup", "Redirect", "Reject"):
            assert n == len(verbs) - 1, f"{verb.tag} must be the last verb: {text}"
        if verb.tag == "Reject":
            assert n == 0 and verb.get("reason") in ("rejected", "busy")
        if verb.tag == "Redirect":
            assert verb.get("method") == "POST" and verb.text.startswith(PUBLIC_URL)
        for inner in verb:
            assert verb.tag == "Gather" and inner.tag in IN_GATHER, (verb.tag, inner.tag)
    for say in root.iter("Say"):
        assert say.get("language") in ("es-MX", "en-US") and say.text.strip()
    return root


def verbs(root: ET.Element) -> list[str]:
    return [verb.tag for verb in root]


def gather(root: ET.Element) -> ET.Element:
    [keys] = root.findall("Gather")
    return keys


def said(root: ET.Element) -> str:
    return " ".join(say.text for say in root.iter("Say"))


def assert_menu(root: ET.Element, attempt: int, language: str = "es-MX") -> None:
    assert verbs(root) == ["Gather", "Redirect"]
    keys = gather(root)
    assert keys.attrib == {
        "numDigits": "1",
        "action": f"{PUBLIC_URL}/twilio/call/gather?attempt={attempt}",
        "method": "POST",
        "timeout": "8",
    }
    [say] = keys
    assert say.tag == "Say" and say.get("language") == language
    assert root.find("Redirect").text == f"{PUBLIC_URL}/twilio/call/menu?attempt={attempt + 1}"


def assert_said_and_hung_up(root: ET.Element, *words: str) -> None:
    assert verbs(root)[-1] == "Hangup" and "Gather" not in verbs(root)
    for word in words:
        assert word in said(root), said(root)


# --- the story's moments ---------------------------------------------------------------------


def pinged(faro) -> None:
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, PING)


def ana_checkin(faro, people) -> CheckIn:
    [checkin] = rows(faro, CheckIn, CheckIn.intern_id == _id(faro, people["ana"]))
    return checkin


def _id(faro, phone: str) -> int:
    with faro.sessions() as session:
        return person(session, phone).id


def her_events(faro, people, kind: str) -> list[Event]:
    return rows(faro, Event, Event.kind == kind, Event.person_id == _id(faro, people["ana"]))


def texts_to(faro, phone: str, kind: str) -> list[str]:
    found = rows(faro, OutboundMessage, OutboundMessage.to_phone == phone,
                 OutboundMessage.kind == kind)  # fmt: skip
    return [m.body for m in found]


def case_of(faro, kind: str, phone: str = ANA) -> Incident:
    """Her one case of `kind` (Beto, pinged with her, has his own when he is silent too)."""
    [case] = rows(faro, Incident, Incident.kind == kind, Incident.intern_id == _id(faro, phone))
    return case


# --- in her window: a missed call is her check-in --------------------------------------------


def test_a_missed_call_in_her_window_records_her_checkin_and_stops_the_reminder(
    faro, people, client, clock
):
    pinged(faro)
    clock.set(at("2026-11-24T08:10:00-06:00"))
    answer = Call(client, people["ana"]).arrive()
    assert verbs(answer) == ["Reject"] and answer[0].get("reason") == "busy"
    assert ana_checkin(faro, people).answered_at == at("2026-11-24T08:10:00-06:00")
    [answered] = her_events(faro, people, "checkin_answered")
    assert answered.data["via"] == "missed_call" and answered.data["late"] is False
    [thanks] = texts_to(faro, people["ana"], "reply")
    assert thanks.startswith("Recibimos tu llamada, Ana: anotamos que estas bien")
    tick(faro, "2026-11-24T08:30:00-06:00")
    tick(faro, "2026-11-24T10:00:00-06:00")
    assert her_events(faro, people, "checkin_reminded") == []
    assert her_events(faro, people, "checkin_missed") == []
    # The console's calendar says how: on time, by missed call.
    with faro.sessions() as session:
        today = calendar(session, person(session, people["ana"]), answered.at.date(), days=1)
    assert (today[0].state, today[0].reason) == ("on_time", "missed_call")


def test_a_missed_call_after_her_deadline_gives_the_all_clear(faro, people, client, clock):
    pinged(faro)
    tick(faro, "2026-11-24T10:00:00-06:00")  # missed: Beto and Rosa are looking for her
    case = case_of(faro, "missed_checkin")
    clock.set(at("2026-11-24T10:20:00-06:00"))
    assert verbs(Call(client, people["ana"]).arrive()) == ["Reject"]
    assert rows(faro, Incident, Incident.id == case.id)[0].resolved_at is not None
    assert ana_checkin(faro, people).late
    [thanks] = texts_to(faro, people["ana"], "reply")
    assert "avisamos a tu equipo, que te estaba buscando" in thanks


def test_a_repeated_webhook_acts_once_and_answers_the_same(faro, people, client, clock):
    pinged(faro)
    clock.set(at("2026-11-24T08:10:00-06:00"))
    call = Call(client, people["ana"])
    first, again = call.arrive(), call.arrive()
    assert ET.tostring(first) == ET.tostring(again)
    assert len(her_events(faro, people, "checkin_answered")) == 1
    assert len(texts_to(faro, people["ana"], "reply")) == 1
    assert len(rows(faro, InboundMessage, InboundMessage.message_sid == call.sid)) == 1


def test_a_keypress_retried_by_twilio_opens_one_emergency(faro, people, client, clock):
    clock.set(at("2026-11-24T12:00:00-06:00"))
    call = Call(client, people["ana"])
    menu = call.arrive()
    first, again = call.press(menu, "9"), call.press(menu, "9")
    assert ET.tostring(first) == ET.tostring(again)
    case_of(faro, EMERGENCY)
    assert len(alerts(faro, people["rosa"])) == 2  # one text and one call, once


def test_a_forged_or_unsigned_call_gets_403(faro, people, client):
    params = {"CallSid": "CA" + "1" * 32, "From": people["ana"], "To": "+15005550006"}
    assert client.post("/twilio/call", data=params).status_code == 403
    forged = {"X-Twilio-Signature": signature(f"{PUBLIC_URL}/twilio/sms", params)}
    assert client.post("/twilio/call", data=params, headers=forged).status_code == 403
    assert client.post("/twilio/call/gather?attempt=1", data=params).status_code == 403
    assert rows(faro, InboundMessage) == []


def test_the_attempt_is_part_of_the_signed_url(faro, people, client, clock):
    clock.set(at("2026-11-24T12:00:00-06:00"))
    params = {"CallSid": "CA" + "1" * 32, "From": people["ana"], "To": "+15005550006"}
    signed_for_two = signature(f"{PUBLIC_URL}/twilio/call/menu?attempt=2", params)
    response = client.post(
        "/twilio/call/menu?attempt=3", data=params, headers={"X-Twilio-Signature": signed_for_two}
    )
    assert response.status_code == 403
    assert rows(faro, Incident) == []


# --- the menu ----------------------------------------------------------------------------------


def test_a_second_call_within_two_minutes_gets_the_menu(faro, people, client, clock):
    pinged(faro)
    clock.set(at("2026-11-24T08:10:00-06:00"))
    assert verbs(Call(client, people["ana"]).arrive()) == ["Reject"]
    clock.set(at("2026-11-24T08:11:30-06:00"))
    menu = Call(client, people["ana"]).arrive()
    assert_menu(menu, attempt=1)
    assert "Si estas bien, oprime 1" in said(menu) and "emergencia, oprime 9" in said(menu)
    assert len(her_events(faro, people, "checkin_answered")) == 1


def test_outside_her_window_the_menu_and_1_records_her_fine(faro, people, client, clock):
    tick(faro, "2026-11-24T07:00:00-06:00")  # her ping is at 08:00: no window yet
    clock.set(at("2026-11-24T07:30:00-06:00"))
    call = Call(client, people["ana"])
    menu = call.arrive()
    assert_menu(menu, attempt=1)
    assert_said_and_hung_up(call.press(menu, "1"), "anotamos que estas bien")
    [answered] = her_events(faro, people, "checkin_answered")
    assert answered.data["via"] == "call"
    assert ana_checkin(faro, people).answered_at == at("2026-11-24T07:30:00-06:00")
    tick(faro, PING)  # an answer before the ping means no ping today
    assert ana_checkin(faro, people).sent_at is None
    assert texts_to(faro, people["ana"], "reply") == []  # the call said it


def test_9_opens_an_emergency_and_alerts_her_team(faro, people, client, clock):
    clock.set(at("2026-11-24T21:00:00-06:00"))
    call = Call(client, people["ana"])
    answer = call.press(call.arrive(), "9")
    assert_said_and_hung_up(answer, "Recibimos tu alerta. Estamos avisando a tu equipo")
    case = case_of(faro, EMERGENCY)
    assert case.severity == CRITICAL
    for who in ("beto", "rosa", "luis"):  # the emergency policy's step one, as for SOS
        assert [a.channel for a in alerts(faro, people[who])] == ["sms", "voice"], who
    [opened] = rows(faro, Event, Event.kind == "incident_opened")
    [pressed] = rows(faro, InboundMessage, InboundMessage.id == opened.message_id)
    assert (pressed.channel, pressed.body, pressed.intent) == ("voice", "9", "emergency")


def test_2_asks_for_support_like_mal(faro, people, client, clock):
    clock.set(at("2026-11-24T21:00:00-06:00"))
    call = Call(client, people["ana"])
    assert_said_and_hung_up(call.press(call.arrive(), "2"), "Alguien del equipo te buscara")
    assert case_of(faro, SUPPORT).severity == NORMAL
    assert alerts(faro, people["sofia"])  # the support policy: buddies, mental health


def test_another_key_says_the_menu_again(faro, people, client, clock):
    clock.set(at("2026-11-24T21:00:00-06:00"))
    call = Call(client, people["ana"])
    again = call.press(call.arrive(), "5")
    assert_menu(again, attempt=2)
    assert_said_and_hung_up(call.press(again, "1"), "anotamos que estas bien")
    assert rows(faro, Incident) == []


def test_a_silent_call_asks_her_buddy_and_nurse_to_check_on_her(faro, people, client, clock):
    clock.set(at("2026-11-24T21:00:00-06:00"))
    call = Call(client, people["ana"])
    first = call.arrive()
    again = call.wait(first)
    assert_menu(again, attempt=2)  # the menu once more
    assert rows(faro, Incident) == []
    goodbye = call.wait(again)
    assert_said_and_hung_up(goodbye, "No recibimos tu respuesta", "911")
    case = case_of(faro, SILENT_CALL)
    assert case.severity == NORMAL  # a support-severity case
    told = {a.to_phone for a in alerts(faro)}
    assert told == {people["beto"], people["rosa"]}
    [alert] = alerts(faro, people["rosa"])
    assert "llamo a Faro a las 21:00 y no marco ninguna opcion" in alert.body
    assert ET.tostring(call.wait(again)) == ET.tostring(goodbye)  # retried: one case
    assert len(rows(faro, Incident)) == 1


def test_her_ok_ends_a_silent_call_case(faro, people, client, clock, text_faro):
    clock.set(at("2026-11-24T21:00:00-06:00"))
    call = Call(client, people["ana"])
    call.wait(call.wait(call.arrive()))
    clock.set(at("2026-11-24T21:05:00-06:00"))
    assert "avisamos a tu equipo" in text_faro(people["ana"], "ok").get_data(as_text=True)
    assert case_of(faro, SILENT_CALL).resolved_at is not None


def test_she_hears_her_own_language(faro, people, client, clock):
    with faro.sessions() as session, session.begin():
        person(session, people["ana"]).language = "en"
    clock.set(at("2026-11-24T21:00:00-06:00"))
    menu = Call(client, people["ana"]).arrive()
    assert_menu(menu, attempt=1, language="en-US")
    assert "If you are fine, press 1" in said(menu)


# --- numbers Faro does not know, and responders -----------------------------------------------


def test_a_caller_outside_the_roster_reaches_the_administrators(faro, people, client, clock):
    clock.set(at("2026-11-24T22:00:00-06:00"))
    call = Call(client, STRANGER)
    menu = call.arrive()
    assert verbs(menu) == ["Gather", "Say", "Hangup"]
    assert "no esta registrado en Faro. En una emergencia llama al 911" in said(gather(menu))
    assert "oprime 9" in said(gather(menu))
    assert_said_and_hung_up(call.press(menu, "9"), "Avisamos a la administracion", "911")
    [notice] = texts_to(faro, ADMIN, "unknown_emergency")
    assert STRANGER in notice and "llamo a Faro a las 22:00 y marco 9" in notice
    assert rows(faro, Incident) == []
    # A text with words of danger within ten minutes: the administrators already know.
    later = Call(client, STRANGER)
    later.press(later.arrive(), "9")
    assert len(texts_to(faro, ADMIN, "unknown_emergency")) == 1


def test_a_strangers_other_key_is_the_advice_and_goodbye(faro, people, client, clock):
    clock.set(at("2026-11-24T22:00:00-06:00"))
    call = Call(client, STRANGER)
    assert_said_and_hung_up(call.press(call.arrive(), "1"), "llama al 911")
    assert texts_to(faro, ADMIN, "unknown_emergency") == []


def test_a_responder_hears_the_line_is_the_interns(faro, people, client, clock):
    clock.set(at("2026-11-24T22:00:00-06:00"))
    assert_said_and_hung_up(Call(client, people["rosa"]).arrive(), "ATIENDO")


# --- durable first --------------------------------------------------------------------------


def test_without_the_database_she_is_told_to_call_911(faro, people, client, clock, monkeypatch):
    def unavailable(*args, **kwargs):
        raise OperationalError("INSERT", {}, ConnectionRefusedError("database down"))

    monkeypatch.setattr("bot.conversation.calls.store_call", unavailable)
    clock.set(at("2026-11-24T22:00:00-06:00"))
    answer = Call(client, people["ana"]).arrive()
    assert_said_and_hung_up(answer, "no puede anotar tu llamada", "llama al 911")


def test_a_keypress_that_failed_is_acted_on_by_the_tick(faro, people, client, clock, monkeypatch):
    from bot.conversation import calls

    real, steps = calls.process_call, itertools.count(1)

    def second_fails(*args, **kwargs):
        if next(steps) == 2:
            raise RuntimeError("a bug, once")
        return real(*args, **kwargs)

    monkeypatch.setattr(calls, "process_call", second_fails)
    clock.set(at("2026-11-24T21:00:00-06:00"))
    call = Call(client, people["ana"])
    answer = call.press(call.arrive(), "9")  # acting fails: stored, and she is told so
    assert_said_and_hung_up(answer, "Quedo guardada", "911")
    pressed = rows(faro, InboundMessage, InboundMessage.message_sid == f"{call.sid}:gather:1")
    assert pressed[0].processed_at is None and rows(faro, Incident) == []
    tick(faro, "2026-11-24T21:01:00-06:00")
    assert rows(faro, Incident) == []  # the webhook itself may still be at it
    tick(faro, "2026-11-24T21:03:00-06:00")  # the retry: the emergency, and a text for her
    assert case_of(faro, EMERGENCY).opened_at == at("2026-11-24T21:03:00-06:00")
    assert alerts(faro, people["rosa"])
    [told] = texts_to(faro, people["ana"], "reply")
    assert told.startswith("Recibimos tu alerta. Estamos avisando a tu equipo")


def test_a_menu_that_failed_is_not_texted_later(faro, people, client, clock, monkeypatch):
    from bot.conversation import calls

    real, steps = calls.process_call, itertools.count(1)

    def first_fails(*args, **kwargs):
        if next(steps) == 1:
            raise RuntimeError("a bug, once")
        return real(*args, **kwargs)

    monkeypatch.setattr(calls, "process_call", first_fails)
    clock.set(at("2026-11-24T21:00:00-06:00"))
    assert_said_and_hung_up(Call(client, people["ana"]).arrive(), "falla tecnica")
    tick(faro, "2026-11-24T21:03:00-06:00")
    [stored] = rows(faro, InboundMessage)
    assert stored.intent == "call_menu" and stored.processed_at is not None
    assert texts_to(faro, people["ana"], "reply") == []  # the call is over: nothing to say


# --- odd requests ------------------------------------------------------------------------------


def test_odd_but_signed_requests_get_twiml_or_a_clear_400(faro, people, client, clock):
    clock.set(at("2026-11-24T22:00:00-06:00"))
    too_long = Call(client, people["ana"])
    too_long.sid = "CA" + "1" * 60  # no room for ":gather:<n>" in the stored sid
    params = {"CallSid": too_long.sid, "From": people["ana"]}
    headers = {"X-Twilio-Signature": signature(f"{PUBLIC_URL}/twilio/call", params)}
    assert client.post("/twilio/call", data=params, headers=headers).status_code == 400
    hidden = Call(client, "anonymous")  # a withheld caller id is a stranger
    menu = hidden.arrive()
    assert "oprime 9" in said(menu)
    assert_said_and_hung_up(hidden.press(menu, "9"), "Avisamos a la administracion")
    [notice] = texts_to(faro, ADMIN, "unknown_emergency")
    assert "anonymous" in notice
    call = Call(client, people["ana"])
    call.arrive()
    assert_menu(call.post(f"{PUBLIC_URL}/twilio/call/menu?attempt=abc"), attempt=1)
    assert_menu(call.post(f"{PUBLIC_URL}/twilio/call/gather?attempt=1", Digits="\x005"), 2)
    assert rows(faro, Incident) == []


# --- the console -------------------------------------------------------------------------------


def test_the_console_shows_her_missed_call_and_her_key(faro, people, client, clock):
    from tests.console_helpers import account, sign_in

    pinged(faro)
    clock.set(at("2026-11-24T08:10:00-06:00"))
    Call(client, people["ana"]).arrive()
    clock.set(at("2026-11-24T21:00:00-06:00"))
    call = Call(client, people["ana"])
    call.press(call.arrive(), "9")
    account(faro, "admin@faro.mx")
    sign_in(client, "admin@faro.mx")
    page = client.get(f"/admin/people/{_id(faro, people['ana'])}").get_data(as_text=True)
    assert "☎ Llamada perdida: su registro" in page and "☎ Llamada a Faro: marcó 9" in page
    assert "Respondió a tiempo (por llamada perdida)" in page  # her calendar's day
    case = case_of(faro, EMERGENCY)
    page = client.get(f"/admin/incidents/{case.id}").get_data(as_text=True)
    assert "☎ Llamada a Faro: marcó 9" in page
