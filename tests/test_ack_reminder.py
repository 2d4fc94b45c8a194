"""An acknowledged incident left unresolved for 2 h reminds whoever has it; 30 minutes later
the steps resume, and the chain goes on from where it stopped."""

from __future__ import annotations

from datetime import timedelta

from escalation.base.models import MISSED_CHECKIN
from tests.conftest import at
from tests.escalation_helpers import alerts, events, incident, open_for, outbox

T0 = at("2025-11-24T10:00:00-06:00")


def test_rosa_is_reminded_after_two_hours_and_the_chain_resumes_half_an_hour_later(
    faro, people, text_faro, clock
):
    case = open_for(faro, people["ana"], MISSED_CHECKIN, T0)
    clock.set(T0 + timedelta(minutes=10))
    text_faro(people["rosa"], f"ATIENDO {case.code}")

    faro.run_pass(T0 + timedelta(minutes=129))
    assert outbox(faro, kind="ack_reminder") == []
    faro.run_pass(T0 + timedelta(minutes=130))
    [reminder] = outbox(faro, kind="ack_reminder")
    assert reminder.to_phone == people["rosa"]
    assert f"tienes el caso {case.code} de Ana Lopez desde las 10:10" in reminder.body
    assert f"LISTO {case.code}" in reminder.body
    faro.run_pass(T0 + timedelta(minutes=140))
    assert len(outbox(faro, kind="ack_reminder")) == 1 and alerts(faro, people["luis"]) == []

    # 12:50: still open. The steps resume: step two (Luis, text and call) at once.
    faro.run_pass(T0 + timedelta(minutes=160))
    reopened = incident(faro, case.id)
    assert (reopened.status, reopened.acknowledged_by_id) == ("open", None)
    assert [m.channel for m in alerts(faro, people["luis"])] == ["sms", "voice"]
    assert len(events(faro, "reescalated", case.id)) == 1
    # And on: step three (Marta) an hour later, unless someone takes it again.
    clock.set(T0 + timedelta(minutes=170))
    text_faro(people["luis"], f"ATIENDO {case.code}")
    faro.run_pass(T0 + timedelta(minutes=230))
    assert alerts(faro, people["marta"]) == []
    assert incident(faro, case.id).ack_check_at == T0 + timedelta(minutes=290)


def test_resolving_stops_the_reminder(faro, people, text_faro, clock):
    case = open_for(faro, people["ana"], MISSED_CHECKIN, T0)
    clock.set(T0 + timedelta(minutes=10))
    text_faro(people["rosa"], f"ATIENDO {case.code}")
    clock.set(T0 + timedelta(minutes=60))
    text_faro(people["rosa"], f"LISTO {case.code}")
    faro.run_pass(T0 + timedelta(hours=5))
    assert outbox(faro, kind="ack_reminder") == [] and alerts(faro, people["luis"]) == []
