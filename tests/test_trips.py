"""Ana drives to Monterrey: VIAJE starts a timer, Faro asks at arrival, silence opens an alert."""

from __future__ import annotations

from escalation.base.models import TRIP_OVERDUE, Trip
from tests.stories import events, incidents, rows, sms_to, text, tick


def leave(faro, people, body="VIAJE 3h Monterrey"):
    return text(faro, people["ana"], body, "2026-11-24T12:10:00-06:00")


def test_viaje_starts_a_timer_and_confirms_it(faro, people):
    reply = leave(faro, people)
    assert reply.startswith("Buen viaje Ana. Te esperamos en Monterrey a las 15:10")
    [trip] = rows(faro, Trip)
    assert trip.destination == "Monterrey" and trip.ended_at is None
    assert len(events(faro, "trip_started")) == 1


def test_at_the_expected_arrival_faro_asks_if_she_arrived(faro, people, transport):
    leave(faro, people)
    tick(faro, "2026-11-24T15:09:00-06:00")
    assert sms_to(transport, people["ana"]) == []
    tick(faro, "2026-11-24T15:10:00-06:00")
    [ask] = sms_to(transport, people["ana"])
    assert ask.startswith("Ana, ¿llegaste bien a Monterrey?")


def test_no_arrival_within_the_grace_alerts_beto_and_luis(faro, people, transport):
    leave(faro, people)
    tick(faro, "2026-11-24T15:10:00-06:00")
    tick(faro, "2026-11-24T15:29:00-06:00")
    assert incidents(faro) == []
    tick(faro, "2026-11-24T15:30:00-06:00")
    tick(faro, "2026-11-24T15:31:00-06:00")
    [incident] = incidents(faro)
    assert incident.kind == TRIP_OVERDUE
    for who in ("beto", "luis"):
        [alert] = [b for b in sms_to(transport, people[who]) if "Monterrey" in b]
        assert "salio a las 12:10 hacia Monterrey" in alert


def test_llegue_ends_the_trip_and_nothing_is_asked(faro, people, transport):
    leave(faro, people)
    reply = text(faro, people["ana"], "llegué!", "2026-11-24T14:50:00-06:00")
    assert reply == "Que bueno que llegaste, Ana. Cerramos tu viaje."
    tick(faro, "2026-11-24T16:00:00-06:00")
    assert sms_to(transport, people["ana"]) == []
    assert incidents(faro) == []


def test_llegue_after_the_alert_gives_the_all_clear(faro, people, transport):
    leave(faro, people)
    tick(faro, "2026-11-24T15:30:00-06:00")
    text(faro, people["ana"], "ya llegue", "2026-11-24T15:40:00-06:00")
    [incident] = incidents(faro)
    assert incident.status == "resolved"
    assert any("cerrado" in b or incident.code in b for b in sms_to(transport, people["luis"])[1:])


def test_viaje_plus_one_hour_extends_a_running_trip(faro, people, transport):
    leave(faro, people)
    reply = text(faro, people["ana"], "VIAJE +1h", "2026-11-24T14:00:00-06:00")
    assert "ahora te esperamos a las 16:10" in reply
    tick(faro, "2026-11-24T15:30:00-06:00")
    assert incidents(faro) == [] and sms_to(transport, people["ana"]) == []
    tick(faro, "2026-11-24T16:10:00-06:00")
    assert len(sms_to(transport, people["ana"])) == 1


def test_extending_without_a_trip_says_there_is_none(faro, people):
    reply = text(faro, people["ana"], "viaje +30m", "2026-11-24T14:00:00-06:00")
    assert reply.startswith("Ana, no tienes un viaje activo.")
    assert rows(faro, Trip) == []


def test_a_trip_without_destination_still_alerts_with_when_she_left(faro, people, transport):
    leave(faro, people, "VIAJE 45m")
    tick(faro, "2026-11-24T13:15:00-06:00")
    [incident] = incidents(faro)
    [alert] = [b for b in sms_to(transport, people["luis"]) if incident.code in b]
    assert "salio a las 12:10" in alert


def test_her_daily_ok_clears_an_overdue_trip(faro, people):
    leave(faro, people)
    tick(faro, "2026-11-24T15:30:00-06:00")
    text(faro, people["ana"], "ok", "2026-11-24T15:45:00-06:00")
    assert incidents(faro)[0].status == "resolved"
    assert rows(faro, Trip)[0].ended_at is not None


def test_after_downtime_past_the_grace_she_is_not_asked_but_her_team_is_alerted(
    faro, people, transport
):
    leave(faro, people)
    tick(faro, "2026-11-24T16:00:00-06:00")  # down from 12:10 until past 15:30
    assert sms_to(transport, people["ana"]) == []  # no "we will alert in 20 min": it is late
    [skipped] = events(faro, "trip_ask_skipped")
    assert skipped.data["reason"] == "overdue_passed"
    [incident] = incidents(faro)
    assert incident.kind == TRIP_OVERDUE
