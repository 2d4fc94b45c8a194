"""Benchmark: signed inbound webhooks against Faro served by gunicorn, beside the floor.

    .venv/bin/python bench/webhooks.py --engine sqlite
    .venv/bin/python bench/webhooks.py --engine postgresql

The interns have been pinged (their check-ins are open, as at 09:00). Prints:
- the floor (bench/floor.py: signature check, one insert, TwiML) and Faro answering N signed
  `ok` texts from distinct interns, served side by side by the same gunicorn and driven by the
  same clients, in turn for --rounds rounds: requests/s and p50/p99 latency of each, and
  Faro's share of the floor's throughput, round by round and their median (target: >= 50%);
- the time from an emergency text to its first alert accepted by the local Twilio mock, one
  emergency after another (p50/p99);
- a burst of --sos-burst emergencies in --sos-seconds (232 in 14 s, as in issue 11), with the
  last round's mood questions queued before them (the tick asks them; it does not run during
  the rounds, bench/morning.py runs it beside): each one's first alert at the mock,
  p50/p99/max (target p99 < 2 s).
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
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select, text, update
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.runtime import STEPS  # noqa: E402
from escalation.base.config import NO_CONFIG  # noqa: E402
from escalation.base.db import make_engine, make_sessionmaker, transaction, utcnow  # noqa: E402
from escalation.base.migrate import upgrade  # noqa: E402
from escalation.base.models import (  # noqa: E402
    COORDINATOR,
    EMERGENCY,
    INTERN,
    NURSE,
    CheckIn,
    Incident,
    OutboundMessage,
    Person,
    Question,
    Unit,
    University,
)
from escalation.pings import PING, schedule_changed  # noqa: E402
from escalation.tick import tick  # noqa: E402
from escalation.wellbeing import handle_some_due_moods  # noqa: E402
from tests.pg import ThrowawayServer, _free_port  # noqa: E402
from tests.twilio_mock import TwilioMock  # noqa: E402

TOKEN = "bench-auth-token"
SID = "AC" + "b" * 32
PUBLIC = "http://127.0.0.1"


ZONE = "America/Monterrey"


def database(engine_name: str, folder: str) -> tuple[str, ThrowawayServer | None]:
    """A fresh database: a SQLite file in `folder`, or one on a throwaway PostgreSQL (stop
    the server returned when done)."""
    if engine_name == "sqlite":
        return f"sqlite:///{folder}/bench.db", None
    server = ThrowawayServer()
    admin = server.start()
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("CREATE DATABASE faro_bench"))
    engine.dispose()
    return admin.rsplit("/", 1)[0] + "/faro_bench", server


def seed(url: str, interns: int) -> list[str]:
    """UANL's interns in one unit, each with an open check-in whose ping has just left."""
    engine = make_engine(url)
    upgrade(engine)
    phones = [f"+52488{2000000 + i:07d}" for i in range(interns)]
    due = (utcnow() + timedelta(minutes=2)).replace(second=0, microsecond=0)
    minute = due.astimezone(ZoneInfo(ZONE)).strftime("%H:%M")
    sessions = make_sessionmaker(engine)
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
        people = [
            Person(
                role=INTERN,
                name=f"Interna {i}",
                phone=p,
                checkin_time=minute,
                timezone=ZONE,
                university_id=uni.id,
                unit_id=unit.id,
            )
            for i, p in enumerate(phones)
        ]
        for intern in people:
            schedule_changed(intern)  # as the roster import does: the next tick schedules her
        session.add_all(people)
    tick(sessions, utcnow(), NO_CONFIG, STEPS)  # today's check-in, scheduled …
    now = due + timedelta(seconds=1)
    tick(sessions, now, NO_CONFIG, STEPS)  # … and its ping queued, as of its minute
    with transaction(sessions) as session:  # … and gone: Twilio took them a moment ago
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.kind == PING)
            .values(sent_at=now, next_attempt_at=None, provider_sid="SMseed")
        )
        session.execute(update(CheckIn).values(sent_at=now))
        opened = session.scalar(select(func.count()).select_from(CheckIn))
    engine.dispose()
    if opened != interns:
        raise SystemExit(f"seeding opened {opened} check-ins for {interns} interns")
    return phones


def asked_elsewhere(url: str) -> None:
    """The mood questions a round of `ok` made due (the tick asks them MOOD_DELAY later; it
    does not run here), taken as asked: bench/burst.py measures their sending, which would
    otherwise weigh on the rounds after, the floor's among them."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(update(CheckIn).where(CheckIn.mood_at.is_not(None)).values(mood_at=None))
    engine.dispose()


def asked_by_the_tick(url: str) -> int:
    """The mood questions of the last round, queued by the tick's step as if MOOD_DELAY had
    passed: the emergencies after meet them in the outbox, as at 09:00. Returns how many."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        due = update(CheckIn).where(CheckIn.mood_at.is_not(None))
        session.execute(due.values(mood_at=utcnow()))
    while True:
        with transaction(sessions) as session:
            if not handle_some_due_moods(session, utcnow(), NO_CONFIG):
                break
    with sessions() as session:
        asked = session.scalar(select(func.count()).select_from(Question))
    engine.dispose()
    return asked


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


FARO, FLOOR = "app:create_app()", "bench.floor:create_app()"


def start_gunicorn(
    url: str, port: int, mock_url: str, workers: int, app: str = FARO
) -> subprocess.Popen:
    env = {**os.environ, **twilio_settings(url, mock_url, f"{PUBLIC}:{port}")}
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        app,
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/health")  # the floor answers 404: up all the same
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


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=30)


