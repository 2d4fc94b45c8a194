"""Policies and the message catalog in a real headless Chromium: coordinator Luis edits UANL's
missed check-in policy (a longer wait, one channel less, a step added), is refused in one line
for a bad phone, saves, and reads the new summary on the list; the catalog's scratch box counts
GSM-7 septets, the extension table and UCS-2 as he types. Screenshots at 390 px and desktop go
to $FARO_ARTEFACTS (else the test's tmp_path)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from escalation.base.models import COORDINATOR, MISSED_CHECKIN, University
from escalation.policy import load_policy
from tests.browser import chromium, screenshots, sign_in
from tests.browser import served as serve
from tests.console_helpers import account as add_account

pytestmark = pytest.mark.browser

LUIS = "luis@uanl.mx"


@pytest.fixture
def served(app, faro, people):
    add_account(faro, LUIS, role=COORDINATOR, university="UANL")
    with serve(app) as url:
        yield url


@pytest.fixture
def page(served):
    with chromium() as browser:
        yield sign_in(browser, served, LUIS)


def uanl_id(faro) -> int:
    with faro.sessions() as session:
        return session.scalar(select(University.id).where(University.name == "UANL"))


def test_a_coordinator_edits_a_policy_and_reads_the_new_summary(page, faro, artefacts):
    uanl = uanl_id(faro)
    page.click("text=Políticas")
    page.wait_for_url("**/admin/policies")
    row = page.locator(f"#policy-{uanl}-{MISSED_CHECKIN}")
    assert "30 min después: coordinación por SMS y llamada" in row.inner_text()
    screenshots(page, artefacts, "policies")

    row.get_by_role("link", name="Editar").click()
    page.wait_for_url(f"**/admin/policies/{uanl}/{MISSED_CHECKIN}")
    page.fill("input[name=step-2-after]", "45")
    page.uncheck("#step-2 input[value=voice]")
    page.click("#add-step")
    page.locator("#step-4").wait_for()
    page.check("#step-4 input[value=admins]")
    page.check("#step-4 input[value=voice]")
    page.fill("input[name=step-4-people]", "12345")
    page.click("#save-policy")
    error = page.locator("#policy-error")
    assert error.inner_text() == (
        "No se guardó nada: missed_checkin step 4: 'person:12345' is not a valid phone number"
    )
    assert page.input_value("input[name=step-2-after]") == "45"  # kept as typed
    screenshots(page, artefacts, "policy-refused")

    page.fill("input[name=step-4-people]", "")
    page.fill("input[name=repeat_every]", "20")
    page.fill("input[name=repeat_count]", "1")
    page.click("#save-policy")
    page.wait_for_url(f"**/admin/policies#policy-{uanl}-{MISSED_CHECKIN}")
    summary = page.locator(f"#policy-{uanl}-{MISSED_CHECKIN} td.summary").inner_text()
    assert summary.startswith(
        "al momento: compañeras y enfermera por SMS; 45 min después: coordinación por SMS; "
        "1 h después: supervisión por SMS; 30 min después: administradores por SMS y llamada, "
        "luego cada 20 min, 1 vez"
    ), summary
    assert (
        "Propia de la universidad" in page.locator(f"#policy-{uanl}-{MISSED_CHECKIN}").inner_text()
    )
    with faro.sessions() as session:
        steps = load_policy(session, uanl, MISSED_CHECKIN)
    assert [s.after_minutes for s in steps] == [0, 45, 60, 30]
    page.goto(f"/admin/policies/{uanl}/{MISSED_CHECKIN}")
    screenshots(page, artefacts, "policy-edit")


def test_the_catalogs_counter_counts_as_you_type(page, artefacts):
    page.click("text=Mensajes")
    page.wait_for_url("**/admin/messages")
    counter = page.locator("#scratch-count")
    assert counter.inner_text() == "GSM-7 · 0 de 160 septetos · 1 segmento"
    box = page.locator("#scratch")
    box.press_sequentially("Hola Ana")
    assert counter.inner_text() == "GSM-7 · 8 de 160 septetos · 1 segmento"
    box.press_sequentially(" [€]")  # the extension table: two septets each
    assert counter.inner_text() == "GSM-7 · 15 de 160 septetos · 1 segmento"
    box.fill("x" * 160)
    assert counter.inner_text() == "GSM-7 · 160 de 160 septetos · 1 segmento"
    box.press_sequentially("x")
    assert counter.inner_text() == "GSM-7 · 161 de 306 septetos · 2 segmentos"
    box.fill("")
    box.press_sequentially("¿Cómo estás?")  # ó and á are outside GSM-7: UCS-2
    assert counter.inner_text().startswith("12 de 70 caracteres en UCS-2")
    assert counter.inner_text().endswith("1 segmento · Fuera de GSM-7: ó á")
    assert "error" in (counter.get_attribute("class") or "")
    screenshots(page, artefacts, "catalog", at="scratch-box")
    screenshots(page, artefacts, "catalog-vocabulary", at="vocabulary")
