"""Settings are parsed strictly: a bad value stops start-up with one line naming the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"RUN_SCHEDULER": "maybe"}, "RUN_SCHEDULER"),
        ({"SMS_TRANSPORT": "carrier-pigeon"}, "SMS_TRANSPORT"),
        ({"DEFAULT_TIMEZONE": "America/Atlantis"}, "DEFAULT_TIMEZONE"),
        ({"DEFAULT_LANGUAGE": "fr"}, "DEFAULT_LANGUAGE"),
        ({"TICK_SECONDS": "soon"}, "TICK_SECONDS"),
        ({"TICK_SECONDS": "0"}, "TICK_SECONDS"),
        ({"PORT": "70000"}, "PORT"),
        ({"ADMIN_PHONES": "+524881000001,not-a-phone"}, "ADMIN_PHONES"),
        ({"PUBLIC_BASE_URL": "faro.example.org"}, "PUBLIC_BASE_URL"),
        ({"SMS_TRANSPORT": "twilio"}, "SMS_TRANSPORT=twilio"),
        ({"TWILIO_WHATSAPP_FROM": "+15005550006"}, "TWILIO_WHATSAPP_FROM"),
    ],
)
def test_it_rejects_a_malformed_value_naming_the_key(env, key):
    with pytest.raises(ConfigError, match=key):
        load_settings(env)


def test_twilio_needs_a_secret_key():
    env = {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_SMS_FROM": "+15005550006"}
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(env)


def test_twilio_needs_somebody_at_the_end_of_every_chain():
    env = {
        "SMS_TRANSPORT": "twilio",
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "t",
        "TWILIO_SMS_FROM": "+15005550006",
        "SECRET_KEY": "s",
    }
    with pytest.raises(ConfigError, match="^ADMIN_PHONES is required when SMS_TRANSPORT=twilio"):
        load_settings(env)


def test_python_app_py_names_the_missing_admin_phones_in_one_line(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "SMS_TRANSPORT": "twilio",
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "t",
        "TWILIO_SMS_FROM": "+15005550006",
        "SECRET_KEY": "s",
    }
    result = subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Faro cannot start: ADMIN_PHONES is required")


def test_without_credentials_it_uses_the_console():
    assert load_settings({}).sms_transport == "console"


def test_credentials_switch_to_twilio_and_voice_defaults_to_the_sms_sender():
    env = {
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "t",
        "TWILIO_SMS_FROM": "+15005550006",
        "SECRET_KEY": "s",
        "ADMIN_PHONES": "+528112345678",
    }
    settings = load_settings(env)
    assert settings.sms_transport == "twilio"
    assert settings.twilio_voice_from == "+15005550006"


def test_defaults_follow_the_public_contract():
    settings = load_settings({}, run_scheduler_default=True)
    assert settings.database_url == "sqlite:///instance/faro.db"
    assert settings.public_base_url == "http://127.0.0.1:5000"
    assert (settings.tick_seconds, settings.port, settings.run_scheduler) == (15, 5000, True)
    assert (settings.default_timezone, settings.default_language) == ("America/Monterrey", "es")
    assert load_settings({}).run_scheduler is False


def test_admin_phones_are_stored_as_e164():
    settings = load_settings({"ADMIN_PHONES": "81 1234 5678, +52 1 488 100 0001"})
    assert settings.admin_phones == ("+528112345678", "+524881000001")


def test_python_app_py_stops_with_one_line_on_a_bad_value(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "RUN_SCHEDULER": "maybe", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Faro cannot start: RUN_SCHEDULER='maybe'")
