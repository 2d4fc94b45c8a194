"""Helpers for the console's tests: an account, a signed-in client, a form's CSRF token."""

from __future__ import annotations

import re

from escalation.accounts import create_account
from escalation.base.db import transaction, utcnow

PASSWORD = "correct horse battery"


def csrf(page: str) -> str:
    """The CSRF token of the first form on `page`."""
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def account(faro, email: str, role: str = "admin", **place) -> None:
    with transaction(faro.sessions) as session:
        create_account(session, utcnow(), email, PASSWORD, role=role, **place)


def sign_in(client, email: str, password: str = PASSWORD):
    token = csrf(client.get("/admin/login").get_data(as_text=True))
    return client.post("/admin/login", data={"email": email, "password": password,
                                             "csrf_token": token})  # fmt: skip
