"""Escalation policies on the console: who reads and who edits which (administrators every
university and the default; a coordinator her own; a supervisor and a mental-health contact read
the kinds of case they see; everything else 404), a bad policy refused with the validation's
one-line reason and nothing saved, a saved one followed by the next incident, and the
policy_changed event."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.console.i18n import strings
from escalation.base.kinds import TARGET_ROLES
from escalation.base.models import (
    COORDINATOR,
    EMERGENCY,
    MENTAL_HEALTH,
    MISSED_CHECKIN,
    SELF_HARM,
    SUPERVISOR,
    SUPPORT,
    Event,
    Policy,
    University,
)
from escalation.policy import DEFAULTS, KINDS, load_policy, validate
from tests.conftest import at
from tests.console_helpers import account
from tests.console_session import add_university, csrf_token, signed_in
from tests.escalation_helpers import alerts, calls, texts

T0 = at("2026-11-24T02:00:00-06:00")
ADMIN = "admin@faro.mx"
LUIS = "luis@uanl.mx"  # coordinator, UANL
MARTA = "marta@salud.mx"  # supervisor, Doctor Arroyo
SOFIA = "sofia@uanl.mx"  # mental health, UANL
UDEM = "coord@udem.mx"  # coordinator, UDEM


@pytest.fixture
def accounts(faro, people):
    udem = add_university(faro, "UDEM")
    account(faro, ADMIN)
    account(faro, LUIS, role=COORDINATOR, university="UANL")
    account(faro, MARTA, role=SUPERVISOR, municipality="Doctor Arroyo")
    account(faro, SOFIA, role=MENTAL_HEALTH, university="UANL")
    account(faro, UDEM, role=COORDINATOR, university="UDEM")
    with faro.sessions() as session:
        uanl = session.scalar(select(University.id).where(University.name == "UANL"))
    return {"uanl": uanl, "udem": udem}


def page(client, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    return answer.get_data(as_text=True)


def form(client, path: str, **fields):
    """POST to `path` with the session's CSRF token and these fields."""
    token = csrf_token(client, "/admin/policies")
    return client.post(path, data={"csrf_token": token, **fields})


def sections(html: str) -> list[str]:
    return re.findall(r'<section id="policies-([^"]+)" class="policies">', html)


def kinds_shown(html: str, key: str) -> list[str]:
    return re.findall(rf'<tr id="policy-{key}-(\w+)">', html)


def stored(faro) -> int:
    with faro.sessions() as session:
        return session.scalar(select(func.count()).select_from(Policy))


def policy_events(faro) -> list[Event]:
    with faro.sessions() as session:
        query = select(Event).where(Event.kind == "policy_changed").order_by(Event.id)
        return list(session.scalars(query))


QUICK = {  # emergency, UANL: Luis by SMS at once, then Marta by call 5 min later, twice more
    "steps": "2", "step-1-targets": ["coordinator"], "step-1-channels": ["sms"],
    "step-2-after": "5", "step-2-targets": ["supervisor"], "step-2-channels": ["voice"],
    "repeat_every": "5", "repeat_count": "2", "action": "save",
}  # fmt: skip
QUICK_STEPS = [
    {"after_minutes": 0, "targets": ["coordinator"], "channels": ["sms"]},
    {"after_minutes": 5, "targets": ["supervisor"], "channels": ["voice"],
     "repeat_every_minutes": 5, "repeat_count": 2},
]  # fmt: skip


# --- who reads and who edits ----------------------------------------------------------------


def test_an_administrator_reads_every_university_and_the_default_in_her_language(client, accounts):
    signed_in(client, ADMIN)
    html = page(client, "/admin/policies")
    assert sections(html) == ["default", str(accounts["uanl"]), str(accounts["udem"])]
    assert kinds_shown(html, "default") == list(KINDS)
    assert (
        "al momento: compañeras y enfermera por SMS; 30 min después: coordinación por SMS y "
        "llamada; 1 h después: supervisión por SMS, luego cada 30 min, 3 veces" in html
    )
    assert html.count("La de fábrica") == 3 * len(KINDS)
    english = page(client, "/admin/policies?lang=en")
    assert "at once: buddies and nurse by SMS; 30 min later: coordinator by SMS and call" in english
    assert page(client, f"/admin/policies/default/{MISSED_CHECKIN}")
    assert page(client, f"/admin/policies/{accounts['udem']}/{SUPPORT}")


