"""An SOS nobody answers: step one texts and calls Beto, Rosa and Luis; +10 min Marta is
called; +10 min everyone is called, every 10 min three more times; then everyone on the
policy and the administrators, and again, until someone takes it. After scheduler downtime the
missed steps are taken at once, but missed repeats collapse into one round."""

from __future__ import annotations

from datetime import timedelta

import pytest

from escalation.base.models import EMERGENCY, SMS, VOICE
from tests.conftest import at
from tests.escalation_helpers import alerts, calls, events, open_for, texts

T0 = at("2025-11-24T10:00:00-06:00")
ADMIN = "+528112345678"


@pytest.fixture
def extra_settings():
    return {"ADMIN_PHONES": ADMIN}


def stages(faro, case) -> list[tuple[int, int, int]]:
    """(minutes after the SOS, step, repeat) of every round of alerts."""
    return [
        (int((e.at - T0).total_seconds() // 60), e.data["step"], e.data["repeat"])
        for e in events(faro, "alerted", case.id)
    ]


def test_the_chain_never_goes_quiet(faro, people):
    case = open_for(faro, people["ana"], EMERGENCY, T0)
    for minute in range(0, 81):
        faro.run_pass(T0 + timedelta(minutes=minute))
    assert stages(faro, case) == [
        (0, 1, 0), (10, 2, 0), (20, 3, 0), (30, 3, 1), (40, 3, 2), (50, 3, 3),
        (60, 4, 0), (70, 4, 1), (80, 4, 2),
    ]  # fmt: skip
    marta = people["marta"]
    assert [m.channel for m in alerts(faro, marta)][:2] == [VOICE, VOICE]  # steps 2 and 3
    assert texts(faro, marta) != []  # the final rounds text her too
    # The final rounds reach the administrators, by text and by call.
    assert {m.channel for m in alerts(faro, ADMIN)} == {SMS, VOICE}
    assert len(calls(faro, ADMIN)) == 3
    # Each round alerted once: Rosa, step 1 (sms+call), 4 voice rounds, 3 final (sms+call).
    assert len(alerts(faro, people["rosa"])) == 2 + 4 + 3 * 2


def test_after_downtime_missed_steps_are_taken_but_repeats_collapse(faro, people):
    case = open_for(faro, people["ana"], EMERGENCY, T0)
    faro.run_pass(T0)
    faro.run_pass(T0 + timedelta(minutes=45))  # the scheduler was down from 10:00 to 10:45
    assert stages(faro, case) == [(0, 1, 0), (45, 2, 0), (45, 3, 0)]
    faro.run_pass(T0 + timedelta(minutes=54))
    faro.run_pass(T0 + timedelta(minutes=55))
    assert stages(faro, case)[-1] == (55, 3, 1)
