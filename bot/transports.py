"""Transports: one small interface, `send(envelope) -> provider id`, raising TransportError.

`TwilioTransport` is the real `twilio` SDK. Its HTTP client can be pointed at any server that
speaks Twilio's REST API (`TWILIO_API_BASE_URL`): the tests' recording server, or Prism serving
Twilio's own OpenAPI description.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.config import Settings
from escalation.base.channels import CHANNELS
from escalation.base.models import SMS, VOICE, WHATSAPP

log = logging.getLogger(__name__)
# The SDK logs every request's method, URL, headers and response at INFO: nine lines a text.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

TIMEOUT_SECONDS = 10


class TransportError(Exception):
    def __init__(self, reason: str, *, permanent: bool = False, code: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.code = code


@dataclass(frozen=True)
class Envelope:
    """What a transport needs to send one outbox row (plain data: sent outside any session)."""

    id: int
    channel: str
    to: str
    body: str
    status_callback: str | None = None
    # A WhatsApp template (approved Content API template) instead of free text.
    content_sid: str | None = None
    content_variables: str | None = None  # JSON object, e.g. {"1": "Ana"}


class ConsoleTransport:
    """Development transport: logs the message; the simulator reads the outbox row itself."""

    name = "console"

    def send(self, envelope: Envelope) -> str:
        what = "call" if envelope.channel == VOICE else envelope.channel
        log.warning("[console %s → %s] %s", what, envelope.to, envelope.body)
        return f"console-{envelope.id}"


class _RebasedHttpClient(TwilioHttpClient):
    """Sends the SDK's requests to `base_url` instead of https://*.twilio.com."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.base = urlsplit(base_url)

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        if self.base.netloc and parts.netloc.endswith("twilio.com"):
            path = self.base.path.rstrip("/") + parts.path
            url = urlunsplit(
                (self.base.scheme, self.base.netloc, path, parts.query, parts.fragment)
            )
        return super().request(method, url, *args, **kwargs)


class TwilioTransport:
    name = "twilio"

    def __init__(self, settings: Settings, *, timeout: float = TIMEOUT_SECONDS):
        self.settings = settings
        self.http = (
            _RebasedHttpClient(settings.twilio_api_base_url, timeout=timeout)
            if settings.twilio_api_base_url
            else TwilioHttpClient(timeout=timeout)
        )
        self.client = Client(
            settings.twilio_account_sid, settings.twilio_auth_token, http_client=self.http
        )

    def send(self, envelope: Envelope) -> str:
        sender = SENDERS.get(envelope.channel)
        if sender is None:
            raise TransportError(f"no Twilio sender for {envelope.channel!r}", permanent=True)
        create, params = sender(self, envelope)
        return self._create(create, params)

    def _create(self, create, params: dict[str, str]) -> str:
        try:
            resource = create(**params)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _classify(exc) from exc
        except requests.Timeout as exc:  # before RequestException: it is one
            raise TransportError("Twilio did not answer in time") from exc
        except requests.RequestException as exc:  # refused, reset, DNS, TLS, a broken answer …
            raise TransportError(f"Twilio unreachable: {exc.__class__.__name__}") from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # a 2xx whose body is not Twilio's JSON object (a proxy's page, a list, a string)
            raise TransportError(f"unreadable Twilio response: {exc.__class__.__name__}") from exc
        if not isinstance(resource.sid, str) or not resource.sid:
            raise TransportError("Twilio response without a sid")
        return resource.sid

    def _call(self, envelope: Envelope) -> tuple[Callable, dict[str, str]]:
        """A voice escalation: Twilio fetches what to say from us (signed /twilio/voice/<id>)
        and reports the call's outcome to its status callback."""
        if not self.settings.twilio_voice_from:
            raise TransportError("voice is off (TWILIO_VOICE_FROM unset)", permanent=True)
        base = f"{self.settings.public_base_url}/twilio/voice/{envelope.id}"
        return self.client.calls.create, {
            "to": envelope.to,
            "from_": self.settings.twilio_voice_from,
            "url": base,
            "method": "POST",
            "status_callback": f"{base}/status",
            "status_callback_method": "POST",
        }

    def close(self) -> None:
        """Release the pooled HTTP connections (idempotent)."""
        if self.http.session is not None:
            self.http.session.close()

    def _text(self, envelope: Envelope) -> dict[str, str]:
        params = {"to": envelope.to, "body": envelope.body}
        if envelope.status_callback:
            params["status_callback"] = envelope.status_callback
        return params

    def _sms(self, envelope: Envelope) -> tuple[Callable, dict[str, str]]:
        params = self._text(envelope)
        if self.settings.twilio_messaging_service_sid:
            params["messaging_service_sid"] = self.settings.twilio_messaging_service_sid
        else:
            params["from_"] = self.settings.twilio_sms_from
        return self.client.messages.create, params

    def _whatsapp(self, envelope: Envelope) -> tuple[Callable, dict[str, str]]:
        if not self.settings.twilio_whatsapp_from:
            raise TransportError("WhatsApp is off (TWILIO_WHATSAPP_FROM unset)", permanent=True)
        params = self._text(envelope)
        params["to"] = CHANNELS[WHATSAPP].address(envelope.to)
        params["from_"] = self.settings.twilio_whatsapp_from
        if envelope.content_sid:  # outside the 24-hour session: only a template is allowed
            del params["body"]
            params["content_sid"] = envelope.content_sid
            if envelope.content_variables:
                params["content_variables"] = envelope.content_variables
        return self.client.messages.create, params


# One sender per channel of the registry (escalation.base.channels); a test checks none lacks.
SENDERS = {SMS: TwilioTransport._sms, WHATSAPP: TwilioTransport._whatsapp,
           VOICE: TwilioTransport._call}  # fmt: skip


def _classify(exc: TwilioRestException | TwilioServiceException) -> TransportError:
    status = exc.status or 0
    # Without a Twilio error code in the body the SDK repeats the HTTP status as the code;
    # an HTTP status is not a Twilio error code, so it is not stored as one.
    code = str(exc.code) if exc.code and exc.code != status else None
    detail = exc.msg if isinstance(exc, TwilioRestException) else (exc.detail or exc.title)
    reason = f"Twilio {status}{f' {code}' if code else ''}: {detail}"
    # 429 and 5xx are Twilio's to recover from; 401/403 (and 404: no such account at that
    # address) mean our credentials or TWILIO_API_BASE_URL, which an operator will fix: keep
    # the message queued rather than drop an alarm. Any other 4xx (21211 invalid number, 21610
    # opted out, 21614 not a mobile, 63016 outside the WhatsApp window …) is about this
    # message, and sending it again would fail the same way.
    temporary = status == 429 or status >= 500 or status in (401, 403, 404)
    return TransportError(reason, permanent=not temporary, code=code)


def make_transport(settings: Settings):
    return TwilioTransport(settings) if settings.sms_transport == "twilio" else ConsoleTransport()
