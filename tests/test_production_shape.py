"""The production shape on loopback, as the README's operator guide sets it up: gunicorn with
the shipped gunicorn.conf.py, one scheduler process (the unit's command line), PostgreSQL,
the Twilio transport through the real SDK to the local mock. An emergency goes from a signed
webhook to an acknowledged, resolved case, and /metrics says so along the way."""

from __future__ import annotations

import json
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.shape import Shape, get, shape_env, text, wait

TOKEN = "metrics-0123456789abcdef"
ANA, ROSA = "+528112345678", "+528111112222"  # tests/data/roster_good.csv, as stored


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_gunicorn_and_a_scheduler_on_postgresql_from_sos_to_resolved(
    database_url, twilio, tmp_path
):
    env = shape_env(database_url, twilio.url, tmp_path, METRICS_TOKEN=TOKEN)
    with Shape(env, tmp_path) as shape:
        shape.flask("import-roster", "tests/data/roster_good.csv")
        base = shape.gunicorn()
        shape.scheduler()
        wait(lambda: get(f"{base}/health")[0] == 200, "a scheduler pass seen by /health")
        assert metric(base, "faro_tick_age_seconds") < 10

        assert "avisando a tu equipo" in text(base, ANA, "sos")
        wait(lambda: any(m["To"] == f"whatsapp:{ROSA}" for m in twilio.messages()),
             "the nurse's alert at Twilio")  # fmt: skip
        assert metric(base, "faro_incidents_open", kind="emergency", severity="critical") == 1
        alert = next(m["Body"] for m in twilio.messages() if m["To"] == f"whatsapp:{ROSA}")
        code = re.search(r"ATIENDO (\w+)", alert).group(1)

        assert code in text(base, f"whatsapp:{ROSA}", f"ATIENDO {code}")
        text(base, f"whatsapp:{ROSA}", f"LISTO {code}")
        assert metric(base, "faro_incidents_open", kind="emergency", severity="critical") == 0
        shape.stop_all()
    for log in ("web.log", "scheduler.log"):
        lines = (tmp_path / log).read_text().splitlines()
        assert lines, log
        assert all(json.loads(line)["level"] for line in lines), log  # one JSON object a line


def metric(base: str, name: str, **labels: str) -> float:
    status, text = get(f"{base}/metrics", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0 if labels else pytest.fail(f"{name} not in /metrics")
