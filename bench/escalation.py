"""Benchmark: escalation latency and a simulated month of missed check-ins.

    .venv/bin/python bench/escalation.py                      # all three, SQLite
    .venv/bin/python bench/escalation.py --engine postgresql  # latency parts on PostgreSQL
    .venv/bin/python bench/escalation.py --only month --interns 200

1. Emergency text → every step-one alert accepted by the local Twilio mock (tests/twilio_mock.py),
   through gunicorn and the real twilio SDK (helpers from bench/webhooks.py): p50/p99 of the time
   until the LAST of the four requests (nurse and coordinator, a text and a call each) arrived.
2. Missed deadline → first alert at the next tick: one `run_pass` (what `flask tick` and the
   scheduler run) with deadlines due, sending through the SDK to the mock; the time from the
   start of the pass to the first alert at the mock, for one deadline and for a burst of 30.
   The wait for the tick itself is at most TICK_SECONDS (15 s by default).
3. A simulated month for N interns (default 1,000): each day 3% miss their check-in, 5% of
   sends fail for good (failover to the next channel at the next tick, 15 s later), responders
   answer after random delays or never, and some interns answer late themselves. Driven by
   `run_pass(now)` in simulated time (event to event), seeded, deterministic. Prints how many
   incidents reached an acknowledging human and the median / 95th percentile time until then.

Traffic goes to 127.0.0.1 only, and the run stops by itself.
"""

from __future__ import annotations

import argparse
import heapq
import logging
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import webhooks  # noqa: E402
from bench.webhooks import SID, TOKEN, percentile, seed, start_gunicorn  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.runtime import Faro  # noqa: E402
from bot.transports import TransportError  # noqa: E402
from escalation.base.db import make_engine, transaction  # noqa: E402
from escalation.base.migrate import upgrade  # noqa: E402
from escalation.base.models import (  # noqa: E402
    COORDINATOR,
    INTERN,
    MISSED_CHECKIN,
    NURSE,
    SUPERVISOR,
    VOICE,
    CheckIn,
    Event,
    Incident,
    OutboundMessage,
    Person,
    Unit,
    University,
    buddy,
)
from escalation.incidents import acknowledge, open_incident, resolve  # noqa: E402
from tests.pg import ThrowawayServer, _free_port  # noqa: E402
from tests.twilio_mock import TwilioMock  # noqa: E402

STEP_ONE_REQUESTS = 4  # nurse Rosa and coordinator Luis: a text and a call each
ADMIN = "+528119990000"


# --- 1. emergency → step one at the mock ---------------------------------------------------------


def emergencies(port: int, phones: list[str], mock: TwilioMock) -> list[float]:
    """Time until the last of step one's requests (2 texts, 2 calls) reached the mock."""
    delays = []
    before = len(mock.received)
    for times in webhooks.emergencies(port, phones, mock, expect=STEP_ONE_REQUESTS):
        arrived = mock.received[before : before + STEP_ONE_REQUESTS]
        before += STEP_ONE_REQUESTS
        kinds = sorted(r.resource for r in arrived)
        if kinds != ["Calls", "Calls", "Messages", "Messages"]:
            raise SystemExit(f"unexpected requests at the mock: {kinds}")
        delays.append(max(times))
    return delays


def emergency_latency(url: str, mock: TwilioMock, count: int, workers: int) -> list[float]:
    phones = seed(url, count)
    port = _free_port()
    gunicorn = start_gunicorn(url, port, mock.url, workers)
    try:
        return emergencies(port, phones, mock)
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)


# --- 2. missed deadline → first alert at the next tick -------------------------------------------


