"""Three texts Faro could not understand from the same intern within 15 minutes: a frightened
person types badly, so her buddy and her nurse are asked to check on her."""

from __future__ import annotations

from datetime import timedelta

from escalation.base.models import NORMAL, UNCLEAR
from tests.conftest import at
from tests.escalation_helpers import alerts, incident

T0 = at("2026-11-24T21:00:00-06:00")


def reply(text_faro, sender: str, body: str) -> str:
    return text_faro(sender, body).get_data(as_text=True)


def garble(text_faro, clock, phone: str, minutes: list[int]) -> list[str]:
    answers = []
    for n, minute in enumerate(minutes):
        clock.set(T0 + timedelta(minutes=minute))
        answers.append(reply(text_faro, phone, f"xq {n} jjsd lkq"))
    return answers


def test_the_third_garbled_text_in_15_minutes_alerts_her_buddy_and_nurse(
    faro, people, text_faro, clock
):
    answers = garble(text_faro, clock, people["ana"], [0, 4, 9])
    assert "No entendi" in answers[0] and "No entendi" in answers[1]
    assert "Avisamos a tu equipo" in answers[2]
    case = incident(faro)
    assert (case.kind, case.severity) == (UNCLEAR, NORMAL)
    assert {m.to_phone for m in alerts(faro)} == {people["beto"], people["rosa"]}
    assert all(people["ana"] in m.body for m in alerts(faro))  # so they can call her


def test_three_spread_over_more_than_15_minutes_do_not(faro, people, text_faro, clock):
    garble(text_faro, clock, people["ana"], [0, 10, 20])
    assert incident(faro) is None


def test_her_ok_closes_it_and_her_team_hears(faro, people, text_faro, clock):
    garble(text_faro, clock, people["ana"], [0, 1, 2])
    clock.set(T0 + timedelta(minutes=5))
    reply(text_faro, people["ana"], "ok")
    assert incident(faro).status == "resolved"
