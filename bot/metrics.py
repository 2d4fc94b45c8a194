"""GET /metrics: what an operator's Prometheus watches, behind `Authorization: Bearer
$METRICS_TOKEN` (without the setting the route does not exist).

Every figure is read from the database at scrape time, so any process answers for all of
them (no per-process counters that disagree between gunicorn workers), and only through
indexed columns: the outbox's due index, open incidents, the heartbeat row.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from flask import Blueprint, Response, abort, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from bot.runtime import Faro, faro
from escalation.base.db import utcnow
from escalation.base.models import PRIORITY_CRITICAL, Incident, OutboundMessage, Sender
from escalation.tick import last_tick

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics():
    app = faro()
    token = app.settings.metrics_token
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response("a bearer token is needed\n", 401, {"WWW-Authenticate": "Bearer"})
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Figures(app))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


class _Figures:
    """One scrape's figures (a prometheus_client custom collector)."""

    def __init__(self, app: Faro):
        self.app = app

    def collect(self):
        up = GaugeMetricFamily("faro_database_up", "1 when the database answered this scrape")
        spool = GaugeMetricFamily(
            "faro_spool_texts", "texts this process spooled that the database has not taken yet"
        )
        spool.add_metric([], len(self.app.spool.pending()))
        try:
            with self.app.sessions() as session:
                figures = list(_read(session, utcnow()))
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield from (up, spool)
            return
        up.add_metric([], 1)
        yield from (up, spool, *figures)


def _read(session, now: datetime):
    table = OutboundMessage.__table__.c
    waiting = table.next_attempt_at.is_not(None)
    in_flight = table.claimed_until > now
    outbox = GaugeMetricFamily(
        "faro_outbox_messages",
        "messages in the outbox not yet sent, by status: due (to leave now), sending (claimed "
        "by a dispatcher), scheduled (to leave later)",
        labels=["status"],
    )
    free = or_(table.claimed_until.is_(None), table.claimed_until <= now)
    due = (waiting, table.next_attempt_at <= now, free)
    counts = {
        "due": session.scalar(select(func.count()).where(*due)),
        "sending": session.scalar(select(func.count()).where(waiting, in_flight)),
        "scheduled": session.scalar(select(func.count()).where(table.next_attempt_at > now)),
    }
    for status, count in counts.items():
        outbox.add_metric([status], count or 0)
    yield outbox

    oldest = session.scalar(
        select(func.min(table.created_at)).where(*due, table.priority >= PRIORITY_CRITICAL)
    )
    critical = GaugeMetricFamily(
        "faro_oldest_pending_critical_alert_seconds",
        "how long the oldest critical alert due to leave has waited (0: none waiting)",
    )
    critical.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
    yield critical

    down = GaugeMetricFamily(
        "faro_sender_outage_seconds",
        "how long Twilio has refused most sends (0: it is accepting them; only probes go "
        "until it does)",
    )
    since = session.scalar(select(Sender.outage_since).where(Sender.id == 1))
    down.add_metric([], (now - since).total_seconds() if since else 0.0)
    yield down

    tick = GaugeMetricFamily(
        "faro_tick_age_seconds", "seconds since a scheduler pass last completed (-1: never)"
    )
    last = last_tick(session)
    tick.add_metric([], (now - last).total_seconds() if last else -1.0)
    yield tick

    incidents = GaugeMetricFamily(
        "faro_incidents_open", "open incidents (drills left out) by kind and severity",
        labels=["kind", "severity"],
    )  # fmt: skip
    rows = session.execute(
        select(Incident.kind, Incident.severity, func.count())
        .where(Incident.resolved_at.is_(None), Incident.drill.is_(False))
        .group_by(Incident.kind, Incident.severity)
    )
    for kind, severity, count in rows:
        incidents.add_metric([kind, severity], count)
    yield incidents