def deadline_latency(url: str, mock: TwilioMock, rounds: int, burst: int) -> dict[str, list]:
    faro = Faro(load_settings(webhooks.twilio_settings(url, mock.url, "http://127.0.0.1:9")))
    with transaction(faro.sessions) as session:
        interns = session.scalars(select(Person).where(Person.role == INTERN)).all()
        ids = [p.id for p in interns if p.checkin_time is None]
    base = datetime(2025, 11, 24, 16, 0, tzinfo=UTC)
    results: dict[str, list] = {"one": [], "burst_first": [], "burst_last": []}
    cursor = 0
    for n in range(rounds):
        for size, key in ((1, "one"), (burst, "burst")):
            due = base + timedelta(days=n, minutes=size)
            chosen, cursor = ids[cursor : cursor + size], cursor + size
            _deadlines(faro, chosen, due)
            before = len(mock.received)
            started = time.perf_counter()
            faro.run_pass(due)
            arrived = mock.received[before:]
            first = min(r.received_at for r in arrived) - started
            if key == "one":
                results["one"].append(first)
            else:
                results["burst_first"].append(first)
                results["burst_last"].append(max(r.received_at for r in arrived) - started)
            _close_all(faro, due)  # the next round measures its own deadlines only
    faro.close()
    return results


def _close_all(faro: Faro, now: datetime) -> None:
    with transaction(faro.sessions) as session:
        session.execute(
            update(Incident)
            .where(Incident.resolved_at.is_(None))
            .values(resolved_at=now, resolution="bench", next_step_at=None, ack_check_at=None)
        )


def _deadlines(faro: Faro, intern_ids: list[int], due: datetime) -> None:
    with transaction(faro.sessions) as session:
        session.execute(
            insert(CheckIn),
            [
                {"intern_id": i, "local_date": due.date(), "due_at": due - timedelta(hours=2),
                 "sent_at": due - timedelta(hours=2), "deadline_at": due, "escalate_at": due}
                for i in intern_ids
            ],
        )  # fmt: skip


def add_plain_interns(url: str, count: int) -> None:
    """Interns without a check-in time (no pings): the deadlines are written directly."""
    engine = make_engine(url)
    with engine.begin() as connection:
        unit_id = connection.execute(select(Unit.id)).scalar()
        university_id = connection.execute(select(University.id)).scalar()
        connection.execute(
            insert(Person),
            [
                {"role": INTERN, "name": f"Interna D{n}", "phone": f"+52488{7000000 + n:07d}",
                 "unit_id": unit_id, "university_id": university_id}
                for n in range(count)
            ],
        )  # fmt: skip
    engine.dispose()


# --- 3. a simulated month ------------------------------------------------------------------------

MISS_RATE = 0.03
FAIL_RATE = 0.05
TICK = timedelta(seconds=15)
# Who answers an alert at all, and how fast (minutes, exponential mean), by role and channel.
ANSWERS = {"buddy": 0.35, NURSE: 0.5, COORDINATOR: 0.6, SUPERVISOR: 0.6, "admin": 0.9}
MEAN_MINUTES = {"sms": 12.0, "whatsapp": 10.0, VOICE: 2.0}
VOICE_BONUS = 1.25  # a ringing phone is harder to miss than a text
INTERN_ANSWERS_LATE = 0.5  # she turns up herself (dead battery, no signal) within 4 h


class SimTransport:
    """Accepts everything except a seeded 5%, which fail for good (invalid, unreachable)."""

    name = "sim"

    def __init__(self, seed: int):
        self.seed = seed
        self.sent: list[int] = []

    def send(self, envelope) -> str:
        if random.Random(self.seed * 1_000_003 + envelope.id).random() < FAIL_RATE:
            raise TransportError("simulated permanent failure", permanent=True, code="30003")
        self.sent.append(envelope.id)
        return f"SIM{envelope.id}"


