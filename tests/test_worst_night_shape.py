"""The worst night in the production shape (issue 11): gunicorn with two workers and two
`flask --app app scheduler` processes on PostgreSQL, the Twilio transport through the real
SDK to the local mock, every text a signed webhook.

- End to end: a missed check-in whose deadline passed while no scheduler ran, escalated by the
  real schedulers the moment they start, and an emergency (SOS), each acknowledged (ATIENDO)
  and closed, with exactly one alert per responder, channel and step at Twilio.
- Load: 2,000 texts from 500 interns through 16 client threads, a fifth of them posted twice
  with the same MessageSid as Twilio retries do: each stored once, one incident per emergency,
  no alert twice, no 5xx.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from escalation.base.models import (
    EMERGENCY,
    MISSED_CHECKIN,
    CheckIn,
    InboundMessage,
    Incident,
    OutboundMessage,
    Person,
)
from escalation.deadlines import REMINDER
from escalation.pings import PING
from tests.conftest import ANA, BETO, LUIS, MARTA, ROSA
from tests.shape import (
    Shape,
    alert_rounds,
    drained,
    get,
    new_sid,
    post_sms,
    received_by_outbox_id,
    roster_csv,
    shape_env,
    text,
    wait,
)

ZONE = ZoneInfo("America/Monterrey")
SENT = OutboundMessage.sent_at.is_not(None)


def local(instant: datetime) -> str:
    return instant.astimezone(ZONE).strftime("%H:%M")


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()


# --- End to end --------------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_missed_checkin_and_an_sos_from_signed_texts_to_closed_cases(
    database_url, db, twilio, tmp_path
):
    # Ana's deadline passed a moment ago: her ping and her reminder went out two hours back
    # (two `tick --at` processes at those instants); then no scheduler ran until now.
    deadline = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(seconds=60)
    ping = deadline - timedelta(minutes=120)
    arroyo = ("CS Doctor Arroyo", "Doctor Arroyo")
    roster = roster_csv(tmp_path, [
        ("intern", "Ana Lopez", ANA, "sms", local(ping), *arroyo, BETO),
        ("intern", "Beto Garza", BETO, "sms", local(ping + timedelta(hours=12)), *arroyo, ANA),
        ("nurse", "Rosa Martinez", ROSA, "whatsapp", "", *arroyo, ""),
        ("coordinator", "Luis Herrera", LUIS, "sms", "", "", "", ""),
        ("supervisor", "Marta Cantu", MARTA, "sms", "", "", "Doctor Arroyo", ""),
    ])  # fmt: skip
    env = shape_env(database_url, twilio.url, tmp_path)
    with Shape(env, tmp_path) as shape:
        shape.flask("import-roster", str(roster))
        shape.ticks(iso(ping))
        shape.ticks(iso(ping + timedelta(minutes=30)))
        to_ana = [m["Body"] for m in twilio.messages() if m["To"] == ANA]
        assert len(to_ana) == 2  # the ping, the reminder

        base = shape.gunicorn(workers=2)
        shape.scheduler("scheduler-1")
        shape.scheduler("scheduler-2")
        wait(lambda: get(f"{base}/health")[0] == 200, "a scheduler pass seen by /health")

        # The real schedulers find the passed deadline: Ana's missed check-in reaches her buddy
        # and her nurse.
        wait(lambda: {m["To"] for m in twilio.messages()} >= {BETO, f"whatsapp:{ROSA}"},
             "the missed check-in's alerts at Twilio")  # fmt: skip
        missed = code_of(twilio, f"whatsapp:{ROSA}")

        # Beto sends SOS: his buddy Ana, nurse Rosa and coordinator Luis, by text and call.
        assert "avisando a tu equipo" in text(base, BETO, "SOS")
        wait(lambda: len(twilio.calls()) == 3 and len(set(codes(twilio, f"whatsapp:{ROSA}"))) == 2,
             "the emergency's texts and three calls at Twilio")  # fmt: skip
        emergency = next(c for c in codes(twilio, f"whatsapp:{ROSA}") if c != missed)

        assert emergency in text(base, f"whatsapp:{ROSA}", f"ATIENDO {emergency}")
        text(base, f"whatsapp:{ROSA}", f"LISTO {emergency}")
        assert missed in text(base, f"whatsapp:{ROSA}", f"ATIENDO {missed}")
        text(base, ANA, "OK")  # her own OK closes a missed check-in, with an all-clear
        wait(lambda: drained(db), "every message due sent")
        assert sorted(shape.alive()) == ["scheduler-1", "scheduler-2", "web"]
        shape.stop_all()

    with db() as session:
        people = {p.phone: p.id for p in session.scalars(select(Person))}
        checkins = session.scalars(select(CheckIn).where(CheckIn.intern_id == people[ANA])).all()
        assert len(checkins) == 1
        assert checkins[0].reminded_at is not None and checkins[0].missed_at is not None
        incidents = {i.kind: i for i in session.scalars(select(Incident))}
        assert set(incidents) == {MISSED_CHECKIN, EMERGENCY}
        assert incidents[MISSED_CHECKIN].opened_at > ping + timedelta(minutes=30)  # by the shape
        for incident in incidents.values():
            assert incident.acknowledged_by_id == people[ROSA]
            assert incident.resolved_at is not None
        assert incidents[EMERGENCY].resolved_by_id == people[ROSA]
        assert incidents[MISSED_CHECKIN].resolved_by_id == people[ANA]
        for kind in (PING, REMINDER):
            assert count(session, OutboundMessage.kind == kind) == 1
        rounds, alerts = alert_rounds(session)
        sent = set(session.scalars(select(OutboundMessage.id).where(SENT)))

    # One round each (nobody acknowledged late enough for a second step), one alert per
    # responder and channel in it, and Twilio got every queued message exactly once.
    missed_id, emergency_id = incidents[MISSED_CHECKIN].id, incidents[EMERGENCY].id
    assert rounds == {(missed_id, 1, 0): 1, (emergency_id, 1, 0): 1}
    assert alerts == {
        **{(missed_id, 1, 0, phone, channel): 1
           for phone, channel in ((BETO, "sms"), (ROSA, "whatsapp"))},
        **{(emergency_id, 1, 0, phone, channel): 1
           for phone, channel in ((ANA, "sms"), (ANA, "voice"), (ROSA, "whatsapp"),
                                  (ROSA, "voice"), (LUIS, "sms"), (LUIS, "voice"))},
    }  # fmt: skip
    at_twilio = received_by_outbox_id(twilio)
    assert set(at_twilio) == sent and set(at_twilio.values()) == {1}
    assert MARTA not in {m["To"] for m in twilio.messages()}  # no second step was due


def codes(twilio, to: str) -> list[str]:
    """The case codes of the alerts `to` received (ATIENDO <code>)."""
    return [
        match.group(1)
        for m in twilio.messages()
        if m["To"] == to and (match := re.search(r"ATIENDO (\w+)", m["Body"]))
    ]


def code_of(twilio, to: str) -> str:
    (code,) = set(codes(twilio, to))
    return code


def count(session, *where) -> int:
    return session.scalar(select(func.count()).select_from(OutboundMessage).where(*where))


# --- Load with retries -------------------------------------------------------------------------

INTERNS, TEXTS, CLIENTS, RETRIED, SOS = 500, 2_000, 16, 400, 50
UNITS, MUNICIPALITIES = 20, 5
CALM = ("OK", "Bien", "okkk", "Sí!!")


def load_roster(tmp_path, checkin_time: str):
    rows = []
    for n in range(UNITS):
        place = (f"CS Unidad {n:02d}", f"Municipio {n % MUNICIPALITIES}")
        rows.append(("nurse", f"Enfermera {n:02d}", f"+52488110{n:04d}", "sms", "", *place, ""))
        rows += [
            ("intern", f"Interna {i:03d}", intern_phone(i), "sms", checkin_time, *place, "")
            for i in range(n, INTERNS, UNITS)
        ]
    rows.append(("coordinator", "Luis Herrera", LUIS, "sms", "", "", "", ""))
    return roster_csv(tmp_path, rows)


def intern_phone(n: int) -> str:
    return f"+52488200{n:04d}"


def texts(rng: random.Random) -> list[tuple[str, str, str]]:
    """(sid, from, body): four texts an intern, one of them SOS for the first SOS interns;
    RETRIED of them (every SOS among them) posted a second time with the same sid."""
    sent = []
    for n in range(INTERNS):
        bodies = [rng.choice(CALM) for _ in range(TEXTS // INTERNS)]
        if n < SOS:
            bodies[rng.randrange(len(bodies))] = "SOS"
        sent += [(new_sid(), intern_phone(n), body) for body in bodies]
    emergencies = [t for t in sent if t[2] == "SOS"]
    calm = rng.sample([t for t in sent if t[2] != "SOS"], RETRIED - len(emergencies))
    posts = sent + emergencies + calm
    rng.shuffle(posts)
    return posts


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_thousand_texts_with_retries_are_stored_once_and_alert_once(
    database_url, db, twilio, tmp_path
):
    # Their check-in is hours away: this is about texts, not pings.
    roster = load_roster(tmp_path, local(datetime.now(UTC) + timedelta(hours=8)))
    posts = texts(random.Random(11))
    env = shape_env(database_url, twilio.url, tmp_path)
    with Shape(env, tmp_path) as shape:
        shape.flask("import-roster", str(roster))
        base = shape.gunicorn(workers=2)
        shape.scheduler("scheduler-1")
        shape.scheduler("scheduler-2")
        wait(lambda: get(f"{base}/health")[0] == 200, "a scheduler pass seen by /health")
        statuses, latencies, seconds = post_all(base, posts)
        wait(lambda: drained(db), "every alert sent", seconds=120)
        assert sorted(shape.alive()) == ["scheduler-1", "scheduler-2", "web"]
        shape.stop_all()

    ms = [round(s * 1000) for s in sorted(latencies)]
    print(f"{len(posts)} signed posts from {CLIENTS} threads in {seconds:.1f} s: "
          f"{len(posts) / seconds:.0f} requests/s; latency median {ms[len(ms) // 2]} ms, "
          f"p99 {ms[int(len(ms) * 0.99)]} ms, worst {ms[-1]} ms")  # fmt: skip
    assert Counter(statuses) == {200: len(posts)}
    distinct = {sid for sid, _, _ in posts}
    with db() as session:
        stored = session.scalars(select(InboundMessage.message_sid)).all()
        assert len(stored) == len(distinct) == TEXTS and set(stored) == distinct
        # Two texts of one intern at the same instant can race for her day's check-in: the
        # loser stays stored, unprocessed, for the tick's retry two minutes on. Never an SOS.
        held = session.scalars(
            select(InboundMessage.body).where(InboundMessage.processed_at.is_(None))
        ).all()
        print(f"{len(held)} texts held for the tick's retry")
        assert "SOS" not in held
        incidents = session.execute(select(Incident.kind, Incident.intern_id)).all()
        assert Counter(kind for kind, _ in incidents) == {EMERGENCY: SOS}
        assert len({intern for _, intern in incidents}) == SOS
        rounds, alerts = alert_rounds(session)
        sent = set(session.scalars(select(OutboundMessage.id).where(SENT)))
    assert len(rounds) == SOS and set(rounds.values()) == {1}
    # Step one of each: the unit's nurse and the coordinator, each by text and by call.
    assert len(alerts) == SOS * 4 and set(alerts.values()) == {1}
    at_twilio = received_by_outbox_id(twilio)
    assert set(at_twilio) == sent and set(at_twilio.values()) == {1}


def post_all(base: str, posts: list[tuple[str, str, str]]):
    """Post every text from CLIENTS threads; (statuses, latencies, seconds taken)."""
    statuses, latencies, lock = [], [], threading.Lock()
    pending = iter(posts)
    errors = []

    def client() -> None:
        while True:
            with lock:
                post = next(pending, None)
            if post is None:
                return
            sid, sender, body = post
            started = time.perf_counter()
            try:
                status, _ = post_sms(base, sender, body, sid=sid, timeout=30)
            except OSError as exc:  # surfaced below: a thread's exception would be lost
                errors.append(exc)
                status = None
            with lock:
                statuses.append(status)
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    seconds = time.perf_counter() - started
    assert errors == [] and not any(t.is_alive() for t in threads)
    return statuses, latencies, seconds
