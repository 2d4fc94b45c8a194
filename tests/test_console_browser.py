"""The console in a real headless Chromium: an administrator signs in, Ana's `sos` (the signed
webhook) appears on the board by itself, she acknowledges and resolves it from its page and
reads the timeline and the texts the responders got; a coordinator of another university gets
the 404 page. Screenshots of the board, the incident and the roster, phone-sized and desktop,
go to $FARO_ARTEFACTS (else the test's tmp_path)."""

from __future__ import annotations

import time

import pytest

from escalation.base.models import COORDINATOR
from tests.browser import DESKTOP, chromium, screenshots
from tests.browser import served as serve
from tests.browser import sign_in as signed_in
from tests.console_helpers import account as add_account
from tests.console_session import add_university
from tests.escalation_helpers import incident, outbox

pytestmark = pytest.mark.browser

ADMIN = "admin@faro.mx"
UDEM = "coordinator@udem.mx"
POLL_WAIT_MS = 15_000  # the board polls every 5 s


@pytest.fixture
def served(app, faro, people):
    add_account(faro, ADMIN)
    add_university(faro, "UDEM")
    add_account(faro, UDEM, role=COORDINATOR, university="UDEM")
    with serve(app) as url:
        yield url


@pytest.fixture
def browser(served):
    with chromium() as launched:
        yield launched


def test_an_sos_shows_on_the_board_by_itself_and_is_acknowledged_and_resolved_from_its_page(
    browser, served, faro, people, text_faro, artefacts
):
    page = signed_in(browser, served, ADMIN)
    page.get_by_text("No hay casos abiertos.").wait_for()
    page.evaluate("window.faroNotReloaded = true")

    assert text_faro(people["ana"], "sos").status_code == 200
    sent = time.monotonic()
    row = page.locator("#board tbody tr", has_text="Ana Lopez")
    row.wait_for(timeout=POLL_WAIT_MS)
    assert time.monotonic() - sent < POLL_WAIT_MS / 1000
    assert page.evaluate("window.faroNotReloaded") is True  # htmx swapped the rows in
    case = incident(faro)
    assert case.code in row.inner_text() and "Emergencia" in row.inner_text()
    holder = row.locator("td").last.bounding_box()  # who has it: in view, no sideways scroll
    assert holder["x"] + holder["width"] <= DESKTOP["width"], holder
    faro.dispatcher.wait_idle()
    screenshots(page, artefacts, "board")

    row.get_by_role("link").click()
    page.wait_for_url(f"**/admin/incidents/{case.id}")
    page.click("#acknowledge")
    page.wait_for_url(f"**/admin/incidents/{case.id}")
    assert "Atendido" in page.locator("hgroup").inner_text()
    assert page.locator("#acknowledge").count() == 0
    page.fill("form[action$='/resolve'] input[name=note]", "Ana está bien: fue un susto")
    page.click("#resolve")
    page.wait_for_url(f"**/admin/incidents/{case.id}")
    faro.dispatcher.wait_idle()
    page.reload()  # the all-clears' delivery status

    assert "Cerrado" in page.locator("hgroup").inner_text()
    timeline = page.locator("ol.timeline").inner_text()
    for label in ("Caso abierto", "Alertas enviadas", "Atendido", "Cerrado"):
        assert label in timeline, timeline
    assert ADMIN in timeline and "Ana está bien: fue un susto" in timeline
    messages = page.locator("ol.messages").inner_text()
    told = outbox(faro)
    assert {"alert", "ack_notice", "all_clear"} <= {m.kind for m in told}
    for message in told:  # every alert, notice and all-clear, as the responders got it
        assert message.body in messages, message.body
    for name in ("Beto Garza", "Rosa Martinez", "Luis Herrera"):  # whom, by name
        assert f"→ {name}" in messages
    assert "sos" in messages  # Ana's own text in the case
    screenshots(page, artefacts, "incident")

    page.goto("/admin/roster")
    page.get_by_role("link", name="Ana Lopez").wait_for()
    screenshots(page, artefacts, "roster")
    for name in ("board", "incident", "roster"):
        for size in ("phone", "desktop"):
            assert (artefacts / f"{name}-{size}.png").stat().st_size > 10_000


def test_a_coordinator_of_another_university_gets_the_404_page_for_anas_incident(
    browser, served, faro, people, text_faro
):
    assert text_faro(people["ana"], "sos").status_code == 200
    case = incident(faro)
    page = signed_in(browser, served, UDEM)
    assert page.locator("#board tbody tr").count() == 0
    response = page.goto(f"/admin/incidents/{case.id}")
    assert response.status == 404
    body = page.locator("body").inner_text()
    assert "Ana" not in body and case.code not in body
    assert incident(faro, case.id).status == "open"


def test_a_roster_file_too_large_to_read_gets_a_page_saying_to_split_it(browser, served, artefacts):
    page = signed_in(browser, served, ADMIN)
    page.goto("/admin/roster/upload")
    big = {"name": "padron.csv", "mimeType": "text/csv", "buffer": b"x" * (17 * 1024 * 1024)}
    page.set_input_files("input[type=file]", big)
    with page.expect_navigation():
        page.click("#preview")
    body = page.locator("main").inner_text()
    assert "pasa de 16 MB" in body and "divídelo en partes" in body
    assert page.locator("nav").count() >= 1  # still the console around it
    screenshots(page, artefacts, "too-large")
