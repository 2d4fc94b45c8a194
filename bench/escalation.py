"""Benchmark: escalation latency, and a simulated month of every kind of case.

    .venv/bin/python bench/escalation.py                      # all three, SQLite
    .venv/bin/python bench/escalation.py --engine postgresql  # all three on PostgreSQL
    .venv/bin/python bench/escalation.py --only month --interns 50 --days 7   # a quick look

1. Emergency text → every step-one alert accepted by the local Twilio mock (tests/twilio_mock.py),
   through gunicorn and the real twilio SDK (helpers from bench/webhooks.py): p50/p99 of the time
   until the LAST of the four requests (nurse and coordinator, a text and a call each) arrived.
2. Missed deadline → first alert at the next tick: one `run_pass` (what `flask tick` and the
   scheduler run) with deadlines due, sending through the SDK to the mock; the time from the
   start of the pass to the first alert at the mock, for one deadline and for a burst of 30.
   The wait for the tick itself is at most TICK_SECONDS (15 s by default).
3. Time to a human, a simulated month (default 100 interns, 30 days): daily pings that most
   answer and some miss, SOS, duress words, trips that end or go overdue, words of self-harm,
   `MAL`; responders who are prompt, slow, asleep (nothing from 23:00 to 07:00) or out of
   reach (every delivery fails), and 5% of all messages failing. Faro runs as it does in
   production, on a simulated clock: every text through the conversation (`receive`, as the
   webhook calls it), Twilio's delivery callbacks and call keypresses through the signed
   webhooks (Flask's test client), scheduler passes (`run_pass`) on the 15-second grid, the
   outbox dispatched after each to a fake transport. Acknowledgements are responders' texts
   `ATIENDO <code>` or a 1 pressed on a call. Seeded, deterministic. Prints per kind the cases,
   the share reaching an acknowledging human, the median and 95th percentile time until the
   first acknowledgement, and the targets beside them.

Traffic goes to 127.0.0.1 only, and the run stops by itself.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import logging
import math
import os
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, insert, select, text, update
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from bench import webhooks  # noqa: E402
from bench.webhooks import PUBLIC, SID, TOKEN, percentile, seed, start_gunicorn  # noqa: E402
from bot import voice, webhook  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.conversation.inbound import receive  # noqa: E402
from bot.runtime import Faro  # noqa: E402
from bot.transports import TransportError  # noqa: E402
from escalation.base.db import make_engine, transaction  # noqa: E402
from escalation.base.kinds import KINDS  # noqa: E402
from escalation.base.migrate import upgrade  # noqa: E402
from escalation.base.models import (  # noqa: E402
    COORDINATOR,
    DURESS,
    EMERGENCY,
    INTERN,
    MENTAL_HEALTH,
    MISSED_CHECKIN,
    NURSE,
    SELF_HARM,
    SUPERVISOR,
    SUPPORT,
    VOICE,
    CheckIn,
    Event,
    Incident,
    OutboundMessage,
    Person,
    Question,
    Trip,
    Unit,
    University,
    buddy,
)
from escalation.base.schedule import SCHEDULE_NOW  # noqa: E402
from escalation.engine import ALERT  # noqa: E402
from escalation.pings import PING  # noqa: E402
from escalation.tick import record_heartbeat  # noqa: E402
from escalation.trips import grace  # noqa: E402
from tests.pg import ThrowawayServer, _free_port  # noqa: E402
from tests.twilio_mock import TwilioMock  # noqa: E402

# The sender's pace (TWILIO_MPS) is the provider's limit, not Faro's latency: against the mock
# the first two parts let it send at once (set TWILIO_MPS to see a long code's 1 a second).
MOCK_MPS = "1000"
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
    settings = webhooks.twilio_settings(url, mock.url, "http://127.0.0.1:9")
    faro = Faro(load_settings({**settings, "TWILIO_MPS": os.environ["TWILIO_MPS"]}))
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


# --- 3. a simulated month of every kind ---------------------------------------------------------

TICK = timedelta(seconds=15)  # TICK_SECONDS: due work waits for the next pass on this grid
DRAIN = timedelta(days=2)  # after the month: until every case of it has its human, at most this
# Monday 00:00 in Monterrey: before any row's real `updated_at`, so schedules count from START.
START = datetime(2025, 11, 3, 6, 0, tzinfo=UTC)
ZONE = ZoneInfo("America/Monterrey")
CHECKIN_TIMES = ("07:00", "07:30", "08:00", "08:30", "09:00")
INTERNS_PER_UNIT = 10
DURESS_WORDS = ("girasol", "mariposa", "tortuga", "colibri", "canela", "jacaranda")
# Texts an intern sends at a random instant of a day, each with its chance per intern and day:
# many times a real roster's, so that one month of a small roster gives every kind enough
# cases to rank (the responders' load per case stays that of a few cases a day).
TEXTS = {
    EMERGENCY: (0.02, ("SOS", "auxilio", "AYUDA", "me vienen siguiendo", "9")),
    DURESS: (0.01, ()),  # her own secret word, answered like OK
    SELF_HARM: (0.01, ("ya no quiero vivir", "me quiero morir", "desaparecer para siempre")),
    SUPPORT: (0.015, ("MAL", "APOYO")),
}  # fmt: skip
TRIPS_PER_DAY = 0.1  # VIAJE 1-4h, leaving between 07:00 and 19:00
TRIP_AFTER_ASK = 0.04  # LLEGUE after "¿Llegaste bien?", within the grace
TRIP_SILENT = 0.1  # no LLEGUE within the grace: overdue
MISSES = 0.03  # a ping she received and does not answer by the deadline
TURNS_UP = 0.5  # of those (and of pings that failed): she writes herself 20-240 min later
FAILS = 0.05  # of every message: 1 in 5 refused at send, the rest undelivered/failed by callback
REFUSED = 0.2
# Who answers how. Staff may be out of reach for the month (every delivery to her fails);
# an intern answering as a buddy is never that (her own pings would fail every day).
STAFF_PERSONAS = (("prompt", 0.5), ("slow", 0.2), ("asleep", 0.2), ("unreachable", 0.1))
BUDDY_PERSONAS = (("prompt", 0.6), ("slow", 0.2), ("asleep", 0.2))
# The chance she acts on one alert at all, by role.
NOTICES = {"buddy": 0.4, NURSE: 0.6, COORDINATOR: 0.6, SUPERVISOR: 0.6, MENTAL_HEALTH: 0.7,
           "admin": 0.9}  # fmt: skip
TEXT_MINUTES = 12.0  # exponential mean until she reads a text and answers ATIENDO
SLOW = 4.0  # a slow responder: four times that, and half as likely to pick up a call
RING_SECONDS, LISTEN_SECONDS = (10, 40), 45  # a call picked up, heard, then 1 pressed
NIGHT = (23, 7)  # an asleep responder does nothing from 23:00 until 07:00 her time
CLOSE_MINUTES = (15, 150)  # the one who has it answers LISTO this long after (some past 2 h)
HER_OK_RESOLUTIONS = ("intern_ok", "intern_arrived", "intern_extended")


@dataclass(frozen=True)
class Who:
    role: str  # "buddy" for an intern alerted about another, "admin" for ADMIN_PHONES
    persona: str
    person_id: int | None = None


ON_CALL = Who("admin", "on_call")


class SimTransport:
    """Accepts every message but those the month decides fail: refused at send (a permanent
    TransportError), or accepted and later reported undelivered/failed by Twilio's callback."""

    name = "sim"

    def __init__(self, fate):
        self.fate = fate
        self.fresh: list[tuple] = []  # (envelope, fate) since the month last looked

    def send(self, envelope) -> str:
        fate = self.fate(envelope)
        self.fresh.append((envelope, fate))
        if fate == "refused":
            raise TransportError("simulated refusal", permanent=True, code="21612")
        return f"SM{envelope.id:032d}"


