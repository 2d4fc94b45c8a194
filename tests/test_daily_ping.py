"""Ana gets one check-in text a day at 08:00 in Doctor Arroyo, by first name, in one segment."""

from __future__ import annotations

import json
from dataclasses import replace

from escalation.base.messages import is_gsm7, segments
from escalation.base.models import WHATSAPP
from escalation.pings import PING
from tests.conftest import at
from tests.stories import (
    checkin_texts,
    checkins,
    events,
    outbox,
    scheduled,
    sms_to,
    text,
    tick,
    update_person,
)


def test_ana_is_pinged_once_at_eight_her_time(faro, people, transport):
    tick(faro, "2026-11-24T07:00:00-06:00")  # schedules her
    tick(faro, "2026-11-24T07:59:59-06:00")
    assert sms_to(transport, people["ana"]) == []
    tick(faro, "2026-11-24T08:00:00-06:00")
    tick(faro, "2026-11-24T08:00:15-06:00")
    tick(faro, "2026-11-24T08:10:00-06:00")
    [ping] = sms_to(transport, people["ana"])
    assert ping == (
        "Hola Ana, ¿todo bien hoy? Responde 1 si estas bien, 2 si necesitas apoyo, "
        "9 si es emergencia."
    )
    assert is_gsm7(ping) and segments(ping) == 1


def test_the_checkin_row_holds_its_due_work(faro, people):
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T08:00:00-06:00")
    ana_checkin = next(c for c in checkins(faro) if c.due_at == at("2026-11-24T08:00:00-06:00"))
    assert str(ana_checkin.local_date) == "2026-11-24"
    assert ana_checkin.remind_at == at("2026-11-24T08:30:00-06:00")
    assert ana_checkin.deadline_at == ana_checkin.escalate_at == at("2026-11-24T10:00:00-06:00")
    assert ana_checkin.answered_at is None


def test_next_day_she_is_pinged_again(faro, people, transport):
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T08:00:00-06:00")
    text(faro, people["ana"], "ok", "2026-11-24T08:05:00-06:00")
    tick(faro, "2026-11-25T08:00:00-06:00")
    assert len([b for b in sms_to(transport, people["ana"]) if b.startswith("Hola Ana")]) == 2


def test_english_interns_are_asked_in_english(faro, people, transport):
    update_person(faro, people["ana"], language="en")
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T08:00:00-06:00")
    [ping] = sms_to(transport, people["ana"])
    assert ping.startswith("Hi Ana, all well today?")


def test_only_on_her_chosen_weekdays(faro, people, transport):
    update_person(faro, people["ana"], checkin_days="12345")  # Monday to Friday
    tick(faro, "2026-11-27T07:00:00-06:00")  # a Friday
    for day in ("27", "28", "29", "30"):
        tick(faro, f"2026-11-{day}T08:00:00-06:00")
    assert len(sms_to(transport, people["ana"])) == 2  # Friday and Monday


def test_an_ok_before_the_ping_means_no_ping_that_day(faro, people, transport):
    tick(faro, "2026-11-24T07:00:00-06:00")
    text(faro, people["ana"], "ok", "2026-11-24T07:30:00-06:00")
    transport.sent.clear()
    tick(faro, "2026-11-24T08:00:00-06:00")
    assert checkin_texts(transport, people["ana"]) == []
    [skip] = [e for e in events(faro, "checkin_ping_not_needed")]
    assert skip.data["reason"] == "answered_early"


def test_whatsapp_outside_the_session_goes_as_the_approved_template(faro, people, transport):
    faro.settings = replace(faro.settings, twilio_whatsapp_checkin_content_sid="HXcheckin")
    update_person(faro, people["ana"], channel=WHATSAPP)
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T08:00:00-06:00")
    [envelope] = [e for e in transport.sent if e.to == people["ana"]]
    assert envelope.channel == WHATSAPP
    assert envelope.content_sid == "HXcheckin"
    assert json.loads(envelope.content_variables) == {"1": "Ana"}
    [sent] = [e for e in events(faro, "checkin_sent") if e.data.get("whatsapp")]
    assert sent.data["whatsapp"] == "template"


def test_whatsapp_inside_the_session_goes_as_free_text(faro, people, transport):
    faro.settings = replace(faro.settings, twilio_whatsapp_checkin_content_sid="HXcheckin")
    update_person(faro, people["ana"], channel=WHATSAPP)
    tick(faro, "2026-11-24T07:00:00-06:00")
    text(faro, "whatsapp:" + people["ana"], "menu", "2026-11-23T21:00:00-06:00")
    tick(faro, "2026-11-24T08:00:00-06:00")
    [ping] = [m for m in outbox(faro, PING) if m.to_phone == people["ana"]]
    assert ping.content_sid is None and ping.body.startswith("Hola Ana")
    [sent] = [e for e in events(faro, "checkin_sent") if e.data.get("whatsapp")]
    assert sent.data["whatsapp"] == "session_text"


def test_whatsapp_without_a_template_is_free_text_and_says_so(faro, people, transport):
    update_person(faro, people["ana"], channel=WHATSAPP)
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T08:00:00-06:00")
    [ping] = [m for m in outbox(faro, PING) if m.to_phone == people["ana"]]
    assert ping.content_sid is None
    [sent] = [e for e in events(faro, "checkin_sent") if e.data.get("whatsapp")]
    assert sent.data["whatsapp"] == "text_no_template"


def test_a_new_intern_is_scheduled_by_the_next_tick(faro, people, transport):
    from escalation.base.db import transaction
    from escalation.base.models import INTERN, Person

    with transaction(faro.sessions) as session:
        session.add(scheduled(Person(role=INTERN, name="Eva Solis", phone="+524881009999",
                                     checkin_time="09:15",
                                     timezone="America/Mexico_City")))  # fmt: skip
    tick(faro, "2026-11-24T09:00:00-06:00")
    tick(faro, "2026-11-24T09:15:00-06:00")
    assert [b[:8] for b in sms_to(transport, "+524881009999")] == ["Hola Eva"]


def test_interns_imported_from_the_roster_are_scheduled(faro, transport):
    from escalation.base.db import transaction
    from escalation.roster import import_roster

    csv = (
        "role,name,phone,checkin_time,university,unit,municipality\n"
        "intern,Carla Rios,+524881007777,07:30,UANL,CS Galeana,Galeana\n"
    )
    with transaction(faro.sessions) as session:
        assert not import_roster(session, csv, now=at("2026-11-23T12:00:00-06:00")).errors
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T07:30:00-06:00")
    assert [b[:10] for b in sms_to(transport, "+524881007777")] == ["Hola Carla"]
    csv = csv.replace("07:30", "09:00")  # a re-import moves her time: from the next day on
    with transaction(faro.sessions) as session:
        import_roster(session, csv, now=at("2026-11-24T08:00:00-06:00"))
    for when in ("2026-11-24T09:00:00-06:00", "2026-11-25T07:30:00-06:00"):
        tick(faro, when)
    pings = [b for b in sms_to(transport, "+524881007777") if b.startswith("Hola")]
    assert len(pings) == 1
    tick(faro, "2026-11-25T09:00:00-06:00")
    pings = [b for b in sms_to(transport, "+524881007777") if b.startswith("Hola")]
    assert len(pings) == 2
