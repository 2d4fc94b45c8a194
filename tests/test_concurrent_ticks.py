"""Two scheduler loops over the same 200 due interns: one ping each, one incident per miss.

Runs on both engines: on PostgreSQL the loops really interleave (SKIP LOCKED spreads them over
different rows, the conditional UPDATEs and unique indexes settle any race); SQLite serialises
writers, and must give the same counts.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, insert, select

from bot.config import load_settings
from bot.runtime import Faro
from escalation.base.db import transaction
from escalation.base.models import (
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
from escalation.deadlines import REMINDER
from escalation.pings import PING
from tests.conftest import RecordingTransport, at, settings_for

INTERNS = 200
PASSES = [
    "2026-11-24T08:00:00-06:00",
    "2026-11-24T08:00:15-06:00",
    "2026-11-24T08:30:00-06:00",
    "2026-11-24T08:30:15-06:00",
    "2026-11-24T10:00:00-06:00",
    "2026-11-24T10:00:15-06:00",
]


def roster(faro: Faro) -> None:
    with transaction(faro.sessions) as session:
        uanl, unit = University(name="UANL"), Unit(name="CS Galeana", municipality="Galeana")
        session.add_all([uanl, unit])
        session.flush()
        session.add(
            Person(role=NURSE, name="Rosa Martinez", phone="+524881000003", unit_id=unit.id)
        )
        session.execute(
            insert(Person),
            [
                {
                    "role": INTERN,
                    "name": f"Interna {n}",
                    "phone": f"+52488200{n:04d}",
                    "checkin_time": "08:00",
                    "university_id": uanl.id,
                    "unit_id": unit.id,
                    "next_checkin_at": at(PASSES[0]),
                }  # fmt: skip
                for n in range(INTERNS)
            ],
        )


def count(faro: Faro, query) -> int:
    with faro.sessions() as session:
        return session.scalar(query)


def test_two_loops_send_one_ping_per_intern_and_open_one_incident_per_miss(database_url):
    transports = [RecordingTransport(), RecordingTransport()]
    faros = [Faro(load_settings(settings_for(database_url)), t) for t in transports]
    roster(faros[0])
    start = threading.Barrier(len(faros))
    errors = []

    def loop(faro: Faro) -> None:
        try:
            start.wait()
            for when in PASSES:
                faro.run_pass(at(when))
        except Exception as exc:  # surfaced below: a thread's assert would be lost
            errors.append(exc)

    threads = [threading.Thread(target=loop, args=(f,)) for f in faros]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    try:
        assert errors == []
        one = faros[0]
        assert count(one, select(func.count()).select_from(CheckIn)) == INTERNS
        assert count(one, select(func.count(func.distinct(CheckIn.intern_id)))) == INTERNS
        for kind in (PING, REMINDER):
            query = select(func.count()).where(OutboundMessage.kind == kind)
            assert count(one, query) == INTERNS
        missed = select(func.count()).where(Incident.kind == MISSED_CHECKIN)
        assert count(one, missed) == INTERNS
        sent = [e for t in transports for e in t.sent if e.body.startswith("Hola Interna")]
        assert len(sent) == INTERNS and len({e.to for e in sent}) == INTERNS
        assert all(t.sent for t in transports) or "sqlite" in database_url
    finally:
        for faro in faros:
            faro.close()
