"""GET /health: is the database reachable, and how old is the last completed tick."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.runtime import faro
from escalation.db import utcnow
from escalation.tick import last_tick

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    app = faro()
    try:
        with app.sessions() as session:
            session.execute(text("SELECT 1"))
            last = last_tick(session)
    except SQLAlchemyError:
        return jsonify(database="unreachable", last_tick_age_seconds=None), 503
    age = None if last is None else round((utcnow() - last).total_seconds(), 1)
    limit = 3 * app.settings.tick_seconds + 60
    healthy = age is not None and age <= limit
    body = {"database": "ok", "last_tick_age_seconds": age, "tick_limit_seconds": limit}
    return jsonify(status="ok" if healthy else "stale", **body), 200 if healthy else 503
