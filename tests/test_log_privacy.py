"""The logs of a whole night under production settings (the Twilio transport, through the
real SDK to the local mock): one JSON object a line, and never what an intern wrote on the
mental-health path, nor a token or the secret key."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

from bot import logs
from tests import conftest
from tests.conftest import AUTH_TOKEN, at
from tests.twilio_mock import mock_env

SECRET_KEY = "s3cret-key-never-in-a-log-0123456789"
METRICS_TOKEN = "metrics-token-never-in-a-log-42"
NIGHT = at("2026-11-24T08:00:00-06:00")
# What she wrote that must stay on the mental-health path.
SELF_HARM = "ya no kiero vivir, me quiero morir"
SADNESS = "me siento sola y sin esperanza"


@pytest.fixture
def extra_settings(twilio):
    return mock_env(twilio.url, TWILIO_AUTH_TOKEN=AUTH_TOKEN, SECRET_KEY=SECRET_KEY,
                    METRICS_TOKEN=METRICS_TOKEN)  # fmt: skip


@pytest.fixture
def transport():
    return None  # the app builds its own TwilioTransport from the settings, as in production


@pytest.fixture
def captured(faro):
    stream = io.StringIO()
    handler = logs.configure(faro.settings, stream)
    yield stream
    handler.close()


def test_a_night_of_logs_keeps_her_words_and_the_secrets_out(
    faro, people, text_faro, clock, client, captured
):
    clock.set(NIGHT)
    faro.run_pass(NIGHT)
    text_faro(people["beto"], "ok")
    text_faro(people["beto"], SADNESS)
    clock.set(NIGHT + timedelta(minutes=5))
    text_faro(people["ana"], SELF_HARM)
    text_faro(people["ana"], "sos")
    forged = client.post("/twilio/sms", data={"MessageSid": "SMx", "From": people["ana"],
                                               "Body": SELF_HARM})  # fmt: skip
    assert forged.status_code == 403
    client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert faro.dispatcher.wait_idle(10)
    faro.run_pass(NIGHT + timedelta(hours=2))

    output = captured.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    assert any("forged" in line["message"] for line in lines)  # the capture works
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    for never in (SELF_HARM, "kiero vivir", SADNESS, "sin esperanza", AUTH_TOKEN, SECRET_KEY,
                  METRICS_TOKEN):  # fmt: skip
        assert never not in output


def test_a_secret_that_slips_into_a_message_or_a_traceback_is_redacted(faro, captured):
    import logging

    log = logging.getLogger("faro.test")
    log.warning("token %s", AUTH_TOKEN)
    try:
        raise RuntimeError(f"connecting with {SECRET_KEY}")
    except RuntimeError:
        log.exception("failed")

    output = captured.getvalue()
    assert AUTH_TOKEN not in output and SECRET_KEY not in output
    assert output.count(logs.REDACTED) == 2


def test_developers_get_plain_lines(database_url, tmp_path):
    from app import create_app

    app = create_app(conftest.settings_for(database_url), instance_path=str(tmp_path))
    try:
        stream = io.StringIO()
        logs.configure(app.extensions["faro"].settings, stream)
        import logging

        logging.getLogger("faro.test").warning("hola")
        assert stream.getvalue().endswith("WARNING faro.test: hola\n")
    finally:
        app.extensions["faro"].close()
