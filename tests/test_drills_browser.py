"""A drill from the browser: Ana's coordinator opens Simulacros, starts an emergency drill for
Ana, lands on its page (marked as a drill, no button to call Ana), and the board shows it with
its SIMULACRO badge, below Beto's real SOS. Every message it sent starts with SIMULACRO and
none reached Ana. Screenshots of the drills page, the drill and the board, phone-sized and
desktop, go to $FARO_ARTEFACTS (else the test's tmp_path)."""

from __future__ import annotations

import pytest

from escalation.base.models import COORDINATOR, VOICE
from tests.browser import DESKTOP, chromium, screenshots
from tests.browser import served as serve
from tests.browser import sign_in as signed_in
from tests.console_helpers import account as add_account
from tests.escalation_helpers import events, incident, outbox
from tests.test_console_browser import POLL_WAIT_MS

pytestmark = pytest.mark.browser

LUIS = "luis.herrera@uanl.mx"


@pytest.fixture
def served(app, faro, people):
    add_account(faro, LUIS, role=COORDINATOR, university="UANL")
    with serve(app) as url:
        yield url


@pytest.fixture
def browser(served):
    with chromium() as launched:
        yield launched


def test_a_coordinator_starts_a_drill_and_the_board_shows_it_as_one(
    browser, served, faro, people, text_faro, transport, artefacts
):
    page = signed_in(browser, served, LUIS)
    page.get_by_role("link", name="Simulacros").click()
    page.wait_for_url("**/admin/drills/")
    page.get_by_text("Todavía no se ha hecho ningún simulacro.").wait_for()
    page.select_option("select[name=intern]", label="Ana Lopez · CS Doctor Arroyo")
    page.select_option("select[name=kind]", label="Emergencia")
    screenshots(page, artefacts, "drills-start")
    page.click("#start")

    page.wait_for_url("**/admin/incidents/*")
    drill = incident(faro)
    assert drill.drill and page.url.endswith(f"/admin/incidents/{drill.id}")
    heading = page.locator("hgroup h1").inner_text()
    assert heading.startswith("SIMULACRO") and drill.code in heading
    assert "Este caso es una práctica" in page.locator("p.drill-note").inner_text()
    assert page.locator(f"a[href='tel:{people['ana']}']").count() == 0
    faro.dispatcher.wait_idle()
    page.reload()
    messages = page.locator("ol.messages").inner_text()
    sent = [m for m in outbox(faro) if m.incident_id == drill.id]
    assert {m.to_phone for m in sent} == {people["beto"], people["rosa"], people["luis"]}
    for message in sent:
        assert message.body.startswith("Simulacro." if message.channel == VOICE else "SIMULACRO")
        assert message.body in messages
    assert "Simulacro iniciado" in page.locator("ol.timeline").inner_text()
    assert [e.data["account"] for e in events(faro, "drill_started", drill.id)] == [LUIS]
    screenshots(page, artefacts, "drill-incident")

    assert text_faro(people["beto"], "sos").status_code == 200  # a real case meanwhile
    page.get_by_role("link", name="Tablero").click()
    page.wait_for_url("**/admin/")
    rows = page.locator("#board tbody tr")
    rows.nth(1).wait_for(timeout=POLL_WAIT_MS)
    real, practice = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "Beto Garza" in real and "SIMULACRO" not in real  # real cases first
    assert "Ana Lopez" in practice and practice.startswith("SIMULACRO") and drill.code in practice
    badge = rows.nth(1).locator("mark.drill")
    assert badge.is_visible() and badge.bounding_box()["width"] > 0
    holder = rows.nth(1).locator("td").last.bounding_box()  # the badge pushes nothing out
    assert holder["x"] + holder["width"] <= DESKTOP["width"], holder
    assert page.title().startswith("(1) ")  # the title counts Beto's SOS, not the drill
    faro.dispatcher.wait_idle()
    screenshots(page, artefacts, "drill-board")

    page.get_by_role("link", name="Simulacros").click()
    listed = page.locator("table.drills").inner_text()
    assert drill.code in listed and LUIS in listed and "En curso, paso 1" in listed
    screenshots(page, artefacts, "drills-list")
    assert transport.sent and [e for e in transport.sent if e.to == people["ana"]] == []
