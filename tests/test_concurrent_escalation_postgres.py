"""Two scheduler processes advancing the same incidents at the same instants: every step is
taken, and sent, exactly once.

Separate Faro instances (engines, sessions, transports) on one database URL, in threads. On
PostgreSQL they really interleave (SKIP LOCKED spreads them over different incidents and the
conditional UPDATE of `next_step_at` settles any race); SQLite serialises writers and must give
the same counts.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import insert, select

from bot.config import load_settings
from bot.runtime import Faro
from escalation.base.config import NO_CONFIG
from escalation.base.db import transaction
from escalation.base.models import (
    COORDINATOR,
    EMERGENCY,
    INTERN,
    MISSED_CHECKIN,
    NURSE,
    SUPERVISOR,
    Event,
    Incident,
    OutboundMessage,
    Person,
    Unit,
    University,
)
from escalation.incidents import open_incident
from tests.conftest import RecordingTransport, at, settings_for

INTERNS = 40
T0 = at("2025-11-24T10:00:00-06:00")
# Every 5 minutes for 100 minutes, each instant twice (a second tick right after the first).
PASSES = [T0 + timedelta(minutes=m, seconds=s) for m in range(0, 101, 5) for s in (0, 1)]


def roster_and_incidents(faro: Faro) -> None:
    with transaction(faro.sessions) as session:
        uanl, unit = University(name="UANL"), Unit(name="CS Galeana", municipality="Galeana")
        session.add_all([uanl, unit])
        session.flush()
        session.add_all([
            Person(role=NURSE, name="Rosa Martinez", phone="+524881000003", unit_id=unit.id),
            Person(role=COORDINATOR, name="Luis Herrera", phone="+524881000004",
                   university_id=uanl.id),
            Person(role=SUPERVISOR, name="Marta Cantu", phone="+524881000005",
                   municipality="Galeana"),
        ])  # fmt: skip
        session.execute(
            insert(Person),
            [
                {
                    "role": INTERN,
                    "name": f"Interna {n}",
                    "phone": f"+52488300{n:04d}",
                    "university_id": uanl.id,
                    "unit_id": unit.id,
                }  # fmt: skip
                for n in range(INTERNS)
            ],
        )
        interns = session.scalars(select(Person).where(Person.role == INTERN)).all()
        for n, intern in enumerate(interns):
            kind = EMERGENCY if n % 2 else MISSED_CHECKIN
            open_incident(session, T0, intern, kind, config=NO_CONFIG)


def scheduler(url: str, barrier: threading.Barrier, errors: list) -> RecordingTransport:
    transport = RecordingTransport()
    faro = Faro(load_settings(settings_for(url)), transport)

    def run() -> None:
        try:
            for instant in PASSES:
                barrier.wait(timeout=60)
                faro.run_pass(instant)
        except Exception as exc:  # surfaced by the test
            errors.append(exc)
            barrier.abort()
        finally:
            faro.close()

    thread = threading.Thread(target=run)
    thread.transport = transport
    return thread


def test_two_schedulers_take_and_send_every_step_exactly_once(database_url, faro):
    roster_and_incidents(faro)
    barrier, errors = threading.Barrier(2), []
    threads = [scheduler(database_url, barrier, errors) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []

    with faro.sessions() as session:
        rounds = Counter(
            (e.incident_id, e.data["step"], e.data["repeat"])
            for e in session.scalars(select(Event).where(Event.kind == "alerted"))
        )
        incidents = session.scalars(select(Incident)).all()
        alerts = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "alert"))
        alert_ids = {m.id for m in alerts}
    assert rounds and max(rounds.values()) == 1  # no round taken twice
    # Emergencies: steps at 0, 10, 20, repeats 30..50, final 60..100 (5 more) = 11 rounds;
    # missed check-ins: 0, 30, 90 = 3 rounds.
    per_kind = Counter(i.kind for i in incidents for key in rounds if key[0] == i.id)
    assert per_kind == {EMERGENCY: 11 * INTERNS // 2, MISSED_CHECKIN: 3 * INTERNS // 2}
    sent = Counter(e.id for t in threads for e in t.transport.sent if e.id in alert_ids)
    assert set(sent) == alert_ids and max(sent.values()) == 1  # every alert sent exactly once
