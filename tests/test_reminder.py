"""No answer by 08:30: one reminder, worded more urgently; none once Ana has answered."""

from __future__ import annotations

from escalation.base.messages import is_gsm7, segments
from tests.stories import checkin_texts, events, sms_to, text, tick, update_person


def start(faro):
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T08:00:00-06:00")


def test_silence_gets_one_urgent_reminder_after_thirty_minutes(faro, people, transport):
    start(faro)
    tick(faro, "2026-11-24T08:29:00-06:00")
    assert len(sms_to(transport, people["ana"])) == 1
    tick(faro, "2026-11-24T08:30:00-06:00")
    tick(faro, "2026-11-24T08:45:00-06:00")
    ping, reminder = sms_to(transport, people["ana"])
    assert reminder.startswith("Ana, aun no sabemos de ti hoy.")
    assert "antes de las 10:00 avisaremos a tu equipo" in reminder
    assert is_gsm7(reminder) and segments(reminder) <= 2
    assert len(events(faro, "checkin_reminded")) == 2  # Ana and her buddy Beto (08:00 too)


def test_no_reminder_once_she_answered(faro, people, transport):
    start(faro)
    text(faro, people["ana"], "bien", "2026-11-24T08:10:00-06:00")
    transport.sent.clear()
    tick(faro, "2026-11-24T08:30:00-06:00")
    assert checkin_texts(transport, people["ana"]) == []


def test_the_delay_is_hers_or_her_universitys(faro, people, transport):
    update_person(faro, people["ana"], reminder_minutes=15)
    start(faro)
    tick(faro, "2026-11-24T08:15:00-06:00")
    assert len(sms_to(transport, people["ana"])) == 2
    assert len(sms_to(transport, people["beto"])) == 1  # Beto keeps UANL's 30 minutes
