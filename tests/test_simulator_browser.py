"""The phone simulator in a real headless Chromium: Ana types ok, then sos, and sees it all."""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def served(app, people):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def page(served):
    from tests.conftest import unavailable

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed")
    if not os.path.exists(CHROMIUM):
        unavailable("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        page = browser.new_page()
        page.goto(f"{served}/simulator/")
        yield page
        browser.close()


def test_ana_types_ok_and_sees_the_thank_you(page, people):
    page.select_option("#phone", people["ana"])
    page.fill("#body", "ok")
    page.click("button[type=submit]")
    page.locator("#conversation li.faro", has_text="Gracias Ana").wait_for()
    assert page.locator("#conversation li.me").first.inner_text() == "ok"


def test_ana_types_sos_and_sees_the_alerts_to_her_team(page, people):
    page.select_option("#phone", people["ana"])
    page.fill("#body", "sos")
    page.click("button[type=submit]")
    page.locator("#conversation li.faro", has_text="Estamos avisando").wait_for()
    outbox = page.locator("#outbox tr")
    outbox.filter(has_text="Luis Herrera").first.wait_for()  # a text and a call
    rows = outbox.all_inner_texts()
    for name in ("Beto Garza", "Rosa Martinez", "Luis Herrera"):
        assert any(name in row and "FARO EMERGENCIA" in row for row in rows), rows