class Month:
    """Faro as it runs, on a simulated clock: texts through the conversation (`receive`),
    Twilio's callbacks and call keypresses through the signed webhooks, scheduler passes
    (`run_pass`) on the 15-second grid, the outbox dispatched after each."""

    def __init__(self, app, seed: int, days: int):
        self.app, self.faro, self.client = app, app.extensions["faro"], app.test_client()
        self.seed, self.rng = seed, random.Random(seed)
        self.now = self.last_pass = START - timedelta(hours=1)
        self.end = START + timedelta(days=days)
        self.agenda: list[tuple] = []
        self.order = itertools.count()
        self.sids = itertools.count(1)
        self.people: dict[str, Who] = {}
        self.interns: dict[int, str] = {}
        self.counts: Counter = Counter()
        self.faro.transport.fate = self.fate
        self.faro.wake = lambda urgent=False: None  # this loop dispatches, on its own clock
        for module in (webhook, voice):
            module.utcnow = lambda: self.now

    # --- the roster ---

    def roster(self, interns: int) -> None:
        """Units of 10 interns with a nurse, 5 municipalities with a supervisor, 2 universities
        with a coordinator and a mental-health contact; every intern the buddy of another
        unit's. The daily mood question is off (bench/wellbeing.py's subject)."""
        units = max(1, interns // INTERNS_PER_UNIT)
        with transaction(self.faro.sessions) as session:
            unis = [University(name=f"Universidad {u}", mood_enabled=False) for u in range(2)]
            places = [Unit(name=f"CS {u}", municipality=f"Municipio {u % 5}")
                      for u in range(units)]  # fmt: skip
            session.add_all(unis + places)
            session.flush()
            rows = [
                {"role": INTERN, "name": f"Interna {n}", "phone": f"+52488{1000000 + n:07d}",
                 "unit_id": places[n % units].id, "university_id": unis[n % 2].id,
                 "checkin_time": CHECKIN_TIMES[n % len(CHECKIN_TIMES)],
                 "next_checkin_at": SCHEDULE_NOW, "next_phq_at": SCHEDULE_NOW}
                for n in range(interns)
            ] + [
                {"role": NURSE, "name": f"Enfermera {u}", "phone": f"+52488{5000000 + u:07d}",
                 "unit_id": places[u].id} for u in range(units)
            ] + [
                {"role": SUPERVISOR, "name": f"Supervisora {m}",
                 "phone": f"+52488{6000000 + m:07d}", "municipality": f"Municipio {m}"}
                for m in range(min(5, units))
            ] + [
                {"role": role, "name": f"{name} {u}", "phone": f"+52488{base + u:07d}",
                 "university_id": unis[u].id}
                for u in range(2)
                for role, name, base in ((COORDINATOR, "Coordinador", 6100000),
                                         (MENTAL_HEALTH, "Psicologa", 6200000))
            ]  # fmt: skip
            session.execute(insert(Person), rows)
            ids = list(session.scalars(select(Person.id).where(Person.role == INTERN)
                                       .order_by(Person.id)))  # fmt: skip
            session.execute(
                insert(buddy),
                [{"intern_id": i, "buddy_id": ids[(n + units) % len(ids)]}
                 for n, i in enumerate(ids) if len(ids) > 1],
            )  # fmt: skip
            staff: dict[str, list[Person]] = {}
            for person in session.scalars(select(Person).order_by(Person.id)):
                staff.setdefault(person.role, []).append(person)
            for role, group in staff.items():
                mix = BUDDY_PERSONAS if role == INTERN else STAFF_PERSONAS
                for person, persona in zip(group, self.personas(mix, len(group)), strict=True):
                    who = "buddy" if role == INTERN else role
                    self.people[person.phone] = Who(who, persona, person.id)
                    if role == INTERN:
                        self.interns[person.id] = person.phone

    def personas(self, mix, count: int) -> list[str]:
        """Each persona's share of a role exactly (largest remainders), shuffled: no seed
        makes every nurse prompt."""
        exact = [(name, share * count) for name, share in mix]
        given = {name: int(n) for name, n in exact}
        by_remainder = sorted(exact, key=lambda e: int(e[1]) - e[1])
        for name, _ in by_remainder[: count - sum(given.values())]:
            given[name] += 1
        names = [name for name, n in given.items() for _ in range(n)]
        self.rng.shuffle(names)
        return names

    # --- what happens, and when ---

    def at(self, when: datetime, action: str, *args) -> None:
        heapq.heappush(self.agenda, (when, next(self.order), action, args))

    def plan(self, days: int) -> None:
        """Each intern sets her duress word; then the month's texts at their instants."""
        words = {}
        for phone in self.interns.values():
            words[phone] = self.rng.choice(DURESS_WORDS)
            self.at(START - timedelta(minutes=30), "text", phone, f"CLAVE {words[phone]}")
        for day in range(days):
            midnight = START + timedelta(days=day)
            for phone in self.interns.values():
                for chance, bodies in TEXTS.values():
                    if self.rng.random() < chance:
                        body = self.rng.choice(bodies) if bodies else words[phone]
                        when = midnight + timedelta(seconds=self.rng.uniform(0, 86400))
                        self.at(when, "text", phone, body)
                if self.rng.random() < TRIPS_PER_DAY:
                    self.trip(phone, midnight + timedelta(hours=self.rng.uniform(7, 19)))

    def trip(self, phone: str, leaves: datetime) -> None:
        hours = self.rng.randint(1, 4)
        self.at(leaves, "text", phone, f"VIAJE {hours}h {self.rng.choice(('Galeana', 'Mier'))}")
        expected, roll = leaves + timedelta(hours=hours), self.rng.random()
        if roll < TRIP_SILENT:
            if self.rng.random() < TURNS_UP:
                later = expected + timedelta(minutes=20 + self.rng.uniform(10, 180))
                self.at(later, "text", phone, "LLEGUE")
        elif roll < TRIP_SILENT + TRIP_AFTER_ASK:
            self.at(expected + timedelta(minutes=self.rng.uniform(1, 19)), "text", phone, "LLEGUE")
        else:
            arrives = leaves + timedelta(hours=hours * self.rng.uniform(0.5, 1.0))
            self.at(arrives, "text", phone, "LLEGUE")

    def fate(self, envelope) -> str | None:
        """None (delivered), "refused", or the status Twilio's callback will report."""
        if self.people.get(envelope.to, ON_CALL).persona == "unreachable":
            return "failed" if envelope.channel == VOICE else "undelivered"
        roll = random.Random(self.seed * 1_000_003 + envelope.id).random()
        if roll < FAILS * REFUSED:
            return "refused"
        if roll < FAILS:
            return "failed" if envelope.channel == VOICE or roll < FAILS * 0.6 else "undelivered"
        return None

    def sent(self) -> None:
        """What the last dispatch sent: callbacks for the failures; who reacts, and when."""
        fresh, self.faro.transport.fresh = self.faro.transport.fresh, []
        if not fresh:
            return
        with self.faro.sessions() as session:
            rows = {
                r.id: r
                for r in session.execute(
                    select(OutboundMessage.id, OutboundMessage.kind, OutboundMessage.person_id,
                           OutboundMessage.incident_id, Incident.code)
                    .outerjoin(Incident, Incident.id == OutboundMessage.incident_id)
                    .where(OutboundMessage.id.in_([e.id for e, _ in fresh]))
                )
            }  # fmt: skip
        for envelope, fate in fresh:
            row = rows[envelope.id]
            if fate not in (None, "refused"):
                self.at(self.now + timedelta(seconds=self.rng.uniform(5, 90)), "callback",
                        envelope.id, envelope.channel, fate)  # fmt: skip
            if row.kind == PING:
                self.answer_ping(self.interns[row.person_id], delivered=fate is None)
            elif row.kind == ALERT and fate is None:
                self.react(envelope, row.incident_id, row.code)

    def answer_ping(self, phone: str, *, delivered: bool) -> None:
        if not delivered or self.rng.random() < MISSES:
            if self.rng.random() < TURNS_UP:
                wait = (0 if not delivered else 120) + self.rng.uniform(20, 240)
                self.at(self.now + timedelta(minutes=wait), "text", phone, "ok")
            return
        wait = self.rng.uniform(1, 30) if self.rng.random() < 0.85 else self.rng.uniform(30, 110)
        self.at(self.now + timedelta(minutes=wait), "text", phone, "ok")

    def react(self, envelope, incident_id: int, code: str) -> None:
        """A responder who got an alert: picks up the call and presses 1, or answers the text
        (or the missed call, later) with ATIENDO <code>; or does nothing."""
        who = self.people.get(envelope.to, ON_CALL)
        chance, slow = NOTICES[who.role], who.persona == "slow"
        if envelope.channel == VOICE:
            pick = chance * (0.5 if slow else 1.0)
            if not self.asleep(who, self.now) and self.rng.random() < pick:
                picked = self.now + timedelta(seconds=self.rng.uniform(*RING_SECONDS))
                self.at(picked, "pick_up", envelope.id)
                self.at(picked + timedelta(seconds=LISTEN_SECONDS), "press", envelope.id,
                        envelope.to, incident_id)  # fmt: skip
                return
            chance *= 0.5  # she sees the missed call later, and texts
        if self.rng.random() < chance:
            mean = TEXT_MINUTES * (SLOW if slow else 1.0)
            ready = self.awake(who, self.now + timedelta(minutes=self.rng.expovariate(1 / mean)))
            self.at(ready, "text", envelope.to, f"ATIENDO {code}", incident_id)

    def asleep(self, who: Who, when: datetime) -> bool:
        hour = when.astimezone(ZONE).hour
        return who.persona == "asleep" and (hour >= NIGHT[0] or hour < NIGHT[1])

    def awake(self, who: Who, when: datetime) -> datetime:
        """When an asleep responder acts on what reached her at `when`: at once by day, else
        after 07:00 her time."""
        if not self.asleep(who, when):
            return when
        local = when.astimezone(ZONE)
        morning = local.replace(hour=NIGHT[1], minute=0, second=0, microsecond=0)
        if local.hour >= NIGHT[0]:
            morning += timedelta(days=1)
        return morning.astimezone(UTC) + timedelta(minutes=self.rng.uniform(0, 30))

    # --- doing it, through Faro's entry points ---

    def text(self, phone: str, body: str, ack_of: int | None = None) -> None:
        receive(self.faro.sessions, self.now, sid=f"SMsim{next(self.sids):029d}",
                from_address=phone, body=body, config=self.faro.settings.domain)  # fmt: skip
        self.counts["texts"] += 1
        self.dispatch()
        if ack_of is not None:
            self.close_later(phone, ack_of)

    def callback(self, message_id: int, channel: str, status: str) -> None:
        if channel == VOICE:
            self.post(f"/twilio/voice/{message_id}/status",
                      {"CallSid": f"CA{message_id:032d}", "CallStatus": status})  # fmt: skip
        else:
            self.post(f"/twilio/status?id={message_id}",
                      {"MessageSid": f"SM{message_id:032d}", "MessageStatus": status,
                       "ErrorCode": "30003" if status == "undelivered" else "30008"})  # fmt: skip
        self.counts["failure callbacks"] += 1
        self.dispatch()

    def pick_up(self, message_id: int) -> None:
        self.post(f"/twilio/voice/{message_id}",
                  {"CallSid": f"CA{message_id:032d}", "CallStatus": "in-progress"})  # fmt: skip

    def press(self, message_id: int, phone: str, incident_id: int) -> None:
        self.post(f"/twilio/voice/{message_id}/gather",
                  {"CallSid": f"CA{message_id:032d}", "CallStatus": "in-progress",
                   "Digits": "1"})  # fmt: skip
        self.counts["calls answered with 1"] += 1
        self.dispatch()
        self.close_later(phone, incident_id)

    def close_later(self, phone: str, incident_id: int) -> None:
        """If her acknowledgement is the one that took, she closes the case later."""
        with self.faro.sessions() as session:
            incident = session.get(Incident, incident_id)
            if incident.acknowledged_at == self.now and self.holds(incident, phone):
                wait = timedelta(minutes=self.rng.uniform(*CLOSE_MINUTES))
                self.at(self.now + wait, "close", phone, incident_id)

    def holds(self, incident: Incident, phone: str) -> bool:
        return incident.acknowledged_by_id == self.people.get(phone, ON_CALL).person_id

    def close(self, phone: str, incident_id: int) -> None:
        with self.faro.sessions() as session:
            incident = session.get(Incident, incident_id)
            if incident.resolved_at is not None or incident.acknowledged_at is None:
                return
            if not self.holds(incident, phone):
                return
            code = incident.code
        self.text(phone, f"LISTO {code}")

    def post(self, path: str, params: dict[str, str]) -> None:
        url = f"{PUBLIC}{path}"
        headers = {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, params)}
        response = self.client.post(path, data=params, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")

    def dispatch(self) -> None:
        self.faro.dispatch(self.now)
        self.sent()

    def tick(self) -> None:
        """A pass at `now`. The passes a live scheduler made since the last one found nothing
        due (that is how `now` was chosen), so all they did was write the heartbeat: written
        here as theirs, so that no gap reads as a silent scheduler."""
        idle = self.now - TICK
        if idle > self.last_pass:
            with transaction(self.faro.sessions) as session:
                record_heartbeat(session, idle)
        self.faro.run_pass(self.now)
        self.last_pass = self.now
        self.counts["passes"] += 1
        self.sent()

    # --- the clock ---

    def run(self) -> None:
        while True:
            due = self.next_pass()
            if self.agenda and (due is None or self.agenda[0][0] < due):
                when, _, action, args = heapq.heappop(self.agenda)
                self.now = max(self.now, when)
                getattr(self, action)(*args)
                continue
            done = self.now >= self.end and (self.now >= self.end + DRAIN or not self.waiting())
            if done or due is None:
                return
            self.now = due
            self.tick()

    def next_pass(self) -> datetime | None:
        """The first pass on the grid after the earliest work due since the last pass."""
        after = self.last_pass
        due = [
            select(func.min(column)).where(column > after, *where).scalar_subquery()
            for column, *where in (
                (Person.next_checkin_at,),
                (Person.pause_notice_at,),
                (Person.next_phq_at,),
                (CheckIn.remind_at,),
                (CheckIn.escalate_at,),
                (Trip.ask_at,),
                (Trip.overdue_at,),
                (Incident.next_step_at, Incident.acknowledged_at.is_(None),
                 Incident.resolved_at.is_(None)),
                (Incident.ack_check_at, Incident.resolved_at.is_(None)),
                (OutboundMessage.next_attempt_at,),
                (Question.expires_at,),
            )
        ]  # fmt: skip
        with self.faro.sessions() as session:
            found = [t for t in session.execute(select(*due)).one() if t is not None]
        if not found:
            return None
        seconds = TICK.total_seconds()
        return datetime.fromtimestamp(math.ceil(min(found).timestamp() / seconds) * seconds, UTC)

    def waiting(self) -> bool:
        """Whether a case of the month still waits for its first human."""
        acknowledged = select(Event.incident_id).where(Event.kind == "acknowledged")
        with self.faro.sessions() as session:
            return (
                session.scalar(
                    select(Incident.id)
                    .where(
                        Incident.opened_at < self.end,
                        Incident.resolved_at.is_(None),
                        Incident.id.not_in(acknowledged),
                    )
                    .limit(1)
                )  # fmt: skip
                is not None
            )


def nearest_rank(values: list[float], q: float) -> float | None:
    """The q-th percentile, nearest rank (as the console's reports compute it)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def month_figures(faro: Faro, end: datetime) -> dict[str, dict]:
    """Per kind, the month's cases: how many, how many needed a human (not closed by her own
    text first), how many reached one, and the minutes until the first acknowledgement,
    counted from the deadline (missed check-ins), the end of the trip's grace (trips), else
    from the moment the case opened. And where each first acknowledgement came from."""
    with faro.sessions() as session:
        incidents = session.scalars(
            select(Incident).where(Incident.opened_at < end, Incident.drill.is_(False))
        ).all()
        first: dict[int, Event] = {}
        for event in session.scalars(
            select(Event).where(Event.kind == "acknowledged").order_by(Event.at, Event.id)
        ):
            first.setdefault(event.incident_id, event)
        steps: dict[int, list[tuple[datetime, int]]] = {}
        for event in session.scalars(select(Event).where(Event.kind == "alerted")):
            steps.setdefault(event.incident_id, []).append((event.at, event.data["step"]))
        checkins = {
            c.id: c for c in session.scalars(select(CheckIn).where(CheckIn.missed_at.is_not(None)))
        }
        trips = {t.id: t for t in session.scalars(select(Trip))}
        roles = dict(session.execute(select(Person.id, Person.role)).all())
        figures: dict[str, dict] = {}
        for incident in incidents:
            kind = figures.setdefault(
                incident.kind,
                {
                    "cases": 0,
                    "by_her": 0,
                    "waits": [],
                    "never": 0,
                    "by": Counter(),
                    "step": Counter(),
                    "night": 0,
                },
            )
            kind["cases"] += 1
            ack = first.get(incident.id)
            if ack is None:
                if incident.resolution in HER_OK_RESOLUTIONS:
                    kind["by_her"] += 1
                else:
                    kind["never"] += 1
                continue
            since = _since(incident, checkins, trips)
            kind["waits"].append((ack.at - since).total_seconds() / 60)
            role = roles.get(ack.person_id, "admin")
            kind["by"][f"{'buddy' if role == INTERN else role} by {ack.data.get('channel')}"] += 1
            taken = [s for at_, s in steps.get(incident.id, []) if at_ <= ack.at]
            kind["step"][max(taken, default=1)] += 1
            hour = since.astimezone(ZONE).hour
            kind["night"] += hour >= NIGHT[0] or hour < NIGHT[1]  # fmt: skip
    return figures


def _since(incident: Incident, checkins: dict, trips: dict) -> datetime:
    detail = incident.detail or {}
    if "checkin_id" in detail and detail["checkin_id"] in checkins:
        # A missed check-in from its deadline; an unreachable one from when it opened (the
        # failure moved its deadline to then).
        return min(incident.opened_at, checkins[detail["checkin_id"]].deadline_at)
    if "trip_id" in detail:
        trip = trips[detail["trip_id"]]
        return trip.expected_at + grace(incident.intern)
    return incident.opened_at


# Targets printed beside the figures: (kind, what, test).
TARGETS = {
    EMERGENCY: (("p50 < 3 min", lambda f: f["p50"] is not None and f["p50"] < 3),
                ("p95 < 10 min", lambda f: f["p95"] is not None and f["p95"] < 10)),
    MISSED_CHECKIN: (("p95 < 45 min", lambda f: f["p95"] is not None and f["p95"] < 45),),
}  # fmt: skip


def month(interns: int, days: int, seed: int, url: str) -> tuple[dict, Counter, float]:
    make = make_engine(url)
    upgrade(make)
    make.dispose()
    env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "SMS_TRANSPORT": "console",
           "ADMIN_PHONES": ADMIN, "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": PUBLIC,
           "RUN_SCHEDULER": "0"}  # fmt: skip
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(env, transport=SimTransport(None), instance_path=instance)
        sim = Month(app, seed, days)
        sim.roster(interns)
        sim.plan(days)
        wall = time.perf_counter()
        sim.run()
        elapsed = time.perf_counter() - wall
        figures = month_figures(sim.faro, sim.end)
        sim.counts["simulated hours"] = int((sim.now - START).total_seconds() // 3600)
        sim.faro.close()
    return figures, sim.counts, elapsed


def print_month(figures: dict, counts: Counter, elapsed: float, args, engine: str) -> None:
    command = ".venv/bin/python bench/escalation.py " + " ".join(sys.argv[1:])
    print(f"$ {command.strip()}")
    print(f"[{engine}] simulated {args.days} days, {args.interns} interns, seed {args.seed} "
          f"({elapsed:.0f} s): time to the first human acknowledgement")  # fmt: skip
    print(f"  {'kind':15} {'cases':>5} {'by her':>6} {'reached':>15} {'p50':>9} {'p95':>9}"
          "  targets")  # fmt: skip
    for kind in sorted(figures, key=lambda k: list(KINDS).index(k)):
        f = figures[kind]
        need = f["cases"] - f["by_her"]
        reached = len(f["waits"])
        f["p50"], f["p95"] = nearest_rank(f["waits"], 50), nearest_rank(f["waits"], 95)
        checks = [("100% reached", reached == need)]
        checks += [(name, test(f)) for name, test in TARGETS.get(kind, ())]
        verdicts = "; ".join(f"{name} {'PASS' if ok else 'FAIL'}" for name, ok in checks)
        share = f"{reached}/{need} ({reached / need:.0%})" if need else "-"
        print(f"  {kind:15} {f['cases']:5} {f['by_her']:6} {share:>15} "
              f"{_minutes(f['p50']):>9} {_minutes(f['p95']):>9}  {verdicts}")  # fmt: skip
    for kind in sorted(figures, key=lambda k: list(KINDS).index(k)):
        f = figures[kind]
        if not f["waits"]:
            continue
        by = ", ".join(f"{k} {n}" for k, n in f["by"].most_common())
        last = len(KINDS[kind].default_policy)
        taken = sorted(f["step"].items())
        steps = ", ".join(f"{s if s <= last else 'final'}: {n}" for s, n in taken)
        print(f"    {kind}: first acknowledged by {by}; at step {steps}; "
              f"{f['night']} of {len(f['waits'])} began at night (23-07)")  # fmt: skip
    print("  " + ", ".join(f"{n} {what}" for what, n in counts.items()))


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} min"


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
    parser.add_argument("--interns", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=4821)
    args = parser.parse_args()
    logging.disable(logging.ERROR)  # the simulated failures log errors by design
    os.environ.setdefault("TWILIO_MPS", MOCK_MPS)  # gunicorn's workers inherit it

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
                url = database(args.engine, tmp, "faro_month", servers)
                figures, counts, elapsed = month(args.interns, args.days, args.seed, url)
                print_month(figures, counts, elapsed, args, args.engine)
        finally:
            for server, _ in servers:
                server.stop()


if __name__ == "__main__":
    main()
