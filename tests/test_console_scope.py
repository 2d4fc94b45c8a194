"""Who sees what in the console, and acting from it.

A coordinator of another university gets 404 for Ana's incident, every action on it and her
page, and never sees her on the board or the roster; Ana's own coordinator, the supervisor of
Doctor Arroyo and (for the mental-health cases only) Sofia's account see her. An action taken in
the console goes through the same domain functions as the text commands."""

from __future__ import annotations

from datetime import timedelta

import pytest

from escalation.base.db import utcnow
from escalation.base.models import COORDINATOR, EMERGENCY, MENTAL_HEALTH, SELF_HARM, SUPERVISOR
from tests.console_helpers import PASSWORD
from tests.console_helpers import account as add_account
from tests.console_session import add_university, csrf_token, post, signed_in
from tests.escalation_helpers import alerts, events, incident, open_for, outbox, person

ADMIN = "admin@faro.mx"
LUIS = "luis.herrera@uanl.mx"
MARTA = "marta.cantu@nl.gob.mx"
SOFIA = "sofia.reyes@uanl.mx"
UDEM = "coordinator@udem.mx"


def minutes_ago(n: int):
    return utcnow() - timedelta(minutes=n)


@pytest.fixture
def accounts(faro, runner, people):
    """An administrator; Luis (coordinator of UANL), Marta (supervisor of Doctor Arroyo), Sofia
    (mental health, UANL); and a coordinator of UDEM, made with `flask create-admin`."""
    add_account(faro, ADMIN)
    add_account(faro, LUIS, role=COORDINATOR, university="UANL")
    add_account(faro, MARTA, role=SUPERVISOR, municipality="Doctor Arroyo")
    add_account(faro, SOFIA, role=MENTAL_HEALTH, university="UANL")
    add_university(faro, "UDEM")
    args = ["create-admin", UDEM, "--role", "coordinator", "--university", "UDEM"]
    result = runner.invoke(args=args, input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output


@pytest.fixture
def as_(app, accounts):
    """A signed-in test client per account: `as_(LUIS)`."""

    def client_of(email: str):
        return signed_in(app.test_client(), email)

    return client_of


@pytest.fixture
def ana_id(faro, people):
    with faro.sessions() as session:
        return person(session, people["ana"]).id


@pytest.fixture
def emergency(faro, people):
    return open_for(faro, people["ana"], EMERGENCY, minutes_ago(2))


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def link(case) -> str:
    return f"/admin/incidents/{case.id}"


# --- another university's coordinator ----------------------------------------------------------


def test_a_coordinator_of_another_university_gets_404_for_anas_incident_and_page(
    as_, emergency, ana_id
):
    udem = as_(UDEM)
    assert udem.get(link(emergency)).status_code == 404
    assert udem.get(f"/admin/people/{ana_id}").status_code == 404


@pytest.mark.parametrize("action", ["acknowledge", "resolve", "note"])
def test_a_coordinator_of_another_university_gets_404_for_every_action_on_anas_incident(
    faro, as_, emergency, action
):
    udem = as_(UDEM)
    response = post(udem, f"{link(emergency)}/{action}", note="it was me")
    assert response.status_code == 404
    assert incident(faro, emergency.id).status == "open"
    acted = {"acknowledged", "ack_repeated", "note_added", "resolved"}
    assert [e for e in events(faro, incident_id=emergency.id) if e.kind in acted] == []
    assert outbox(faro, kind="ack_notice") == outbox(faro, kind="all_clear") == []


def test_a_coordinator_of_another_university_does_not_see_ana_on_the_board_or_the_roster(
    as_, emergency
):
    udem = as_(UDEM)
    for path in ("/admin/", "/admin/board/rows", "/admin/roster", "/admin/roster?q=Ana",
                 "/admin/roster?show=open_incident", "/admin/?kind=emergency"):  # fmt: skip
        html = page(udem, path)
        assert "Ana Lopez" not in html and link(emergency) not in html, path
    assert "No hay casos abiertos." in page(udem, "/admin/")


def test_an_incident_that_does_not_exist_answers_404_like_one_out_of_scope(as_, emergency):
    admin = as_(ADMIN)
    assert admin.get(f"/admin/incidents/{emergency.id + 1000}").status_code == 404
    assert post(admin, f"/admin/incidents/{emergency.id + 1000}/acknowledge").status_code == 404


# --- Ana's own coordinator, her supervisor, the mental-health contact -----------------------


def test_anas_coordinator_sees_her_on_the_board_the_roster_and_her_pages(as_, emergency, ana_id):
    luis = as_(LUIS)
    board = page(luis, "/admin/")
    assert "Ana Lopez" in board and link(emergency) in board
    assert "Ana Lopez" in page(luis, "/admin/board/rows")
    assert "Ana Lopez" in page(luis, "/admin/roster?q=ana")
    assert "Ana Lopez" in page(luis, f"/admin/people/{ana_id}")
    assert emergency.code in page(luis, link(emergency))


def test_anas_coordinator_acknowledges_adds_a_note_and_resolves(faro, as_, emergency):
    luis = as_(LUIS)
    assert post(luis, f"{link(emergency)}/acknowledge").location == link(emergency)
    assert incident(faro, emergency.id).status == "acknowledged"
    assert post(luis, f"{link(emergency)}/note", note="Llamé a Rosa").location == link(emergency)
    assert post(luis, f"{link(emergency)}/resolve", note="Ana está bien").status_code == 302
    assert incident(faro, emergency.id).status == "resolved"
    acted = [e for e in events(faro, incident_id=emergency.id) if "account" in e.data]
    assert [e.kind for e in acted] == ["acknowledged", "note_added", "resolved"]
    assert {e.data["account"] for e in acted} == {LUIS}


def test_the_supervisor_of_doctor_arroyo_sees_ana_but_not_beto_of_mier_y_noriega(
    as_, emergency, ana_id
):
    marta = as_(MARTA)
    assert "Ana Lopez" in page(marta, "/admin/")
    assert "Ana Lopez" in page(marta, link(emergency))
    assert "Ana Lopez" in page(marta, f"/admin/people/{ana_id}")
    roster = page(marta, "/admin/roster")
    assert "Ana Lopez" in roster and "Beto Garza" not in roster


def test_the_mental_health_contact_sees_anas_self_harm_case_but_not_her_emergency(
    faro, people, as_, emergency, ana_id
):
    self_harm = open_for(faro, people["ana"], SELF_HARM, minutes_ago(1))
    sofia = as_(SOFIA)
    assert "Ana Lopez" in page(sofia, link(self_harm))
    assert sofia.get(link(emergency)).status_code == 404
    assert post(sofia, f"{link(emergency)}/acknowledge").status_code == 404
    board = page(sofia, "/admin/")
    assert link(self_harm) in board and link(emergency) not in board
    her_page = page(sofia, f"/admin/people/{ana_id}")
    assert link(self_harm) in her_page and link(emergency) not in her_page
    assert post(sofia, f"{link(self_harm)}/acknowledge").status_code == 302
    assert incident(faro, self_harm.id).status == "acknowledged"
    assert incident(faro, emergency.id).status == "open"


# --- acting from the console goes through the domain --------------------------------------------


def test_acknowledging_from_the_incident_page_stops_the_steps_and_tells_the_others(
    faro, people, as_, emergency
):
    admin = as_(ADMIN)
    told = {m.to_phone for m in alerts(faro)}
    assert told == {people["beto"], people["rosa"], people["luis"]}
    response = post(admin, f"{link(emergency)}/acknowledge")
    assert response.status_code == 302 and response.location == link(emergency)
    acked = incident(faro, emergency.id)
    assert (acked.status, acked.next_step_at) == ("acknowledged", None)
    [event] = events(faro, "acknowledged", emergency.id)
    assert (event.data["account"], event.data["channel"]) == (ADMIN, "console")
    assert {m.to_phone for m in outbox(faro, kind="ack_notice")} == told
    alerted_before = len(alerts(faro))
    faro.run_pass(utcnow() + timedelta(hours=1))  # step two would have been due long ago
    assert len(alerts(faro)) == alerted_before
    assert people["marta"] not in {m.to_phone for m in alerts(faro)}


def test_a_second_acknowledgement_changes_nothing_and_tells_nobody_again(faro, as_, emergency):
    admin = as_(ADMIN)
    post(admin, f"{link(emergency)}/acknowledge")
    notices = len(outbox(faro, kind="ack_notice"))
    assert post(as_(LUIS), f"{link(emergency)}/acknowledge").status_code == 302
    assert [e.data["account"] for e in events(faro, "acknowledged", emergency.id)] == [ADMIN]
    assert [e.data["account"] for e in events(faro, "ack_repeated", emergency.id)] == [LUIS]
    assert len(outbox(faro, kind="ack_notice")) == notices


def test_resolving_with_a_note_writes_it_and_sends_the_all_clear(faro, people, as_, emergency):
    admin = as_(ADMIN)
    post(admin, f"{link(emergency)}/acknowledge")
    response = post(admin, f"{link(emergency)}/resolve", note="  Ana está bien, fue un susto  ")
    assert response.status_code == 302
    closed = incident(faro, emergency.id)
    assert closed.status == "resolved"
    [event] = events(faro, "resolved", emergency.id)
    assert event.data["note"] == "Ana está bien, fue un susto"
    assert (event.data["account"], event.data["how"]) == (ADMIN, "console")
    clear = outbox(faro, kind="all_clear")
    assert {m.to_phone for m in clear} == {people["beto"], people["rosa"], people["luis"]}
    html = page(admin, link(emergency))
    assert "Ana está bien, fue un susto" in html and "Cerrado" in html


def test_resolving_without_a_note_writes_no_note(faro, as_, emergency):
    post(as_(ADMIN), f"{link(emergency)}/resolve", note="   ")
    [event] = events(faro, "resolved", emergency.id)
    assert "note" not in event.data


def test_a_note_is_written_on_the_timeline_with_who_wrote_it(faro, as_, emergency):
    admin = as_(ADMIN)
    assert post(admin, f"{link(emergency)}/note", note="Rosa va en camino").status_code == 302
    [note] = events(faro, "note_added", emergency.id)
    assert (note.data["text"], note.data["account"]) == ("Rosa va en camino", ADMIN)
    assert incident(faro, emergency.id).status == "open"  # a note is not an acknowledgement
    html = page(admin, link(emergency))
    assert "Rosa va en camino" in html and ADMIN in html


def test_an_empty_note_writes_nothing(faro, as_, emergency):
    post(as_(ADMIN), f"{link(emergency)}/note", note="  ")
    assert events(faro, "note_added", emergency.id) == []


def test_an_action_without_the_csrf_token_is_refused(faro, as_, emergency):
    admin = as_(ADMIN)
    assert admin.post(f"{link(emergency)}/acknowledge").status_code == 400
    assert admin.post(f"{link(emergency)}/note", data={"note": "x"}).status_code == 400
    assert incident(faro, emergency.id).status == "open"
    assert events(faro, "note_added") == []


def test_the_incident_page_shows_the_alerts_sent_and_the_timeline(faro, people, as_, emergency):
    faro.dispatcher.wait_idle()
    html = page(as_(ADMIN), link(emergency))
    for name in ("Beto Garza", "Rosa Martinez", "Luis Herrera"):  # by name, not by number
        assert f"→ {name}" in html
    assert "FARO EMERGENCIA" in html
    assert "Caso abierto" in html  # the incident_opened event
    assert f'href="tel:{people["ana"]}"' in html


def test_the_csrf_token_of_one_session_does_not_work_in_another(faro, as_, emergency):
    stolen = csrf_token(as_(LUIS), "/admin/")
    admin = as_(ADMIN)
    response = admin.post(f"{link(emergency)}/acknowledge", data={"csrf_token": stolen})
    assert response.status_code == 400
    assert incident(faro, emergency.id).status == "open"


def test_the_roster_filters_by_role(as_):
    html = page(as_(ADMIN), "/admin/roster?role=nurse")
    assert "Rosa Martinez" in html and "Ana Lopez" not in html


@pytest.mark.parametrize("show", ["open_incident", "paused", "opted_out", "inactive"])
def test_every_roster_filter_answers(as_, emergency, show):
    html = page(as_(ADMIN), f"/admin/roster?show={show}")
    assert ("Ana Lopez" in html) == (show == "open_incident")


def test_every_role_opens_an_empty_board_the_closed_cases_and_the_roster(as_):
    for email in (ADMIN, LUIS, MARTA, SOFIA, UDEM):
        client = as_(email)
        assert "No hay casos abiertos." in page(client, "/admin/")
        page(client, "/admin/?closed=1")
        page(client, "/admin/roster")


def test_the_incident_page_shows_anas_sos_before_the_alerts_it_set_off(
    faro, people, as_, text_faro
):
    """Her text and the first alerts share one instant: hers comes first, as it happened."""
    assert text_faro(people["ana"], "sos").status_code == 200
    html = page(as_(ADMIN), link(incident(faro)))
    messages = html[html.index('<ol class="messages">') :]
    assert messages.index('<li class="in">') < messages.index('<li class="out">')
