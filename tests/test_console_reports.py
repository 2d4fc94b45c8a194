"""The Reports page per role, and its two CSV downloads.

Monday 23 November 2026 (America/Monterrey), through the real paths: Ana (UANL, CS Doctor
Arroyo) misses her 08:00 check-in and Rosa acknowledges the case 3 min after the deadline;
Beto (UANL, CS Mier y Noriega) answers on time, and at 12:00 asks for support (a mental-health
case) that Sofia acknowledges 10 min later.

Each account sees its scope: the administrator and Ana's coordinator both cases; the supervisor
of Doctor Arroyo only Ana, never a mental-health case; the mental-health contact her
university's check-ins and only the support case; a coordinator of UDEM nothing of UANL, and a
report narrowed to UANL or to Mier y Noriega answers 404 outside the scope. The downloads carry
the chain head they cover, which `flask --app app audit verify --head` accepts, write
`report_exported`, and their raw events each recompute to their hash.
"""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from escalation.base import audit
from escalation.base.db import transaction
from escalation.base.models import (
    COORDINATOR,
    MENTAL_HEALTH,
    MISSED_CHECKIN,
    SUPERVISOR,
    SUPPORT,
    Event,
    University,
)
from tests.conftest import at
from tests.console_helpers import account as add_account
from tests.console_session import add_university, csrf_token, signed_in
from tests.escalation_helpers import open_for
from tests.stories import text, tick
from tests.test_reports import local, open_code

ADMIN = "admin@faro.mx"
LUIS = "luis.herrera@uanl.mx"
MARTA = "marta.cantu@nl.gob.mx"
SOFIA = "sofia.reyes@uanl.mx"
UDEM = "coordinator@udem.mx"
MONDAY = {"start": "2026-11-23", "end": "2026-11-23"}


@pytest.fixture
def monday(faro, people):
    ana, beto = people["ana"], people["beto"]
    tick(faro, local("22", "12:00"))
    tick(faro, local("23", "08:00"))
    text(faro, beto, "ok", local("23", "08:10"))
    tick(faro, local("23", "08:30"))
    tick(faro, local("23", "10:00"))
    text(faro, people["rosa"], f"ATIENDO {open_code(faro, ana, MISSED_CHECKIN)}",
         local("23", "10:03"))  # fmt: skip
    open_for(faro, beto, SUPPORT, at(local("23", "12:00")))
    text(faro, people["sofia"], f"ATIENDO {open_code(faro, beto, SUPPORT)}", local("23", "12:10"))


@pytest.fixture
def as_(app, faro, people, monday):
    add_account(faro, ADMIN)
    add_account(faro, LUIS, role=COORDINATOR, university="UANL")
    add_account(faro, MARTA, role=SUPERVISOR, municipality="Doctor Arroyo")
    add_account(faro, SOFIA, role=MENTAL_HEALTH, university="UANL")
    add_university(faro, "UDEM")
    add_account(faro, UDEM, role=COORDINATOR, university="UDEM")
    return lambda email: signed_in(app.test_client(), email)


def report_page(client, **args) -> str:
    response = client.get("/admin/reports/", query_string=MONDAY | args)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def table(html: str) -> dict[str, dict[str, str]]:
    """The page's two tables (check-ins, cases) as one {group: {heading: cell}}."""
    merged: dict[str, dict[str, str]] = {}
    for name in ("report-checkins", "report-cases"):
        body = html.split(f'id="{name}"', 1)[1].split("</table>", 1)[0]
        rows = [
            [
                unescape(re.sub(r"<[^>]+>", "", cell)).strip()
                for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            ]  # fmt: skip
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
        ]
        headings = rows[0]
        for row in rows[1:]:
            if len(row) > 1:
                merged.setdefault(row[0], {}).update(zip(headings, row, strict=True))
    return merged


def test_the_administrator_and_anas_coordinator_see_both_cases(as_):
    for email in (ADMIN, LUIS):
        figures = table(report_page(as_(email)))
        uanl = figures["UANL"]
        assert (uanl["Enviados"], uanl["A tiempo"], uanl["Sin respuesta"]) == ("2", "1", "1")
        assert (uanl["Sin registro"], uanl["Apoyo"], uanl["Casos"]) == ("1", "1", "2")
        assert uanl["Mediana a la atención (min)"] == "6.5"  # of 3 and 10
        assert (uanl["P95 a la atención (min)"], uanl["Abiertos al cierre"]) == ("10", "2")


