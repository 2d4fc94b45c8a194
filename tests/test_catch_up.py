"""The scheduler was down: the next tick catches up, honestly, and skips nothing silently.

A day whose ping never left is still pinged late that local day, with a fresh window when
the planned one has passed; only a day that is over is written as skipped."""

from __future__ import annotations

from escalation.base.models import MISSED_CHECKIN
from tests.conftest import at
from tests.stories import checkin_texts, checkins, events, incidents, sms_to, text, tick


def test_a_ping_whose_window_is_open_goes_out_late_and_says_so(faro, people, transport):
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T09:10:00-06:00")  # down from 07:00 to 09:10
    [ping] = sms_to(transport, people["ana"])
    assert "tu registro de las 08:00 sale tarde" in ping
    [checkin] = [c for c in checkins(faro) if c.intern_id == 1]
    assert checkin.deadline_at.isoformat() == "2026-11-24T16:00:00+00:00"  # 10:00, as planned
    assert checkin.remind_at.isoformat() == "2026-11-24T15:40:00+00:00"  # 30 min after it left
    assert any(e.data["late"] for e in events(faro, "checkin_sent"))


def test_a_ping_just_before_the_deadline_still_leaves_her_the_reminder_delay(faro, people):
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T09:50:00-06:00")
    [checkin] = [c for c in checkins(faro) if c.intern_id == 1]
    assert checkin.deadline_at.isoformat() == "2026-11-24T16:20:00+00:00"  # 10:20, not 10:00
    assert checkin.remind_at is None  # no room for a reminder before it


def test_a_ping_whose_whole_window_passed_still_goes_out_late_with_a_fresh_deadline(
    faro, people, transport
):
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T10:30:00-06:00")  # down past the 10:00 deadline, nothing sent
    [ping] = sms_to(transport, people["ana"])
    assert "tu registro de las 08:00 sale tarde" in ping
    [checkin] = [c for c in checkins(faro) if c.intern_id == 1]
    assert checkin.sent_at == at("2026-11-24T10:30:00-06:00")
    assert checkin.remind_at == at("2026-11-24T11:00:00-06:00")  # 30 min after it left
    assert checkin.deadline_at == checkin.escalate_at == at("2026-11-24T12:30:00-06:00")  # 2 h
    assert events(faro, "checkin_skipped") == []  # the day can still be served


def test_the_fresh_deadline_escalates_when_she_does_not_answer(faro, people, transport):
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T10:30:00-06:00")
    text(faro, people["beto"], "ok", "2026-11-24T10:35:00-06:00")
    tick(faro, "2026-11-24T11:00:00-06:00")
    assert "Si no respondes antes de las 12:30" in checkin_texts(transport, people["ana"])[-1]
    tick(faro, "2026-11-24T12:29:00-06:00")
    assert incidents(faro) == []
    tick(faro, "2026-11-24T12:30:00-06:00")
    [incident] = incidents(faro)
    assert (incident.kind, incident.intern_id) == (MISSED_CHECKIN, 1)


def test_a_day_that_ended_while_down_is_skipped_with_a_reason(faro, people, transport):
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-25T07:00:00-06:00")  # down all of the 24th; the 25th's 08:00 is ahead
    assert sms_to(transport, people["ana"]) == []
    skipped = events(faro, "checkin_skipped")
    assert {e.data["reason"] for e in skipped} == {"scheduler_down_all_day"}
    assert {(e.person_id, e.data["local_date"]) for e in skipped} == {
        (1, "2026-11-24"),
        (2, "2026-11-24"),
    }  # Ana and Beto
    tick(faro, "2026-11-25T08:00:00-06:00")
    assert len(sms_to(transport, people["ana"])) == 1  # the 25th, on time


def test_a_ping_late_in_the_evening_is_still_that_days(faro, people, transport):
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T23:50:00-06:00")  # down all day, back ten minutes before midnight
    [ping] = sms_to(transport, people["ana"])
    assert "sale tarde" in ping
    [checkin] = [c for c in checkins(faro) if c.intern_id == 1]
    assert str(checkin.local_date) == "2026-11-24"
    assert checkin.deadline_at == at("2026-11-25T01:50:00-06:00")


def test_a_deadline_that_passed_during_downtime_opens_its_incident(faro, people, transport):
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T08:00:00-06:00")
    text(faro, people["beto"], "ok", "2026-11-24T08:05:00-06:00")
    tick(faro, "2026-11-24T13:00:00-06:00")  # down from 08:00 to 13:00
    [incident] = incidents(faro)
    assert incident.kind == MISSED_CHECKIN
    # The reminder would now only confuse: it is skipped, with its reason.
    assert [e.data["reason"] for e in events(faro, "checkin_reminder_skipped")] == [
        "deadline_passed"
    ]
    assert len(sms_to(transport, people["ana"])) == 1


def test_several_days_down_leave_one_event_per_missed_day(faro, people, transport):
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-27T09:00:00-06:00")  # three days and two hours later
    ana_skips = [e for e in events(faro, "checkin_skipped") if e.person_id == 1]
    assert [e.data["local_date"] for e in ana_skips] == ["2026-11-24", "2026-11-25", "2026-11-26"]
    assert {e.data["reason"] for e in ana_skips} == {"scheduler_down_all_day"}
    [ping] = sms_to(transport, people["ana"])  # the 27th's, an hour late
    assert "sale tarde" in ping
    [checkin] = [c for c in checkins(faro) if c.intern_id == 1]
    assert checkin.deadline_at == at("2026-11-27T10:00:00-06:00")  # its window is still open


def test_several_days_down_past_todays_window_still_ping_today_with_a_fresh_deadline(
    faro, people, transport
):
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-27T15:00:00-06:00")  # back after today's 10:00 deadline too
    ana_skips = [e for e in events(faro, "checkin_skipped") if e.person_id == 1]
    assert [e.data["local_date"] for e in ana_skips] == ["2026-11-24", "2026-11-25", "2026-11-26"]
    [ping] = sms_to(transport, people["ana"])
    assert "tu registro de las 08:00 sale tarde" in ping
    [checkin] = [c for c in checkins(faro) if c.intern_id == 1]
    assert str(checkin.local_date) == "2026-11-27"
    assert checkin.deadline_at == at("2026-11-27T17:00:00-06:00")
