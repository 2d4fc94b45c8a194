"""A small local server that speaks enough of Twilio's REST API (2010-04-01) for Faro's tests.

It answers `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` and `.../Calls.json` the way
Twilio does (HTTP Basic auth, form-encoded parameters, 201 with a JSON resource), records every
request, and can be told how to answer the next ones: a Twilio error, a 5xx, a body that is not
JSON, a dropped connection or a stall past the client's timeout. The real `twilio` SDK talks to
it through `TWILIO_API_BASE_URL`; nothing in the SDK is patched.

    with TwilioMock() as twilio:
        twilio.answer_next(twilio_error(21211))
        transport = TwilioTransport(load_settings(mock_env(twilio.url)))
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "mock-auth-token-fedcba9876543210"
SMS_FROM = "+15005550006"
WHATSAPP_FROM = "whatsapp:+14155238886"
MESSAGING_SERVICE_SID = "MG" + "fedcba9876543210" * 2

_RESOURCE = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/(?P<kind>Messages|Calls)\.json$")
STALL_LIMIT_SECONDS = 30  # a stalled answer gives up by itself even if nobody releases it

# What Twilio says for the errors the tests script (https://www.twilio.com/docs/api/errors).
ERRORS = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21201: (400, "No 'To' number is specified"),
    21205: (400, "Url parameter is required."),
    21211: (400, "The 'To' number is not a valid phone number."),
    21213: (400, "No 'From' number is specified"),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' or 'MessagingServiceSid' parameter is required to send a message."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
    63016: (
        400,
        "Failed to send freeform message because you are outside the allowed window. "
        "If you are using WhatsApp, please use a Message Template.",
    ),
}
_BY_STATUS = {429: 20429, 500: 20500, 503: 20503}


def error_body(code: int) -> dict:
    status, message = ERRORS[code]
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


# --- scripted answers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """How to answer one request instead of accepting it."""

    status: int = 201
    body: bytes = b""
    content_type: str = "application/json"
    hang_up: bool = False  # close the connection without a word
    stall: bool = False  # wait (until released) before answering: the client times out


def twilio_error(code: int) -> Answer:
    """Twilio's own error answer for `code` (21211, 21610, 63016, 20503 …)."""
    return Answer(ERRORS[code][0], json.dumps(error_body(code)).encode())


def http_error(status: int) -> Answer:
    """A 429 or 5xx as Twilio sends it (with its JSON error body)."""
    return twilio_error(_BY_STATUS[status])


def garbage(status: int = 201, body: bytes = b"<html><body>Bad gateway</body></html>") -> Answer:
    """A success status whose body is not Twilio's JSON (a proxy's page, a truncated answer)."""
    return Answer(status, body, content_type="text/html")


def hang_up() -> Answer:
    return Answer(hang_up=True)


def stall() -> Answer:
    return Answer(stall=True)


# --- what was received -----------------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    form: dict[str, str]
    auth: tuple[str, str] | None
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None  # what the mock answered (set before the answer leaves)
    answer: dict | None = None  # the JSON resource or error, when the answer was JSON
    received_at: float = field(default_factory=time.perf_counter)  # for latency benchmarks

    @property
    def resource(self) -> str | None:
        """`Messages` or `Calls`, from the path."""
        match = _RESOURCE.match(self.path)
        return match["kind"] if match else None


# --- the server ------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    # Non-daemon handler threads, joined on close: no thread or socket outlives the test.
    daemon_threads = False
    block_on_close = True


class TwilioMock:
    """A recording Twilio on 127.0.0.1 (a free port), served from a thread."""

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.received: list[Received] = []
        self._answers: list[Answer] = []
        self._down: Answer | None = None  # every request, until `recover` (an outage)
        self._refused: dict[str, Answer] = {}  # by `To`, for good (a number Twilio rejects)
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> TwilioMock:
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="twilio-mock", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._release.set()  # let stalled answers finish so their threads can be joined
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> TwilioMock:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # scripting and inspection

    def answer_next(self, *answers: Answer) -> None:
        """Answer the next requests with these, in order; then accept again."""
        with self._lock:
            self._answers.extend(answers)

    def go_down(self, answer: Answer) -> None:
        """Answer every request with `answer` until `recover()`: a provider-wide outage."""
        with self._lock:
            self._down = answer

    def recover(self) -> None:
        with self._lock:
            self._down = None

    def refuse(self, to: str, answer: Answer) -> None:
        """Answer every request to `to` with `answer`, for good (a number Twilio rejects)."""
        with self._lock:
            self._refused[to] = answer

    def accepted(self) -> list[Received]:
        """The requests the mock accepted (201), in the order they came."""
        with self._lock:
            return [r for r in self.received if r.status == 201]

    def messages(self) -> list[dict[str, str]]:
        """The form of every Messages.json request received, in order."""
        with self._lock:
            return [r.form for r in self.received if r.resource == "Messages"]

    def calls(self) -> list[dict[str, str]]:
        with self._lock:
            return [r.form for r in self.received if r.resource == "Calls"]

    def sids(self) -> dict[str, str]:
        """`To` → sid of every message the mock accepted (the last one per recipient)."""
        with self._lock:
            return {
                r.form.get("To", ""): r.answer["sid"]
                for r in self.received
                if r.resource == "Messages" and r.status == 201 and r.answer and "sid" in r.answer
            }

    # used by the handler

    def _record(self, request: Received) -> Answer | None:
        with self._lock:
            self.received.append(request)
            if self._answers:
                return self._answers.pop(0)
            return self._down or self._refused.get(request.form.get("To", ""))

    def _wait_released(self) -> None:
        self._release.wait(STALL_LIMIT_SECONDS)

    def respond(self, request: Received) -> tuple[int, dict]:
        """Twilio's answer to a request that nobody scripted."""
        if request.auth != (self.account_sid, self.auth_token):
            return 401, error_body(20003)
        match = _RESOURCE.match(request.path)
        if request.method != "POST" or not match or match["account"] != self.account_sid:
            return 404, error_body(20404)
        if match["kind"] == "Messages":
            return _create_message(self.account_sid, request.form)
        return _create_call(self.account_sid, request.form)


