"""Signing in to the console: passwords, disabled accounts, logout by POST, the session cookie,
the rate limit on sign-in, every page behind a session, and `flask create-admin`."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.routing import AnyConverter, IntegerConverter

from escalation.accounts import check_password, set_active
from escalation.base.db import transaction, utcnow
from escalation.base.models import COORDINATOR, EMERGENCY, Account, Event
from tests.conftest import settings_for
from tests.console_helpers import PASSWORD, sign_in
from tests.console_helpers import account as add_account
from tests.console_session import add_university, csrf_token, signed_in
from tests.escalation_helpers import open_for, person

LUIS = "luis.herrera@uanl.mx"


@pytest.fixture
def luis(faro, people):
    """Luis Herrera's console account: coordinator of UANL."""
    add_account(faro, LUIS, role=COORDINATOR, university="UANL")
    with faro.sessions() as session:
        return session.scalar(select(Account.id).where(Account.email == LUIS))


def is_to_login(response) -> bool:
    return response.status_code == 302 and response.location.startswith("/admin/login")


# --- signing in and out ------------------------------------------------------------------------


def test_luis_signs_in_with_his_password_and_lands_on_the_board(client, faro, luis):
    response = sign_in(client, "  Luis.Herrera@UANL.mx ", PASSWORD)  # as a phone keyboard types it
    assert response.status_code == 302 and response.location == "/admin/"
    assert client.get("/admin/").status_code == 200
    with faro.sessions() as session:
        [signed] = session.scalars(select(Event).where(Event.kind == "signed_in")).all()
        assert signed.data["email"] == LUIS
        assert session.get(Account, luis).last_login_at is not None


def test_a_wrong_password_answers_401_with_a_clear_message_and_no_session(client, faro, luis):
    response = sign_in(client, LUIS, "not his password")
    assert response.status_code == 401
    assert "Correo o contraseña incorrectos." in response.get_data(as_text=True)
    assert is_to_login(client.get("/admin/"))
    with faro.sessions() as session:
        assert session.scalars(select(Event).where(Event.kind == "signed_in")).all() == []


def test_an_unknown_email_is_refused_exactly_like_a_wrong_password(client, luis):
    response = sign_in(client, "nobody@uanl.mx", PASSWORD)
    assert response.status_code == 401
    assert "Correo o contraseña incorrectos." in response.get_data(as_text=True)


def test_a_disabled_account_cannot_sign_in(client, faro, luis):
    with transaction(faro.sessions) as session:
        set_active(session, utcnow(), session.get(Account, luis), False, by="cli")
    response = sign_in(client, LUIS, PASSWORD)
    assert response.status_code == 401
    assert is_to_login(client.get("/admin/"))


def test_an_account_disabled_while_signed_in_is_signed_out_at_its_next_click(client, faro, luis):
    signed_in(client, LUIS)
    with transaction(faro.sessions) as session:
        set_active(session, utcnow(), session.get(Account, luis), False, by="cli")
    assert is_to_login(client.get("/admin/"))


def test_the_password_is_stored_as_an_argon2_hash(faro, luis):
    with faro.sessions() as session:
        account = session.get(Account, luis)
        assert account.password_hash.startswith("$argon2id$")
        assert PASSWORD not in account.password_hash
        assert check_password(session, account, PASSWORD)
        assert not check_password(session, account, PASSWORD.upper())


def test_sign_in_without_the_csrf_token_is_refused(client, luis):
    response = client.post("/admin/login", data={"email": LUIS, "password": PASSWORD})
    assert response.status_code in (400, 401)
    assert is_to_login(client.get("/admin/"))


def test_after_sign_in_she_goes_back_to_the_page_she_asked_for(client, luis):
    asked = client.get("/admin/roster")
    assert is_to_login(asked)
    token = csrf_token(client, asked.location)
    data = {"email": LUIS, "password": PASSWORD, "csrf_token": token}
    response = client.post(asked.location, data=data)
    assert response.status_code == 302 and response.location == "/admin/roster"


def test_sign_in_never_sends_her_to_another_site(client, luis):
    data = {"email": LUIS, "password": PASSWORD, "csrf_token": csrf_token(client)}
    response = client.post("/admin/login?next=//evil.example.com/admin", data=data)
    assert response.location == "/admin/"


def test_a_get_does_not_log_out(client, luis):
    signed_in(client, LUIS)
    assert client.get("/admin/logout").status_code == 405
    assert client.get("/admin/").status_code == 200


