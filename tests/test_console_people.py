"""Administrators create, edit and deactivate people from the console with the roster import's
own rules and messages, and anyone in scope pauses and resumes an intern's check-ins."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from escalation.base.models import Event, Person
from tests.console_helpers import account, csrf, sign_in

EVA = {
    "role": "intern", "name": "Eva Soto", "phone": "81 2000 0001", "channel": "sms",
    "language": "es", "timezone": "America/Monterrey", "checkin_time": "07:30",
    "university": "UANL", "unit": "CS Doctor Arroyo", "municipality": "Doctor Arroyo",
    "unit_type": "A", "buddies": "", "active": "yes",
}  # fmt: skip


def post_form(client, path: str, **fields):
    token = csrf(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **fields})


def person(faro, phone: str) -> Person | None:
    with faro.sessions() as session:
        return session.scalar(
            select(Person).where(Person.phone == phone).options(joinedload(Person.unit))
        )


def test_an_administrator_adds_an_intern_with_the_import_rules(client, faro, people):
    account(faro, "admin@faro.mx")
    sign_in(client, "admin@faro.mx")
    answer = post_form(client, "/admin/people/new", **EVA)
    assert answer.status_code == 302
    eva = person(faro, "+528120000001")
    assert (eva.name, eva.checkin_time, eva.unit.name) == ("Eva Soto", "07:30", "CS Doctor Arroyo")
    with faro.sessions() as session:
        saved = session.scalar(select(Event).where(Event.kind == "person_saved_in_console"))
    assert saved.person_id == eva.id and saved.data["account"] == "admin@faro.mx"


def test_a_bad_phone_is_refused_with_the_imports_message(client, faro, people):
    account(faro, "admin@faro.mx")
    sign_in(client, "admin@faro.mx")
    page = post_form(client, "/admin/people/new", **{**EVA, "phone": "12345"})
    assert page.status_code == 200 and "No se guardó nada" in page.get_data(as_text=True)
    assert "12345" in page.get_data(as_text=True)
    assert person(faro, "+528120000001") is None


def test_deactivating_from_the_edit_form_keeps_her_history(client, faro, people):
    account(faro, "admin@faro.mx")
    sign_in(client, "admin@faro.mx")
    ana = person(faro, people["ana"])
    path = f"/admin/people/{ana.id}/edit"
    page = client.get(path).get_data(as_text=True)
    assert 'value="Ana Lopez"' in page
    fields = {"role": "intern", "name": "Ana Lopez", "phone": people["ana"], "channel": "sms",
              "language": "es", "timezone": "America/Monterrey", "checkin_time": "08:00",
              "university": "UANL", "unit": "CS Doctor Arroyo", "municipality": "Doctor Arroyo",
              "unit_type": "A", "buddies": people["beto"], "active": "no"}  # fmt: skip
    assert post_form(client, path, **fields).status_code == 302
    assert person(faro, people["ana"]).active is False


def test_a_coordinator_pauses_and_resumes_her_intern(client, faro, people):
    account(faro, "luis@uanl.mx", role="coordinator", university="UANL")
    sign_in(client, "luis@uanl.mx")
    ana = person(faro, people["ana"])
    page = f"/admin/people/{ana.id}"
    token = csrf(client.get(page).get_data(as_text=True))
    until = date(2030, 1, 15)
    answer = client.post(f"{page}/pause", data={"csrf_token": token, "until": until.isoformat()})
    assert answer.status_code == 302
    assert person(faro, people["ana"]).paused_until == until
    assert client.post(f"{page}/resume", data={"csrf_token": token}).status_code == 302
    assert person(faro, people["ana"]).paused_until is None
    assert client.get(f"{page}/edit").status_code == 404  # editing is for administrators
