"""An administrator uploads a roster CSV from the console: every bad row is reported with its
line number and nothing is saved; the fixed file shows what would change, and only the
confirmation imports it."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from escalation.base.models import Event, Person
from tests.console_helpers import account, csrf
from tests.console_helpers import sign_in as signed_in

HEADER = (
    "role,name,phone,channel,language,timezone,checkin_time,university,unit,municipality,"
    "unit_type,buddies\n"
)
GOOD = HEADER + (
    "intern,Eva Soto,81 2000 0001,sms,es,America/Monterrey,07:30,UANL,CS Galeana,Galeana,B,\n"
    "nurse,Olga Rios,81 2000 0002,sms,es,,,UANL,CS Galeana,Galeana,B,\n"
)
BAD = GOOD + "intern,Sin Telefono,12345,sms,es,America/Monterrey,07:30,UANL,CS Galeana,Galeana,B,\n"


def sign_in(client, faro, email: str, role: str = "admin", **place) -> None:
    account(faro, email, role, **place)
    assert signed_in(client, email).status_code == 302


def upload(client, text: str):
    token = csrf(client.get("/admin/roster/upload").get_data(as_text=True))
    csv_file = FileStorage(io.BytesIO(text.encode()), "roster.csv", content_type="text/csv")
    data = {"csrf_token": token, "file": csv_file}
    # Encoded in memory: werkzeug's test client spools a large body to a file it never closes.
    boundary, body = encode_multipart(data)
    return client.post("/admin/roster/upload", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")  # fmt: skip


def confirm(client, page: str):
    """Press the preview's Import button: its form carries the file back."""
    token = csrf(page.split('id="import"')[0].rsplit("<form", 1)[1])
    csv_value = re.search(r'id="csv" name="csv" type="hidden" value="([^"]*)"', page).group(1)
    return client.post("/admin/roster/import",
                       data={"csrf_token": token, "csv": html.unescape(csv_value)})  # fmt: skip


def people_count(faro) -> int:
    with faro.sessions() as session:
        return session.scalar(select(func.count(Person.id)))


def test_a_bad_row_is_reported_by_line_and_nothing_is_saved(client, faro, people):
    sign_in(client, faro, "admin@faro.mx")
    before = people_count(faro)
    page = upload(client, BAD).get_data(as_text=True)
    assert "Renglón 4" in page and "no se importará nada" in page
    assert 'id="import"' not in page
    assert people_count(faro) == before


def test_the_fixed_file_previews_then_imports_on_confirmation(client, faro, people):
    sign_in(client, faro, "admin@faro.mx")
    before = people_count(faro)
    page = upload(client, GOOD).get_data(as_text=True)
    assert "2 persona(s) nueva(s)" in page and 'id="import"' in page
    assert people_count(faro) == before  # a preview saves nothing
    answer = confirm(client, page)
    assert answer.status_code == 302
    assert people_count(faro) == before + 2
    assert "Padrón importado: 2 nuevas" in client.get("/admin/roster").get_data(as_text=True)
    with faro.sessions() as session:
        uploaded = session.scalar(select(Event).where(Event.kind == "roster_uploaded"))
    assert uploaded.data["account"] == "admin@faro.mx"


@pytest.mark.parametrize("path", ["/admin/roster/upload"])
def test_a_coordinator_cannot_upload(client, faro, people, path):
    sign_in(client, faro, "luis@uanl.mx", role="coordinator", university="UANL")
    assert client.get(path).status_code == 404


def test_a_whole_state_roster_previews_and_imports(client, faro, people):
    """A state's interns in one file (a few thousand rows, over half a megabyte): the preview
    carries the file to the confirmation, and the confirmation imports every row."""
    sign_in(client, faro, "admin@faro.mx")
    before = people_count(faro)
    rows = [
        f"intern,Interna Numero {n},81 3000 {n:04d},sms,es,America/Monterrey,07:30,"
        f"UANL,CS Galeana,Galeana,B,\n"
        for n in range(6_000)
    ]
    text = HEADER + "".join(rows)
    assert len(text.encode()) > 500_000  # past where werkzeug spools a form to a file
    page = upload(client, text).get_data(as_text=True)
    assert "6000 persona(s) nueva(s)" in page and 'id="import"' in page
    answer = confirm(client, page)
    assert answer.status_code == 302
    assert people_count(faro) == before + 6_000


def test_a_file_over_the_request_limit_is_refused_with_a_line_saying_what_to_do(
    client, faro, people, caplog
):
    sign_in(client, faro, "admin@faro.mx")
    answer = upload(client, HEADER + "x" * (17 * 1024 * 1024))
    assert answer.status_code == 413
    page = answer.get_data(as_text=True)
    assert "pasa de 16 MB" in page and "divídelo en partes" in page
    assert "refused a request of" in caplog.text
