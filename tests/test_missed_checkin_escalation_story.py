"""Ana misses her check-in: Beto and Rosa are texted, nobody answers, half an hour later Luis
gets a text and a call, presses 1, Rosa and Beto are told he has it, Ana texts `ok` at 11:40
and everyone hears the all-clear. Frozen time throughout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from escalation.base.models import MISSED_CHECKIN, SMS, VOICE
from tests.conftest import at
from tests.escalation_helpers import (
    alerts,
    answer_call,
    calls,
    events,
    freeze,
    incident,
    open_for,
    outbox,
    press,
    texts,
)

DEADLINE = at("2025-11-24T10:00:00-06:00")


@pytest.fixture
def clock(monkeypatch):
    return freeze(monkeypatch)


def test_ana_misses_her_checkin_and_the_team_closes_in(
    faro, people, client, clock, transport, text_faro
):
    case = open_for(faro, people["ana"], MISSED_CHECKIN, DEADLINE)
    faro.run_pass(DEADLINE)

    # 10:00 Beto (her buddy) and Rosa (her unit's nurse) are texted; nobody else yet.
    assert {m.to_phone for m in alerts(faro)} == {people["beto"], people["rosa"]}
    [to_rosa] = texts(faro, people["rosa"])
    assert "Ana Lopez" in to_rosa.body and "CS Doctor Arroyo, Doctor Arroyo" in to_rosa.body
    assert "registro diario de las 10:00" in to_rosa.body
    assert f"ATIENDO {case.code}" in to_rosa.body
    assert to_rosa.body in transport.to(people["rosa"])

    # 10:15 nothing new; 10:30 Luis (the coordinator) gets a text and a call.
    faro.run_pass(DEADLINE + timedelta(minutes=15))
    assert len(alerts(faro)) == 2
    faro.run_pass(DEADLINE + timedelta(minutes=30))
    [to_luis] = texts(faro, people["luis"])
    [call] = calls(faro, people["luis"])
    assert to_luis.body.startswith("SIGUE SIN ATENDER.")
    assert "Ana Lopez" in call.body and ", ".join(case.code) in call.body
    assert [e.channel for e in transport.sent if e.to == people["luis"]] == [SMS, VOICE]
    assert len(alerts(faro)) == 4 and alerts(faro, people["marta"]) == []

    # 10:31 Luis picks up: the facts in Spanish, then "press 1"; he presses 1.
    clock.set(DEADLINE + timedelta(minutes=31))
    twiml = answer_call(client, call).get_data(as_text=True)
    assert '<Say language="es-MX">' in twiml and "Ana Lopez" in twiml
    assert '<Gather action="https://faro.example.org/twilio/voice/' in twiml
    assert 'numDigits="1"' in twiml and "oprima 1" in twiml
    spoken = press(client, call, "1").get_data(as_text=True)
    assert "queda a su cargo" in spoken
    faro.dispatcher.wait_idle()
    assert incident(faro, case.id).acknowledged_at == DEADLINE + timedelta(minutes=31)

    # Rosa and Beto are told who has it; Luis is not told about himself.
    for who in ("rosa", "beto"):
        [notice] = outbox(faro, kind="ack_notice", to=people[who])
        assert f"Luis Herrera atiende el caso {case.code} de Ana Lopez" in notice.body
    assert outbox(faro, kind="ack_notice", to=people["luis"]) == []

    # The steps stopped: at 11:30 (when Marta would be called) nothing new.
    faro.run_pass(DEADLINE + timedelta(minutes=90))
    assert alerts(faro, people["marta"]) == [] and len(alerts(faro)) == 4

    # 11:40 Ana texts ok: the incident closes and all three hear the all-clear.
    clock.set(DEADLINE + timedelta(minutes=100))
    reply = text_faro(people["ana"], "ok").get_data(as_text=True)
    assert "estas bien" in reply
    closed = incident(faro, case.id)
    assert (closed.status, closed.resolution) == ("resolved", "intern_ok")
    assert closed.resolved_at == DEADLINE + timedelta(minutes=100)
    faro.dispatch(DEADLINE + timedelta(minutes=100))
    all_clear = outbox(faro, kind="all_clear_intern_ok")
    assert sorted(m.to_phone for m in all_clear) == sorted(
        people[w] for w in ("beto", "rosa", "luis")
    )
    assert "Ana Lopez respondio que esta bien" in all_clear[0].body

    # Who knew what when: the timeline of the incident.
    timeline = [(e.kind, e.at) for e in events(faro, incident_id=case.id)]
    kinds = [k for k, _ in timeline]
    assert kinds[:2] == ["incident_opened", "alerted"]
    assert ("alerted", DEADLINE + timedelta(minutes=30)) in timeline
    assert (
        kinds.index("call_answered")
        < kinds.index("call_keypress")
        < kinds.index("acknowledged")
        < kinds.index("resolved")
    )
    [ack] = events(faro, "acknowledged", case.id)
    assert ack.data["channel"] == "voice"
    [resolved] = events(faro, "resolved", case.id)
    assert resolved.data["how"] == "intern_ok" and resolved.data["by"] == "Ana Lopez"
