"""Administrators manage console accounts from the console: create one (the same rules as
`create-admin`), disable it (she can no longer sign in), and every change is an Event."""

from __future__ import annotations

from sqlalchemy import select

from escalation.base.models import Account, Event
from tests.console_helpers import PASSWORD, account, csrf, sign_in


def test_an_administrator_creates_a_coordinator_account(client, faro, people):
    account(faro, "admin@faro.mx")
    sign_in(client, "admin@faro.mx")
    token = csrf(client.get("/admin/accounts/").get_data(as_text=True))
    form = {"csrf_token": token, "email": "Luis@UANL.mx", "password": PASSWORD,
            "role": "coordinator", "university": "UANL", "municipality": ""}  # fmt: skip
    assert client.post("/admin/accounts/", data=form).status_code == 302
    with faro.sessions() as session:
        luis = session.scalar(select(Account).where(Account.email == "luis@uanl.mx"))
        made = session.scalars(select(Event).where(Event.kind == "account_created")).all()
    [created] = [e for e in made if e.data["email"] == "luis@uanl.mx"]
    assert luis.role == "coordinator" and luis.university_id is not None
    assert created.data["by"] == "admin@faro.mx"


def test_a_coordinator_without_a_university_is_refused_with_one_line(client, faro, people):
    account(faro, "admin@faro.mx")
    sign_in(client, "admin@faro.mx")
    token = csrf(client.get("/admin/accounts/").get_data(as_text=True))
    form = {"csrf_token": token, "email": "x@uanl.mx", "password": PASSWORD,
            "role": "coordinator", "university": "", "municipality": ""}  # fmt: skip
    page = client.post("/admin/accounts/", data=form).get_data(as_text=True)
    assert "needs --university NAME" in page


def test_a_disabled_account_cannot_sign_in(client, faro, people):
    account(faro, "admin@faro.mx")
    account(faro, "rosa@uanl.mx", role="coordinator", university="UANL")
    sign_in(client, "admin@faro.mx")
    with faro.sessions() as session:
        rosa = session.scalar(select(Account).where(Account.email == "rosa@uanl.mx"))
    token = csrf(client.get("/admin/accounts/").get_data(as_text=True))
    answer = client.post(f"/admin/accounts/{rosa.id}/disable", data={"csrf_token": token})
    assert answer.status_code == 302
    other = client.application.test_client()
    assert sign_in(other, "rosa@uanl.mx").status_code == 401


def test_a_coordinator_does_not_see_the_accounts(client, faro, people):
    account(faro, "luis@uanl.mx", role="coordinator", university="UANL")
    sign_in(client, "luis@uanl.mx")
    assert client.get("/admin/accounts/").status_code == 404