def test_the_supervisor_sees_her_municipality_without_mental_health_cases(as_):
    marta = as_(MARTA)
    html = report_page(marta, grouping="unit")
    figures = table(html)
    assert list(figures) == ["CS Doctor Arroyo"]
    arroyo = figures["CS Doctor Arroyo"]
    assert (arroyo["Enviados"], arroyo["Sin respuesta"], arroyo["Sin registro"]) == ("1", "1", "1")
    assert arroyo["Mediana a la atención (min)"] == "3"
    assert "Apoyo" not in arroyo and "Beto" not in html
    assert marta.get("/admin/reports/", query_string=MONDAY | {"municipality": "Mier y Noriega"}
                     ).status_code == 404  # fmt: skip


def test_the_mental_health_contact_sees_only_the_mental_health_case(as_):
    uanl = table(report_page(as_(SOFIA)))["UANL"]
    assert (uanl["Enviados"], uanl["Apoyo"], uanl["Casos"]) == ("2", "1", "1")
    assert "Sin registro" not in uanl
    assert (uanl["Mediana a la atención (min)"], uanl["Abiertos al cierre"]) == ("10", "1")


def test_a_coordinator_of_another_university_sees_nothing_of_uanl_and_404_when_she_asks(faro, as_):
    udem = as_(UDEM)
    html = report_page(udem)
    assert table(html) == {} and "UANL" not in html and "Ningún registro" in html
    with faro.sessions() as session:
        uanl = session.scalar(select(University.id).where(University.name == "UANL"))
    assert (
        udem.get("/admin/reports/", query_string=MONDAY | {"university": uanl}).status_code == 404
    )
    token = csrf_token(udem, "/admin/reports/")
    form = MONDAY | {"grouping": "university", "university": uanl, "csrf_token": token}
    assert udem.post("/admin/reports/table.csv", data=form).status_code == 404
    assert exports(faro) == []


def test_every_figure_links_to_its_definition(as_):
    html = report_page(as_(ADMIN))
    anchors = set(re.findall(r'href="#(def-[a-z_]+)"', html))
    defined = set(re.findall(r'id="(def-[a-z_]+)"', html))
    assert {"def-sent", "def-on_time", "def-late", "def-missed", "def-ack", "def-unresolved",
            "def-opted_out", "def-inactive", "def-incidents", "def-head"} <= anchors  # fmt: skip
    assert anchors <= defined
    assert "checkin_sent" in html and "incident_opened" in html and "acknowledged" in html


def test_a_period_that_cannot_be_read_says_what_to_fix(as_):
    html = report_page(as_(ADMIN), start="2026-11-30", end="2026-11-23")
    assert "Revisa las fechas" in html and 'id="report-checkins"' not in html


def test_the_page_in_english_has_no_raw_key(as_):
    html = report_page(as_(ADMIN), lang="en")
    assert "Check-ins per day" in html and "Sent" in html
    assert not re.search(r">\s*reports\.[a-z_.]+", html)


# --- the downloads -----------------------------------------------------------------------------


def download(client, what: str, **args):
    token = csrf_token(client, "/admin/reports/")
    form = MONDAY | {"grouping": "university", "csrf_token": token} | args
    response = client.post(f"/admin/reports/{what}.csv", data=form)
    assert response.status_code == 200, response.status_code
    text_ = response.get_data(as_text=True)
    assert text_.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text_[1:])))
    blank = rows.index([])
    return response, dict((r[0], r[1:]) for r in rows[1:blank]), rows[blank + 1 :]


def exports(faro) -> list[Event]:
    with faro.sessions() as session:
        return list(session.scalars(select(Event).where(Event.kind == "report_exported")))


