"""The Reports page in a real headless Chromium, over the known week of tests/test_reports.py:
an administrator reads the figures by unit, both charts drawn (one bar per day with its counts
written in it, one per week for the time to acknowledgement), the definitions one click away,
and downloads the table, whose chain head is the one the page shows. Screenshots at phone
(390 px) and desktop width go to $FARO_ARTEFACTS (else the test's tmp_path)."""

from __future__ import annotations

import csv
import io

import pytest

from tests.browser import DESKTOP, PHONE, chromium, sign_in
from tests.browser import served as serve
from tests.console_helpers import account as add_account
from tests.test_reports import the_week

pytestmark = pytest.mark.browser

ADMIN = "admin@faro.mx"
WEEK = "/admin/reports/?start=2026-11-23&end=2026-11-29&grouping=unit"


@pytest.fixture
def page(app, faro, people):
    the_week(faro, people)
    add_account(faro, ADMIN)
    with serve(app) as url, chromium() as browser:
        yield sign_in(browser, url, ADMIN, accept_downloads=True)


def test_the_reports_page_draws_its_charts_and_its_download_carries_the_pages_head(page, artefacts):
    page.get_by_role("link", name="Reportes").click()
    page.wait_for_url("**/admin/reports/")
    page.goto(WEEK)
    table = page.locator("#report-checkins").inner_text()
    for unit in ("CS Doctor Arroyo", "CS Mier y Noriega", "CS Galeana"):
        assert unit in table
    days = page.locator("#days-chart g")
    assert days.count() == 7
    assert "lu 23/11" in days.first.text_content() and "3/3" in days.first.text_content()
    assert page.locator("#days-chart rect[fill='#D55E00']").count() == 2  # Wed and Fri
    ack = page.locator("#ack-chart g")
    assert ack.count() == 1 and "7 / 20 min (n=3)" in ack.first.text_content()
    legend = page.locator("ul.report-legend").first.inner_text()
    for label in ("A tiempo", "Tarde", "Sin respuesta", "Pendientes"):
        assert label in legend

    page.get_by_role("link", name="Sin respuesta").first.click()
    assert page.evaluate("location.hash") == "#def-missed"
    assert page.locator("#def-missed").is_visible()
    page.goto(WEEK)

    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(200)
        chart = page.locator("#days-chart").bounding_box()
        assert chart["x"] >= 0 and chart["x"] + chart["width"] <= viewport["width"], chart
        label_px = page.locator("#days-chart text").first.bounding_box()["height"]
        assert 9 <= label_px <= 20, (size, label_px)  # readable, not shrunk nor blown up
        page.screenshot(path=str(artefacts / f"reports-{size}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)

    head = page.locator("#chain-head").inner_text()
    with page.expect_download() as started:
        page.click("#download-table")
    saved = started.value.path().read_text("utf-8-sig")
    rows = list(csv.reader(io.StringIO(saved)))
    assert ["Cabeza de la cadena", head] in rows
    assert started.value.suggested_filename.endswith(f"head-{head.split(':')[0]}.csv")
    for size in ("phone", "desktop"):
        assert (artefacts / f"reports-{size}.png").stat().st_size > 10_000
