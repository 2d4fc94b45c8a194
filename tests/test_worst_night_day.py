"""Two schedulers stepping through the same simulated day (issue 11).

At each instant of a local day two `flask --app app tick --at <instant>` processes run at once
on PostgreSQL, sending through the real Twilio SDK to the local mock: pings, reminders,
deadlines, escalation steps, an acknowledgement left too long, the administrators' notices
after each silence between instants. Between instants interns and responders answer through
the signed webhook, in this process, its clock set to the simulated moment. Nothing may be
done twice: one ping and at most one reminder per intern, one round per incident step, one
alert per round and recipient, one notice per silence, and Twilio takes every message once.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from escalation.base.config import NO_CONFIG
from escalation.base.models import (
    EMERGENCY,
    MISSED_CHECKIN,
    CheckIn,
    Event,
    Incident,
    OutboundMessage,
    Person,
)
from escalation.deadlines import REMINDER
from escalation.heartbeat import ADMIN_ALERT, SILENCE
from escalation.pings import PING
from tests.conftest import LUIS, PUBLIC_URL, signature
from tests.shape import (
    FARO_NUMBER,
    Shape,
    alert_rounds,
    outbox_id,
    received_by_outbox_id,
    roster_csv,
    shape_env,
)

ZONE = ZoneInfo("America/Monterrey")
PLACES = [("CS Galeana", "Galeana"), ("CS Doctor Arroyo", "Doctor Arroyo"),
          ("CS Mier y Noriega", "Mier y Noriega")]  # fmt: skip
TIMES = ("07:00", "13:30")
PER_UNIT = 8
# The day's instants, local; every scheduler pass runs twice at once at each.
INSTANTS = ["00:00", "07:00", "07:30", "09:00", "09:30", "10:30", "12:10", "12:20", "13:30",
            "23:59"]  # fmt: skip


def nurse(unit: int) -> str:
    return f"+52488110{unit:04d}"


def supervisor(unit: int) -> str:
    return f"+52488120{unit:04d}"


def intern(unit: int, n: int) -> str:
    return f"+5248830{unit}{n:04d}"


def group(hhmm: str) -> list[str]:
    """The interns whose check-in is at `hhmm`, in a fixed order."""
    return [intern(u, n) for u in range(len(PLACES)) for n in range(PER_UNIT)
            if TIMES[(u * PER_UNIT + n) % len(TIMES)] == hhmm]  # fmt: skip


def roster(tmp_path):
    rows = [("coordinator", "Luis Herrera", LUIS, "sms", "", "", "", "")]
    for u, place in enumerate(PLACES):
        rows.append(("nurse", f"Enfermera {u}", nurse(u), "sms", "", *place, ""))
        rows.append(("supervisor", f"Supervisora {u}", supervisor(u), "sms", "", "", place[1], ""))
        for n in range(PER_UNIT):
            buddy = intern(u, n ^ 1)  # pairs: 0 and 1, 2 and 3 …
            checkin = TIMES[(u * PER_UNIT + n) % len(TIMES)]
            rows.append(("intern", f"Interna {u}{n}", intern(u, n), "sms", checkin, *place, buddy))
    return roster_csv(tmp_path, rows)


def moment(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), ZONE).astimezone(UTC)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_schedulers_through_a_whole_day_do_nothing_twice(database_url, twilio, tmp_path, clock):
    from app import create_app

    env = shape_env(database_url, twilio.url, tmp_path)
    # Tomorrow, so that no clock in this process finds the day's messages due: only the ticks
    # send them, as of their instants.
    day = datetime.now(ZONE).date() + timedelta(days=1)
    early = group("07:00")
    a, b, e = early[9:]  # the three who never answer their ping
    sos = group("13:30")[0]
    with Shape(env, tmp_path) as shape:
        shape.flask("import-roster", str(roster(tmp_path)))
        app = create_app({**env, "RUN_SCHEDULER": "0"}, instance_path=str(tmp_path / "web"))
        faro, client = app.extensions["faro"], app.test_client()
        sids = itertools.count(1)

        def text(hhmm: str, sender: str, body: str) -> None:
            clock.set(moment(day, hhmm))
            params = {"MessageSid": f"SMday{next(sids):029d}", "From": sender,
                      "To": FARO_NUMBER, "Body": body}  # fmt: skip
            headers = {"X-Twilio-Signature": signature(f"{PUBLIC_URL}/twilio/sms", params)}
            assert client.post("/twilio/sms", data=params, headers=headers).status_code == 200

        def code(phone: str, kind: str) -> str:
            with faro.sessions() as session:
                return session.scalar(
                    select(Incident.code)
                    .join(Person, Person.id == Incident.intern_id)
                    .where(Person.phone == phone, Incident.kind == kind)
                )

        try:
            for hhmm, sender, body in day_plan(a, b, e, sos):
                if sender is None:
                    shape.ticks(moment(day, hhmm).isoformat(), copies=2)
                elif isinstance(body, tuple):  # a responder's command with the case's code
                    verb, phone, kind = body
                    text(hhmm, sender, f"{verb} {code(phone, kind)}")
                else:
                    text(hhmm, sender, body)
            with faro.sessions() as session:
                found = day_record(session, day)
        finally:
            faro.close()

    interns = early + group("13:30")
    assert found["pings"] == Counter(interns)
    assert found["checkins"] == Counter(interns)
    assert found["reminders"] == Counter(early[6:])
    assert found["incidents"] == {(a, MISSED_CHECKIN): 1, (b, MISSED_CHECKIN): 1,
                                  (e, MISSED_CHECKIN): 1, (sos, EMERGENCY): 1}  # fmt: skip
    rounds, alerts = found["rounds"], found["alerts"]
    print(f"{len(rounds)} escalation rounds, {sum(alerts.values())} alerts, "
          f"{found['sent']} messages sent over the day")  # fmt: skip
    assert set(rounds.values()) == {1}
    assert set(alerts.values()) == {1}, {key: n for key, n in alerts.items() if n > 1}
    # B's case climbed to the supervisor (step 3) and on; E's was taken back once, and went on
    # to its second step.
    assert max(step for incident, step, _ in rounds if incident == found["ids"][b]) >= 3
    assert found["reescalated"] == Counter([found["ids"][e]])
    assert (found["ids"][e], 2, 0) in rounds
    silences = sum(1 for x, y in itertools.pairwise(INSTANTS)
                   if moment(day, y) - moment(day, x) >= SILENCE)  # fmt: skip
    assert found["notices"] == silences  # one "scheduler back" notice per silence
    at_twilio = received_by_outbox_id(twilio)
    assert set(at_twilio) == found["sent_ids"] and set(at_twilio.values()) == {1}
    assert all(outbox_id(form) is not None for form in twilio.messages() + twilio.calls())


def day_plan(a: str, b: str, e: str, sos: str) -> list[tuple]:
    """The day in order: (time, None, None) for a pair of ticks, (time, sender, body) for a
    text. A, B and E miss the 07:00 check-in; `sos` asks for help at 12:05."""
    early = group("07:00")
    texts = [
        *[("07:10", p, "OK") for p in early[:6]],
        *[("07:40", p, "Bien") for p in early[6:9]],  # after the reminder
        # The nurse takes A's case; A answers later, which closes it with an all-clear.
        # Nobody ever takes B's: her case climbs the chain all day.
        ("09:10", nurse(unit_of(a)), ("ATIENDO", a, MISSED_CHECKIN)),
        ("09:20", a, "OK"),
        # E's nurse takes hers and leaves it open: reminded at 12:10, taken back at 13:30.
        ("09:15", nurse(unit_of(e)), ("ATIENDO", e, MISSED_CHECKIN)),
        ("12:05", sos, "SOS"),
        ("12:25", nurse(unit_of(sos)), ("ATIENDO", sos, EMERGENCY)),
        ("12:40", nurse(unit_of(sos)), ("LISTO", sos, EMERGENCY)),
        *[("13:40", p, "OK") for p in group("13:30")],
        ("14:10", nurse(unit_of(e)), ("LISTO", e, MISSED_CHECKIN)),
    ]
    assert b not in {sender for _, sender, _ in texts}
    return sorted([(hhmm, None, None) for hhmm in INSTANTS] + texts, key=lambda t: t[0])


def unit_of(phone: str) -> int:
    return int(phone[-5])


def day_record(session, day: date) -> dict:
    """What the day left in the database, counted for the assertions."""
    phones = dict(session.execute(select(Person.id, Person.phone)).all())
    outbound = session.execute(
        select(OutboundMessage.id, OutboundMessage.kind, OutboundMessage.person_id,
               OutboundMessage.sent_at)
    ).all()  # fmt: skip
    incidents = session.execute(select(Incident.id, Incident.intern_id, Incident.kind)).all()
    checkins = session.scalars(select(CheckIn.intern_id).where(CheckIn.local_date == day))
    rounds, alerts = alert_rounds(session)
    taken_back = session.scalars(select(Event.incident_id).where(Event.kind == "reescalated"))
    return {
        "pings": Counter(phones[m.person_id] for m in outbound if m.kind == PING),
        "reminders": Counter(phones[m.person_id] for m in outbound if m.kind == REMINDER),
        "checkins": Counter(phones[i] for i in checkins),
        "incidents": Counter((phones[i.intern_id], i.kind) for i in incidents),
        "ids": {phones[i.intern_id]: i.id for i in incidents},
        "notices": sum(1 for m in outbound if m.kind == ADMIN_ALERT),
        "rounds": rounds,
        "alerts": alerts,
        "reescalated": Counter(taken_back),
        "sent": sum(1 for m in outbound if m.sent_at is not None),
        "sent_ids": {m.id for m in outbound if m.sent_at is not None},
    }


def test_a_silence_right_after_the_pass_that_told_of_the_last_one_is_told_too(faro):
    """A scheduler that comes back for one pass and dies again (a crash loop): the pass tells
    of the first silence, and the second is told too, by /health while it lasts and by the
    next pass after it."""
    from escalation import heartbeat
    from escalation.base.db import transaction

    start = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    for minutes in (0, 30):
        faro.run_pass(start + timedelta(minutes=minutes))
    with transaction(faro.sessions) as session:  # /health, 20 minutes after that one pass
        assert heartbeat.notice_silence(session, start + timedelta(minutes=50), NO_CONFIG)
    faro.run_pass(start + timedelta(minutes=60))
    faro.run_pass(start + timedelta(minutes=90))  # no /health this time: the pass tells all
    with faro.sessions() as session:
        told = session.scalars(
            select(Event.kind).where(Event.kind.like("scheduler_%")).order_by(Event.seq)
        ).all()
    assert told == ["scheduler_resumed", "scheduler_silent", "scheduler_resumed",
                    "scheduler_resumed"]  # fmt: skip


def test_a_late_last_repeat_gives_way_to_the_final_stage_due_with_it(faro, people):
    """Passes far apart (a scheduler down, or `tick --at` a day's instants): when the last
    repeat of the supervisor's step and the final stage (everyone, her too) are both due, she
    is alerted once, by the final stage, not twice in the same second."""
    from escalation.base.db import transaction
    from escalation.incidents import open_incident
    from tests.conftest import at

    with transaction(faro.sessions) as session:
        ana = session.scalar(select(Person).where(Person.phone == people["ana"]))
        open_incident(session, at("2026-11-24T09:00:00-06:00"), ana, MISSED_CHECKIN,
                      config=faro.settings.domain)  # fmt: skip
    for hhmm in ("09:30", "10:30", "11:00", "12:00", "13:30"):  # the last repeat was due 12:30
        faro.run_pass(at(f"2026-11-24T{hhmm}:00-06:00"))
    with faro.sessions() as session:
        rounds = session.execute(
            select(Event.at, Event.data).where(Event.kind == "alerted").order_by(Event.seq)
        ).all()
    last = rounds[-1].at
    assert [(d["step"], d["repeat"]) for when, d in rounds if when == last] == [(4, 0)]
    assert [(d["step"], d["repeat"]) for _, d in rounds] == [(1, 0), (2, 0), (3, 0), (3, 1),
                                                             (3, 2), (4, 0)]  # fmt: skip
