"""Ana's page in a real headless Chromium, after her fortnight (tests/test_history.py): the
calendar reads on a 390 px phone without sideways scroll and on a desktop, each day names its
state, and the trend is drawn for an administrator, not for a coordinator. Screenshots go to
$FARO_ARTEFACTS (else the test's tmp_path): history-<who>-<phone|desktop>.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from escalation import history
from tests.browser import DESKTOP, PHONE, chromium, sign_in
from tests.browser import served as serve
from tests.console_helpers import account as add_account
from tests.stories import events, person
from tests.test_history import TODAY, ana_s_fortnight

pytestmark = pytest.mark.browser

ADMIN = "admin@faro.mx"
COORDINATOR = "luis@uanl.mx"


@pytest.fixture
def ana_page(app, faro, people, transport, monkeypatch):
    """Her fortnight on the record, two accounts, the app served; the page's clock at TODAY."""
    from tests.conftest import at

    ana_s_fortnight(faro, people, transport)
    add_account(faro, ADMIN)
    add_account(faro, COORDINATOR, role="coordinator", university="UANL")
    monkeypatch.setattr("bot.console.history.utcnow", lambda: at(TODAY))
    with serve(app) as url:
        yield url, person(faro, people["ana"]).id


@pytest.fixture
def browser(ana_page):
    with chromium() as launched:
        yield launched


def her_page(browser, served: str, email: str, ana_id: int, viewport: dict):
    page = sign_in(browser, served, email, viewport=viewport)
    page.goto(f"/admin/people/{ana_id}")
    page.locator("#calendar").wait_for()
    return page


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def shoot(page, artefacts: Path, name: str) -> None:
    page.wait_for_timeout(200)  # let the layout settle
    page.screenshot(path=str(artefacts / f"{name}.png"), full_page=True)
    page.locator(".history-pair").screenshot(path=str(artefacts / f"{name}-history.png"))


def test_an_administrator_reads_her_calendar_and_trend_on_a_phone_and_a_desktop(
    browser, ana_page, faro, artefacts
):
    served, ana_id = ana_page
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = her_page(browser, served, ADMIN, ana_id, viewport)
        days = page.locator("#calendar .day[role=img]")
        assert days.count() == history.DAYS
        missed = page.locator('[data-date="2026-11-04"]')
        assert missed.get_attribute("aria-label") == "mié 04/11/2026: No respondió"
        assert missed.get_attribute("title") == "mié 04/11/2026: No respondió"
        assert missed.inner_text().split() == ["4", "✗"]  # the day and its symbol
        cell = missed.bounding_box()
        assert cell["width"] >= 30 and cell["height"] >= 30, cell  # big enough to tap
        legend = page.locator("ul.legend").inner_text()
        assert "Respondió a tiempo (2)" in legend and "No enviado (1)" in legend
        for chart in ("#chart-mood", "#chart-phq"):
            box = page.locator(chart).bounding_box()
            assert box["width"] > 300 and box["x"] + box["width"] <= viewport["width"], box
        assert page.locator("#chart-phq .point.positive").count() == 1
        page.get_by_text("Ver los días en lista").click()  # the same days, in words
        listed = page.locator("ol.day-list li")
        assert listed.count() == 10  # her ten days on the record, newest first
        assert listed.first.inner_text().startswith("mié 11/11/2026:")
        words = [" ".join(item.split()) for item in listed.all_inner_texts()]
        assert "jue 05/11/2026: ! No enviado (no se pudo entregar)" in words
        no_sideways_scroll(page)
        shoot(page, artefacts, f"history-admin-{size}")
        page.context.close()
    assert len(events(faro, history.VIEWED)) == 2  # one per view of the trend


def test_a_coordinator_sees_her_calendar_and_no_trend(browser, ana_page, faro, artefacts):
    served, ana_id = ana_page
    page = her_page(browser, served, COORDINATOR, ana_id, PHONE)
    assert page.locator("#calendar .day[role=img]").count() == history.DAYS
    assert page.locator("#trend").count() == 0 and page.locator("svg.chart").count() == 0
    no_sideways_scroll(page)
    shoot(page, artefacts, "history-coordinator-phone")
    assert events(faro, history.VIEWED) == []
