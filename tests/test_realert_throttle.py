"""A second SOS joins the open incident and re-alerts step one at most every 2 minutes: a flood
of texts from a frightened intern never becomes a flood of calls."""

from __future__ import annotations

from datetime import timedelta

import pytest

from escalation.base.models import EMERGENCY
from tests.conftest import at
from tests.escalation_helpers import alerts, calls, events, freeze, incident

T0 = at("2025-11-24T10:00:00-06:00")


@pytest.fixture
def clock(monkeypatch):
    return freeze(monkeypatch)


def test_a_flood_of_sos_re_alerts_step_one_once_per_two_minutes(faro, people, text_faro, clock):
    for second in range(0, 240, 10):  # 24 texts in four minutes
        clock.set(T0 + timedelta(seconds=second))
        text_faro(people["ana"], "SOS!!")
    faro.dispatcher.wait_idle()
    case = incident(faro)
    assert len(events(faro, "incident_repeated", case.id)) == 23
    # At 10:00, 10:02 and 10:04 … the last text was at 10:03:50: two rounds.
    assert [e.at for e in events(faro, "alerted", case.id)] == [T0, T0 + timedelta(minutes=2)]
    assert len(calls(faro, people["rosa"])) == 2
    assert len(alerts(faro)) == 2 * 6


def test_once_acknowledged_another_sos_is_written_down_but_calls_nobody(
    faro, people, text_faro, clock
):
    clock.set(T0)
    text_faro(people["ana"], "sos")
    case = incident(faro)
    text_faro(people["rosa"], f"ATIENDO {case.code}")
    clock.set(T0 + timedelta(minutes=5))
    text_faro(people["ana"], "sos")
    assert len(events(faro, "incident_repeated", case.id)) == 1
    assert len(alerts(faro)) == 6
    assert incident(faro, case.id).kind == EMERGENCY
