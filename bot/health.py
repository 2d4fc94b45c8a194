"""GET /health: is the database reachable, how old is the last completed tick, and is Twilio
refusing Faro's messages."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, url_for
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from bot.runtime import faro
from escalation.base.db import transaction, utcnow
from escalation.base.models import Sender
from escalation.heartbeat import SILENCE, notice_silence
from escalation.tick import last_tick

bp = Blueprint("health", __name__)


@bp.get("/")
def index():
    """A newcomer opening the root finds the simulator (console transport) or the health check."""
    console = faro().settings.sms_transport == "console"
    return redirect(url_for("simulator.page" if console else "health.health"))


@bp.get("/health")
def health():
    app = faro()
    try:
        with app.sessions() as session:
            session.execute(text("SELECT 1"))
            last = last_tick(session)
            outage = session.scalar(select(Sender.outage_since).where(Sender.id == 1))
    except SQLAlchemyError:
        return jsonify(database="unreachable", last_tick_age_seconds=None), 503
    now = utcnow()
    age = None if last is None else round((now - last).total_seconds(), 1)
    if last is not None and now - last >= SILENCE:
        _raise_silence_alarm(app, now)
    limit = 3 * app.settings.tick_seconds + 60
    healthy = age is not None and age <= limit
    body = {"database": "ok", "last_tick_age_seconds": age, "tick_limit_seconds": limit,
            # Twilio refusing most sends: Faro only probes it (bot/outbox.py). Reported, not
            # unhealthy: restarting Faro would not help.
            "sender_outage_since": outage.isoformat() if outage else None}  # fmt: skip
    return jsonify(status="ok" if healthy else "stale", **body), 200 if healthy else 503


def _raise_silence_alarm(app, now) -> None:
    """The scheduler cannot notice its own silence; the web process (polled by uptime
    monitors) texts the administrators, once per outage (claimed, see escalation/heartbeat)."""
    try:
        with transaction(app.sessions) as session:
            alarmed = notice_silence(session, now, app.settings.domain)
    except SQLAlchemyError:
        return
    if alarmed:
        app.dispatcher.nudge()
