"""Leaving Faro as carriers and people expect: STOP / BAJA … stop the pings and questions, her
coordinator and nurse are told once, START / ALTA re-joins; a Twilio 21610 is the same."""

from __future__ import annotations

import pytest

from bot.transports import TransportError
from tests.conftest import at
from tests.stories import checkin_texts, events, incidents, outbox, person, tick, update_person

ADMIN = "+528100000099"


@pytest.fixture
def extra_settings():
    return {"ADMIN_PHONES": ADMIN}


@pytest.fixture(autouse=True)
def only_ana_is_pinged(faro, people):
    update_person(faro, people["beto"], checkin_time=None)  # Beto's own check-ins aside


def reply(text_faro, sender: str, body: str) -> str:
    return text_faro(sender, body).get_data(as_text=True)


@pytest.mark.parametrize("word", ["STOP", "baja", "Cancelar", "ALTO", "unsubscribe"])
def test_an_opt_out_word_stops_her_pings_and_tells_her_team_once(
    faro, people, text_faro, clock, transport, word
):
    tick(faro, "2026-11-24T07:00:00-06:00")
    clock.set(at("2026-11-24T07:30:00-06:00"))
    assert "Te diste de baja de Faro" in reply(text_faro, people["ana"], word)
    assert person(faro, people["ana"]).opted_out_at is not None
    clock.set(at("2026-11-24T07:40:00-06:00"))
    reply(text_faro, people["ana"], "BAJA")  # again: no second notice
    notices = outbox(faro, "optout_notice")
    assert sorted(m.to_phone for m in notices) == sorted([people["luis"], people["rosa"]])
    assert all("Ana Lopez" in m.body and "ALTA" in m.body for m in notices)
    [left] = events(faro, "opted_out")
    assert left.data["via"] == "text"
    for day in ("2026-11-24", "2026-11-25", "2026-11-26"):
        tick(faro, f"{day}T08:00:00-06:00")
        tick(faro, f"{day}T11:00:00-06:00")  # past any deadline
    assert checkin_texts(transport, people["ana"]) == []
    assert incidents(faro) == []


def test_an_opt_out_after_the_ping_is_not_a_missed_check_in(faro, people, text_faro, clock):
    tick(faro, "2026-11-24T08:00:00-06:00")
    clock.set(at("2026-11-24T08:05:00-06:00"))
    reply(text_faro, people["ana"], "STOP")
    tick(faro, "2026-11-24T08:40:00-06:00")
    tick(faro, "2026-11-24T10:30:00-06:00")
    assert incidents(faro) == []
    assert outbox(faro, "checkin_reminder") == []


def test_alta_rejoins_and_the_pings_resume(faro, people, text_faro, clock, transport):
    clock.set(at("2026-11-24T07:00:00-06:00"))
    reply(text_faro, people["ana"], "BAJA")
    clock.set(at("2026-11-24T20:00:00-06:00"))
    answer = reply(text_faro, people["ana"], "ALTA")
    assert "Volviste a Faro" in answer and "08:00" in answer
    assert person(faro, people["ana"]).opted_out_at is None
    tick(faro, "2026-11-24T20:01:00-06:00")
    tick(faro, "2026-11-25T08:00:00-06:00")
    assert len(checkin_texts(transport, people["ana"])) == 1
    assert [e.kind for e in events(faro, "opted_in")] == ["opted_in"]


def test_her_emergency_words_still_work_after_opting_out(faro, people, text_faro, clock):
    clock.set(at("2026-11-24T07:00:00-06:00"))
    reply(text_faro, people["ana"], "STOP")
    clock.set(at("2026-11-24T23:00:00-06:00"))
    assert "Estamos avisando a tu equipo" in reply(text_faro, people["ana"], "SOS")


def test_twilio_21610_on_a_ping_marks_her_opted_out_not_unreachable(faro, people, transport):
    transport.failing[people["ana"]] = TransportError(
        "Attempt to send to unsubscribed recipient", permanent=True, code="21610"
    )
    tick(faro, "2026-11-24T08:00:00-06:00")
    assert person(faro, people["ana"]).opted_out_at is not None
    [left] = events(faro, "opted_out")
    assert left.data["via"] == "carrier"
    for day in ("2026-11-24", "2026-11-25"):
        tick(faro, f"{day}T10:30:00-06:00")
        tick(faro, f"{day}T23:00:00-06:00")
    assert incidents(faro) == []  # neither unreachable nor missed check-in
    notices = outbox(faro, "optout_notice")
    assert len(notices) == 2 and all("operador" in m.body for m in notices)
