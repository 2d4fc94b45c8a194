"""A scheduler killed with SIGKILL in the middle of a tick that sends 1,000 pings (issue 11).

A `flask --app app tick --at T` process on PostgreSQL, with the Twilio transport through the
real SDK to the local mock, is killed once some but not all of the pings reached Twilio, and
started again a claim later (`tick --at T + CLAIM_SECONDS`, when a dead sender's claims have
expired). Every intern has exactly one check-in that day and got her ping; a ping reaches
Twilio twice only when Twilio had taken it just before the kill and the killed process had not
yet written so, which is at most one message per sending thread (bot/outbox.py records each
accepted message on its own); and every one of the 1,000 missed check-ins still escalates.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot import outbox
from escalation.base.models import MISSED_CHECKIN, CheckIn, Incident, OutboundMessage, Person
from escalation.base.schedule import local_day
from escalation.pings import PING
from tests.conftest import LUIS
from tests.shape import FLASK, Shape, alert_rounds, outbox_id, roster_csv, shape_env

INTERNS, UNITS = 1_000, 10
ZONE = "America/Monterrey"


def roster(tmp_path, checkin_time: str):
    rows = [("coordinator", "Luis Herrera", LUIS, "sms", "", "", "", "")]
    for n in range(UNITS):
        place = (f"CS Unidad {n:02d}", "Galeana")
        rows.append(("nurse", f"Enfermera {n:02d}", f"+52488110{n:04d}", "sms", "", *place, ""))
        rows += [
            ("intern", f"Interna {i:04d}", f"+52488300{i:04d}", "sms", checkin_time, *place, "")
            for i in range(n, INTERNS, UNITS)
        ]
    return roster_csv(tmp_path, rows)


def in_flight_bound(mps: float) -> int:
    """How many messages Twilio can have taken that the killed `flask tick` had not recorded:
    its one sender (the pass's dispatch) sends a paced batch from `threads_for(mps)` threads,
    each recording its message in its own transaction as soon as Twilio answered, so at most
    one per thread. (A `flask scheduler` process also has its dispatcher thread: twice that.)"""
    return outbox.threads_for(mps)


def pings_at(twilio, ping_ids: set[int]) -> list[int]:
    """The outbox ids of the pings Twilio took so far, in order."""
    return [
        message_id
        for r in list(twilio.received)
        if r.status == 201 and (message_id := outbox_id(r.form)) in ping_ids
    ]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_scheduler_killed_mid_tick_loses_no_ping_and_resends_only_what_was_in_flight(
    database_url, db, twilio, tmp_path
):
    due = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    env = shape_env(database_url, twilio.url, tmp_path)
    with Shape(env, tmp_path) as shape:
        began = time.perf_counter()
        shape.flask("import-roster", str(roster(tmp_path, local_hhmm(due))))
        imported = time.perf_counter()
        shape.start("tick-killed", [*FLASK, "tick", "--at", due.isoformat()])
        taken = kill_mid_send(shape, twilio, db)
        before = Counter(taken)
        killed = time.perf_counter()
        restarted = due + timedelta(seconds=outbox.CLAIM_SECONDS + 1)
        shape.ticks(restarted.isoformat(), copies=1)
        print(f"import {imported - began:.1f} s, tick until the kill {killed - imported:.1f} s, "
              f"the restarted tick {time.perf_counter() - killed:.1f} s")  # fmt: skip

        with db() as session:
            day = local_day(due, ZONE)
            interns = session.scalars(select(Person.id).where(Person.role == "intern")).all()
            checkins = session.scalars(select(CheckIn.intern_id).where(CheckIn.local_date == day))
            assert sorted(checkins) == sorted(interns) and len(interns) == INTERNS
            pings = session.execute(
                select(OutboundMessage.id, OutboundMessage.sent_at).where(
                    OutboundMessage.kind == PING
                )
            ).all()
        assert len(pings) == INTERNS and all(sent is not None for _, sent in pings)
        at_twilio = Counter(pings_at(twilio, {message_id for message_id, _ in pings}))
        duplicates = {message_id: n - 1 for message_id, n in at_twilio.items() if n > 1}
        bound = in_flight_bound(float(env["TWILIO_MPS"]))
        print(f"killed after {len(taken)} of {INTERNS} pings reached Twilio; "
              f"{sum(duplicates.values())} sent twice (bound {bound})")  # fmt: skip
        assert len(at_twilio) == INTERNS  # every intern got her ping
        assert set(duplicates.values()) <= {1} and set(duplicates) <= set(before)
        assert sum(duplicates.values()) <= bound

        # Past every deadline (the pings that left a minute late moved theirs by as much).
        escalating = time.perf_counter()
        shape.ticks((due + timedelta(hours=2, minutes=10)).isoformat())
        print(f"{INTERNS} missed check-ins escalated by two ticks in "
              f"{time.perf_counter() - escalating:.1f} s")  # fmt: skip
        with db() as session:
            missed = session.execute(
                select(Incident.intern_id).where(Incident.kind == MISSED_CHECKIN)
            ).all()
            rounds, alerts = alert_rounds(session)
            alert_ids = set(
                session.scalars(
                    select(OutboundMessage.id).where(
                        OutboundMessage.kind == "alert", OutboundMessage.sent_at.is_not(None)
                    )
                )
            )
            waiting = session.scalar(
                select(func.count()).where(OutboundMessage.next_attempt_at.is_not(None))
            )
    assert sorted(i for (i,) in missed) == sorted(interns)
    assert len(rounds) == INTERNS and set(rounds.values()) == {1}
    assert len(alerts) == INTERNS and set(alerts.values()) == {1}  # her unit's nurse, once
    at_twilio = Counter(outbox_id(r.form) for r in list(twilio.received) if r.status == 201)
    assert len(alert_ids) == INTERNS and all(at_twilio[m] == 1 for m in alert_ids)
    assert waiting == 0


def kill_mid_send(shape: Shape, twilio, db) -> list[int]:
    """SIGKILL the tick once some but not all pings reached Twilio; the ids Twilio took."""
    process = shape.processes["tick-killed"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if sum(1 for r in list(twilio.received) if r.status == 201) >= INTERNS // 10:
            break
        time.sleep(0.005)
    assert process.poll() is None, "the tick ended before it could be killed"
    shape.kill("tick-killed")
    time.sleep(0.5)  # requests the mock was still answering are recorded by now
    with db() as session:
        ids = set(session.scalars(select(OutboundMessage.id).where(OutboundMessage.kind == PING)))
    taken = pings_at(twilio, ids)
    assert INTERNS // 10 <= len(taken) < INTERNS
    return taken


def local_hhmm(instant: datetime) -> str:
    return instant.astimezone(ZoneInfo(ZONE)).strftime("%H:%M")


def test_a_case_code_another_scheduler_took_a_moment_ago_is_drawn_again(faro, people, monkeypatch):
    """Two schedulers opening many cases at once can draw the same free code (neither sees the
    other's yet): the one that loses the race on the code's unique index draws another."""
    from escalation import incidents
    from escalation.base.db import transaction
    from escalation.base.models import EMERGENCY

    now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    with transaction(faro.sessions) as session:
        ana, beto = (
            session.scalar(select(Person).where(Person.phone == people[name]))
            for name in ("ana", "beto")
        )
        first, _ = incidents.open_incident(
            session, now, ana, EMERGENCY, config=faro.settings.domain
        )
        drawn = iter([first.code])  # what the other scheduler drew, then a free one
        free = incidents._free_code
        monkeypatch.setattr(incidents, "_free_code", lambda s: next(drawn, None) or free(s))
        second, opened = incidents.open_incident(
            session, now, beto, EMERGENCY, config=faro.settings.domain
        )
    assert opened and second.intern_id == beto.id and second.code != first.code
