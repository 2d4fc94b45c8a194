"""What TwilioTransport sends is what Twilio's own OpenAPI description accepts.

Prism serves `tests/data/twilio/twilio_api_v2010.json` (Twilio's published spec, MIT) and
validates every request against it: a missing or misnamed parameter, a malformed sid or
callback URL, or no Basic auth gets a 422/401 with the reasons instead of a message sid. The
real SDK sends through the same `TWILIO_API_BASE_URL` switch production has.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.transports import Envelope, TransportError, TwilioTransport
from escalation.base.models import SMS, WHATSAPP
from tests.conftest import unavailable
from tests.twilio_mock import MESSAGING_SERVICE_SID, mock_env

pytestmark = pytest.mark.prism

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "tests" / "data" / "twilio" / "twilio_api_v2010.json"  # with its LICENSE
START_SECONDS = 60
CALLBACK = "https://faro.example.org/twilio/status?id=41"
ROSA = "+524881000003"
ALERT = "Ana Lopez pidio ayuda. Responde ATIENDO 4821"


def prism_binary() -> Path:
    configured = os.environ.get("FARO_PRISM")
    return Path(configured) if configured else REPO / ".ci/prism/node_modules/.bin/prism"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(process: subprocess.Popen, port: int, log: Path) -> None:
    """Poll until Prism accepts connections (it reads the whole spec first), at most a minute."""
    for _ in range(START_SECONDS * 10):
        if process.poll() is not None:
            unavailable(f"Prism exited with {process.returncode}: {_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return
        except OSError:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.1)  # a pause that also notices Prism dying
    unavailable(f"Prism did not listen within {START_SECONDS} s: {_tail(log)}")


def _tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def prism(tmp_path_factory):
    """The base URL of Prism mocking Twilio's REST API from Twilio's own spec."""
    binary = prism_binary()
    if not binary.exists():
        unavailable(f"Prism is not installed at {binary} (npm ci in .ci/prism, or set FARO_PRISM)")
    port = free_port()
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(binary), "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_listening(process, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def transport_for(url: str, **extra: str) -> TwilioTransport:
    return TwilioTransport(load_settings(mock_env(url, **extra)))


def send_or_explain(transport: TwilioTransport, envelope: Envelope) -> str:
    """Send; when Prism refuses, fail with its reasons (the body of its 4xx answer)."""
    try:
        return transport.send(envelope)
    except TransportError as exc:
        answer = getattr(transport.http, "_test_only_last_response", None)
        pytest.fail(f"Twilio's spec refuses what we send: {exc.reason}\n{answer and answer.text}")
    finally:
        transport.close()


def test_an_sms_matches_twilios_spec(prism):
    sid = send_or_explain(transport_for(prism), Envelope(41, SMS, ROSA, ALERT, CALLBACK))
    assert re.fullmatch(r"SM[0-9a-fA-F]{32}", sid)


def test_a_whatsapp_message_matches_twilios_spec(prism):
    sid = send_or_explain(transport_for(prism), Envelope(42, WHATSAPP, ROSA, ALERT, CALLBACK))
    assert re.fullmatch(r"SM[0-9a-fA-F]{32}", sid)


def test_an_sms_through_a_messaging_service_matches_twilios_spec(prism):
    transport = transport_for(prism, TWILIO_MESSAGING_SERVICE_SID=MESSAGING_SERVICE_SID)
    sid = send_or_explain(transport, Envelope(43, SMS, ROSA, "Señal débil ¿todo bien?", CALLBACK))
    assert re.fullmatch(r"SM[0-9a-fA-F]{32}", sid)


def test_a_message_without_a_callback_matches_twilios_spec(prism):
    sid = send_or_explain(transport_for(prism), Envelope(44, SMS, ROSA, "Buenos dias"))
    assert re.fullmatch(r"SM[0-9a-fA-F]{32}", sid)


def test_prism_does_refuse_what_the_spec_forbids(prism):
    """The contract has teeth: a request outside the spec is refused, and for good."""
    transport = transport_for(prism, TWILIO_MESSAGING_SERVICE_SID="MG-not-a-service-sid")
    try:
        with pytest.raises(TransportError) as caught:
            transport.send(Envelope(45, SMS, ROSA, "hola", "not a callback url"))
    finally:
        transport.close()
    assert caught.value.permanent is True
    assert caught.value.reason.startswith("Twilio 422")
    reasons = transport.http._test_only_last_response.text
    assert "MessagingServiceSid" in reasons and "StatusCallback" in reasons


def test_prism_wants_basic_auth(prism):
    """Without credentials Prism answers 401, as Twilio does: our SDK call always carries them."""
    import requests

    account = mock_env(prism)["TWILIO_ACCOUNT_SID"]
    url = f"{prism}/2010-04-01/Accounts/{account}/Messages.json"
    with requests.Session() as session:
        response = session.post(url, data={"To": ROSA, "From": "+15005550006", "Body": "hola"})
    assert response.status_code == 401
