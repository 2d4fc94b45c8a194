"""The command line an operator uses: db upgrade, import-roster, seed-demo, tick; and /health."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, inspect, select

from escalation.base.models import Heartbeat, Person
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


def write_roster(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text, "utf-8")
    return path


def good_with_active(ana: str) -> str:
    """roster_good.csv with an `active` column: `ana` for Ana Lopez, blank for the others."""
    header, *rows = (DATA / "roster_good.csv").read_text("utf-8").splitlines()
    cells = [f"{row},{ana if ',Ana Lopez,' in row else ''}" for row in rows]
    return "\n".join([f"{header},active", *cells]) + "\n"


def test_import_roster_counts_who_was_deactivated_and_reactivated(runner, faro, tmp_path):
    runner.invoke(args=["import-roster", str(DATA / "roster_good.csv")])

    off = runner.invoke(args=["import-roster", str(write_roster(tmp_path, good_with_active("no")))])
    on = runner.invoke(args=["import-roster", str(write_roster(tmp_path, good_with_active("sí")))])

    assert off.exit_code == 0, off.output
    assert "0 created, 1 updated (1 deactivated), 5 unchanged" in off.output
    assert "0 created, 1 updated (1 reactivated), 5 unchanged" in on.output
    with faro.sessions() as session:
        assert session.scalar(select(Person.active).where(Person.name == "Ana Lopez")) is True


def test_import_roster_names_the_line_of_a_bad_active_value(runner, faro, tmp_path):
    path = write_roster(tmp_path, good_with_active("maybe"))

    result = runner.invoke(args=["import-roster", str(path)])

    assert result.exit_code != 0
    assert f"{path}:2: active 'maybe' is not yes or no" in result.output
    assert "1 bad row(s); nothing was imported" in result.output
    with faro.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0


def test_import_roster_warns_of_interns_no_nurse_and_no_coordinator_covers(runner, faro, tmp_path):
    path = write_roster(
        tmp_path,
        "role,name,phone,checkin_time,university,unit\n"
        "intern,Ana Lopez,+524881000001,08:00,UANL,CS Doctor Arroyo\n"
        "nurse,Rosa Martinez,+524881000003,,,CS Doctor Arroyo\n"
        "intern,Carla Ruiz,+524881000007,08:00,UAT,CS Galeana\n"
        "intern,Beto Garza,+524881000002,08:00,UAT,CS Galeana\n",
    )

    result = runner.invoke(args=["import-roster", str(path)])

    assert result.exit_code == 0, result.output  # a warning: the roster is imported
    assert "4 created" in result.stdout
    assert [line for line in result.stderr.splitlines() if line.startswith("warning:")] == [
        "warning: no nurse and no coordinator covers Beto Garza +524881000002 "
        "(unit CS Galeana, university UAT)",
        "warning: no nurse and no coordinator covers Carla Ruiz +524881000007 "
        "(unit CS Galeana, university UAT)",
        "warning: 2 intern(s) covered by no nurse and no coordinator: add a nurse to their "
        "unit or a coordinator to their university and import again",
    ]
    with faro.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 4


def test_import_roster_prints_no_warning_when_every_intern_is_covered(runner, faro):
    result = runner.invoke(args=["import-roster", str(DATA / "roster_good.csv")])

    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


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
        ADMIN_PHONES="+528100000099",
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
