"""Escalation policies are data: the defaults are DESIGN.md's table, a university may have its
own, and a bad policy is refused with a reason when it is saved or imported."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from escalation.base.db import transaction
from escalation.base.models import (
    DURESS,
    EMERGENCY,
    MISSED_CHECKIN,
    SELF_HARM,
    SUPPORT,
    TRIP_OVERDUE,
    University,
)
from escalation.policy import (
    DEFAULTS,
    KINDS,
    PolicyError,
    Step,
    import_policies,
    load_policy,
    save_policy,
    validate,
)
from tests.conftest import at
from tests.escalation_helpers import alerts, calls, open_for, texts

T0 = at("2025-11-24T10:00:00-06:00")
ADMIN = "+528112345678"


@pytest.fixture
def extra_settings():
    return {"ADMIN_PHONES": ADMIN}


def test_the_defaults_are_the_design_table():
    critical = validate(EMERGENCY, DEFAULTS[EMERGENCY])
    assert critical == validate(DURESS, DEFAULTS[DURESS])
    assert critical[0] == Step(0, ("buddies", "nurse", "coordinator"), ("sms", "voice"))
    assert critical[1] == Step(10, ("supervisor",), ("voice",))
    assert critical[2].after_minutes == 10 and critical[2].repeat_every_minutes == 10
    assert set(critical[2].targets) == {"buddies", "nurse", "coordinator", "supervisor"}
    missed = validate(MISSED_CHECKIN, DEFAULTS[MISSED_CHECKIN])
    assert [(s.after_minutes, s.targets, s.channels) for s in missed] == [
        (0, ("buddies", "nurse"), ("sms",)),
        (30, ("coordinator",), ("sms", "voice")),
        (60, ("supervisor",), ("sms",)),
    ]
    assert missed[-1].repeat_every_minutes == 30
    trip = validate(TRIP_OVERDUE, DEFAULTS[TRIP_OVERDUE])
    assert [(s.after_minutes, s.targets) for s in trip] == [
        (0, ("buddies", "coordinator")),
        (20, ("supervisor",)),
    ]
    assert trip[1].channels == ("voice",) and trip[1].repeat_every_minutes == 20
    mood = validate(SELF_HARM, DEFAULTS[SELF_HARM])
    assert [(s.after_minutes, s.targets) for s in mood] == [
        (0, ("mental_health",)),
        (60, ("coordinator",)),
    ]
    support = validate(SUPPORT, DEFAULTS[SUPPORT])
    assert [(s.after_minutes, s.targets, s.repeat_count) for s in support] == [
        (0, ("buddies", "mental_health"), 0),
        (120, ("coordinator",), 0),
    ]
    assert set(DEFAULTS) == set(KINDS)


@pytest.mark.parametrize(
    ("kind", "steps", "reason"),
    [
        ("flood", DEFAULTS[SUPPORT], "unknown incident kind 'flood'"),
        (SUPPORT, [], "non-empty list of steps"),
        (SUPPORT, "buddies", "non-empty list of steps"),
        (SUPPORT, [{"after_minutes": 5, "targets": ["nurse"], "channels": ["sms"],
                    "repeat_every_minutes": 10}], "step 1: after_minutes must be 0"),
        (SUPPORT, [{"after_minutes": 0, "targets": ["nurse"], "channels": ["fax"],
                    "repeat_every_minutes": 10}], "channel 'fax' is not one of sms, whatsapp"),
        (SUPPORT, [{"after_minutes": 0, "targets": ["priest"], "channels": ["sms"],
                    "repeat_every_minutes": 10}], "target 'priest' is not one of"),
        (SUPPORT, [{"after_minutes": 0, "targets": ["person:12"], "channels": ["sms"],
                    "repeat_every_minutes": 10}], "'person:12' is not a valid phone number"),
        (SUPPORT, [{"after_minutes": 0, "targets": [], "channels": ["sms"],
                    "repeat_every_minutes": 10}], "targets must be a non-empty list"),
        (SUPPORT, [{"after_minutes": 0, "targets": ["nurse"], "channels": ["sms", "sms"],
                    "repeat_every_minutes": 10}], "lists the same entry twice"),
        (SUPPORT, [{"after_minutes": 0, "targets": ["nurse"], "channels": ["sms"]}],
         "step 1: repeat_every_minutes is required"),
        (SUPPORT, [{"after_minutes": 0, "targets": ["nurse"], "channels": ["sms"],
                    "repeat_every_minutes": 1}], "repeat_every_minutes=1 is out of range"),
        (SUPPORT, [{"after_minutes": 0, "targets": ["nurse"], "channels": ["sms"],
                    "repeat_every_minutes": 10, "repeat_count": -1}], "repeat_count=-1"),
        (SUPPORT, [{"after_minutes": 0, "targets": ["nurse"], "channels": ["sms"],
                    "repeat_every_minutes": 10, "repeat_count": True}], "whole number"),
        (SUPPORT, [{"after_minutes": 0, "targets": ["nurse"], "channels": ["sms"],
                    "repeat_every_minutes": "10"}], "whole number, not '10'"),
        (SUPPORT, [{"after_minutes": 0, "targets": ["nurse"], "channels": ["sms"],
                    "repeat_every_minutes": 10, "wait": 3}], "unknown field(s) wait"),
        (SUPPORT, [{"after_minutes": 0, "targets": ["nurse"], "channels": ["sms"]},
                   {"after_minutes": 0, "targets": ["coordinator"], "channels": ["sms"],
                    "repeat_every_minutes": 10}], "step 2: after_minutes=0 is out of range"),
        (SUPPORT, [{"after_minutes": 0, "targets": ["nurse"], "channels": ["sms"],
                    "repeat_every_minutes": 10},
                   {"after_minutes": 30, "targets": ["coordinator"], "channels": ["sms"],
                    "repeat_every_minutes": 10}], "support step 1: only the last step repeats"),
    ],
)  # fmt: skip
def test_a_bad_policy_is_refused_with_its_reason(faro, kind, steps, reason):
    with faro.sessions() as session, session.begin():
        with pytest.raises(PolicyError) as refused:
            save_policy(session, None, kind, steps)
        assert reason in str(refused.value)


def test_a_university_policy_wins_over_the_default_row_which_wins_over_the_table(faro, people):
    mine = [{"after_minutes": 0, "targets": ["coordinator"], "channels": ["sms"],
             "repeat_every_minutes": 15, "repeat_count": 1}]  # fmt: skip
    everyone = [{"after_minutes": 0, "targets": ["supervisor"], "channels": ["voice"],
                 "repeat_every_minutes": 45}]  # fmt: skip
    with transaction(faro.sessions) as session:
        uanl = session.scalar(select(University).where(University.name == "UANL"))
        other = University(name="UDEM")
        session.add(other)
        session.flush()
        assert load_policy(session, uanl.id, SUPPORT) == validate(SUPPORT, DEFAULTS[SUPPORT])
        save_policy(session, None, SUPPORT, everyone)
        save_policy(session, uanl, SUPPORT, mine)
        save_policy(session, uanl, SUPPORT, mine)  # saving again updates, never duplicates
        assert load_policy(session, uanl.id, SUPPORT) == validate(SUPPORT, mine)
        assert load_policy(session, other.id, SUPPORT) == validate(SUPPORT, everyone)
        assert load_policy(session, None, SUPPORT) == validate(SUPPORT, everyone)


def test_an_import_is_all_or_nothing(faro, people):
    good = [{"after_minutes": 0, "targets": ["nurse"], "channels": ["sms"],
             "repeat_every_minutes": 30}]  # fmt: skip
    bad = [{"after_minutes": 0, "targets": ["nurse"], "channels": ["pigeon"],
            "repeat_every_minutes": 30}]  # fmt: skip
    with transaction(faro.sessions) as session:
        with pytest.raises(PolicyError, match="trip_overdue step 1: channel 'pigeon'"):
            import_policies(
                session, {"university": "UANL", "policies": {SUPPORT: good, TRIP_OVERDUE: bad}}
            )
        with pytest.raises(PolicyError, match="unknown university 'Atlantis'"):
            import_policies(session, {"university": "Atlantis", "policies": {SUPPORT: good}})
        uanl = session.scalar(select(University).where(University.name == "UANL"))
        assert load_policy(session, uanl.id, SUPPORT) == validate(SUPPORT, DEFAULTS[SUPPORT])
        [saved] = import_policies(session, {"university": "UANL", "policies": {SUPPORT: good}})
        assert saved.university_id == uanl.id


def test_the_engine_follows_the_university_policy_with_people_and_administrators(faro, people):
    """UANL's own support policy: Marta by phone number, then the administrators by call."""
    admin, marta = ADMIN, people["marta"]
    steps = [
        {"after_minutes": 0, "targets": [f"person:{marta}"], "channels": ["sms"]},
        {"after_minutes": 5, "targets": ["admins"], "channels": ["voice"],
         "repeat_every_minutes": 10, "repeat_count": 0},
    ]  # fmt: skip
    with transaction(faro.sessions) as session:
        uanl = session.scalar(select(University).where(University.name == "UANL"))
        save_policy(session, uanl, SUPPORT, steps)
    open_for(faro, people["ana"], SUPPORT, T0)
    faro.run_pass(T0)
    assert [m.to_phone for m in alerts(faro)] == [marta]
    faro.run_pass(T0 + timedelta(minutes=5))
    assert [m.channel for m in alerts(faro, admin)] == ["voice"]
    # After the last repeat: everyone on the policy and the administrators, texted and called.
    faro.run_pass(T0 + timedelta(minutes=15))
    assert [m.channel for m in texts(faro, marta)] == ["sms", "sms"]
    assert len(calls(faro, marta)) == 1 and len(calls(faro, admin)) == 2