def test_logout_without_the_csrf_token_is_refused_and_she_stays_signed_in(client, luis):
    signed_in(client, LUIS)
    assert client.post("/admin/logout").status_code == 400
    assert client.get("/admin/").status_code == 200


def test_logout_is_a_post_with_the_csrf_token(client, luis):
    signed_in(client, LUIS)
    response = client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert is_to_login(response)
    assert is_to_login(client.get("/admin/"))


# --- the session cookie ------------------------------------------------------------------------


def session_cookie(response) -> str:
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_the_session_cookie_is_httponly_samesite_lax_and_secure_behind_https(client, luis):
    """conftest's PUBLIC_BASE_URL is https://faro.example.org."""
    cookie = session_cookie(sign_in(client, LUIS, PASSWORD))
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert "httponly" in attributes
    assert attributes["samesite"] == "SameSite=Lax"
    assert "secure" in attributes


@pytest.mark.parametrize("extra_settings", [{"PUBLIC_BASE_URL": "http://localhost:5000"}])
def test_the_session_cookie_is_not_secure_on_plain_http(client, luis):
    cookie = session_cookie(sign_in(client, LUIS, PASSWORD))
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()


def test_the_session_expires_after_two_idle_hours(app):
    assert app.permanent_session_lifetime == timedelta(hours=2)
    assert app.config["SESSION_REFRESH_EACH_REQUEST"]


# --- the rate limit on sign-in -----------------------------------------------------------------


def wrong_attempts(client, email: str, n: int) -> list[int]:
    return [sign_in(client, email, "not the password").status_code for _ in range(n)]


def test_the_sixth_wrong_attempt_within_a_minute_for_one_account_answers_429(client, faro, luis):
    assert wrong_attempts(client, LUIS, 6) == [401] * 5 + [429]
    assert sign_in(client, LUIS, PASSWORD).status_code == 429  # even with the right password
    add_account(faro, "marta.cantu@nl.gob.mx", role="supervisor", municipality="Doctor Arroyo")
    assert signed_in(client, "marta.cantu@nl.gob.mx")  # another account, same address


def test_the_per_account_limit_counts_the_email_however_it_is_typed(client, luis):
    typed = [LUIS, LUIS.upper(), f" {LUIS} ", LUIS.title(), LUIS, LUIS]
    codes = [sign_in(client, email, "not the password").status_code for email in typed]
    assert codes == [401] * 5 + [429]


@pytest.mark.parametrize("attempt", ["first", "second"])
def test_sign_in_limits_do_not_leak_between_tests(client, luis, attempt):
    """The limiter is one module-level object; each app's init_app gives it a fresh store.
    Run twice per engine, this test would see 429 at once if one test's count reached the next."""
    assert wrong_attempts(client, LUIS, 5) == [401] * 5


def test_a_new_app_starts_with_fresh_sign_in_limits(client, luis, database_url, transport):
    from app import create_app

    assert wrong_attempts(client, LUIS, 6)[-1] == 429
    other = create_app(settings_for(database_url), transport=transport)
    try:
        assert wrong_attempts(other.test_client(), LUIS, 1) == [401]
    finally:
        other.extensions["faro"].close()


# --- every page needs a session ----------------------------------------------------------------

OPEN_TO_ALL = ("/admin/login", "/health", "/metrics", "/", "/static/", "/twilio/", "/simulator/")


def is_open_to_all(rule: str) -> bool:
    return any(rule == p or (p.endswith("/") and p != "/" and rule.startswith(p))
               for p in OPEN_TO_ALL)  # fmt: skip


def concrete(app, rule, ids: dict[str, int]) -> list[str]:
    """The rule's paths: a real id in every `<int:…>` where the test has one (so a 404 cannot
    pass for a refusal), else 1; every value of an `<any(…)>`."""
    choices = []
    for name in sorted(rule.arguments):
        converter = rule._converters[name]
        if isinstance(converter, IntegerConverter):
            choices.append([(name, ids.get(name, 1))])
        elif isinstance(converter, AnyConverter):
            choices.append([(name, item) for item in sorted(converter.items)])
        else:
            raise AssertionError(f"{rule.rule}: give the test a value for <{name}>")
    urls = app.url_map.bind("localhost")
    return [urls.build(rule.endpoint, dict(values)) for values in itertools.product(*choices)]


