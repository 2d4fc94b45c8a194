"""GET /metrics: Prometheus text, behind the bearer token, every figure read from the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import at

TOKEN = "metrics-token-0123456789"
NIGHT = at("2026-11-24T23:00:00-06:00")


@pytest.fixture
def extra_settings():
    return {"METRICS_TOKEN": TOKEN}


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def test_without_the_token_it_is_401_and_says_so(client):
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == "Bearer"


def test_an_emergency_shows_as_an_open_incident_and_critical_alerts_waiting(
    faro, people, text_faro, clock, client, monkeypatch
):
    monkeypatch.setattr(faro, "wake", lambda urgent=False: None)  # nobody sends: they wait
    monkeypatch.setattr("bot.metrics.utcnow", lambda: NIGHT + timedelta(seconds=90))
    clock.set(NIGHT)
    text_faro(people["ana"], "sos")

    figures = scrape(client)

    assert figures[("faro_database_up", ())] == 1
    assert figures[("faro_incidents_open", (("kind", "emergency"), ("severity", "critical")))] == 1
    assert figures[("faro_outbox_messages", (("status", "due"),))] >= 3  # buddy, nurse, coordinator
    assert figures[("faro_oldest_pending_critical_alert_seconds", ())] == 90
    assert figures[("faro_tick_age_seconds", ())] == -1  # no pass yet
    assert figures[("faro_spool_texts", ())] == 0


def test_after_a_pass_the_outbox_is_empty_and_the_tick_is_fresh(faro, people, client, monkeypatch):
    faro.run_pass(NIGHT)
    monkeypatch.setattr("bot.metrics.utcnow", lambda: NIGHT + timedelta(seconds=12))

    figures = scrape(client)

    assert figures[("faro_tick_age_seconds", ())] == 12
    assert figures[("faro_outbox_messages", (("status", "due"),))] == 0
    assert figures[("faro_oldest_pending_critical_alert_seconds", ())] == 0


def test_without_metrics_token_there_is_no_route(database_url, tmp_path):
    from app import create_app
    from tests.conftest import settings_for

    app = create_app(settings_for(database_url), instance_path=str(tmp_path))
    try:
        assert app.test_client().get("/metrics").status_code == 404
    finally:
        app.extensions["faro"].close()
