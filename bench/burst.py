"""Benchmark: the 09:00 burst through a sender of TWILIO_MPS texts a second.

    .venv/bin/python bench/burst.py                   # 10,000 interns at TWILIO_MPS=10 (~20 min)
    .venv/bin/python bench/burst.py --interns 2000    # the same, a fifth (~5 min)
    .venv/bin/python bench/burst.py --engine postgresql

Every intern checks in at the same minute; Faro runs in this process (the app, its dispatcher
thread, a scheduler pass every two seconds) and sends through the real Twilio SDK to the local
mock at the given pace. Their university's reminder is 5 minutes and deadline 10 minutes after
the ping, so the last pings, which leave 15 minutes after the first, would raise false alarms
if the delays counted from the schedule. 98% of the interns answer OK (a signed webhook) 1 to 3
minutes after their ping reached the mock; 2% never answer. Every --sos-every seconds an intern
texts SOS in the middle of it. Printed when the last ping has left:
- how long the pings took, and the pace the mock saw (texts per second, its busiest second);
- false missed check-ins (an incident for an intern who answered, or before her deadline counted
  from when her ping left): 0 is the target; and the true ones so far;
- for each SOS, the time from its webhook's answer to its first alert at the mock (target < 1 s).
Traffic goes to 127.0.0.1 only, and the run stops by itself.
"""

from __future__ import annotations

import argparse
import heapq
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from escalation.base.db import transaction, utcnow  # noqa: E402
from escalation.base.models import (  # noqa: E402
    COORDINATOR,
    INTERN,
    MISSED_CHECKIN,
    NURSE,
    CheckIn,
    Incident,
    OutboundMessage,
    Person,
    Unit,
    University,
)
from escalation.pings import PING, schedule_changed  # noqa: E402
from escalation.sending import WAITED  # noqa: E402
from tests.twilio_mock import TwilioMock, mock_env  # noqa: E402

TOKEN = "bench-auth-token-0123456789abcdef"
PUBLIC = "https://faro.example.org"
# Mexico's zones: the interns live in whichever has most of its day ahead when the run starts,
# so their pings never cross local midnight (a ping of a day that is over is dropped).
ZONES = ("America/Cancun", "America/Monterrey", "America/Mazatlan", "America/Tijuana")
NURSE_PHONE, COORDINATOR_PHONE = "+524881000003", "+524881000004"


def database(engine_name: str, folder: Path):
    if engine_name == "sqlite":
        return f"sqlite:///{folder}/burst.db", None
    from tests import pg

    server = pg.ThrowawayServer()
    return server.start(), server


def zone_with_the_day_ahead(now) -> str:
    def left(zone: str) -> timedelta:
        local = now.astimezone(ZoneInfo(zone))
        return local.replace(hour=23, minute=59, second=59) - local

    return max(ZONES, key=left)


