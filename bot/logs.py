"""Faro's logs: one JSON object per line in production (SMS_TRANSPORT=twilio), plain lines for
a developer, and never a secret.

What a log line may say is decided where it is written: phone numbers, ids, codes and reasons,
never the body of a text (the console transport, for development only, prints what it would
send; it never runs with real people). Whatever slips through, the formatter replaces the
settings' secrets (the Twilio auth token, the secret key, the metrics token, a database
password) with `[redacted]`, tracebacks included.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter
from sqlalchemy.engine import make_url

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
REDACTED = "[redacted]"
_HANDLER_NAME = "faro"


class Redacting(logging.Formatter):
    """Another formatter's output with the secrets taken out."""

    def __init__(self, inner: logging.Formatter, secrets: tuple[str, ...]):
        super().__init__()
        self.inner = inner
        self.secrets = tuple(sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True))

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)
        for secret in self.secrets:
            line = line.replace(secret, REDACTED)
        return line


def secrets_of(settings) -> tuple[str, ...]:
    password = make_url(settings.database_url).password or ""
    return (settings.twilio_auth_token, settings.secret_key, settings.metrics_token, password)


def formatter(settings) -> logging.Formatter:
    """JSON in production, a plain line otherwise; redacting either way."""
    if settings.sms_transport == "twilio":
        inner: logging.Formatter = JsonFormatter(
            JSON_FIELDS,
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )
    else:
        inner = logging.Formatter(TEXT_FORMAT)
    return Redacting(inner, secrets_of(settings))


def configure(settings, stream: TextIO | None = None) -> logging.Handler:
    """Faro's one handler on the root logger (replacing its own from an earlier app in this
    process: tests build many)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter(settings))
    root.addHandler(handler)
    if root.level == logging.WARNING or root.level == logging.NOTSET:  # Python's default
        root.setLevel(logging.INFO)
    return handler
