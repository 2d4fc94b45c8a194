"""Escalation policies are data: the defaults are DESIGN.md's table, a university may have its
own, and a bad policy is refused with a reason when it is saved or imported."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from escalation.base.db import transaction
from escalation.base.models import (
    DURESS,
    EMERGENCY,
    MISSED_CHECKIN,
    SELF_HARM,
    SUPPORT,
    TRIP_OVERDUE,
    Event,
    Policy,
    University,
)
from escalation.policy import (
    DEFAULTS,
    KINDS,
    STEP_CHANNELS,
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


# --- `flask --app app import-policies FILE` --------------------------------------------------

QUICK_MISSED = [
    {"after_minutes": 0, "targets": ["coordinator"], "channels": ["sms"]},
    {"after_minutes": 15, "targets": ["supervisor"], "channels": ["voice"],
     "repeat_every_minutes": 15, "repeat_count": 2},
]  # fmt: skip


def policy_file(tmp_path, document) -> str:
    path = tmp_path / "policies.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document), "utf-8")
    return str(path)


def policy_events(faro):
    with faro.sessions() as session:
        return list(session.scalars(select(Event).where(Event.kind == "policy_changed")))


def test_import_policies_saves_a_good_file_says_what_and_writes_the_events(
    runner, faro, people, tmp_path
):
    path = policy_file(tmp_path, {"university": "UANL", "policies": {MISSED_CHECKIN: QUICK_MISSED}})
    result = runner.invoke(args=["import-policies", path])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "saved UANL, missed_checkin: at once: coordinator by SMS; 15 min later: supervisor by "
        "call, then every 15 min, 2 times; then every 15 min until someone answers: all of them "
        "and the administrators by SMS and call\n"
    )
    with faro.sessions() as session:
        uanl = session.scalar(select(University).where(University.name == "UANL"))
        assert load_policy(session, uanl.id, MISSED_CHECKIN) == validate(
            MISSED_CHECKIN, QUICK_MISSED
        )
    [event] = policy_events(faro)
    assert event.data["account"] == "cli" and event.data["university"] == "UANL"
    assert event.data["incident_kind"] == MISSED_CHECKIN
    assert event.data["before"] == DEFAULTS[MISSED_CHECKIN]
    assert event.data["after"] == QUICK_MISSED


def test_import_policies_for_the_default_policy(runner, faro, tmp_path):
    path = policy_file(tmp_path, {"university": None, "policies": {SUPPORT: QUICK_MISSED}})
    result = runner.invoke(args=["import-policies", path])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("saved the default policy, support: at once: coordinator")
    with faro.sessions() as session:
        assert load_policy(session, None, SUPPORT) == validate(SUPPORT, QUICK_MISSED)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "policies.json:1:2: not JSON (Expecting property name enclosed in double "
                      "quotes); nothing was saved"),
        ([], 'a policy file is {"university": …, "policies": {kind: [steps]}}; nothing was saved'),
        ({"university": "Atlantis", "policies": {SUPPORT: QUICK_MISSED}},
         "unknown university 'Atlantis'; nothing was saved"),
        ({"university": "UANL", "policies": {
            SUPPORT: QUICK_MISSED,
            MISSED_CHECKIN: [{**QUICK_MISSED[0], "channels": ["pigeon"]}, QUICK_MISSED[1]]}},
         "missed_checkin step 1: channel 'pigeon' is not one of sms, whatsapp, voice; nothing "
         "was saved"),
        ({"university": "UANL", "policies": {"flood": QUICK_MISSED}},
         "unknown incident kind 'flood'; use one of: emergency"),
    ],
)  # fmt: skip
def test_import_policies_refuses_a_bad_file_in_one_line_and_saves_nothing(
    runner, faro, people, tmp_path, document, message
):
    result = runner.invoke(args=["import-policies", policy_file(tmp_path, document)])
    assert result.exit_code == 1
    [line] = result.output.splitlines()  # one line, no traceback
    assert line.startswith("Error: ") and message in line, line
    with faro.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Policy)) == 0
    assert policy_events(faro) == []


def test_import_policies_help_documents_the_file_format(runner):
    result = runner.invoke(args=["import-policies", "--help"])
    assert result.exit_code == 0
    for word in ("after_minutes", "repeat_every_minutes", "person:+52", *KINDS, *STEP_CHANNELS):
        assert word in result.output, word