def test_the_table_download_carries_its_head_which_the_cli_verifies(faro, runner, as_):
    response, preamble, rows = download(as_(ADMIN), "table")
    [head] = preamble["Cabeza de la cadena"]
    assert preamble["Comprobar con"] == [f"flask --app app audit verify --head {head}"]
    assert response.headers["X-Faro-Chain-Head"] == head
    assert f"head-{head.split(':')[0]}" in response.headers["Content-Disposition"]
    assert preamble["Periodo (fechas locales de cada pasante)"] == ["2026-11-23", "2026-11-23"]
    figures = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert rows[0][:3] == ["Universidad", "Enviados", "A tiempo"]
    uanl = figures["UANL"]
    assert (uanl["Enviados"], uanl["A tiempo"], uanl["Sin respuesta"], uanl["% a tiempo"]) == (
        "2", "1", "1", "50")  # fmt: skip
    assert figures["Total"]["Casos"] == "2"

    result = runner.invoke(args=["audit", "verify", "--head", head])
    assert result.exit_code == 0, result.output
    assert head in result.output or "intact" in result.output

    [exported] = exports(faro)
    assert exported.data == {"account": ADMIN, "what": "table", "start": "2026-11-23",
                             "end": "2026-11-23", "grouping": "university",
                             "head": head}  # fmt: skip
    assert exported.seq > int(head.split(":")[0])  # written after the figures it records


def test_the_events_download_is_every_event_behind_the_figures_each_with_its_hash(
    faro, runner, as_
):
    _, preamble, rows = download(as_(ADMIN), "events")
    [head] = preamble["Cabeza de la cadena"]
    assert rows[0] == ["id", "seq", "instante (UTC)", "tipo", "persona", "caso", "mensaje",
                       "datos", "hash anterior", "hash"]  # fmt: skip
    events = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    kinds = sorted(e["tipo"] for e in events)
    assert kinds == sorted(["checkin_sent"] * 2 + ["checkin_answered", "checkin_missed"]
                           + ["incident_opened", "acknowledged"] * 2)  # fmt: skip
    assert all(int(e["seq"]) <= int(head.split(":")[0]) for e in events)
    for e in events:  # an authority can recompute each hash from the file alone
        row = SimpleNamespace(
            id=int(e["id"]), at=at(e["instante (UTC)"]), kind=e["tipo"],
            person_id=int(e["persona"]) if e["persona"] else None,
            incident_id=int(e["caso"]) if e["caso"] else None,
            message_id=int(e["mensaje"]) if e["mensaje"] else None,
            data=json.loads(e["datos"]),
        )  # fmt: skip
        assert audit.link(e["hash anterior"], row, int(e["seq"])) == e["hash"]
    assert runner.invoke(args=["audit", "verify", "--head", head]).exit_code == 0
    assert [e.data["what"] for e in exports(faro)] == ["events"]


def test_the_head_a_download_carried_no_longer_verifies_once_an_event_behind_it_is_altered(
    faro, runner, as_
):
    _, preamble, rows = download(as_(ADMIN), "events")
    [head] = preamble["Cabeza de la cadena"]
    missed = next(row[0] for row in rows[1:] if row[3] == "checkin_missed")
    with transaction(faro.sessions) as session:  # someone rewrites the miss as an answer
        session.execute(
            update(Event).where(Event.id == int(missed)).values(kind="checkin_answered")
        )
    result = runner.invoke(args=["audit", "verify", "--head", head])
    assert result.exit_code != 0 and f"#{missed}" in result.output


def test_the_supervisors_download_has_no_mental_health_case_and_english_headers(faro, as_):
    marta = as_(MARTA)
    marta.get("/admin/reports/?lang=en")
    _, preamble, rows = download(marta, "events", grouping="unit")
    assert "Chain head" in preamble
    events = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert sorted(e["kind"] for e in events) == sorted(
        ["checkin_sent", "checkin_missed", "incident_opened", "acknowledged"])  # fmt: skip
    _, _, table_rows = download(marta, "table", grouping="unit", municipality="Doctor Arroyo")
    assert table_rows[0][:2] == ["Unit", "Sent"] and "Support" not in table_rows[0]
    assert [e.data.get("municipality") for e in exports(faro)] == [None, "Doctor Arroyo"]


def test_a_download_without_the_csrf_token_is_refused_and_writes_nothing(faro, as_):
    response = as_(ADMIN).post("/admin/reports/table.csv", data=MONDAY | {"grouping": "unit"})
    assert response.status_code == 400
    assert exports(faro) == []