def seed(faro, count: int, checkin_time: str, zone: str, deadline: int) -> list[str]:
    phones = [f"+52489{3000000 + i:07d}" for i in range(count)]
    with transaction(faro.sessions) as session:
        uni = University(name="UANL", reminder_minutes=max(1, deadline // 2),
                         deadline_minutes=deadline)  # fmt: skip
        unit = Unit(name="CS Doctor Arroyo", municipality="Doctor Arroyo", unit_type="A")
        session.add_all([uni, unit])
        session.flush()
        session.add(Person(role=NURSE, name="Rosa Martinez", phone=NURSE_PHONE, unit_id=unit.id))
        session.add(Person(role=COORDINATOR, name="Luis Herrera", phone=COORDINATOR_PHONE,
                           university_id=uni.id))  # fmt: skip
        for n, phone in enumerate(phones):
            intern = Person(role=INTERN, name=f"Interna {n}", phone=phone, timezone=zone,
                            checkin_time=checkin_time, university_id=uni.id,
                            unit_id=unit.id)  # fmt: skip
            schedule_changed(intern)
            session.add(intern)
    return phones


class Phones:
    """The interns' phones: each answers OK a while after her ping reaches the mock (some never
    do); a few text SOS. Signed webhooks through the app, from a few threads."""

    def __init__(self, app, twilio, phones: list[str], rng: random.Random, answer: tuple):
        self.app, self.twilio, self.rng, self.answer_after = app, twilio, rng, answer
        self.silent = set(rng.sample(phones, len(phones) // 50))
        self.interns = set(phones)
        self.pinged: set[str] = set()
        self.ping_times: list[float] = []
        self.heard_at: dict[str, float] = {}
        self.failed = 0
        self.posted_at: dict[str, float] = {}
        self.answered: set[str] = set()
        self.due: list[tuple[float, str, str]] = []  # (when, phone, body)
        self.sos: list[tuple[float, float | None]] = []  # (answered at, first alert at)
        self.alarmed: set[str] = set()  # who texted SOS (each once: a second SOS re-alerts)
        self._seen = 0
        self._lock = threading.Lock()
        self._sids = iter(range(10**9))
        self.stopping = threading.Event()
        self.validator = RequestValidator(TOKEN)

    def post(self, client, phone: str, body: str) -> None:
        form = {"MessageSid": f"SM{next(self._sids):032d}", "From": phone,
                "To": "+15005550006", "Body": body}  # fmt: skip
        signature = self.validator.compute_signature(f"{PUBLIC}/twilio/sms", form)
        answer = client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200, answer.status_code

    def watch(self) -> None:
        """Read what reached the mock: a first text to an intern is her ping."""
        while not self.stopping.is_set():
            with self.twilio._lock:
                new = list(self.twilio.received[self._seen :])
            # A request is read once the mock has answered it (its status is set just before).
            done = next((n for n, r in enumerate(new) if r.status is None), len(new))
            self._seen += done
            with self._lock:
                for request in new[:done]:
                    self.heard(request)
            time.sleep(0.05)

    def heard(self, request) -> None:
        to = request.form.get("To", "")
        if request.status == 201 and to in self.interns and to not in self.pinged:
            self.pinged.add(to)
            self.ping_times.append(request.received_at)
            self.heard_at[to] = time.monotonic()
            if to not in self.silent:
                when = time.monotonic() + self.rng.uniform(*self.answer_after)
                heapq.heappush(self.due, (when, to, "OK"))

    def answer(self) -> None:
        client = self.app.test_client()
        while not self.stopping.is_set():
            with self._lock:
                item = (
                    heapq.heappop(self.due)
                    if self.due and self.due[0][0] <= time.monotonic()
                    else None
                )
            if item is None:
                time.sleep(0.05)
                continue
            try:
                self.post(client, item[1], item[2])
            except Exception as exc:  # counted, never silently: a lost answer is a true miss
                print(f"answer from {item[1]} failed: {exc!r}", file=sys.stderr)
                self.failed += 1
                continue
            with self._lock:
                self.answered.add(item[1])
                self.posted_at[item[1]] = time.monotonic()

    def emergencies(self, every: float) -> None:
        client = self.app.test_client()
        while not self.stopping.wait(every):
            with self._lock:
                phone = self.rng.choice(sorted(self.interns - self.silent - self.alarmed))
                self.alarmed.add(phone)
            self.post(client, phone, "SOS")
            answered = time.perf_counter()
            first = None
            while first is None and not self.stopping.is_set():
                with self.twilio._lock:
                    first = next((r.received_at for r in reversed(self.twilio.received)
                                  if r.received_at > answered and r.status == 201
                                  and r.form.get("To") in (NURSE_PHONE, COORDINATOR_PHONE)),
                                 None)  # fmt: skip
                time.sleep(0.01)
            self.sos.append((answered, first))


def scheduler(faro, stopping: threading.Event) -> None:
    while not stopping.is_set():
        faro.run_pass(patience=1)  # as bot/scheduler.py does
        faro.dispatcher.nudge()
        stopping.wait(2)


def queued_pings(faro) -> int:
    with faro.sessions() as session:
        return session.scalar(
            select(func.count()).where(
                OutboundMessage.kind == PING, OutboundMessage.next_attempt_at.is_not(None)
            )  # fmt: skip
        )


def missed(faro, phones: Phones, deadline: int) -> tuple[list, int]:
    """(the false missed check-ins so far, how many true ones)."""
    now = utcnow()
    with faro.sessions() as session:
        rows = session.execute(
            select(Person.phone, CheckIn.due_at, CheckIn.sent_at, CheckIn.deadline_at,
                   CheckIn.answered_at, Incident.opened_at)
            .join(Incident, Incident.intern_id == Person.id)
            .join(CheckIn, CheckIn.intern_id == Person.id)
            .where(Incident.kind == MISSED_CHECKIN)
        ).all()  # fmt: skip
    # False: opened before the deadline Faro set, or before her deadline counted from when her
    # ping left (Faro moves it for a ping that left WAITED late or more, so up to that much
    # earlier is its rule, not an alarm too soon), or though she answered in time. (An intern
    # whose answer this script had not posted yet is silent to Faro: her incident is a true
    # one, and `lagging` counts them.)
    late = timedelta(minutes=deadline)
    false = [r for r in rows if r.opened_at < r.deadline_at or now < r.deadline_at
             or r.opened_at < r.sent_at + late - WAITED
             or (r.answered_at is not None and r.answered_at <= r.sent_at + late)]  # fmt: skip
    return false, len(rows) - len(false)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--interns", type=int, default=10_000)
    parser.add_argument("--mps", type=float, default=10.0)
    parser.add_argument("--sos-every", type=float, default=60.0)
    parser.add_argument("--deadline", type=int, default=10, help="minutes (the reminder: half)")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as folder,
        TwilioMock(auth_token=TOKEN) as twilio,
    ):
        url, server = database(args.engine, Path(folder))
        try:
            run(url, twilio, Path(folder), args)
        finally:
            if server is not None:
                server.stop()


def run(url: str, twilio, folder: Path, args) -> None:
    env = mock_env(twilio.url, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_MPS=f"{args.mps:g}",
                   DATABASE_URL=url, PUBLIC_BASE_URL=PUBLIC, RUN_SCHEDULER="0")  # fmt: skip
    app = create_app(env, instance_path=str(folder / "instance"))
    faro = app.extensions["faro"]
    from escalation.base.migrate import upgrade

    upgrade(faro.engine)
    zone = zone_with_the_day_ahead(utcnow())
    start = (utcnow() + timedelta(minutes=1)).astimezone(ZoneInfo(zone))
    answer = (args.deadline * 6, args.deadline * 18)  # a tenth to three tenths of it, in s
    phones = Phones(app, twilio, seed(faro, args.interns, start.strftime("%H:%M"), zone,
                         args.deadline),
                    random.Random(7), answer)  # fmt: skip
    print(f"{args.interns} interns check in at {start:%H:%M} {zone} ({args.engine}, "
          f"TWILIO_MPS={args.mps:g}); waiting for that minute…", flush=True)  # fmt: skip
    stopping = phones.stopping
    threads = [
        threading.Thread(target=scheduler, args=(faro, stopping), daemon=True),
        threading.Thread(target=phones.watch, daemon=True),
        threading.Thread(target=phones.emergencies, args=(args.sos_every,), daemon=True),
    ]
    threads += [threading.Thread(target=phones.answer, daemon=True) for _ in range(4)]  # fmt: skip
    for thread in threads:
        thread.start()
    idle = 0
    while len(phones.pinged) < args.interns and idle < 6:
        time.sleep(5)
        queued = queued_pings(faro)
        idle = idle + 1 if queued == 0 and len(phones.pinged) else 0
        print(f"  {len(phones.pinged)} pinged, {len(phones.answered)} answered, "
              f"{queued} pings queued", flush=True)  # fmt: skip
    if len(phones.pinged) < args.interns:  # nothing left to send: dropped, which is a failure here
        print(f"only {len(phones.pinged)} of {args.interns} pings left; the rest were dropped",
              file=sys.stderr)  # fmt: skip
    false, true = missed(faro, phones, args.deadline)
    stopping.set()
    for thread in threads:
        thread.join(timeout=30)
    faro.close()
    report(twilio, phones, args, false, true)


def report(twilio, phones: Phones, args, false: list, true: int) -> None:
    first, last = min(phones.ping_times), max(phones.ping_times)
    texts = [r.received_at for r in twilio.received if r.resource == "Messages" and r.status == 201]
    during = [t for t in texts if first <= t <= last]
    busiest = max(Counter(int(t - first) for t in during).values())
    span = last - first
    latencies = [f - a for a, f in phones.sos if f is not None]
    print(f"\n{len(phones.ping_times)} pings left in {span / 60:.1f} min; all texts meanwhile "
          f"{len(during) / span:.1f}/s on average, {busiest} in the busiest second "
          f"(TWILIO_MPS={args.mps:g})")  # fmt: skip
    for row in false[:5]:
        print(
            f"  false: {row.phone} due {row.due_at:%H:%M:%S} sent {row.sent_at:%H:%M:%S} "
            f"deadline {row.deadline_at:%H:%M:%S} answered {row.answered_at} opened "
            f"{row.opened_at:%H:%M:%S}; ping seen {phones.heard_at.get(row.phone)}, OK "
            f"posted {phones.posted_at.get(row.phone)}, now {time.monotonic()}"
        )
    lagging = [
        p
        for p, seen in phones.heard_at.items()
        if p not in phones.silent
        and p not in phones.posted_at
        and time.monotonic() - seen > phones.answer_after[1]
    ]
    print(f"answers this script posted late or not at all: {len(lagging)}, failed: "
          f"{phones.failed}")  # fmt: skip
    print(f"false missed check-ins when the last ping left: {len(false)} (target 0); "
          f"true ones so far: {true} ({len(phones.silent)} interns never answer)")  # fmt: skip
    if latencies:
        print(f"{len(latencies)} SOS in the middle of it: first alert at Twilio after p50 "
              f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
              "(target < 1 s)")  # fmt: skip


if __name__ == "__main__":
    main()