def month(interns: int, days: int, seed: int, scratch: Path) -> dict:
    url = f"sqlite:///{scratch}/month.db"
    upgrade_engine = make_engine(url)
    upgrade(upgrade_engine)
    upgrade_engine.dispose()
    transport = SimTransport(seed)
    env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "SMS_TRANSPORT": "console",
           "ADMIN_PHONES": ADMIN}  # fmt: skip
    faro = Faro(load_settings(env), transport)
    roles = _month_roster(faro, interns)
    rng = random.Random(seed)
    start = datetime(2025, 11, 1, 6, 0, tzinfo=UTC)  # 00:00 in Monterrey
    agenda: list[tuple[datetime, int, str, int, int | None]] = []  # (when, seq, what, id, person)
    seq = 0
    for day in range(days):
        for intern_id in range(1, interns + 1):
            if rng.random() < MISS_RATE:
                deadline = start + timedelta(days=day, hours=9, minutes=rng.randrange(0, 180))
                seq += 1
                agenda.append((deadline, seq, "miss", intern_id, None))
    heapq.heapify(agenda)
    wall = time.perf_counter()
    answered: set[int] = set()
    passes = 0
    now = start
    stop = start + timedelta(days=days + 2)  # a safety net; the chain ends with an ack
    while (agenda or _next_due(faro) is not None) and now < stop:
        candidates = [t for t in (agenda[0][0] if agenda else None, _next_due(faro)) if t]
        now = max(now, min(candidates))
        while agenda and agenda[0][0] <= now:
            _, _, what, subject, person = heapq.heappop(agenda)
            _act(faro, now, what, subject, person, rng, agenda, roles)
        faro.run_pass(now)
        passes += 1
        seq = _schedule_answers(faro, transport, answered, rng, agenda, roles, now, seq)
        if _failed_waiting(faro, now):
            heapq.heappush(agenda, (now + TICK, seq := seq + 1, "tick", 0, None))
    elapsed = time.perf_counter() - wall
    stats = _month_stats(faro)
    faro.close()
    return {**stats, "passes": passes, "seconds": elapsed}


def _month_roster(faro: Faro, interns: int) -> dict[int, str]:
    """50 units of 20 interns (a nurse each), 5 municipalities (a supervisor each), 2
    universities (a coordinator each); every intern has the next one in her unit as buddy."""
    units = max(1, interns // 20)
    with transaction(faro.sessions) as session:
        unis = [University(name=f"Universidad {u}") for u in range(2)]
        places = [Unit(name=f"CS {u}", municipality=f"Municipio {u % 5}") for u in range(units)]
        session.add_all(unis + places)
        session.flush()
        session.execute(
            insert(Person),
            [
                {"role": INTERN, "name": f"Interna {n}", "phone": f"+52488{1000000 + n:07d}",
                 "unit_id": places[n % units].id, "university_id": unis[n % 2].id}
                for n in range(interns)
            ],
        )  # fmt: skip
        staff = [
            {"role": NURSE, "name": f"Enfermera {u}", "phone": f"+52488{5000000 + u:07d}",
             "unit_id": places[u].id} for u in range(units)
        ] + [
            {"role": SUPERVISOR, "name": f"Supervisora {m}", "phone": f"+52488{6000000 + m:07d}",
             "municipality": f"Municipio {m}"} for m in range(5)
        ] + [
            {"role": COORDINATOR, "name": f"Coordinador {u}", "phone": f"+52488{6100000 + u:07d}",
             "university_id": unis[u].id} for u in range(2)
        ]  # fmt: skip
        session.execute(insert(Person), staff)
        ids = session.scalars(select(Person.id).where(Person.role == INTERN).order_by(Person.id))
        ids = list(ids)
        session.execute(
            insert(buddy),
            [{"intern_id": i, "buddy_id": ids[(n + units) % len(ids)]} for n, i in enumerate(ids)],
        )
        return {p.id: p.role for p in session.scalars(select(Person))}


def _act(faro, now, what, subject, person_id, rng, agenda, roles) -> None:
    with transaction(faro.sessions) as session:
        if what == "miss":
            intern = session.get(Person, subject)
            incident, opened = open_incident(session, now, intern, MISSED_CHECKIN,
                                             config=faro.settings.domain)  # fmt: skip
            if opened and rng.random() < INTERN_ANSWERS_LATE:
                later = now + timedelta(minutes=rng.uniform(20, 240))
                heapq.heappush(agenda, (later, rng.random(), "intern_ok", incident.id, subject))
        elif what == "intern_ok":
            incident = session.get(Incident, subject)
            if incident.resolved_at is None:
                resolve(session, now, incident, session.get(Person, person_id), "intern_ok")
        elif what == "ack":
            incident = session.get(Incident, subject)
            responder = session.get(Person, person_id) if person_id else None
            if incident.resolved_at is None and acknowledge(
                session, now, incident, responder, phone=None if responder else ADMIN
            ):
                done = now + timedelta(minutes=rng.uniform(15, 150))  # some past the 2 h check
                heapq.heappush(agenda, (done, rng.random(), "listo", incident.id, person_id))
        elif what == "listo":
            incident = session.get(Incident, subject)
            if incident.resolved_at is None:
                responder = session.get(Person, person_id) if person_id else None
                resolve(session, now, incident, responder, "responder")


def _schedule_answers(faro, transport, answered, rng, agenda, roles, now, seq) -> int:
    """Each alert delivered since the last pass may be answered, after a random delay."""
    fresh = [i for i in transport.sent if i not in answered]
    if not fresh:
        return seq
    answered.update(fresh)
    with faro.sessions() as session:
        rows = session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.id.in_(fresh), OutboundMessage.kind == "alert"
            )
        ).all()
        for row in rows:
            role = roles.get(row.person_id, "admin") if row.person_id else "admin"
            role = "buddy" if role == INTERN else role
            chance = ANSWERS[role] * (VOICE_BONUS if row.channel == VOICE else 1)
            if rng.random() < chance:
                delay = timedelta(minutes=rng.expovariate(1 / MEAN_MINUTES[row.channel]))
                seq += 1
                heapq.heappush(agenda, (now + delay, seq, "ack", row.incident_id, row.person_id))
    return seq


