"""The scheduler falls silent: the administrators hear once per outage, and once when it is back."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from escalation.base.db import transaction, utcnow
from escalation.heartbeat import notice_silence
from escalation.roster import import_roster
from escalation.tick import last_tick
from tests.conftest import at
from tests.stories import events, sms_to, text, tick, update_person

ADMIN = "+528112345678"


def with_admin(faro):
    faro.settings = replace(faro.settings, admin_phones=(ADMIN,))


def test_every_completed_tick_is_recorded(faro):
    tick(faro, "2026-11-24T09:00:00-06:00")
    with faro.sessions() as session:
        assert last_tick(session) == at("2026-11-24T09:00:00-06:00")


def test_health_is_503_with_the_age_when_ticks_are_stale(faro, client):
    faro.run_pass(utcnow() - timedelta(minutes=5))
    response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json()["last_tick_age_seconds"] >= 300


def test_health_notices_a_ten_minute_silence_and_texts_admins_once(faro, client, transport):
    with_admin(faro)
    faro.run_pass(utcnow() - timedelta(minutes=11))
    for _ in range(3):  # an uptime monitor polling, several web workers …
        assert client.get("/health").status_code == 503
    faro.dispatcher.wait_idle()
    [alarm] = sms_to(transport, ADMIN)
    assert alarm.startswith("FARO ADMIN: el programador no corre desde")
    assert "(11 min)" in alarm


def test_a_short_gap_raises_no_alarm(faro, client, transport):
    with_admin(faro)
    faro.run_pass(utcnow() - timedelta(minutes=9))
    client.get("/health")
    faro.dispatcher.wait_idle()
    assert sms_to(transport, ADMIN) == []


def test_when_ticks_resume_the_admins_hear_once_more(faro, client, transport):
    with_admin(faro)
    faro.run_pass(utcnow() - timedelta(minutes=30))
    client.get("/health")
    faro.dispatcher.wait_idle()
    faro.run_pass(utcnow())
    faro.run_pass(utcnow())
    alarm, resumed = sms_to(transport, ADMIN)
    assert resumed.startswith("FARO ADMIN: el programador volvio a correr")
    assert len(events(faro, "scheduler_resumed")) == 1


def test_an_outage_nobody_noticed_is_reported_by_the_next_tick_in_one_text(faro, transport):
    with_admin(faro)
    tick(faro, "2026-11-24T03:00:00-06:00")
    tick(faro, "2026-11-24T03:45:00-06:00")
    tick(faro, "2026-11-24T03:45:15-06:00")
    [resumed] = sms_to(transport, ADMIN)
    assert "tras 45 min sin actividad (desde 24/11 03:00)" in resumed


def test_each_outage_gets_its_own_alarm(faro, transport):
    with_admin(faro)
    tick(faro, "2026-11-24T03:00:00-06:00")
    with transaction(faro.sessions) as session:
        assert notice_silence(session, at("2026-11-24T03:20:00-06:00"), faro.settings.domain)
        assert not notice_silence(session, at("2026-11-24T03:25:00-06:00"), faro.settings.domain)
    tick(faro, "2026-11-24T03:30:00-06:00")
    tick(faro, "2026-11-24T04:00:00-06:00")  # a second outage, unnoticed, 30 minutes
    faro.dispatch(at("2026-11-24T04:00:00-06:00"))
    kinds = [b.split(":")[1].strip().split()[2] for b in sms_to(transport, ADMIN)]
    assert kinds == ["no", "volvio", "volvio"]


# --- how many check-ins the outage made late ---------------------------------------------


def late_pings_sent(transport) -> int:
    return sum("sale tarde" in e.body for e in transport.sent)


def test_the_resumed_text_says_how_many_checkins_go_out_late(faro, people, transport):
    with_admin(faro)
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T10:30:00-06:00")  # Ana's and Beto's 08:00 never left
    [resumed] = sms_to(transport, ADMIN)
    assert resumed.endswith("Enviamos lo pendiente; registros que salen tarde: 2.")
    assert late_pings_sent(transport) == 2
    [event] = events(faro, "scheduler_resumed")
    assert event.data["late_pings"] == 2


def test_an_early_ok_and_a_ping_still_ahead_are_not_counted(faro, people, transport):
    with_admin(faro)
    update_person(faro, people["ana"], checkin_time="09:00")
    tick(faro, "2026-11-24T07:00:00-06:00")
    text(faro, people["beto"], "ok", "2026-11-24T07:30:00-06:00")  # before his ping: no ping
    tick(faro, "2026-11-24T08:30:00-06:00")  # Ana's 09:00 is still ahead
    [resumed] = sms_to(transport, ADMIN)
    assert "registros que salen tarde: 0." in resumed
    assert late_pings_sent(transport) == 0


def test_after_days_down_only_todays_late_pings_are_counted(faro, people, transport):
    with_admin(faro)
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-27T09:00:00-06:00")  # three days skipped, the 27th an hour late
    [resumed] = sms_to(transport, ADMIN)
    assert "registros que salen tarde: 2." in resumed
    assert late_pings_sent(transport) == 2
    assert len(events(faro, "checkin_skipped")) == 6


def test_an_intern_added_during_the_outage_is_counted(faro, people, transport):
    with_admin(faro)
    tick(faro, "2026-11-24T07:00:00-06:00")
    csv = (
        "role,name,phone,checkin_time,university,unit,municipality\n"
        "intern,Carla Rios,+524881007777,09:00,UANL,CS Galeana,Galeana\n"
    )
    with transaction(faro.sessions) as session:
        assert not import_roster(session, csv, now=at("2026-11-24T08:00:00-06:00")).errors
    tick(faro, "2026-11-24T09:20:00-06:00")
    [resumed] = sms_to(transport, ADMIN)
    assert "registros que salen tarde: 3." in resumed  # Ana, Beto and Carla
    assert late_pings_sent(transport) == 3


def test_an_outage_health_noticed_is_closed_with_the_late_count(faro, people, transport):
    with_admin(faro)
    tick(faro, "2026-11-24T07:00:00-06:00")
    with transaction(faro.sessions) as session:
        assert notice_silence(session, at("2026-11-24T07:20:00-06:00"), faro.settings.domain)
    tick(faro, "2026-11-24T08:30:00-06:00")
    alarm, resumed = sms_to(transport, ADMIN)
    assert resumed.startswith("FARO ADMIN: el programador volvio a correr 24/11 08:30")
    assert "registros que salen tarde: 2." in resumed
    assert len(events(faro, "scheduler_resumed")) == 1
