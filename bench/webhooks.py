"""Benchmark: signed inbound webhooks against Faro served by gunicorn, on SQLite or PostgreSQL.

    .venv/bin/python bench/webhooks.py --engine sqlite
    .venv/bin/python bench/webhooks.py --engine postgresql

Prints requests/s and p50/p99 latency for N signed `ok` texts (from distinct interns), and the
time from an emergency text to the first alert accepted by a local Twilio mock (p50/p99).
Traffic goes to 127.0.0.1 only, and the run stops by itself.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from escalation.base.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from escalation.base.migrate import upgrade  # noqa: E402
from escalation.base.models import (  # noqa: E402
    COORDINATOR,
    INTERN,
    NURSE,
    Person,
    Unit,
    University,
)
from escalation.pings import schedule_changed  # noqa: E402
from tests.pg import ThrowawayServer, _free_port  # noqa: E402
from tests.twilio_mock import TwilioMock  # noqa: E402

TOKEN = "bench-auth-token"
SID = "AC" + "b" * 32
PUBLIC = "http://127.0.0.1"


def seed(url: str, interns: int) -> list[str]:
    engine = make_engine(url)
    upgrade(engine)
    phones = [f"+52488{2000000 + i:07d}" for i in range(interns)]
    with transaction(make_sessionmaker(engine)) as session:
        uni = University(name="UANL")
        unit = Unit(name="CS Doctor Arroyo", municipality="Doctor Arroyo", unit_type="A")
        session.add_all([uni, unit])
        session.flush()
        session.add(
            Person(role=NURSE, name="Rosa Martinez", phone="+524881000003", unit_id=unit.id)
        )
        session.add(
            Person(
                role=COORDINATOR, name="Luis Herrera", phone="+524881000004", university_id=uni.id
            )
        )
        interns = [
            Person(
                role=INTERN,
                name=f"Interna {i}",
                phone=p,
                checkin_time="08:00",
                university_id=uni.id,
                unit_id=unit.id,
            )
            for i, p in enumerate(phones)
        ]
        for intern in interns:
            schedule_changed(intern)  # as the roster import does: the next tick schedules her
        session.add_all(interns)
    engine.dispose()
    return phones


def twilio_settings(url: str, mock_url: str, public_url: str) -> dict[str, str]:
    """Faro's settings for a run against the local Twilio mock."""
    return {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "SMS_TRANSPORT": "twilio",
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_SMS_FROM": "+15005550006",
        "TWILIO_API_BASE_URL": mock_url,
        "PUBLIC_BASE_URL": public_url,
        "RUN_SCHEDULER": "0",
        "ADMIN_PHONES": "+528100000099",
        # A Messaging Service's pace: this measures Faro's webhook and first alert, not the
        # sender's speed (bench/burst.py does that).
        "TWILIO_MPS": os.environ.get("TWILIO_MPS", "100"),
    }


def start_gunicorn(url: str, port: int, mock_url: str, workers: int) -> subprocess.Popen:
    env = {**os.environ, **twilio_settings(url, mock_url, f"{PUBLIC}:{port}")}
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "app:create_app()",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/health")
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def signed(port: int, sender: str, body: str, sid: str) -> tuple[str, dict[str, str]]:
    """A webhook request as Twilio would send it (prepared before the clock starts)."""
    params = {"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": body}
    signature = RequestValidator(TOKEN).compute_signature(f"{PUBLIC}:{port}/twilio/sms", params)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    return urlencode(params), headers


def post(connection: http.client.HTTPConnection, request: tuple[str, dict[str, str]]) -> float:
    started = time.perf_counter()
    connection.request("POST", "/twilio/sms", *request)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit(f"webhook answered {response.status}")
    return time.perf_counter() - started


def load(port: int, phones: list[str], body: str, clients: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    chunks = [phones[i::clients] for i in range(clients)]
    lock = threading.Lock()
    ready = threading.Event()

    def run(chunk: list[str], n: int) -> None:
        requests = [signed(port, phone, body, f"SM{body}{n}x{i}") for i, phone in enumerate(chunk)]
        ready.wait()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = [post(connection, request) for request in requests]
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(chunk, n)) for n, chunk in enumerate(chunks)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # let every client prepare its signed requests
    started = time.perf_counter()
    ready.set()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies


def emergencies(
    port: int, phones: list[str], mock: TwilioMock, *, expect: int = 1
) -> list[list[float]]:
    """For each SOS (one per intern), when each of the first `expect` requests it caused
    reached the Twilio mock, in seconds after the webhook was posted."""
    arrivals = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i, phone in enumerate(phones):
        request = signed(port, phone, "SOS", f"SMsos{i}")
        before = len(mock.received)
        started = time.perf_counter()
        post(connection, request)
        while len(mock.received) < before + expect:
            if time.perf_counter() - started > 10:
                raise SystemExit("the alerts did not reach the Twilio mock within 10 s")
            time.sleep(0.0005)
        arrived = mock.received[before : before + expect]
        arrivals.append([r.received_at - started for r in arrived])
    connection.close()
    return arrivals


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--emergencies", type=int, default=100)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as tmp,
        TwilioMock(account_sid=SID, auth_token=TOKEN) as mock,
    ):
        server = None
        if args.engine == "sqlite":
            url = f"sqlite:///{tmp}/bench.db"
        else:
            server = ThrowawayServer()
            admin = server.start()
            engine = create_engine(admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.execute(text("CREATE DATABASE faro_bench"))
            engine.dispose()
            url = admin.rsplit("/", 1)[0] + "/faro_bench"
        phones = seed(url, args.requests + args.emergencies)
        port = _free_port()
        gunicorn = start_gunicorn(url, port, mock.url, args.workers)
        try:
            elapsed, latencies = load(port, phones[: args.requests], "ok", args.clients)
            delays = [first for first, *_ in emergencies(port, phones[args.requests :], mock)]
        finally:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
            if server is not None:
                server.stop()
    print(f"engine={args.engine} workers={args.workers} clients={args.clients}")
    print(
        f"inbound ok: {len(latencies)} requests in {elapsed:.2f}s = "
        f"{len(latencies) / elapsed:.0f} req/s; "
        f"p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms"
    )
    print(
        f"emergency -> first alert at the Twilio mock: {len(delays)} incidents; "
        f"p50 {percentile(delays, 50):.1f} ms, p99 {percentile(delays, 99):.1f} ms"
    )


if __name__ == "__main__":
    main()
