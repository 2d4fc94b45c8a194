"""The production shape on loopback, as the README's operator guide sets it up: gunicorn with
the shipped gunicorn.conf.py, one scheduler process (the unit's command line), PostgreSQL,
the Twilio transport through the real SDK to the local mock. An emergency goes from a signed
webhook to an acknowledged, resolved case, and /metrics says so along the way."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from twilio.request_validator import RequestValidator

from tests.conftest import AUTH_TOKEN, PUBLIC_URL
from tests.pg import _free_port
from tests.twilio_mock import TwilioMock, mock_env

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TOKEN = "metrics-0123456789abcdef"
ANA, ROSA = "+528112345678", "+528111112222"  # tests/data/roster_good.csv, as stored


@pytest.fixture
def twilio():
    with TwilioMock(auth_token=AUTH_TOKEN) as mock:
        yield mock


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_gunicorn_and_a_scheduler_on_postgresql_from_sos_to_resolved(
    database_url, twilio, tmp_path
):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        **mock_env(twilio.url, TWILIO_AUTH_TOKEN=AUTH_TOKEN),
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": PUBLIC_URL,
        "SECRET_KEY": "production-shape-secret",
        "METRICS_TOKEN": TOKEN,
        "TICK_SECONDS": "1",
    }
    flask = [str(BIN / "flask"), "--app", "app"]
    imported = subprocess.run([*flask, "import-roster", "tests/data/roster_good.csv"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    web = start([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                 "app:create_app()"], env, tmp_path / "web.log")  # fmt: skip
    scheduler = start([*flask, "scheduler"], env, tmp_path / "scheduler.log")
    try:
        wait(lambda: get(f"{base}/health")[0] == 200, "a scheduler pass seen by /health")
        assert metric(base, "faro_tick_age_seconds") < 10

        assert "avisando a tu equipo" in post_sms(base, ANA, "sos")
        wait(lambda: any(m["To"] == f"whatsapp:{ROSA}" for m in twilio.messages()),
             "the nurse's alert at Twilio")  # fmt: skip
        assert metric(base, "faro_incidents_open", kind="emergency", severity="critical") == 1
        alert = next(m["Body"] for m in twilio.messages() if m["To"] == f"whatsapp:{ROSA}")
        code = re.search(r"ATIENDO (\w+)", alert).group(1)

        assert code in post_sms(base, f"whatsapp:{ROSA}", f"ATIENDO {code}")
        post_sms(base, f"whatsapp:{ROSA}", f"LISTO {code}")
        assert metric(base, "faro_incidents_open", kind="emergency", severity="critical") == 0
    finally:
        for process in (scheduler, web):
            process.terminate()
            process.wait(timeout=60)
            process.log.close()
    for log in ("web.log", "scheduler.log"):
        lines = (tmp_path / log).read_text().splitlines()
        assert lines, log
        assert all(json.loads(line)["level"] for line in lines), log  # one JSON object a line


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = open(log, "w")  # noqa: SIM115 (closed with the process, below)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    process.log = handle
    return process


def wait(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {seconds} s")


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


_sid = iter(range(1, 1_000_000))


def post_sms(base: str, sender: str, body: str) -> str:
    params = {"MessageSid": f"SM{next(_sid):032d}", "From": sender, "To": "+15005550006",
              "Body": body}  # fmt: skip
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC_URL}/twilio/sms", params)
    data = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(f"{base}/twilio/sms", data=data,
                                     headers={"X-Twilio-Signature": signature})  # fmt: skip
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.read().decode()


def metric(base: str, name: str, **labels: str) -> float:
    status, text = get(f"{base}/metrics", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0 if labels else pytest.fail(f"{name} not in /metrics")
