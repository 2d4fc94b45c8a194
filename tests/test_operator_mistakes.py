"""The mistakes a new operator makes, typed as she would type them: each gets one line saying
what to do, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command

from escalation.base.db import make_engine
from escalation.base.migrate import alembic_config
from tests.pg import _free_port

ROOT = Path(__file__).resolve().parent.parent


def flask(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/faro.db",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", str(ROOT / "app.py"), *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_database_never_migrated_says_to_run_db_upgrade(tmp_path):
    line = one_line(flask(tmp_path, "tick"))
    assert line == (
        f"Error: the SQLite database {tmp_path}/faro.db has no Faro tables yet; "
        "run: flask --app app db upgrade"
    )


def test_a_database_behind_the_code_says_to_run_db_upgrade(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/faro.db")
    command.upgrade(alembic_config(engine), "0005")
    engine.dispose()

    line = one_line(flask(tmp_path, "scheduler"))

    assert "is at migration 0005, this Faro needs" in line
    assert line.endswith("run: flask --app app db upgrade")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgres//faro", "DATABASE_URL is not a database URL; write it like postgresql://"),
        ("mysql://faro@db/faro", "Faro runs on PostgreSQL or SQLite, not 'mysql'"),
    ],
)
def test_a_malformed_database_url_stops_start_up_naming_the_fix(tmp_path, url, says):
    line = one_line(flask(tmp_path, "tick", DATABASE_URL=url))
    assert line.startswith("Faro cannot start: ") and says in line


def test_a_database_that_cannot_be_reached_is_named_with_where_it_was_looked_for(tmp_path):
    port = _free_port()  # nothing listens there
    url = f"postgresql://faro@127.0.0.1:{port}/faro"

    for args in (("tick",), ("db", "upgrade"), ("import-roster", "roster.csv")):
        line = one_line(flask(tmp_path, *args, DATABASE_URL=url))
        assert line.startswith(f"Error: cannot reach PostgreSQL at 127.0.0.1:{port}, database faro")
        assert line.endswith("check DATABASE_URL and that the database server is running")


def test_a_roster_file_that_does_not_exist_is_one_line(tmp_path):
    assert flask(tmp_path, "db", "upgrade").returncode == 0

    line = one_line(flask(tmp_path, "import-roster", "rooster.csv"))

    assert line == "Error: rooster.csv: no such file; give the path of the roster CSV"


def test_import_roster_counts_bad_rows_not_problems(tmp_path):
    assert flask(tmp_path, "db", "upgrade").returncode == 0
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "role,name,phone,checkin_time,university,unit,municipality\n"
        "intern,Ana Lopez,not a phone,25:00,UANL,CS Arroyo,Doctor Arroyo\n"  # two problems
        "intern,Beto Garza,81 1234 5678,08:00,UANL,CS Arroyo,Doctor Arroyo\n"
        "doctor,Carla Ruiz,81 1234 5679,08:00,UANL,CS Arroyo,Doctor Arroyo\n",
        "utf-8",
    )

    result = flask(tmp_path, "import-roster", str(roster))

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "Error: 2 bad row(s) (3 problems); nothing was imported"
    )


def test_the_roster_columns_are_in_import_roster_help(tmp_path):
    result = flask(tmp_path, "import-roster", "--help")
    assert result.returncode == 0
    assert (
        "role,name,phone,channel,language,timezone,checkin_time,university,unit," in result.stdout
    )
    assert "municipality,unit_type,buddies[,active]" in result.stdout


def test_a_scheduler_pass_while_the_database_is_away_is_one_line(tmp_path, caplog):
    """The scheduler loop outlives a database restart, saying so in one line a pass."""
    from app import create_app
    from bot.scheduler import _safe_pass

    port = _free_port()
    app = create_app(
        {"DATABASE_URL": f"postgresql://faro@127.0.0.1:{port}/faro", "RUN_SCHEDULER": "0"},
        instance_path=str(tmp_path / "instance"),
    )
    faro = app.extensions["faro"]
    try:
        with caplog.at_level("INFO"):
            _safe_pass(faro)
    finally:
        faro.close()
    records = [r for r in caplog.records if r.name == "bot.scheduler"]
    assert len(records) == 1 and records[0].exc_info is None
    assert (
        records[0]
        .getMessage()
        .startswith(f"scheduler pass skipped: cannot reach PostgreSQL at 127.0.0.1:{port}")
    )


def test_checks_pass_on_a_migrated_database(database_url):
    from bot.checks import database_problem

    engine = make_engine(database_url)
    try:
        assert database_problem(engine) is None
    finally:
        engine.dispose()