def test_a_coordinator_reads_and_edits_only_her_university(client, accounts):
    signed_in(client, LUIS)
    html = page(client, "/admin/policies")
    uanl = str(accounts["uanl"])
    assert sections(html) == [uanl]
    assert kinds_shown(html, uanl) == list(KINDS)
    assert f'href="/admin/policies/{uanl}/{EMERGENCY}"' in html
    assert page(client, f"/admin/policies/{uanl}/{SELF_HARM}")
    elsewhere = (f"default/{EMERGENCY}", f"{accounts['udem']}/{EMERGENCY}", f"{uanl}/flood",
                 "999/support")  # fmt: skip
    for path in (f"/admin/policies/{where}" for where in elsewhere):
        assert client.get(path).status_code == 404, path
    token = csrf_token(client, "/admin/policies")
    answer = client.post(f"/admin/policies/{accounts['udem']}/{EMERGENCY}",
                         data={"csrf_token": token, **QUICK})  # fmt: skip
    assert answer.status_code == 404 and stored(client.application.extensions["faro"]) == 0


def test_a_supervisor_reads_the_kinds_she_sees_and_edits_nothing(client, faro, accounts):
    signed_in(client, MARTA)
    html = page(client, "/admin/policies")
    uanl = str(accounts["uanl"])
    assert sections(html) == [uanl]  # Ana's university; UDEM has no intern in Doctor Arroyo
    shown = kinds_shown(html, uanl)
    assert EMERGENCY in shown and SELF_HARM not in shown and SUPPORT not in shown
    assert "/admin/policies/" + uanl + "/" not in html  # no edit links
    assert client.get(f"/admin/policies/{uanl}/{EMERGENCY}").status_code == 404
    token = csrf_token(client, "/admin/policies")
    post = client.post(f"/admin/policies/{uanl}/{EMERGENCY}", data={"csrf_token": token, **QUICK})
    reset = client.post(f"/admin/policies/{uanl}/{EMERGENCY}/reset", data={"csrf_token": token})
    assert post.status_code == reset.status_code == 404
    assert stored(faro) == 0 and policy_events(faro) == []


def test_a_mental_health_contact_reads_only_the_mental_health_kinds(client, accounts):
    signed_in(client, SOFIA)
    html = page(client, "/admin/policies")
    uanl = str(accounts["uanl"])
    assert sections(html) == [uanl]
    assert kinds_shown(html, uanl) == [SELF_HARM, SUPPORT]
    assert client.get(f"/admin/policies/{uanl}/{SELF_HARM}").status_code == 404


# --- refusing and saving ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"step-2-after": "0"}, "emergency step 2: after_minutes=0 is out of range (1..10080)"),
        ({"step-2-after": "media hora"},
         "emergency step 2: after_minutes must be a whole number, not &#39;media hora&#39;"),
        ({"step-1-targets": []}, "emergency step 1: targets must be a non-empty list"),
        ({"step-2-channels": []}, "emergency step 2: channels must be a non-empty list"),
        ({"repeat_every": "1"}, "emergency step 2: repeat_every_minutes=1 is out of range"),
        ({"repeat_every": ""}, "emergency step 2: repeat_every_minutes is required"),
        ({"step-1-people": "12345"}, "emergency step 1: &#39;person:12345&#39; is not a valid"),
    ],
)  # fmt: skip
def test_a_bad_policy_is_refused_in_one_line_and_nothing_is_saved(
    client, faro, accounts, fields, reason
):
    signed_in(client, LUIS)
    path = f"/admin/policies/{accounts['uanl']}/{EMERGENCY}"
    answer = form(client, path, **{**QUICK, **fields})
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    [line] = re.findall(r'<p class="error" role="alert" id="policy-error">(.*?)</p>', html)
    assert line.startswith("No se guardó nada: ") and reason in line, line
    assert 'value="media hora"' in html or "media hora" not in str(fields)  # kept as typed
    assert stored(faro) == 0 and policy_events(faro) == []


