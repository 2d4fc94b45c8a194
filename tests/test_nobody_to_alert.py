"""No alarm reaches nobody: a step whose targets resolve to nobody is passed at once, the
timeline says so, the administrators end every chain, and the intern is told "we are alerting
your team" only when somebody of her team was queued."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from escalation.base.models import EMERGENCY, INTERN, MISSED_CHECKIN, Person, buddy
from tests.conftest import at
from tests.escalation_helpers import alerts, events, incident, open_for
from tests.stories import scheduled

ADMIN = "+528100000099"
EVA = "+524881000042"  # an intern with no buddy, no unit and no university
T0 = at("2026-11-24T10:00:00-06:00")


@pytest.fixture
def extra_settings():
    return {"ADMIN_PHONES": ADMIN}


@pytest.fixture
def eva(faro, people):
    with faro.sessions() as session, session.begin():
        session.add(
            scheduled(Person(role=INTERN, name="Eva Soto", phone=EVA, checkin_time="08:00"))
        )
    return EVA


def reply(text_faro, sender: str, body: str) -> str:
    return text_faro(sender, body).get_data(as_text=True)


def test_an_sos_from_an_intern_nobody_covers_goes_to_the_administrators_at_once(
    faro, eva, text_faro, clock
):
    clock.set(T0)
    answer = reply(text_faro, eva, "SOS")
    assert "no hay nadie de tu equipo" in answer and "911" in answer
    assert "Estamos avisando a tu equipo" not in answer
    case = incident(faro)
    assert case.kind == EMERGENCY
    assert {m.to_phone for m in alerts(faro)} == {ADMIN}  # texted and called, in the same commit
    skipped = [e.data["step"] for e in events(faro, "step_nobody", case.id)]
    assert skipped == [1, 2, 3]  # buddies/nurse/coordinator, supervisor, the repeating round
    # The chain goes on from the final stage: every 10 minutes, not after 10 + 10 + 10.
    assert case.next_step_at == T0 + timedelta(minutes=10)


def test_a_covered_intern_is_told_her_team_is_being_alerted(faro, people, text_faro, clock):
    clock.set(T0)
    assert "Estamos avisando a tu equipo" in reply(text_faro, people["ana"], "SOS")
    assert events(faro, "step_nobody") == []


def test_support_from_an_intern_nobody_covers_says_so_with_the_crisis_line(
    faro, eva, text_faro, clock
):
    clock.set(T0)
    answer = reply(text_faro, eva, "MAL")
    assert "no hay nadie de tu equipo" in answer
    assert "800 911 2000" in answer and "administracion" in answer
    assert {m.to_phone for m in alerts(faro)} == {ADMIN}


def test_a_missed_check_in_with_no_buddy_and_no_nurse_goes_to_the_coordinator_at_once(faro, people):
    with faro.sessions() as session, session.begin():
        session.execute(delete(buddy))
        rosa = session.scalar(select(Person).where(Person.phone == people["rosa"]))
        rosa.active = False
    case = open_for(faro, people["ana"], MISSED_CHECKIN, T0, admin_phones=(ADMIN,))
    assert [m.to_phone for m in alerts(faro, channel="sms")] == [people["luis"]]  # step 2
    [skipped] = events(faro, "step_nobody", case.id)
    assert skipped.data == {"step": 1, "targets": ["buddies", "nurse"]}
    opened = incident(faro, case.id)
    assert opened.step == 2
    assert opened.next_step_at == T0 + timedelta(minutes=60)  # step 3, timed from now


def test_a_later_step_with_nobody_is_passed_in_the_same_tick(faro, people):
    with faro.sessions() as session, session.begin():
        marta = session.scalar(select(Person).where(Person.phone == people["marta"]))
        marta.active = False  # step two of an emergency is the supervisor alone
    case = open_for(faro, people["ana"], EMERGENCY, T0, admin_phones=(ADMIN,))
    faro.run_pass(T0 + timedelta(minutes=10))
    [skipped] = events(faro, "step_nobody", case.id)
    assert skipped.data["step"] == 2
    later = incident(faro, case.id)
    assert later.step == 3  # the repeating round to everyone, taken at 10:10 instead of 10:20
    assert len(alerts(faro, people["luis"])) == 3  # step 1 (text, call) and step 3 (a call)


def test_with_no_one_at_all_the_timeline_says_nobody_could_be_alerted(
    faro, eva, text_faro, clock, monkeypatch
):
    from dataclasses import replace

    faro.settings = replace(faro.settings, admin_phones=())
    clock.set(T0)
    answer = reply(text_faro, eva, "ayuda")
    assert "Llama al 911 ahora" in answer and "administracion" not in answer
    [nobody] = events(faro, "nobody_to_alert")
    assert nobody.incident_id == incident(faro).id