def test_every_route_but_login_health_root_static_webhooks_and_simulator_needs_a_session(
    app, client, faro, people, luis
):
    case = open_for(faro, people["ana"], EMERGENCY, utcnow() - timedelta(minutes=5))
    with faro.sessions() as session:
        ana = person(session, people["ana"])
        ids = {"incident_id": case.id, "person_id": ana.id, "account_id": luis}
    token = csrf_token(client)  # an anonymous session's valid token, from the sign-in page
    checked = []
    for rule in app.url_map.iter_rules():
        if is_open_to_all(rule.rule):
            continue
        for path in concrete(app, rule, ids):
            if "GET" in rule.methods:
                response = client.get(path)
                assert is_to_login(response), (path, response.status_code)
                checked.append(f"GET {path}")
            if "POST" in rule.methods:
                response = client.post(path, data={"csrf_token": token, "note": "x"})
                assert is_to_login(response), (path, response.status_code)
                checked.append(f"POST {path}")
    assert {"GET /admin/", f"POST /admin/incidents/{case.id}/acknowledge"} <= set(checked)
    assert len(checked) >= 9, checked
    with faro.sessions() as session:  # and nothing happened to Ana's incident
        assert session.scalars(select(Event).where(Event.kind == "acknowledged")).all() == []


def test_the_login_page_and_health_are_open_to_all(client):
    assert client.get("/admin/login").status_code == 200
    assert client.get("/health").status_code in (200, 503)


# --- flask create-admin ------------------------------------------------------------------------


def error_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("Error:")]


def test_create_admin_creates_an_account_from_a_password_on_stdin(runner, faro, client, people):
    args = ["create-admin", "Luis.Herrera@uanl.mx", "--role", "coordinator", "--university", "uanl"]
    result = runner.invoke(args=args, input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "created coordinator account luis.herrera@uanl.mx" in result.output
    with faro.sessions() as session:
        account = session.scalar(select(Account).where(Account.email == LUIS))
        assert (account.role, account.university.name) == ("coordinator", "UANL")
        [created] = session.scalars(select(Event).where(Event.kind == "account_created")).all()
        assert created.data["by"] == "cli"
    assert signed_in(client, LUIS)


def test_create_admin_makes_an_administrator_by_default(runner, faro):
    result = runner.invoke(args=["create-admin", "admin@faro.mx"], input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    with faro.sessions() as session:
        assert session.scalar(select(Account.role)) == "admin"


@pytest.mark.parametrize(
    ("args", "password", "says"),
    [
        (["admin@faro.mx"], "short", "the password needs at least 10 characters"),
        (["admin@faro.mx", "--role", "nurse"], PASSWORD, "'nurse' is not one of"),
        (["luis@uanl.mx", "--role", "coordinator"], PASSWORD, "needs --university"),
        (
            ["luis@uanl.mx", "--role", "coordinator", "--university", "UDEM"],
            PASSWORD,
            "no university named 'UDEM'",
        ),
        (["marta@nl.gob.mx", "--role", "supervisor"], PASSWORD, "needs --municipality"),
        (["not-an-email"], PASSWORD, "is not an email address"),
    ],
    ids=[
        "short password",
        "unknown role",
        "coordinator without university",
        "unknown university",
        "supervisor without municipality",
        "not an email",
    ],  # fmt: skip
)
def test_create_admin_refuses_with_one_clear_line(runner, faro, people, args, password, says):
    result = runner.invoke(args=["create-admin", *args], input=f"{password}\n")
    assert result.exit_code != 0
    [line] = error_lines(result)
    assert says in line, result.output
    with faro.sessions() as session:
        assert session.scalars(select(Account)).all() == []


def test_create_admin_refuses_a_duplicate_email(runner, faro):
    first = runner.invoke(args=["create-admin", "admin@faro.mx"], input=f"{PASSWORD}\n")
    assert first.exit_code == 0, first.output
    again = runner.invoke(args=["create-admin", "ADMIN@faro.mx"], input="another password\n")
    assert again.exit_code != 0
    assert error_lines(again) == ["Error: an account for admin@faro.mx exists already"]
    with faro.sessions() as session:
        assert len(session.scalars(select(Account)).all()) == 1


def test_create_admin_makes_a_coordinator_of_a_university_with_no_interns_yet(runner, faro):
    add_university(faro, "UDEM")
    args = ["create-admin", "coordinator@udem.mx", "--role", "coordinator", "--university", "UDEM"]
    result = runner.invoke(args=args, input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
