"""More helpers for the console's tests (next to tests/console_helpers.py): a university, a
client signed in, a page's CSRF token, and a form's POST with it."""

from __future__ import annotations

from escalation.base.db import transaction
from escalation.base.models import University
from tests.console_helpers import PASSWORD, csrf, sign_in


def add_university(faro, name: str) -> int:
    with transaction(faro.sessions) as session:
        university = University(name=name)
        session.add(university)
        session.flush()
        return university.id


def csrf_token(client, path: str = "/admin/login") -> str:
    """The CSRF token on `path`: the session's, so every form of that session takes it."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return csrf(response.get_data(as_text=True))


def signed_in(client, email: str, password: str = PASSWORD):
    response = sign_in(client, email, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def post(client, path: str, **data: str):
    """A console form's POST, with the session's CSRF token (taken from the board)."""
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/"), **data})
