"""A check-in minute shared by more interns than the sender can ping within their reminder
delay: the roster import and `HORA` say so (and how late the last ping leaves)."""

from __future__ import annotations

import pytest

from bot.conversation.inbound import receive
from escalation.base.db import transaction
from escalation.base.models import INTERN, Person
from escalation.crowding import crowded
from tests.conftest import AUTH_TOKEN, at
from tests.twilio_mock import mock_env

NOW = "2026-11-24T07:00:00-06:00"


@pytest.fixture
def extra_settings():
    # Through Twilio (not the console), at a tenth of a text a second: 180 pings fit in a
    # 30-minute reminder delay. The transport itself is the tests' recording one.
    return mock_env("http://127.0.0.1:9", TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_MPS="0.1")


def roster(tmp_path, count: int, time: str = "09:00", zone: str = "America/Monterrey"):
    lines = ["role,name,phone,channel,language,timezone,checkin_time,university,unit"]
    lines += [f"intern,Interna {n},+52 81 2000 {n:04d},sms,es,{zone},{time},UANL,CS Galeana"
              for n in range(count)]  # fmt: skip
    path = tmp_path / "roster.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def add_interns(faro, count: int, time: str, zone: str, first: int = 0) -> None:
    with transaction(faro.sessions) as session:
        session.add_all(
            Person(role=INTERN, name=f"I{n}", phone=f"+5281300{n:05d}", checkin_time=time,
                   timezone=zone)
            for n in range(first, first + count)
        )  # fmt: skip


def test_the_import_warns_of_a_minute_the_sender_cannot_ping_in_time(runner, faro, tmp_path):
    result = runner.invoke(args=["import-roster", str(roster(tmp_path, 200))])
    assert result.exit_code == 0, result.output
    assert "imported" in result.output
    [warning] = [line for line in result.output.splitlines() if "TWILIO_MPS=0.1" in line]
    assert warning.startswith("warning: 200 interns check in at 09:00 America/Monterrey")
    assert "34 min later, after their 30-min reminder delay" in warning


def test_the_import_is_quiet_when_the_sender_keeps_up(runner, faro, tmp_path):
    result = runner.invoke(args=["import-roster", str(roster(tmp_path, 150))])
    assert result.exit_code == 0 and "TWILIO_MPS" not in result.output


def test_minutes_that_fall_at_the_same_instant_in_two_zones_count_together(faro):
    add_interns(faro, 100, "09:00", "America/Monterrey")  # UTC-6 in November
    add_interns(faro, 100, "10:00", "America/Cancun", first=100)  # UTC-5: the same instant
    with faro.sessions() as session:
        [crowd] = crowded(session, at(NOW), 0.1)
        assert crowd.times == ("09:00 America/Monterrey", "10:00 America/Cancun")
        assert (crowd.interns, crowd.minutes, crowd.reminder) == (200, 34, 30)
        assert crowded(session, at(NOW), None) == []  # the console transport has no pace


def hora(faro, phone: str, when: str, sid: str) -> str:
    body = f"HORA {when}"
    received = receive(faro.sessions, at(NOW), sid=sid, from_address=phone, body=body,
                       config=faro.settings.domain)  # fmt: skip
    return received.reply


def test_hora_to_a_crowded_minute_says_her_ping_may_come_late(faro, people):
    add_interns(faro, 200, "09:00", "America/Monterrey")
    reply = hora(faro, people["ana"], "09:00", "SMcrowd1")
    assert "09:00" in reply and "puede llegar hasta 34 min despues" in reply
    reply = hora(faro, people["ana"], "07:30", "SMcrowd2")
    assert "07:30" in reply and "despues" not in reply