def _now_rfc2822() -> str:
    return formatdate(usegmt=True).replace("GMT", "+0000")


def _create_message(account: str, form: dict[str, str]) -> tuple[int, dict]:
    if not form.get("To"):
        return 400, error_body(21604)
    if not (form.get("From") or form.get("MessagingServiceSid")):
        return 400, error_body(21603)
    if not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid")):
        return 400, error_body(21602)
    sid = "SM" + secrets.token_hex(16)
    body = form.get("Body", "")
    segments = 1 if len(body) <= 160 else -(-len(body) // 153)
    now = _now_rfc2822()
    return 201, {
        "account_sid": account,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "num_media": "0",
        "num_segments": str(segments),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "accepted" if form.get("MessagingServiceSid") else "queued",
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{account}/Messages/{sid}/Media.json"},
        "to": form["To"],
        "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
    }


def _create_call(account: str, form: dict[str, str]) -> tuple[int, dict]:
    if not form.get("To"):
        return 400, error_body(21201)
    if not form.get("From"):
        return 400, error_body(21213)
    if not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
        return 400, error_body(21205)
    sid = "CA" + secrets.token_hex(16)
    now = _now_rfc2822()
    return 201, {
        "account_sid": account,
        "api_version": "2010-04-01",
        "answered_by": None,
        "caller_name": None,
        "date_created": now,
        "date_updated": now,
        "direction": "outbound-api",
        "duration": None,
        "end_time": None,
        "forwarded_from": None,
        "from": form["From"],
        "from_formatted": form["From"],
        "parent_call_sid": None,
        "phone_number_sid": None,
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "start_time": None,
        "status": "queued",
        "subresource_uris": {},
        "to": form["To"],
        "to_formatted": form["To"],
        "uri": f"/2010-04-01/Accounts/{account}/Calls/{sid}.json",
    }


def _json_or_none(body: bytes) -> dict | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def _handler_for(mock: TwilioMock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "TwilioMock/1.0"

        def do_POST(self) -> None:
            self._handle()

        def do_GET(self) -> None:
            self._handle()

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            request = Received(
                method=self.command,
                path=urlsplit(self.path).path,
                form=dict(parse_qsl(raw, keep_blank_values=True)),
                auth=_basic_auth(self.headers.get("Authorization", "")),
                headers=dict(self.headers.items()),
            )
            answer = mock._record(request)
            if answer is None:
                status, payload = mock.respond(request)
                answer = Answer(status, json.dumps(payload).encode())
            request.status = answer.status
            request.answer = _json_or_none(answer.body)
            self._answer(answer)

        def _answer(self, answer: Answer) -> None:
            if answer.hang_up:
                self.close_connection = True
                return
            if answer.stall:
                mock._wait_released()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except OSError:  # the client gave up on a stalled answer: nobody is listening
                self.close_connection = True

        def log_message(self, format, *args) -> None:  # quiet: the tests read `received`
            pass

    return Handler


def mock_env(url: str, **extra: str) -> dict[str, str]:
    """Settings (as environment keys) for a TwilioTransport that talks to the mock at `url`."""
    return {
        "SMS_TRANSPORT": "twilio",
        "TWILIO_API_BASE_URL": url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_SMS_FROM": SMS_FROM,
        "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM,
        "SECRET_KEY": "x",
        "ADMIN_PHONES": "+528100000099",
        "TWILIO_MPS": "1000",  # the pace is tested on its own (tests/test_pacing.py)
        **extra,
    }
