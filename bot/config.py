"""Settings: read once from the environment (and an optional `.env`), parsed strictly.

A malformed value stops start-up with one line naming the key and what is allowed, so an
operator never finds out at 3 a.m. that `RUN_SCHEDULER=yes please` silently meant "no".
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from escalation.base.config import DomainConfig
from escalation.base.models import WHATSAPP

log = logging.getLogger(__name__)

TRANSPORTS = ("console", "twilio")
LANGUAGES = ("es", "en")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the key."""


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///instance/faro.db"
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    public_base_url: str = "http://127.0.0.1:5000"
    sms_transport: str = "console"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_sms_from: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_whatsapp_from: str = ""
    twilio_voice_from: str = ""
    twilio_api_base_url: str = ""
    twilio_whatsapp_checkin_content_sid: str = ""
    run_scheduler: bool = False
    tick_seconds: int = 15
    admin_phones: tuple[str, ...] = ()
    default_timezone: str = "America/Monterrey"
    default_language: str = "es"
    port: int = 5000
    metrics_token: str = ""
    twilio_mps: float = 1.0  # what the sender may send per second (a long code: about 1)

    @cached_property
    def domain(self) -> DomainConfig:
        """What the domain may know of these settings (built once per Settings)."""
        return DomainConfig(
            admin_phones=self.admin_phones,
            senders=frozenset({WHATSAPP} if self.twilio_whatsapp_from else ()),
            whatsapp_checkin_template=self.twilio_whatsapp_checkin_content_sid,
            default_timezone=self.default_timezone,
            default_language=self.default_language,
            sender_mps=self.sender_mps,
        )

    @property
    def sender_mps(self) -> float | None:
        """The pace the outbox keeps: TWILIO_MPS through Twilio; none for the console."""
        return self.twilio_mps if self.sms_transport == "twilio" else None

    @property
    def has_twilio_credentials(self) -> bool:
        sender = self.twilio_sms_from or self.twilio_messaging_service_sid
        return bool(self.twilio_account_sid and self.twilio_auth_token and sender)


