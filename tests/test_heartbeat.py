"""The scheduler falls silent: the administrators hear once per outage, and once when it is back."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from escalation.db import transaction, utcnow
from escalation.heartbeat import notice_silence
from escalation.tick import last_tick
from tests.conftest import at
from tests.stories import events, sms_to, tick

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
        assert notice_silence(session, at("2026-11-24T03:20:00-06:00"), faro.settings)
        assert not notice_silence(session, at("2026-11-24T03:25:00-06:00"), faro.settings)
    tick(faro, "2026-11-24T03:30:00-06:00")
    tick(faro, "2026-11-24T04:00:00-06:00")  # a second outage, unnoticed, 30 minutes
    faro.dispatch(at("2026-11-24T04:00:00-06:00"))
    kinds = [b.split(":")[1].strip().split()[2] for b in sms_to(transport, ADMIN)]
    assert kinds == ["no", "volvio", "volvio"]
