"""Fixtures: every database test runs on SQLite and on PostgreSQL, each on a fresh database.

The schema comes from the Alembic migrations (migrated once per engine into a template that
each test copies), so the tests exercise what production runs. Under CI=true a test that
would skip for want of PostgreSQL or Chromium fails instead.
"""

from __future__ import annotations

import itertools
import os
import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from escalation.base.db import make_engine, make_sessionmaker
from escalation.base.migrate import upgrade
from escalation.base.models import (
    COORDINATOR,
    INTERN,
    MENTAL_HEALTH,
    NURSE,
    SUPERVISOR,
    Person,
    Unit,
    University,
)
from escalation.pings import schedule_changed
from tests import pg

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_URL = "https://faro.example.org"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_counter = itertools.count()


def unavailable(reason: str):
    """Skip on a laptop without the tool; fail under CI, where everything must run."""
    if IN_CI:
        pytest.fail(f"required under CI: {reason}", pytrace=False)
    pytest.skip(reason)


# --- databases -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_admin_url():
    url = os.environ.get("FARO_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    try:
        server = pg.ThrowawayServer()
        url = server.start()
    except (pg.Unavailable, RuntimeError, OSError) as exc:
        yield exc
        return
    yield url
    server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url):
    if isinstance(postgres_admin_url, Exception):
        return postgres_admin_url
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS faro_template"))
        connection.execute(text("CREATE DATABASE faro_template"))
    admin.dispose()
    engine = make_engine(_pg_url(postgres_admin_url, "faro_template"))
    upgrade(engine)
    engine.dispose()
    return postgres_admin_url


def _pg_url(admin_url: str, database: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{database}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "faro.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A freshly migrated, empty database on each engine."""
    if request.param == "sqlite":
        path = tmp_path / "faro.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    admin_url = request.getfixturevalue("postgres_template")
    if isinstance(admin_url, Exception):
        unavailable(f"PostgreSQL: {admin_url}")
    name = f"faro_test_{os.getpid()}_{next(_counter)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE faro_template"))
    yield _pg_url(admin_url, name)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


# --- the app ---------------------------------------------------------------------------------


def settings_for(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "SMS_TRANSPORT": "console",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PUBLIC_BASE_URL": PUBLIC_URL,
        "RUN_SCHEDULER": "0",
        **extra,
    }


class RecordingTransport:
    """The tests' fake transport: remembers what would have been sent."""

    name = "fake"

    def __init__(self) -> None:
        self.sent = []
        self.failures = []  # TransportErrors to raise, in order, before succeeding
        self.failing = {}  # phone -> TransportError raised for every message to it

    def send(self, envelope) -> str:
        if envelope.to in self.failing:
            raise self.failing[envelope.to]
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(envelope)
        return f"SM{envelope.id:032d}"

    def to(self, phone: str) -> list[str]:
        return [e.body for e in self.sent if e.to == phone]


@pytest.fixture
def transport():
    return RecordingTransport()


@pytest.fixture
def twilio():
    """The local Twilio (tests/twilio_mock.py). Twilio signs its webhooks with the same token
    its REST API authenticates, so the mock takes the app's."""
    from tests.twilio_mock import TwilioMock

    with TwilioMock(auth_token=AUTH_TOKEN) as mock:
        yield mock


@pytest.fixture
def db(database_url):
    """Sessions on the test's database, for tests that run Faro in other processes."""
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def extra_settings() -> dict[str, str]:
    """Settings one test file or test adds (override this fixture, or parametrize it)."""
    return {}


@pytest.fixture
def app(database_url, transport, extra_settings, tmp_path):
    from app import create_app  # imported here so that pure-function tests need no app

    app = create_app(
        settings_for(database_url, **extra_settings),
        transport=transport,
        instance_path=str(tmp_path / "instance"),
    )
    app.config["TESTING"] = True
    yield app
    app.extensions["faro"].close()


@pytest.fixture
def faro(app):
    return app.extensions["faro"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def artefacts(tmp_path):
    """Where browser tests leave their screenshots: $FARO_ARTEFACTS (CI keeps them), else the
    test's tmp_path."""
    from pathlib import Path

    folder = Path(os.environ.get("FARO_ARTEFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def clock(monkeypatch):
    """The webhooks' wall clock, frozen: `clock.set(at(...))`."""
    from tests.escalation_helpers import freeze

    return freeze(monkeypatch)


def signature(url: str, params: dict[str, str]) -> str:
    return RequestValidator(AUTH_TOKEN).compute_signature(url, params)


@pytest.fixture
def text_faro(client):
    """Send a signed inbound SMS as Twilio would; returns the response."""
    counter = itertools.count(1)

    def send(sender: str, body: str, *, sid: str | None = None, **extra: str):
        params = {
            "MessageSid": sid or f"SM{next(counter):032d}",
            "From": sender,
            "To": "+15005550006",
            "Body": body,
            **extra,
        }
        headers = {"X-Twilio-Signature": signature(f"{PUBLIC_URL}/twilio/sms", params)}
        return client.post("/twilio/sms", data=params, headers=headers)

    return send


# --- the people in the stories ---------------------------------------------------------------

ANA, BETO, ROSA, LUIS, MARTA, SOFIA = (
    "+524881000001",
    "+524881000002",
    "+524881000003",
    "+524881000004",
    "+524881000005",
    "+524881000006",
)


@pytest.fixture
def people(faro):
    """Intern Ana in Doctor Arroyo with buddy Beto, nurse Rosa, coordinator Luis, supervisor
    Marta, mental-health contact Sofia; all of UANL."""
    with faro.sessions() as session, session.begin():
        uanl = University(name="UANL")
        arroyo = Unit(name="CS Doctor Arroyo", municipality="Doctor Arroyo", unit_type="A")
        mier = Unit(name="CS Mier y Noriega", municipality="Mier y Noriega", unit_type="A")
        session.add_all([uanl, arroyo, mier])
        session.flush()
        ana = Person(
            role=INTERN,
            name="Ana Lopez",
            phone=ANA,
            checkin_time="08:00",
            university_id=uanl.id,
            unit_id=arroyo.id,
        )
        beto = Person(
            role=INTERN,
            name="Beto Garza",
            phone=BETO,
            checkin_time="08:00",
            university_id=uanl.id,
            unit_id=mier.id,
        )
        ana.buddies = [beto]
        schedule_changed(ana)  # as the roster import does: the next tick schedules them
        schedule_changed(beto)
        session.add_all(
            [
                ana,
                beto,
                Person(role=NURSE, name="Rosa Martinez", phone=ROSA, unit_id=arroyo.id),
                Person(role=COORDINATOR, name="Luis Herrera", phone=LUIS, university_id=uanl.id),
                Person(
                    role=SUPERVISOR, name="Marta Cantu", phone=MARTA, municipality="Doctor Arroyo"
                ),
                Person(role=MENTAL_HEALTH, name="Sofia Reyes", phone=SOFIA, university_id=uanl.id),
            ]
        )
    return {"ana": ANA, "beto": BETO, "rosa": ROSA, "luis": LUIS, "marta": MARTA, "sofia": SOFIA}


def at(text_: str) -> datetime:
    """An aware instant from ISO text, e.g. at('2026-11-24T09:00:00-06:00')."""
    return datetime.fromisoformat(text_).astimezone(UTC)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI nothing may skip quietly: a skipped test is reported as a failure."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, which must run everything: {report.longrepr}"
