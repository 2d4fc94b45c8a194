"""The command line an operator uses: db upgrade, import-roster, seed-demo, tick; and /health."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, inspect, select

from escalation.models import Heartbeat, Person
from tests.conftest import settings_for

DATA = Path(__file__).parent / "data"


def test_db_upgrade_creates_the_schema_on_an_empty_database(tmp_path):
    from app import create_app

    app = create_app(settings_for(f"sqlite:///{tmp_path}/new.db"))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    tables = set(inspect(app.extensions["faro"].engine).get_table_names())
    assert {"person", "inbound_message", "outbound_message", "incident", "event"} <= tables
    app.extensions["faro"].close()


def test_import_roster_imports_a_good_file(runner, faro):
    result = runner.invoke(args=["import-roster", str(DATA / "roster_good.csv")])
    assert result.exit_code == 0, result.output
    assert "6 created" in result.output
    again = runner.invoke(args=["import-roster", str(DATA / "roster_good.csv")])
    assert "0 created, 0 updated, 6 unchanged" in again.output


def test_import_roster_names_every_bad_line_and_imports_nothing(runner, faro):
    result = runner.invoke(args=["import-roster", str(DATA / "roster_bad.csv")])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if "roster_bad.csv:" in line]
    assert len(lines) >= 5
    assert "nothing was imported" in result.output
    with faro.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0


def test_import_roster_refuses_a_file_that_is_not_utf8(runner, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("role,name,phone\nintern,Ana Peña,+524881000001\n".encode("latin-1"))
    result = runner.invoke(args=["import-roster", str(path)])
    assert result.exit_code != 0
    assert "not UTF-8" in result.output


def test_a_big_file_shows_a_progress_bar(runner, faro, tmp_path):
    rows = ["role,name,phone,checkin_time,university,unit,municipality"]
    rows += [
        f"intern,Interna {i},+52488{3000000 + i:07d},08:00,UANL,CS {i % 7},Galeana"
        for i in range(400)
    ]
    path = tmp_path / "big.csv"
    path.write_text("\n".join(rows) + "\n", "utf-8")
    result = runner.invoke(args=["import-roster", str(path)])
    assert result.exit_code == 0, result.output
    assert "importing" in result.output
    assert "400 created" in result.output


def test_seed_demo_loads_ana_and_her_team(runner, faro):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with faro.sessions() as session:
        names = set(session.scalars(select(Person.name)))
    assert {"Ana Lopez", "Beto Garza", "Rosa Martinez", "Luis Herrera"} <= names


def test_seed_demo_refuses_the_twilio_transport(database_url):
    from app import create_app

    config = settings_for(
        database_url,
        SMS_TRANSPORT="twilio",
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_SMS_FROM="+15005550006",
    )
    app = create_app(config)
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "console transport only" in result.output
    app.extensions["faro"].close()


def test_tick_at_an_instant_records_the_heartbeat(runner, faro):
    result = runner.invoke(args=["tick", "--at", "2026-11-24T09:00:00-06:00"])
    assert result.exit_code == 0, result.output
    with faro.sessions() as session:
        last = session.scalar(select(Heartbeat.last_tick_at))
    assert last.isoformat() == "2026-11-24T15:00:00+00:00"


def test_tick_refuses_an_instant_without_offset(runner):
    result = runner.invoke(args=["tick", "--at", "2026-11-24T09:00:00"])
    assert result.exit_code != 0
    assert "offset" in result.output


def test_health_is_503_until_a_tick_has_run_then_200(client, runner):
    first = client.get("/health")
    assert first.status_code == 503
    assert first.get_json()["database"] == "ok"
    assert runner.invoke(args=["tick"]).exit_code == 0
    second = client.get("/health")
    assert second.status_code == 200
    assert second.get_json()["last_tick_age_seconds"] < 60


def test_the_root_leads_a_newcomer_to_the_simulator(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/simulator/")
