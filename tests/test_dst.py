"""Daylight saving time: one ping on the day a check-in time falls in a gap or a fold.

America/Matamoros still changes clocks: 2026-03-08 jumps 02:00 → 03:00 (02:30 does not
exist), 2026-11-01 falls back 02:00 → 01:00 (01:30 happens twice).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from escalation.base.schedule import Schedule, next_ping, ping_instant
from tests.stories import checkins, sms_to, tick, update_person

MATAMOROS = "America/Matamoros"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_time_in_the_gap_is_pinged_when_the_gap_ends():
    assert ping_instant(date(2026, 3, 8), "02:30", MATAMOROS) == utc(
        "2026-03-08T08:00"
    )  # 03:00 CDT
    assert ping_instant(date(2026, 3, 9), "02:30", MATAMOROS) == utc("2026-03-09T07:30")


def test_a_time_in_the_fold_is_pinged_at_its_first_occurrence():
    assert ping_instant(date(2026, 11, 1), "01:30", MATAMOROS) == utc("2026-11-01T06:30")  # CDT
    assert ping_instant(date(2026, 11, 2), "01:30", MATAMOROS) == utc("2026-11-02T07:30")  # CST


@pytest.mark.parametrize(
    ("checkin_time", "day"), [("02:30", date(2026, 3, 8)), ("01:30", date(2026, 11, 1))]
)
def test_walking_through_the_night_meets_one_ping_that_day(checkin_time, day):
    schedule = Schedule(checkin_time, MATAMOROS)
    start = ping_instant(day, "00:00", MATAMOROS)
    instants = set()
    for minutes in range(0, 24 * 60, 5):
        found = next_ping(
            schedule, start + timedelta(minutes=minutes), last_pinged=day - timedelta(1)
        )
        if found is not None and found < ping_instant(day + timedelta(1), "00:00", MATAMOROS):
            instants.add(found)
    assert len(instants) == 1


def test_monterrey_has_no_dst_and_keeps_its_wall_time():
    assert ping_instant(date(2026, 3, 8), "02:30", "America/Monterrey") == utc("2026-03-08T08:30")


@pytest.mark.parametrize(
    ("checkin_time", "night"),
    [("02:30", "2026-03-08"), ("01:30", "2026-11-01")],
    ids=["spring-forward-gap", "fall-back-fold"],
)
def test_ana_in_matamoros_gets_exactly_one_ping(faro, people, transport, checkin_time, night):
    update_person(faro, people["ana"], timezone=MATAMOROS, checkin_time=checkin_time)
    update_person(faro, people["beto"], active=False)
    start = datetime.fromisoformat(f"{night}T00:00:00").replace(tzinfo=UTC) - timedelta(hours=12)
    tick(faro, start)
    for minutes in range(0, 30 * 60, 15):  # every 15 min through the whole local day
        tick(faro, start + timedelta(minutes=minutes))
    pings = [b for b in sms_to(transport, people["ana"]) if b.startswith("Hola Ana")]
    assert len(pings) == 1
    assert [str(c.local_date) for c in checkins(faro)] == [night]
