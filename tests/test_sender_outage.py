"""Twilio failing, for seconds or for hours, through the real SDK against the local mock.

Short faults (500, 429, a dropped connection, a stall past the client's timeout) are retried
with backoff and everything arrives; a number Twilio rejects fails for good at once and its
alert fails over. A two-hour outage is one event and one notice, not a failure per message:
nothing fails for good by count, nobody is flagged unreachable, no false missed check-in, and
on recovery the critical alerts leave first, without the repeats they overtook, and no ping
she answered meanwhile is sent.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from escalation.base.db import transaction
from escalation.base.models import (
    EMERGENCY,
    INTERN,
    MISSED_CHECKIN,
    PRIORITY_CRITICAL,
    UNREACHABLE,
    OutboundMessage,
    Person,
    Unit,
    University,
)
from escalation.pings import PING, schedule_changed
from tests.conftest import AUTH_TOKEN, at
from tests.stories import events, incidents, outbox, rows, text, tick
from tests.twilio_mock import hang_up, http_error, mock_env, stall, twilio_error

ADMIN = "+528100000099"  # mock_env's ADMIN_PHONES
DAY = "2026-11-24T{}:00-06:00"


@pytest.fixture
def extra_settings(twilio):
    return mock_env(twilio.url, TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_MPS="100")


@pytest.fixture
def transport():
    return None  # the app's own: the Twilio SDK, to the mock


def more_interns(faro, count: int) -> list[str]:
    """`count` interns at Ana's unit, checking in at 08:00 like her."""
    phones = [f"+52812300{n:04d}" for n in range(count)]
    with transaction(faro.sessions) as session:
        uanl = session.scalar(select(University))
        unit = session.scalar(select(Unit).where(Unit.name == "CS Doctor Arroyo"))
        for n, phone in enumerate(phones):
            intern = Person(role=INTERN, name=f"Interna {n}", phone=phone, checkin_time="08:00",
                            university_id=uanl.id, unit_id=unit.id)  # fmt: skip
            schedule_changed(intern)
            session.add(intern)
    return phones


def kinds_by_sid(faro) -> dict[str, OutboundMessage]:
    return {m.provider_sid: m for m in outbox(faro) if m.provider_sid}


def test_short_faults_are_retried_and_a_rejected_number_fails_over(faro, people, twilio):
    twilio.answer_next(http_error(500), http_error(429), hang_up(), stall())
    twilio.refuse(people["rosa"], twilio_error(21614))  # not a mobile number: no texts to her
    started = time.monotonic()
    text(faro, people["ana"], "SOS", DAY.format("10:00"))
    assert time.monotonic() - started < 15  # a stall costs the client's timeout, no more
    for minute in range(1, 30):  # the backoff runs out; every pass retries what is due
        tick(faro, DAY.format(f"10:{minute:02d}"))
    alerts = outbox(faro, "alert")
    failed = [m for m in alerts if m.status == "failed"]
    # Rosa's text and call failed for good (at the first answer that was not a short fault):
    # she is flagged unreachable on every channel, and the administrators hear it.
    # Nothing else failed, nothing is still waiting.
    assert {m.to_phone for m in failed} == {people["rosa"]}
    [text_] = [m for m in failed if m.channel == "sms"]
    assert text_.error_code == "21614"
    assert [e.data["phone"] for e in events(faro, "responder_unreachable")] == [people["rosa"]]
    assert all(m.status != "queued" for m in outbox(faro))
    assert {e.data["code"] for e in events(faro, "send_failed")} == {"21614"}
    assert all(m.status == "sent" for m in alerts if m.to_phone != people["rosa"])
    assert sum(m.attempts - 1 for m in alerts) >= 4  # each short fault: one more attempt
    assert events(faro, "sender_outage") == []  # a few faults are not an outage


def test_a_two_hour_outage_is_one_event_and_one_notice_and_loses_nothing(
    faro, people, twilio, client, monkeypatch
):
    interns = more_interns(faro, 20)
    tick(faro, DAY.format("07:00"))
    twilio.go_down(http_error(503))
    tick(faro, DAY.format("08:00"))  # 22 pings, all refused: the sender is down
    assert len(events(faro, "sender_outage")) == 1
    text(faro, people["ana"], "SOS", DAY.format("08:10"))
    answered = interns[:8]
    for phone in answered:
        text(faro, phone, "OK", DAY.format("08:30"))
    minute = at(DAY.format("08:15"))
    while minute <= at(DAY.format("10:00")):  # two hours down: a pass every five minutes
        tick(faro, minute)
        minute += timedelta(minutes=5)
    while_down = len(twilio.received)
    assert while_down < 22 + 30  # only a probe a pass, not every message again and again
    monkeypatch.setattr("bot.health.utcnow", lambda: at(DAY.format("10:00")))  # its clock
    outage = client.get("/health").get_json()["sender_outage_since"]
    assert outage == at(DAY.format("08:00")).isoformat()

    twilio.recover()
    tick(faro, DAY.format("10:05"))  # the probe goes through: everything due, urgent first

    assert len(events(faro, "sender_outage")) == 1 and len(events(faro, "sender_recovered")) == 1
    monkeypatch.setattr("bot.health.utcnow", lambda: at(DAY.format("10:05")))
    assert client.get("/health").get_json()["sender_outage_since"] is None
    assert [m for m in outbox(faro) if m.status == "failed"] == []
    assert incidents(faro, UNREACHABLE) == [] and incidents(faro, MISSED_CHECKIN) == []
    notices = [r for r in twilio.accepted() if r.form.get("To") == ADMIN and "Twilio" in
               r.form.get("Body", "")]  # fmt: skip
    assert len(notices) == 1

    sent = kinds_by_sid(faro)
    after = [sent[r.answer["sid"]] for r in twilio.accepted()]
    critical = [n for n, m in enumerate(after) if m.priority >= PRIORITY_CRITICAL]
    pings = [n for n, m in enumerate(after) if m.kind == PING]
    assert critical and pings and max(critical) < min(pings) + 8  # 8 sends in flight at once
    pinged = [m.to_phone for m in after if m.kind == PING]
    silent = set(interns) - set(answered) | {people["beto"]}
    # Ana's SOS is no check-in (it may be coerced): her ping still goes, two hours late.
    assert sorted(pinged) == sorted(silent | {people["ana"]})
    alerts = [(m.to_phone, m.channel) for m in after if m.kind == "alert"]
    assert len(alerts) == len(set(alerts))  # the newest round only, not every repeat
    assert {e.data["reason"] for e in events(faro, "message_dropped")} == {"answered", "repeated"}
    [case] = incidents(faro, EMERGENCY)
    assert case.resolved_at is None

    tick(faro, DAY.format("11:00"))  # the planned deadline: the pings left at 10:05
    assert incidents(faro, MISSED_CHECKIN) == []
    tick(faro, DAY.format("12:05"))
    phones = {p.id: p.phone for p in rows(faro, Person)}
    missed = {phones[i.intern_id] for i in incidents(faro, MISSED_CHECKIN)}
    assert missed == silent | {people["ana"]}
