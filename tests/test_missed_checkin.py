"""Ana does not answer by 10:00: a missed check-in goes to Beto and Rosa; her late OK clears it."""

from __future__ import annotations

from escalation.base.models import EMERGENCY, MISSED_CHECKIN
from tests.stories import checkins, events, incidents, sms_to, text, tick


def miss(faro):
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T08:00:00-06:00")
    text(faro, "+524881000002", "ok", "2026-11-24T08:05:00-06:00")  # Beto answers, Ana does not
    tick(faro, "2026-11-24T08:30:00-06:00")
    tick(faro, "2026-11-24T09:59:00-06:00")
    assert incidents(faro) == []
    tick(faro, "2026-11-24T10:00:00-06:00")


def test_it_escalates_to_beto_and_rosa_at_the_deadline(faro, people, transport):
    miss(faro)
    [incident] = incidents(faro)
    assert incident.kind == MISSED_CHECKIN and incident.status == "open"
    assert incident.detail["checkin_at"] == "08:00"
    for who in ("beto", "rosa"):
        [alert] = [b for b in sms_to(transport, people[who]) if "registro diario" in b]
        assert "Ana Lopez" in alert and "CS Doctor Arroyo" in alert
        assert f"ATIENDO {incident.code}" in alert
    [checkin] = [c for c in checkins(faro) if c.missed_at is not None]
    assert checkin.escalate_at is None and checkin.remind_at is None


def test_one_incident_however_often_the_tick_runs(faro, people):
    miss(faro)
    for minute in ("00:15", "00:30", "05:00"):
        tick(faro, f"2026-11-24T10:{minute[-2:]}:00-06:00")
    assert len(incidents(faro, MISSED_CHECKIN)) == 1
    assert len(events(faro, "checkin_missed")) == 1


def test_a_late_ok_is_recorded_as_late_and_clears_the_alarm(faro, people, transport):
    miss(faro)
    [incident] = incidents(faro)
    reply = text(faro, people["ana"], "ok", "2026-11-24T10:20:00-06:00")
    assert "avisamos a tu equipo" in reply
    [checkin] = [c for c in checkins(faro) if c.missed_at is not None]
    assert checkin.late
    [closed] = incidents(faro)
    assert closed.status == "resolved" and closed.resolution == "intern_ok"
    for who in ("beto", "rosa"):
        assert any(
            incident.code in b and "Ana Lopez" in b for b in sms_to(transport, people[who])[1:]
        )
    [answer] = [e for e in events(faro, "checkin_answered") if e.person_id == checkin.intern_id]
    assert answer.data["late"] is True


def test_an_answer_after_midnight_answers_yesterdays_checkin(faro, people):
    miss(faro)
    text(faro, people["ana"], "ok", "2026-11-25T00:30:00-06:00")
    [checkin] = [c for c in checkins(faro) if c.missed_at is not None]
    assert str(checkin.local_date) == "2026-11-24" and checkin.late
    assert incidents(faro)[0].status == "resolved"


def test_her_ok_never_closes_an_emergency(faro, people):
    miss(faro)
    text(faro, people["ana"], "sos", "2026-11-24T10:05:00-06:00")
    text(faro, people["ana"], "ok", "2026-11-24T10:10:00-06:00")
    status = {i.kind: i.status for i in incidents(faro)}
    assert status[MISSED_CHECKIN] == "resolved"
    assert status[EMERGENCY] != "resolved"