def test_a_saved_policy_is_what_the_next_incident_follows_and_is_an_event(
    client, faro, accounts, people, text_faro, clock
):
    signed_in(client, LUIS)
    path = f"/admin/policies/{accounts['uanl']}/{EMERGENCY}"
    answer = form(client, path, **QUICK)
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(
        f"/admin/policies#policy-{accounts['uanl']}-{EMERGENCY}"
    )
    html = page(client, "/admin/policies")
    assert (
        "al momento: coordinación por SMS; 5 min después: supervisión por llamada, luego cada "
        "5 min, 2 veces" in html
    )
    assert "Propia de la universidad" in html and f"Cambió {LUIS}" in html
    [event] = policy_events(faro)
    assert event.data["account"] == LUIS and event.data["university"] == "UANL"
    assert event.data["incident_kind"] == EMERGENCY
    assert event.data["before"] == DEFAULTS[EMERGENCY] and event.data["after"] == QUICK_STEPS

    clock.set(T0)
    assert text_faro(people["ana"], "sos").status_code == 200
    assert [(m.to_phone, m.channel) for m in alerts(faro)] == [(people["luis"], "sms")]
    faro.run_pass(T0 + timedelta(minutes=5))
    assert [m.to_phone for m in calls(faro, people["marta"])] == [people["marta"]]
    assert texts(faro, people["beto"]) == [] and alerts(faro, people["rosa"]) == []


def test_adding_and_removing_a_step_saves_nothing_until_save(client, faro, accounts):
    signed_in(client, LUIS)
    path = f"/admin/policies/{accounts['uanl']}/{MISSED_CHECKIN}"
    html = page(client, path)
    assert html.count('<fieldset class="step"') == 3
    added = form(client, path, **{**QUICK, "action": "add"}).get_data(as_text=True)
    assert added.count('<fieldset class="step"') == 3 and 'name="step-3-after" value="30"' in added
    removed = form(client, path, **{**QUICK, "action": "remove-1"}).get_data(as_text=True)
    assert removed.count('<fieldset class="step"') == 1
    assert 'name="step-1-targets" value="supervisor" checked' in removed  # step 2 moved up
    assert stored(faro) == 0 and policy_events(faro) == []


def test_back_to_the_default_drops_her_own_and_is_an_event(client, faro, accounts):
    signed_in(client, LUIS)
    path = f"/admin/policies/{accounts['uanl']}/{EMERGENCY}"
    assert form(client, path, **QUICK).status_code == 302
    assert "reset-policy" in page(client, path)
    answer = form(client, f"{path}/reset")
    assert answer.status_code == 302 and stored(faro) == 0
    with faro.sessions() as session:
        assert load_policy(session, accounts["uanl"], EMERGENCY) == validate(
            EMERGENCY, DEFAULTS[EMERGENCY]
        )
    saved, reset = policy_events(faro)
    assert reset.data["reset"] is True and reset.data["account"] == LUIS
    assert reset.data["before"] == QUICK_STEPS and reset.data["after"] == DEFAULTS[EMERGENCY]
    edit_page = page(client, path)
    assert "reset-policy" not in edit_page
    history = edit_page[edit_page.index('id="policy-history"') :]
    assert history.index("Volvió a la predeterminada") < history.index("Política cambiada")
    assert history.count(LUIS) == 2
    assert "al momento: coordinación por SMS; 5 min después: supervisión por llamada" in history


def test_the_default_policy_an_administrator_saves_applies_where_a_university_has_none(
    client, faro, accounts
):
    signed_in(client, ADMIN)
    assert form(client, f"/admin/policies/default/{EMERGENCY}", **QUICK).status_code == 302
    with faro.sessions() as session:
        for university in ("uanl", "udem"):
            steps = load_policy(session, accounts[university], EMERGENCY)
            assert steps == validate(EMERGENCY, QUICK_STEPS)
    html = page(client, "/admin/policies")
    assert html.count("La predeterminada") == 2  # emergency at UANL and at UDEM
    assert html.count("Cambiada: ya no es la de fábrica") == 1  # the default's own row
    [event] = policy_events(faro)
    assert event.data["university"] is None and event.data["account"] == ADMIN


@pytest.mark.parametrize("language", ["es", "en"])
def test_every_target_has_a_label(language):
    missing = [r for r in TARGET_ROLES if f"policies.target.{r}" not in strings(language)]
    assert missing == []


def test_a_coordinator_of_another_university_reads_only_hers(client, accounts):
    signed_in(client, UDEM)
    html = page(client, "/admin/policies")
    assert sections(html) == [str(accounts["udem"])]
    assert client.get(f"/admin/policies/{accounts['uanl']}/{EMERGENCY}").status_code == 404


def test_the_policies_need_a_session(client, accounts):
    for path in ("/admin/policies", f"/admin/policies/{accounts['uanl']}/{EMERGENCY}"):
        answer = client.get(path)
        assert answer.status_code == 302 and "/admin/login" in answer.headers["Location"]
