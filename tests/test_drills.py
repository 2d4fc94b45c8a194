"""Drills (SIMULACRO): Ana's emergency policy run as a real case would (same steps, waits,
people, channels and calls), every message to a responder opening with SIMULACRO, nothing to
Ana, closing itself when the final "never goes quiet" stage would fall due. A real SOS, a real
missed check-in and her OK during a drill go to real cases; responders practise by text and in
the console; starting one is for administrators and her university's coordinators."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.console.i18n import strings
from escalation.base.db import transaction
from escalation.base.messages import MAX_SEGMENTS, render, segments
from escalation.base.models import (
    COORDINATOR,
    DURESS,
    EMERGENCY,
    INTERN,
    MISSED_CHECKIN,
    SUPERVISOR,
    SUPPORT,
    TRIP_OVERDUE,
    VOICE,
    Event,
    Incident,
    OutboundMessage,
    Person,
)
from escalation.drills import REASONS, DrillError, start_drill
from escalation.engine import DRILL_MARK, VOICE_DRILL_MARK
from escalation.incidents import acknowledge
from tests.conftest import at
from tests.console_helpers import account as add_account
from tests.console_session import add_university, post, signed_in
from tests.escalation_helpers import answer_call, events, incident, open_for, outbox, person
from tests.test_message_catalog import maximal_contexts, needs

T0 = at("2025-11-24T11:00:00-06:00")
ADMIN_PHONE = "+528112345678"
CARLA = "+524881000099"  # an intern with no team at all
ADMIN = "admin@faro.mx"
LUIS = "luis.herrera@uanl.mx"
UDEM = "coordinator@udem.mx"
MARTA = "marta.cantu@nl.gob.mx"


@pytest.fixture
def extra_settings():
    return {"ADMIN_PHONES": ADMIN_PHONE}


def drill_for(faro, phone: str, kind: str, now, account: str = ADMIN) -> Incident:
    config = replace(faro.settings.domain, admin_phones=(ADMIN_PHONE,))
    with transaction(faro.sessions) as session:
        return start_drill(session, now, person(session, phone), kind, config=config,
                           account=account)  # fmt: skip


def messages_of(faro, case) -> list[OutboundMessage]:
    with faro.sessions() as session:
        query = OutboundMessage.__table__.select().where(OutboundMessage.incident_id == case.id)
        return list(session.execute(query.order_by(OutboundMessage.id)))


def stages(faro, case) -> list[tuple[int, int, int]]:
    return [
        (int((e.at - T0).total_seconds() // 60), e.data["step"], e.data["repeat"])
        for e in events(faro, "alerted", case.id)
    ]


def reply(text_faro, sender: str, body: str) -> str:
    xml = text_faro(sender, body).get_data(as_text=True)
    return re.sub(r"<[^>]+>", "", xml).strip()


def marked(message) -> bool:
    start = "Simulacro." if message.channel == VOICE else "SIMULACRO"
    return message.body.startswith(start)


# --- the drill runs the policy --------------------------------------------------------------


def test_a_drill_runs_the_real_policy_on_its_clock_and_closes_itself_after_the_last_step(
    faro, people, transport
):
    drill = drill_for(faro, people["ana"], EMERGENCY, T0)
    for minute in range(0, 91):
        faro.run_pass(T0 + timedelta(minutes=minute))
    # The real chain (tests/test_emergency_chain.py) goes (60, 4, 0): everyone and the
    # administrators. The drill ends there instead.
    assert stages(faro, drill) == [(0, 1, 0), (10, 2, 0), (20, 3, 0), (30, 3, 1), (40, 3, 2),
                                   (50, 3, 3)]  # fmt: skip
    ended = incident(faro, drill.id)
    assert (ended.status, ended.resolution, ended.drill) == ("resolved", "drill_ended", True)
    assert ended.resolved_at == T0 + timedelta(minutes=60)
    [closing] = events(faro, "drill_ended", drill.id)
    assert (closing.data["how"], closing.data["account"]) == ("last_step", ADMIN)
    [started] = events(faro, "drill_started", drill.id)
    assert (started.data["account"], started.at) == (ADMIN, T0)

    sent = messages_of(faro, drill)
    alerted = {m.to_phone for m in sent if m.kind == "alert"}
    assert alerted == {people[p] for p in ("beto", "rosa", "luis", "marta")}  # no final stage
    assert ADMIN_PHONE not in {m.to_phone for m in sent}
    assert all(marked(m) for m in sent), [m.body for m in sent if not marked(m)]
    assert {m.to_phone for m in sent if m.kind == "drill_ended"} == alerted
    # Step one: texts and calls, as in the real policy; Marta is called at step two.
    rosa = [m for m in sent if m.to_phone == people["rosa"] and m.kind == "alert"]
    assert [m.channel for m in rosa[:2]] == ["sms", VOICE]
    marta = [m for m in sent if m.to_phone == people["marta"] and m.kind == "alert"]
    assert marta[0].channel == VOICE and marta[0].created_at == T0 + timedelta(minutes=10)
    # Nothing at all went to Ana, about the drill or otherwise, and nothing about it after.
    assert [e for e in transport.sent if e.to == people["ana"]] == []
    assert len(sent) == len([m for m in outbox(faro) if m.incident_id == drill.id])
    faro.run_pass(T0 + timedelta(minutes=200))
    assert len(messages_of(faro, drill)) == len(sent)


def test_every_event_the_drill_writes_carries_its_incident(faro, people):
    drill = drill_for(faro, people["ana"], EMERGENCY, T0)
    for minute in range(0, 61, 5):
        faro.run_pass(T0 + timedelta(minutes=minute))
    ids = {m.id for m in messages_of(faro, drill)}
    with faro.sessions() as session:
        about_its_messages = session.scalars(
            Event.__table__.select().with_only_columns(Event.incident_id)
            .where(Event.message_id.in_(ids))
        ).all()  # fmt: skip
    assert about_its_messages and set(about_its_messages) == {drill.id}  # "sent" of each
    kinds = {e.kind for e in events(faro, incident_id=drill.id)}
    assert {"drill_started", "alerted", "sent", "drill_ended"} <= kinds


def test_a_missed_checkin_drill_ends_when_its_last_repeat_has_had_its_wait(faro, people):
    """Missed check-in: at once, +30, +60, then every 30 min three times; it ends 30 min
    after the last repeat, where the real chain would call everyone."""
    drill = drill_for(faro, people["ana"], MISSED_CHECKIN, T0)
    for minute in range(0, 241, 5):
        faro.run_pass(T0 + timedelta(minutes=minute))
    assert stages(faro, drill) == [(0, 1, 0), (30, 2, 0), (90, 3, 0), (120, 3, 1), (150, 3, 2),
                                   (180, 3, 3)]  # fmt: skip
    assert incident(faro, drill.id).resolved_at == T0 + timedelta(minutes=210)


def test_a_trip_drill_reads_like_a_trip_and_a_call_says_simulacro_first(faro, people, client):
    drill = drill_for(faro, people["ana"], TRIP_OVERDUE, T0)
    [text] = [m for m in messages_of(faro, drill) if m.to_phone == people["beto"]]
    assert text.body.startswith("SIMULACRO: FARO: Ana Lopez")
    assert "destino de simulacro" in text.body
    faro.run_pass(T0 + timedelta(minutes=20))  # step two calls Marta
    [call] = [m for m in outbox(faro, to=people["marta"]) if m.channel == VOICE]
    twiml = answer_call(client, call).get_data(as_text=True)
    first = re.search(r"<Say[^>]*>([^<]+)</Say>", twiml).group(1)
    assert first.startswith("Simulacro. Esto es un simulacro"), first


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize(
    "template",
    ["alert_emergency", "alert_duress", "alert_missed_checkin", "alert_unreachable",
     "alert_trip_overdue", "alert_self_harm", "alert_support", "alert_unclear", "ack_notice",
     "all_clear", "ack_reminder", "responder_unreachable", "ack_thanks", "ack_already",
     "resolve_thanks", "case_status"],
)  # fmt: skip
def test_with_simulacro_in_front_every_drill_text_still_fits_two_segments(
    template, language, caplog
):
    """`render` counts the mark: the longest names and places make room for it."""
    for context in maximal_contexts(needs(language, template)):
        text = render(template, language, mark=DRILL_MARK, **context)
        assert text.startswith("SIMULACRO")
        assert segments(text) <= MAX_SEGMENTS, (template, language, text)
    assert not [r for r in caplog.records if r.name == "escalation.base.messages"], caplog.text
    voice = render("voice_emergency", language, mark=VOICE_DRILL_MARK, intern="Ana", unit="CS",
                   municipality="Galeana", since="02:14", code_spoken="4, 8")  # fmt: skip
    assert voice.startswith("Simulacro.")


def test_a_drill_taken_and_left_open_is_reminded_resumes_and_still_ends(faro, people):
    """Acknowledged and never closed: the holder is reminded at 2 h, the steps resume 30 min
    later as in a real case, and the drill ends where the final stage would fall due."""
    drill = drill_for(faro, people["ana"], SUPPORT, T0)
    with transaction(faro.sessions) as session:
        case = session.get(Incident, drill.id)
        acknowledge(session, T0 + timedelta(minutes=1), case, person(session, people["sofia"]))
    for minute in range(0, 8 * 60, 10):
        faro.run_pass(T0 + timedelta(minutes=minute))
    # Ticks every 10 min: reminded at 2:10, taken back at 2:40 (step two at once), then the
    # last step's 120 min: it ends at 4:40.
    assert [e.kind for e in events(faro, incident_id=drill.id) if e.kind != "sent"] == [
        "drill_started", "alerted", "acknowledged", "ack_reminded", "reescalated", "alerted",
        "drill_ended",
    ]  # fmt: skip
    ended = incident(faro, drill.id)
    assert (ended.resolution, ended.resolved_at) == ("drill_ended", T0 + timedelta(minutes=280))


def test_a_drill_whose_policy_names_nobody_ends_at_once_and_never_reaches_the_admins(faro, people):
    with transaction(faro.sessions) as session:
        session.add(Person(role=INTERN, name="Carla Ruiz", phone=CARLA, checkin_time="08:00"))
    drill = drill_for(faro, CARLA, EMERGENCY, T0)
    ended = incident(faro, drill.id)
    assert (ended.status, ended.resolution) == ("resolved", "drill_ended")
    assert messages_of(faro, drill) == []  # a real one would call the administrators
    [closing] = events(faro, "drill_ended", drill.id)
    assert (closing.data["how"], closing.data["after_step"]) == ("last_step", 3)


# --- never in the way of a real night ---------------------------------------------------------


def test_a_real_sos_during_a_drill_opens_a_real_incident_with_real_alerts(
    faro, people, text_faro, clock
):
    drill = drill_for(faro, people["ana"], EMERGENCY, T0)
    clock.set(T0 + timedelta(minutes=3))
    answer = reply(text_faro, people["ana"], "SOS")
    with faro.sessions() as session:
        real = session.scalars(
            Incident.__table__.select().with_only_columns(Incident.id)
            .where(Incident.drill.is_(False))
        ).all()  # fmt: skip
    [real_id] = real
    case = incident(faro, real_id)
    assert (case.kind, case.status, case.code != drill.code) == (EMERGENCY, "open", True)
    real_alerts = [m for m in outbox(faro, kind="alert") if m.incident_id == real_id]
    assert {m.to_phone for m in real_alerts} == {people[p] for p in ("beto", "rosa", "luis")}
    assert not any(m.body.upper().startswith("SIMULACRO") for m in real_alerts)
    assert "SIMULACRO" not in answer and answer  # she is told her team is being alerted
    assert incident(faro, drill.id).status == "open"  # the drill goes on, untouched
    assert events(faro, "incident_repeated") == []


def test_her_ok_closes_her_real_missed_checkin_and_never_a_drill(faro, people, text_faro, clock):
    drill = drill_for(faro, people["ana"], MISSED_CHECKIN, T0)
    clock.set(T0 + timedelta(minutes=2))
    reply(text_faro, people["ana"], "OK")
    assert incident(faro, drill.id).status == "open"
    real = open_for(faro, people["ana"], MISSED_CHECKIN, T0 + timedelta(minutes=4),
                    admin_phones=(ADMIN_PHONE,))  # fmt: skip
    clock.set(T0 + timedelta(minutes=6))
    reply(text_faro, people["ana"], "OK")
    assert incident(faro, real.id).status == "resolved"
    assert incident(faro, drill.id).status == "open"
    assert {m.incident_id for m in outbox(faro, kind="all_clear_intern_ok")} == {real.id}
    assert [m for m in outbox(faro, to=people["ana"]) if m.incident_id == drill.id] == []


def test_no_drill_starts_while_she_has_a_real_case_open(faro, people):
    open_for(faro, people["ana"], EMERGENCY, T0, admin_phones=(ADMIN_PHONE,))
    with pytest.raises(DrillError) as refused:
        drill_for(faro, people["ana"], MISSED_CHECKIN, T0 + timedelta(minutes=1))
    assert refused.value.reason == "real_case_open"


def test_a_real_missed_checkin_during_a_drill_is_a_real_case(faro, people):
    drill = drill_for(faro, people["ana"], MISSED_CHECKIN, T0)
    real = open_for(faro, people["ana"], MISSED_CHECKIN, T0 + timedelta(minutes=4),
                    admin_phones=(ADMIN_PHONE,))  # fmt: skip
    assert real.id != drill.id and not real.drill
    assert not any(marked(m) for m in messages_of(faro, real))


def test_one_drill_per_intern_and_kind_at_a_time(faro, people):
    drill_for(faro, people["ana"], EMERGENCY, T0)
    with pytest.raises(DrillError) as refused:
        drill_for(faro, people["ana"], EMERGENCY, T0 + timedelta(minutes=1))
    assert refused.value.reason == "drill_running"
    drill_for(faro, people["ana"], MISSED_CHECKIN, T0 + timedelta(minutes=1))  # another kind


# --- responders practise --------------------------------------------------------------------


def test_responders_take_and_close_a_drill_by_text_with_replies_marked_simulacro(
    faro, people, text_faro, clock
):
    drill = drill_for(faro, people["ana"], EMERGENCY, T0)
    clock.set(T0 + timedelta(minutes=4))
    taken = reply(text_faro, people["rosa"], f"ATIENDO {drill.code}")
    assert taken.startswith("SIMULACRO: ") and drill.code in taken
    assert incident(faro, drill.id).status == "acknowledged"
    notices = outbox(faro, kind="ack_notice")
    assert {m.to_phone for m in notices} == {people["beto"], people["luis"]}
    assert all(m.body.startswith("SIMULACRO: FARO: Rosa Martinez atiende") for m in notices)
    status = reply(text_faro, people["luis"], f"ESTADO {drill.code}")
    assert status.startswith("SIMULACRO: ")

    clock.set(T0 + timedelta(minutes=9))
    closed = reply(text_faro, people["rosa"], f"LISTO {drill.code}")
    assert closed.startswith("SIMULACRO: ") and drill.code in closed
    assert incident(faro, drill.id).status == "resolved"
    [ended] = events(faro, "drill_ended", drill.id)
    assert (ended.data["how"], ended.data["account"]) == ("responder", ADMIN)
    assert all(m.body.startswith("SIMULACRO") for m in outbox(faro, kind="all_clear"))
    # Ana heard nothing: not "Rosa has your case", not an all-clear.
    assert outbox(faro, to=people["ana"]) == []


def test_a_responder_with_a_real_case_and_a_drill_is_asked_which_and_each_code_is_clear(
    faro, people, text_faro, clock
):
    drill = drill_for(faro, people["ana"], EMERGENCY, T0)
    clock.set(T0 + timedelta(minutes=1))
    reply(text_faro, people["ana"], "SOS")
    real = next(m for m in outbox(faro, kind="alert") if m.incident_id != drill.id).incident_id
    code = incident(faro, real).code
    clock.set(T0 + timedelta(minutes=4))
    which = reply(text_faro, people["rosa"], "ATIENDO")
    assert f"{drill.code} (simulacro)" in which and code in which
    assert f"{code} (simulacro)" not in which
    assert incident(faro, drill.id).status == incident(faro, real).status == "open"
    taken = reply(text_faro, people["rosa"], f"ATIENDO {code}")
    assert "SIMULACRO" not in taken and code in taken
    assert incident(faro, real).status == "acknowledged"
    assert incident(faro, drill.id).status == "open"  # the drill still runs its steps
    # Ana hears that Rosa has her real case, and nothing about the drill.
    assert [m.incident_id for m in outbox(faro, to=people["ana"])] == [real]


def test_an_acknowledged_drill_reminds_its_holder_marked_and_never_tells_ana(faro, people):
    drill = drill_for(faro, people["ana"], MISSED_CHECKIN, T0)
    with transaction(faro.sessions) as session:
        case = session.get(Incident, drill.id)
        acknowledge(session, T0 + timedelta(minutes=1), case, person(session, people["rosa"]))
    faro.run_pass(T0 + timedelta(hours=2, minutes=2))
    [reminder] = outbox(faro, kind="ack_reminder")
    assert reminder.to_phone == people["rosa"] and reminder.body.startswith("SIMULACRO: ")
    assert outbox(faro, to=people["ana"]) == []


# --- the console ------------------------------------------------------------------------------


@pytest.fixture
def accounts(faro, people):
    add_account(faro, ADMIN)
    add_account(faro, LUIS, role=COORDINATOR, university="UANL")
    add_account(faro, MARTA, role=SUPERVISOR, municipality="Doctor Arroyo")
    add_university(faro, "UDEM")
    add_account(faro, UDEM, role=COORDINATOR, university="UDEM")


def ana_id(faro, people) -> int:
    with faro.sessions() as session:
        return person(session, people["ana"]).id


def test_her_coordinator_starts_a_drill_from_the_console_and_it_names_her_account(
    app, faro, people, accounts
):
    luis = signed_in(app.test_client(), LUIS)
    page = luis.get("/admin/drills/").get_data(as_text=True)
    assert "Ana Lopez" in page and "Iniciar simulacro" in page
    response = post(luis, "/admin/drills/", intern=str(ana_id(faro, people)), kind=EMERGENCY)
    assert response.status_code == 302
    drill = incident(faro)
    assert drill.drill and response.headers["Location"].endswith(f"/admin/incidents/{drill.id}")
    [started] = events(faro, "drill_started", drill.id)
    assert started.data["account"] == LUIS
    assert all(marked(m) for m in messages_of(faro, drill))

    board = luis.get("/admin/").get_data(as_text=True)
    row = re.search(rf'<tr class="([^"]*)" data-incident="{drill.id}">(.*?)</tr>', board, re.S)
    assert 'class="drill"' in row.group(2) and "SIMULACRO" in row.group(2)
    assert "unacknowledged" not in row.group(1)  # never counted as an untaken real case
    page = luis.get(f"/admin/incidents/{drill.id}").get_data(as_text=True)
    assert "Este caso es una práctica" in page and "tel:" + people["ana"] not in page
    listed = luis.get("/admin/drills/").get_data(as_text=True)
    assert drill.code in listed and LUIS in listed and "En curso, paso 1" in listed


def test_the_console_takes_and_closes_a_drill_with_notices_marked_and_nothing_to_ana(
    app, faro, people, accounts
):
    admin = signed_in(app.test_client(), ADMIN)
    post(admin, "/admin/drills/", intern=str(ana_id(faro, people)), kind=DURESS)
    drill = incident(faro)
    page = admin.get(f"/admin/incidents/{drill.id}").get_data(as_text=True)
    assert "NO la llames" in page and "tel:" + people["ana"] not in page  # practise duress too
    post(admin, f"/admin/incidents/{drill.id}/acknowledge")
    assert incident(faro, drill.id).status == "acknowledged"
    notices = outbox(faro, kind="ack_notice")
    assert notices and all(m.body.startswith(f"SIMULACRO: FARO: {ADMIN}") for m in notices)
    post(admin, f"/admin/incidents/{drill.id}/resolve", note="practicamos")
    [ended] = events(faro, "drill_ended", drill.id)
    assert (ended.data["how"], ended.data["closed_by"], ended.data["account"]) == (
        "console",
        ADMIN,
        ADMIN,
    )
    assert all(m.body.startswith("SIMULACRO") for m in outbox(faro, kind="all_clear"))
    assert outbox(faro, to=people["ana"]) == []


def test_a_second_drill_of_the_same_kind_gets_one_line_saying_what_to_do(
    app, faro, people, accounts
):
    admin = signed_in(app.test_client(), ADMIN)
    intern = str(ana_id(faro, people))
    assert post(admin, "/admin/drills/", intern=intern, kind=EMERGENCY).status_code == 302
    again = post(admin, "/admin/drills/", intern=intern, kind=EMERGENCY)
    assert again.status_code == 409
    assert "Ya hay un simulacro de ese tipo en curso" in again.get_data(as_text=True)
    assert post(admin, "/admin/drills/", intern=intern, kind="nope").status_code == 400


def test_drills_are_for_administrators_and_her_own_coordinators_only(app, faro, people, accounts):
    intern = str(ana_id(faro, people))
    udem = signed_in(app.test_client(), UDEM)
    assert "Ana Lopez" not in udem.get("/admin/drills/").get_data(as_text=True)
    assert post(udem, "/admin/drills/", intern=intern, kind=EMERGENCY).status_code == 404
    marta = signed_in(app.test_client(), MARTA)
    assert marta.get("/admin/drills/").status_code == 404
    assert post(marta, "/admin/drills/", intern=intern, kind=EMERGENCY).status_code == 404
    assert events(faro, "drill_started") == []
    assert "Simulacros" not in marta.get("/admin/").get_data(as_text=True)


@pytest.mark.parametrize("language", ["es", "en"])
def test_every_reason_a_drill_is_refused_has_a_line_in_the_console(language):
    for reason in (*REASONS, "choose"):
        assert strings(language)[f"drills.error_{reason}"].strip()