def _next_due(faro: Faro) -> datetime | None:
    """The earliest escalation step or acknowledgement check still to come."""
    with faro.sessions() as session:
        step = session.scalar(
            select(Incident.next_step_at)
            .where(Incident.next_step_at.is_not(None))
            .order_by(Incident.next_step_at)
            .limit(1)
        )
        check = session.scalar(
            select(Incident.ack_check_at)
            .where(Incident.ack_check_at.is_not(None), Incident.resolved_at.is_(None))
            .order_by(Incident.ack_check_at)
            .limit(1)
        )
    found = [i for i in (step, check) if i is not None]
    return min(found) if found else None


def _failed_waiting(faro: Faro, now: datetime) -> bool:
    with faro.sessions() as session:
        return (
            session.scalar(
                select(OutboundMessage.id)
                .join(Incident, Incident.id == OutboundMessage.incident_id)
                .where(
                    OutboundMessage.kind == "alert",
                    OutboundMessage.failed_at == now,
                    Incident.resolved_at.is_(None),
                    Incident.acknowledged_at.is_(None),
                )
                .limit(1)
            )
            is not None
        )


def _month_stats(faro: Faro) -> dict:
    with faro.sessions() as session:
        incidents = session.scalars(select(Incident)).all()
        first_ack: dict[int, datetime] = {}
        for event in session.scalars(
            select(Event).where(Event.kind == "acknowledged").order_by(Event.id)
        ):
            first_ack.setdefault(event.incident_id, event.at)
        alerts = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "alert"))
        alerts = list(alerts)
        unreachable = session.scalar(
            select(text("count(*)")).select_from(Event).where(Event.kind == "responder_unreachable")
        )
    waits = sorted((first_ack[i.id] - i.opened_at).total_seconds() / 60 for i in incidents
                   if i.id in first_ack)  # fmt: skip
    by_intern_first = sum(
        1 for i in incidents if i.id not in first_ack and i.resolution == "intern_ok"
    )
    return {
        "incidents": len(incidents),
        "acknowledged": len(waits),
        "closed_by_intern_first": by_intern_first,
        "never": len(incidents) - len(waits) - by_intern_first,
        "median_minutes": statistics.median(waits) if waits else None,
        "p95_minutes": statistics.quantiles(waits, n=20, method="inclusive")[18]
        if len(waits) > 1
        else None,
        "alerts": len(alerts),
        "calls": sum(1 for a in alerts if a.channel == VOICE),
        "failed_sends": sum(1 for a in alerts if a.failed_at is not None),
        "failovers": sum(1 for a in alerts if a.failover_of_id is not None),
        "unreachable_flags": unreachable,
    }