def _flag(env: Mapping[str, str], key: str, default: bool) -> bool:
    raw = env.get(key, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{key}={env[key]!r} is not a yes/no value; use 1 or 0")


def _integer(env: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    return _ranged(env, key, default, low, high, int, "a whole number")


def _number(env: Mapping[str, str], key: str, default: float, low: float, high: float) -> float:
    return _ranged(env, key, default, low, high, float, "a number")


def _ranged(env: Mapping[str, str], key: str, default, low, high, parse, what: str):
    """`key` read by `parse` (int or float) within low..high; a bad value names the key."""
    raw = env.get(key, "").strip()
    if not raw:
        return default
    show = str if parse is int else "{:g}".format
    span = f"({show(low)}..{show(high)})"
    try:
        value = parse(raw)
    except ValueError:
        raise ConfigError(f"{key}={raw!r} is not {what} {span}") from None
    if not low <= value <= high:  # (NaN fails this too)
        raise ConfigError(f"{key}={show(value)} is out of range {span}")
    return value


def _choice(env: Mapping[str, str], key: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(key, "").strip().lower() or default
    if raw not in allowed:
        raise ConfigError(f"{key}={env[key]!r} is not allowed; use one of: {', '.join(allowed)}")
    return raw


def _timezone(env: Mapping[str, str], key: str, default: str) -> str:
    raw = env.get(key, "").strip() or default
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{key}={raw!r} is not an IANA time zone (e.g. America/Monterrey)"
        ) from None
    return raw


def _phones(env: Mapping[str, str], key: str) -> tuple[str, ...]:
    from escalation.base.phones import BadPhone, normalize_phone

    phones = []
    for raw in filter(None, (p.strip() for p in env.get(key, "").split(","))):
        try:
            phones.append(normalize_phone(raw))
        except BadPhone:
            raise ConfigError(
                f"{key}: {raw!r} is not a valid phone number (E.164, comma-separated)"
            ) from None
    return tuple(phones)


def _url(env: Mapping[str, str], key: str, default: str) -> str:
    raw = env.get(key, "").strip() or default
    if raw and not raw.startswith(("http://", "https://")):
        raise ConfigError(f"{key}={raw!r} must start with http:// or https://")
    return raw.rstrip("/")


def load_settings(env: Mapping[str, str], *, run_scheduler_default: bool = False) -> Settings:
    """Parse settings from a mapping of environment variables; raise ConfigError on bad input."""
    text = {k: env.get(k, "").strip() for k in _TEXT_KEYS}
    explicit_transport = env.get("SMS_TRANSPORT", "").strip()
    settings = Settings(
        database_url=_database_url(env.get("DATABASE_URL", "").strip() or Settings.database_url),
        public_base_url=_url(env, "PUBLIC_BASE_URL", Settings.public_base_url),
        twilio_api_base_url=_url(env, "TWILIO_API_BASE_URL", ""),
        run_scheduler=_flag(env, "RUN_SCHEDULER", run_scheduler_default),
        tick_seconds=_integer(env, "TICK_SECONDS", 15, 1, 3600),
        admin_phones=_phones(env, "ADMIN_PHONES"),
        default_timezone=_timezone(env, "DEFAULT_TIMEZONE", "America/Monterrey"),
        default_language=_choice(env, "DEFAULT_LANGUAGE", "es", LANGUAGES),
        port=_integer(env, "PORT", 5000, 1, 65535),
        twilio_mps=_number(env, "TWILIO_MPS", 1.0, 0.1, 10_000),
        sms_transport=_choice(env, "SMS_TRANSPORT", "console", TRANSPORTS),
        **{k.lower(): v for k, v in text.items()},
        **({"secret_key": env["SECRET_KEY"].strip()} if env.get("SECRET_KEY", "").strip() else {}),
    )
    return _pick_transport(settings, explicit_transport, env)


_TEXT_KEYS = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_SMS_FROM",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_WHATSAPP_FROM",
    "TWILIO_VOICE_FROM",
    "TWILIO_WHATSAPP_CHECKIN_CONTENT_SID",
    "METRICS_TOKEN",
)

_URL_EXAMPLES = "postgresql://faro@db.example/faro or sqlite:///instance/faro.db"


def _database_url(raw: str) -> str:
    """A SQLAlchemy URL for PostgreSQL (through psycopg 3, the driver Faro ships) or SQLite."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            f"DATABASE_URL is not a database URL; write it like {_URL_EXAMPLES}"
        ) from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        return raw
    if backend not in ("postgresql", "postgres"):
        raise ConfigError(
            f"DATABASE_URL: Faro runs on PostgreSQL or SQLite, not {backend!r}; "
            f"write it like {_URL_EXAMPLES}"
        )
    if url.drivername not in ("postgresql+psycopg",):  # postgres://, postgresql://, +psycopg2
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _pick_transport(settings: Settings, explicit: str, env: Mapping[str, str]) -> Settings:
    from dataclasses import replace

    if settings.twilio_whatsapp_from and not settings.twilio_whatsapp_from.startswith("whatsapp:"):
        raise ConfigError("TWILIO_WHATSAPP_FROM must look like whatsapp:+521...")
    if not settings.twilio_voice_from and settings.twilio_sms_from:
        settings = replace(settings, twilio_voice_from=settings.twilio_sms_from)
    if settings.sms_transport == "twilio" or (not explicit and settings.has_twilio_credentials):
        if not settings.has_twilio_credentials:
            raise ConfigError(
                "SMS_TRANSPORT=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                "TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID"
            )
        if not env.get("SECRET_KEY", "").strip():
            raise ConfigError("SECRET_KEY is required when SMS_TRANSPORT=twilio")
        if not settings.admin_phones:
            # The end of every escalation chain must be somebody.
            raise ConfigError(
                "ADMIN_PHONES is required when SMS_TRANSPORT=twilio: the on-call "
                "administrators' phones (E.164, comma-separated), the end of every alarm"
            )
        return replace(settings, sms_transport="twilio")
    if not explicit:
        log.info("No Twilio credentials: messages go to the console transport")
    return replace(settings, sms_transport="console")


def environment(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings source: the process environment with `.env` loaded once (never overriding
    real variables), or, when a test passes its own mapping, exactly that mapping."""
    from dotenv import load_dotenv

    if overrides is not None:
        return dict(overrides)
    load_dotenv(override=False)
    return dict(os.environ)
