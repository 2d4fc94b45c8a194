"""Responders answer by text: ATIENDO / OK <code> acknowledges, LISTO <code> closes; a wrong or
unknown code reveals nothing; a plain OK works only when it can mean one incident."""

from __future__ import annotations

from datetime import timedelta

from escalation.base.models import EMERGENCY, MISSED_CHECKIN, SUPPORT
from tests.conftest import at
from tests.escalation_helpers import (
    alerts,
    events,
    incident,
    open_for,
    outbox,
)

T0 = at("2025-11-24T10:00:00-06:00")


def reply(text_faro, sender: str, body: str) -> str:
    return text_faro(sender, body).get_data(as_text=True)


def test_the_first_ack_stops_the_steps_and_the_second_is_told_who_has_it(
    faro, people, text_faro, clock
):
    case = open_for(faro, people["ana"], MISSED_CHECKIN, T0)
    clock.set(T0 + timedelta(minutes=5))
    assert f"Ya tienes el caso {case.code}" in reply(
        text_faro, people["rosa"], f"ATIENDO {case.code}"
    )
    second = reply(text_faro, people["beto"], f"atiendo {case.code}")
    assert f"Rosa Martinez ya atiende el caso {case.code}" in second
    acked = incident(faro, case.id)
    assert (acked.status, acked.next_step_at) == ("acknowledged", None)
    assert [e.person_id for e in events(faro, "acknowledged", case.id)] == [
        acked.acknowledged_by_id
    ]
    assert len(events(faro, "ack_repeated", case.id)) == 1
    [notice] = outbox(faro, kind="ack_notice")  # Beto, the only other one alerted so far
    assert notice.to_phone == people["beto"] and "Rosa Martinez atiende" in notice.body
    faro.run_pass(T0 + timedelta(minutes=45))  # step two (Luis) would have been due at 10:30
    assert alerts(faro, people["luis"]) == []


def test_listo_closes_with_an_all_clear_and_writes_who_and_how(faro, people, text_faro, clock):
    case = open_for(faro, people["ana"], EMERGENCY, T0)
    clock.set(T0 + timedelta(minutes=3))
    assert f"Cerraste el caso {case.code}" in reply(text_faro, people["luis"], f"LISTO {case.code}")
    closed = incident(faro, case.id)
    assert (closed.status, closed.resolution) == ("resolved", "responder")
    [resolved] = events(faro, "resolved", case.id)
    assert (resolved.data["how"], resolved.data["by"]) == ("responder", "Luis Herrera")
    assert {m.to_phone for m in outbox(faro, kind="all_clear")} == {people["beto"], people["rosa"]}
    assert all("cerrado por Luis Herrera" in m.body for m in outbox(faro, kind="all_clear"))


def test_listo_with_a_wrong_code_changes_nothing_and_reveals_nothing(
    faro, people, text_faro, clock
):
    case = open_for(faro, people["ana"], EMERGENCY, T0)
    wrong = "1000" if case.code != "1000" else "1001"
    clock.set(T0 + timedelta(minutes=1))
    answer = reply(text_faro, people["rosa"], f"LISTO {wrong}")
    assert f"No hay un caso abierto con el codigo {wrong}" in answer
    assert "Ana" not in answer
    assert incident(faro, case.id).status == "open"
    [unknown] = events(faro, "unknown_code")
    assert unknown.data["code"] == wrong


def test_a_code_she_was_not_alerted_to_is_unknown_to_her(faro, people, text_faro, clock):
    """Marta (supervisor) is not in step one: Ana's code is, for her, an unknown code."""
    case = open_for(faro, people["ana"], EMERGENCY, T0)
    clock.set(T0 + timedelta(minutes=1))
    answer = reply(text_faro, people["marta"], f"ATIENDO {case.code}")
    assert f"No hay un caso abierto con el codigo {case.code}" in answer
    assert incident(faro, case.id).acknowledged_at is None


def test_a_plain_ok_acknowledges_the_one_open_incident(faro, people, text_faro, clock):
    case = open_for(faro, people["ana"], MISSED_CHECKIN, T0)
    clock.set(T0 + timedelta(minutes=2))
    assert f"Ya tienes el caso {case.code}" in reply(text_faro, people["rosa"], "OK")
    assert incident(faro, case.id).status == "acknowledged"


def test_with_two_open_incidents_a_plain_ok_asks_which(faro, people, text_faro, clock):
    anas = open_for(faro, people["ana"], EMERGENCY, T0)
    betos = open_for(faro, people["beto"], EMERGENCY, T0 + timedelta(minutes=1))
    clock.set(T0 + timedelta(minutes=2))
    answer = reply(text_faro, people["luis"], "OK")  # Luis coordinates both
    assert anas.code in answer and betos.code in answer and "ATIENDO" in answer
    assert incident(faro, anas.id).acknowledged_at is None
    assert incident(faro, betos.id).acknowledged_at is None
    assert f"Ya tienes el caso {betos.code}" in reply(text_faro, people["luis"], f"OK {betos.code}")
    # Rosa (Ana's nurse, not Beto's) has exactly one: her plain OK takes it.
    assert f"Ya tienes el caso {anas.code}" in reply(text_faro, people["rosa"], "ok")


def test_a_buddy_acknowledges_with_ok_and_the_code(faro, people, text_faro, clock):
    case = open_for(faro, people["ana"], MISSED_CHECKIN, T0)
    other = open_for(faro, people["ana"], SUPPORT, T0 + timedelta(minutes=1))
    clock.set(T0 + timedelta(minutes=2))
    answer = reply(text_faro, people["beto"], "atiendo")
    assert case.code in answer and other.code in answer
    assert f"Ya tienes el caso {case.code}" in reply(text_faro, people["beto"], f"OK {case.code}")


def test_a_buddys_own_ok_is_her_checkin_not_an_acknowledgement(faro, people, text_faro, clock):
    case = open_for(faro, people["ana"], MISSED_CHECKIN, T0)
    clock.set(T0 + timedelta(minutes=2))
    reply(text_faro, people["beto"], "ok")
    assert incident(faro, case.id).acknowledged_at is None