# --- main ----------------------------------------------------------------------------------------


def database(engine: str, tmp: str, name: str, server_holder: list) -> str:
    if engine == "sqlite":
        return f"sqlite:///{tmp}/{name}.db"
    if not server_holder:
        server = ThrowawayServer()
        server_holder.append((server, server.start()))
    admin = server_holder[0][1]
    engine_ = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine_.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    engine_.dispose()
    return admin.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--only", choices=["emergency", "deadline", "month"])
    parser.add_argument("--emergencies", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--burst", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--interns", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=4821)
    args = parser.parse_args()
    logging.disable(logging.ERROR)  # the simulated failures log errors by design

    servers: list = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            if args.only in (None, "emergency"):
                with TwilioMock(account_sid=SID, auth_token=TOKEN) as mock:
                    url = database(args.engine, tmp, "faro_emergency", servers)
                    delays = emergency_latency(url, mock, args.emergencies, args.workers)
                print(
                    f"[{args.engine}] emergency -> all {STEP_ONE_REQUESTS} step-one requests at "
                    f"the Twilio mock: {len(delays)} incidents; p50 {percentile(delays, 50):.1f} "
                    f"ms, p99 {percentile(delays, 99):.1f} ms, max {max(delays) * 1000:.1f} ms"
                )
            if args.only in (None, "deadline"):
                with TwilioMock(account_sid=SID, auth_token=TOKEN) as mock:
                    url = database(args.engine, tmp, "faro_deadline", servers)
                    seed(url, 1)
                    add_plain_interns(url, args.rounds * (1 + args.burst))
                    found = deadline_latency(url, mock, args.rounds, args.burst)
                print(
                    f"[{args.engine}] missed deadline -> first alert at the mock, from the start "
                    f"of the tick: one deadline p50 {percentile(found['one'], 50):.1f} ms, p99 "
                    f"{percentile(found['one'], 99):.1f} ms; burst of {args.burst}: first p50 "
                    f"{percentile(found['burst_first'], 50):.1f} ms, last p50 "
                    f"{percentile(found['burst_last'], 50):.1f} ms "
                    f"(+ up to TICK_SECONDS waiting for the tick)"
                )
            if args.only in (None, "month"):
                result = month(args.interns, args.days, args.seed, Path(tmp))
                share = result["acknowledged"] / max(result["incidents"], 1)
                print(
                    f"[sqlite] simulated {args.days} days, {args.interns} interns, seed "
                    f"{args.seed}: {result['incidents']} incidents; acknowledged by a human "
                    f"{result['acknowledged']} ({share:.1%}); closed by the intern first "
                    f"{result['closed_by_intern_first']}; never {result['never']}; time to "
                    f"acknowledgement median {result['median_minutes']:.1f} min, p95 "
                    f"{result['p95_minutes']:.1f} min; {result['alerts']} alerts "
                    f"({result['calls']} calls), {result['failed_sends']} failed sends, "
                    f"{result['failovers']} failovers, {result['unreachable_flags']} responders "
                    f"flagged; {result['passes']} passes in {result['seconds']:.0f} s"
                )
        finally:
            for server, _ in servers:
                server.stop()


if __name__ == "__main__":
    main()
