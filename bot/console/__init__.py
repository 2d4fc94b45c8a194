"""The web console at /admin/: sign-in and roles, the incident board, incidents, the roster.

Server-rendered Jinja pages (templates/console/), Pico CSS and htmx vendored under static/,
Flask-Login sessions, Flask-WTF's CSRF on every form, Flask-Limiter on sign-in. Every page but
the sign-in needs a session; anything outside the user's scope answers 404. Every change made
here goes through the same domain functions as the text commands and writes an Event.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from bot.console import auth, i18n

IDLE_TIMEOUT = timedelta(hours=2)  # a coordinator woken at 3 a.m. signs in once for the night
csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    from bot import calls, simulator, voice, webhook
    from bot.console import accounts, catalog, drills, people, policies, reports, upload, views

    https = app.config["FARO_SETTINGS"].public_base_url.startswith("https://")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=IDLE_TIMEOUT,
        SESSION_REFRESH_EACH_REQUEST=True,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    csrf.init_app(app)
    for signed_elsewhere in (webhook.bp, voice.bp, calls.bp, simulator.bp):  # Twilio signs its own
        csrf.exempt(signed_elsewhere)
    auth.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(upload.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(people.bp)
    app.register_blueprint(drills.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(policies.bp)
    app.register_blueprint(catalog.bp)
