"""PAUSA 3d / VACACIONES 24/12 … REGRESO: no pings in between, a notice the day before."""

from __future__ import annotations

from escalation.base.models import Person
from tests.stories import checkins, events, incidents, person, rows, sms_to, text, tick


def pings(transport, phone):
    return [b for b in sms_to(transport, phone) if b.startswith("Hola Ana")]


def test_pausa_three_days_means_no_pings_until_the_fourth(faro, people, transport):
    tick(faro, "2026-11-24T07:00:00-06:00")
    reply = text(faro, people["ana"], "PAUSA 3d", "2026-11-24T07:30:00-06:00")
    assert reply.startswith(
        "Listo Ana, pausamos tus registros. Vuelven el 27/11/2026 (27/11 08:00)"
    )
    for day in ("24", "25", "26"):
        tick(faro, f"2026-11-{day}T08:00:00-06:00")
        tick(faro, f"2026-11-{day}T10:30:00-06:00")
    assert pings(transport, people["ana"]) == []
    assert [i for i in incidents(faro) if i.intern_id == 1] == []  # only Beto's misses
    tick(faro, "2026-11-27T08:00:00-06:00")
    assert len(pings(transport, people["ana"])) == 1


def test_the_day_before_it_ends_she_is_told_pings_resume(faro, people, transport):
    tick(faro, "2026-11-24T07:00:00-06:00")
    text(faro, people["ana"], "vacaciones 28/11", "2026-11-24T07:30:00-06:00")
    tick(faro, "2026-11-26T08:00:00-06:00")
    assert sms_to(transport, people["ana"]) == []
    tick(faro, "2026-11-27T08:00:00-06:00")
    [notice] = sms_to(transport, people["ana"])
    assert notice.startswith("Ana, tu pausa termina: mañana 28/11 a las 08:00")
    tick(faro, "2026-11-28T00:00:00-06:00")
    assert person(faro, people["ana"]).paused_until is None
    assert len(events(faro, "pause_ended")) == 1
    tick(faro, "2026-11-28T08:00:00-06:00")
    assert len(pings(transport, people["ana"])) == 1


def test_pausing_stops_todays_unanswered_checkin_from_escalating(faro, people):
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T08:00:00-06:00")
    text(faro, people["ana"], "pausa 2 dias", "2026-11-24T09:00:00-06:00")
    tick(faro, "2026-11-24T10:00:00-06:00")
    assert [i.intern_id for i in incidents(faro)] == [2]  # Beto's; not Ana's
    [cancelled] = events(faro, "checkin_cancelled")
    assert cancelled.data["reason"] == "paused"


def test_regreso_resumes_today_when_her_time_is_still_ahead(faro, people, transport):
    tick(faro, "2026-11-24T07:00:00-06:00")
    text(faro, people["ana"], "PAUSA 5d", "2026-11-24T07:10:00-06:00")
    reply = text(faro, people["ana"], "regresé", "2026-11-24T07:20:00-06:00")
    assert reply == "Hola de nuevo Ana. Reanudamos tus registros. Proximo: 24/11 08:00."
    tick(faro, "2026-11-24T08:00:00-06:00")
    assert len(pings(transport, people["ana"])) == 1
    [ana] = rows(faro, Person, Person.phone == people["ana"])
    assert ana.paused_until is None and ana.pause_notice_at is None


def test_regreso_without_a_pause_says_so(faro, people):
    tick(faro, "2026-11-24T09:00:00-06:00")
    reply = text(faro, people["ana"], "REGRESO", "2026-11-24T09:10:00-06:00")
    assert "no estaban en pausa" in reply and "25/11 08:00" in reply
    assert len(checkins(faro)) == 0
