"""What the browser tests share: the app served on loopback, and Debian's Chromium under
Playwright (never a downloaded browser). Under CI=true a missing one fails instead of skipping."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@contextmanager
def served(app) -> Iterator[str]:
    """The app on a free loopback port, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def chromium():
    """Debian's Chromium, headless, with what this closed network needs switched off."""
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
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update"],
        )  # fmt: skip
        try:
            yield browser
        finally:
            browser.close()


def sign_in(browser, base_url: str, email: str, *, viewport: dict = DESKTOP, **context):
    """A fresh browser context (its own cookies) signed in as `email`, on the board."""
    from tests.console_helpers import PASSWORD

    page = browser.new_context(viewport=viewport, base_url=base_url, **context).new_page()
    page.goto("/admin/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    return page


def screenshots(page, folder, name: str, *, at: str | None = None) -> None:
    """`<name>-desktop.png` and `<name>-phone.png` in `folder`: the whole page, or the screen
    that starts at the element with id `at` (for a page too long for one picture)."""
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(200)  # let the layout settle at the new width
        if at:
            page.evaluate(f"document.getElementById('{at}').scrollIntoView()")
        page.screenshot(path=str(folder / f"{name}-{size}.png"), full_page=at is None)
    page.set_viewport_size(DESKTOP)