def load(
    port: int, phones: list[str], body: str, clients: int, tag: str = ""
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    chunks = [phones[i::clients] for i in range(clients)]
    lock = threading.Lock()
    ready = threading.Event()

    def run(chunk: list[str], n: int) -> None:
        requests = [
            signed(port, phone, body, f"SM{port}{body}{tag}{n}x{i}")
            for i, phone in enumerate(chunk)
        ]
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


def burst(
    port: int, phones: list[str], mock: TwilioMock, url: str, seconds: float, clients: int
) -> list[float]:
    """`SOS` from every one of `phones`, spread evenly over `seconds` (a client thread per
    stream, so a slow answer does not hold the next one back); for each, the time from its
    webhook being posted to the first of its incident's messages accepted by the mock."""
    posted: dict[str, float] = {}
    lock = threading.Lock()
    gap = seconds / len(phones)
    origin = time.perf_counter() + 0.5

    def run(n: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(n, len(phones), clients):
            request = signed(port, phones[i], "SOS", f"SMburst{i}")
            time.sleep(max(0.0, origin + i * gap - time.perf_counter()))
            started = time.perf_counter()
            post(connection, request)
            with lock:
                posted[phones[i]] = started
        connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine = make_engine(url)
    deadline = time.monotonic() + 60
    while True:  # until every incident has its sids (the mock may take a moment)
        with engine.connect() as connection:
            sids = connection.execute(
                select(Person.phone, OutboundMessage.provider_sid)
                .join(Incident, Incident.id == OutboundMessage.incident_id)
                .join(Person, Person.id == Incident.intern_id)
                .where(
                    Incident.kind == EMERGENCY,
                    Person.phone.in_(phones),
                    OutboundMessage.provider_sid.is_not(None),
                )
            ).all()
        if len({phone for phone, _ in sids}) >= len(phones) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    engine.dispose()
    accepted = {
        r.answer["sid"]: r.received_at for r in mock.accepted() if r.answer and "sid" in r.answer
    }
    first: dict[str, float] = {}
    for phone, sid in sids:
        if sid in accepted:
            first[phone] = min(first.get(phone, accepted[sid]), accepted[sid])
    missing = set(phones) - set(first)
    if missing:
        raise SystemExit(f"{len(missing)} emergencies never reached the Twilio mock")
    return [first[phone] - posted[phone] for phone in phones]


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--emergencies", type=int, default=100)
    parser.add_argument("--sos-burst", type=int, default=232)
    parser.add_argument("--sos-seconds", type=float, default=14.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="floor then Faro, this many times")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as tmp,
        TwilioMock(account_sid=SID, auth_token=TOKEN) as mock,
    ):
        url, server = database(args.engine, tmp)
        n, e, rounds = args.requests, args.emergencies, args.rounds
        phones = seed(url, 2 * n * rounds + e + args.sos_burst)
        sos = phones[2 * n * rounds :]
        try:
            floor_port, port = _free_port(), _free_port()
            floor = start_gunicorn(url, floor_port, mock.url, args.workers, FLOOR)
            try:
                gunicorn = start_gunicorn(url, port, mock.url, args.workers)
                try:
                    # Served side by side, loaded in turn: a round is the floor, then Faro,
                    # each answering n interns of their own (the machine's mood moves both).
                    measured = []
                    for r in range(rounds):
                        mine = phones[2 * n * r : 2 * n * (r + 1)]
                        floor_run = load(floor_port, mine[:n], "ok", args.clients, f"r{r}")
                        faro_run = load(port, mine[n:], "ok", args.clients, f"r{r}")
                        measured.append((floor_run, faro_run))
                        if r < rounds - 1:  # the last round's are asked, as the SOS find them
                            asked_elsewhere(url)
                    stop(floor)
                    queued = asked_by_the_tick(url)
                    one_by_one = [first for first, *_ in emergencies(port, sos[:e], mock)]
                    bursting = burst(port, sos[e:], mock, url, args.sos_seconds, clients=8)
                finally:
                    stop(gunicorn)
            finally:
                if floor.poll() is None:
                    stop(floor)
        finally:
            if server is not None:
                server.stop()
    print(f"engine={args.engine} workers={args.workers} clients={args.clients} rounds={rounds}")
    ratios = []
    for r, ((floor_took, floor_latencies), (took, latencies)) in enumerate(measured, 1):
        for name, count, elapsed, values in (
            ("floor", len(floor_latencies), floor_took, floor_latencies),
            ("faro ", len(latencies), took, latencies),
        ):
            print(
                f"round {r}, inbound ok, {name}: {count} requests in {elapsed:.2f}s = "
                f"{count / elapsed:.0f} req/s; p50 {percentile(values, 50):.1f} ms, "
                f"p99 {percentile(values, 99):.1f} ms"
            )
        ratios.append((len(latencies) / took) / (len(floor_latencies) / floor_took))
    every = [value for (_f, (_t, latencies)) in measured for value in latencies]
    print(
        f"faro / floor throughput: median {statistics.median(ratios):.0%} of {rounds} rounds "
        f"({', '.join(f'{ratio:.0%}' for ratio in ratios)}; target >= 50%); faro's p99 over "
        f"all rounds {percentile(every, 99):.1f} ms (target < 50 ms)"
    )
    print(
        f"emergency -> first alert at the Twilio mock, one after another: {len(one_by_one)} "
        f"incidents; p50 {percentile(one_by_one, 50):.1f} ms, "
        f"p99 {percentile(one_by_one, 99):.1f} ms"
    )
    print(
        f"burst of {len(bursting)} emergencies in {args.sos_seconds:.0f} s, {queued} mood "
        f"questions queued before them -> first alert: "
        f"p50 {percentile(bursting, 50):.0f} ms, p99 {percentile(bursting, 99):.0f} ms, "
        f"max {max(bursting) * 1000:.0f} ms (target p99 < 2000 ms)"
    )


if __name__ == "__main__":
    main()
