"""The worst night: the scheduler stops for three hours, then comes back.

Nine interns in four zones, their evening check-in times before, inside and after the outage;
an emergency whose steps fell due while nobody ticked; a trip that became overdue; a reminder.
The webhook kept working (an answer during the outage counts). When the scheduler returns,
its first pass catches up as DESIGN's "Time" and README's daily check-ins say: a ping whose
day is still on goes out late (with a fresh window when the planned one passed), a day that
ended is written as skipped, a passed deadline opens its incident without the reminder that
would only confuse, a reminder whose deadline is still ahead goes out, the missed steps of an
open incident are taken at once while its missed repeats collapse into one round, and the
administrators hear that ticks are back, with how many check-ins go out late.

tests/test_catch_up.py shows each rule alone; this is the whole night at once.

The outage, in UTC and in each zone (2026-11-24 evening, local):

    last pass 03:30Z   Monterrey 21:30   Cancun 22:30   Mazatlan 20:30   Tijuana 19:30
    restart   06:30Z   Monterrey 00:30+1 Cancun 01:30+1 Mazatlan 23:30   Tijuana 22:30
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from escalation.base.db import transaction
from escalation.base.models import (
    EMERGENCY,
    INTERN,
    MISSED_CHECKIN,
    TRIP_OVERDUE,
    CheckIn,
    Event,
    Person,
    Unit,
    University,
)
from escalation.heartbeat import notice_silence
from tests.conftest import at
from tests.stories import checkin_texts, events, incidents, outbox, rows, scheduled, sms_to, text
from tests.stories import tick as tick_at

ADMIN = "+528112345678"
ROSA, LUIS, MARTA = "+524881000003", "+524881000004", "+524881000005"
MONTERREY, CANCUN = "America/Monterrey", "America/Cancun"
MAZATLAN, TIJUANA = "America/Mazatlan", "America/Tijuana"
# name: (phone, zone, check-in time, what the night holds for her)
INTERNS = {
    "ana": ("+524881000101", MONTERREY, "22:00"),  # due 04:00Z, window closed, day over
    "beto": ("+524881000102", CANCUN, "22:15"),  # pinged 03:15Z; reminder and deadline down
    "carla": ("+524881000103", TIJUANA, "22:00"),  # due 06:00Z: late, window still open
    "dora": ("+524881000104", MAZATLAN, "21:00"),  # due 04:00Z, window closed, same day
    "elena": ("+524881000105", MONTERREY, "21:00"),  # pinged 03:00Z; reminder 04:00Z down
    "fer": ("+524881000106", TIJUANA, "23:00"),  # due 07:00Z: after the restart, on time
    "gabi": ("+524881000107", CANCUN, "22:00"),  # pinged 03:00Z; answers during the outage
    "hugo": ("+524881000108", MONTERREY, "08:00"),  # SOS at 03:25Z
    "iris": ("+524881000109", MAZATLAN, "08:00"),  # VIAJE 1h at 03:05Z: overdue at 04:25Z
}
LAST_PASS = at("2026-11-25T03:30:00+00:00")
RESTART = at("2026-11-25T06:30:00+00:00")


@pytest.fixture
def extra_settings():
    return {"ADMIN_PHONES": ADMIN}


@pytest.fixture
def night(faro):
    """The roster: all of UANL's CS Doctor Arroyo (nurse Rosa, coordinator Luis, supervisor
    Marta), each intern in her own zone. Elena's university-default delays are her own: a
    reminder after 60 min, the deadline after 4 h."""
    with transaction(faro.sessions) as session:
        uanl = University(name="UANL")
        arroyo = Unit(name="CS Doctor Arroyo", municipality="Doctor Arroyo", unit_type="A")
        session.add_all([uanl, arroyo])
        session.flush()
        place = {"university_id": uanl.id, "unit_id": arroyo.id}
        for name, (phone, zone, time) in INTERNS.items():
            extra = {"reminder_minutes": 60, "deadline_minutes": 240} if name == "elena" else {}
            session.add(scheduled(Person(role=INTERN, name=f"{name.title()} Lopez", phone=phone,
                                         timezone=zone, checkin_time=time, **place,
                                         **extra)))  # fmt: skip
        session.add_all(
            [
                Person(role="nurse", name="Rosa Martinez", phone=ROSA, unit_id=arroyo.id),
                Person(role="coordinator", name="Luis Herrera", phone=LUIS,
                       university_id=uanl.id),
                Person(role="supervisor", name="Marta Cantu", phone=MARTA,
                       municipality="Doctor Arroyo"),
            ]
        )  # fmt: skip
    return {name: phone for name, (phone, _, _) in INTERNS.items()}


def phone(name: str) -> str:
    return INTERNS[name][0]


def intern_id(faro, name: str) -> int:
    return rows(faro, Person, Person.phone == phone(name))[0].id


def checkin(faro, name: str) -> CheckIn:
    [found] = rows(faro, CheckIn, CheckIn.intern_id == intern_id(faro, name))
    return found


def hers(faro, kind: str, name: str) -> list[Event]:
    return [e for e in events(faro, kind) if e.person_id == intern_id(faro, name)]


def evening(faro, *, health_polled: bool) -> None:
    """Ticks every five minutes until 03:30Z (the pings of 03:00Z and 03:15Z leave on time,
    Iris leaves on a trip, Hugo texts SOS); then three hours without a pass, during which
    Gabi answers and, if `health_polled`, an uptime monitor polls /health every 2 minutes."""
    instant = at("2026-11-25T02:40:00+00:00")
    while instant <= LAST_PASS:
        tick_at(faro, instant)
        if instant == at("2026-11-25T03:05:00+00:00"):
            text(faro, phone("iris"), "VIAJE 1h Galeana", "2026-11-25T03:05:00+00:00")
        if instant == at("2026-11-25T03:25:00+00:00"):
            text(faro, phone("hugo"), "SOS", "2026-11-25T03:25:00+00:00")
        instant += timedelta(minutes=5)
    poll = LAST_PASS
    while poll < RESTART:
        poll += timedelta(minutes=2)
        if poll == at("2026-11-25T04:10:00+00:00"):
            text(faro, phone("gabi"), "ok", "2026-11-25T04:10:00+00:00")
        if health_polled and poll < RESTART:
            with transaction(faro.sessions) as session:
                alarmed = notice_silence(session, poll, faro.settings.domain)
            if alarmed:  # what /health does: the dispatcher sends the alarm at once
                faro.dispatch(poll)


@pytest.fixture
def restarted(faro, night):
    """The night up to and including the first pass after the outage (nobody polled
    /health)."""
    evening(faro, health_polled=False)
    tick_at(faro, RESTART)
    return night


def sent_at(faro, instant: datetime) -> list:
    return [m for m in outbox(faro) if m.created_at == instant]


# --- check-ins ---------------------------------------------------------------------------


def test_a_day_that_ended_while_down_is_skipped_with_its_reason(faro, restarted, transport):
    [skipped] = hers(faro, "checkin_skipped", "ana")
    assert skipped.at == RESTART
    assert skipped.data["local_date"] == "2026-11-24"
    assert skipped.data["reason"] == "scheduler_down_all_day"
    assert skipped.data["due"] == "2026-11-25T04:00:00+00:00"  # 22:00 in Monterrey
    assert sms_to(transport, phone("ana")) == []
    # Her next ping is the 25th's, on time; nobody else's day is over.
    assert rows(faro, Person, Person.phone == phone("ana"))[0].next_checkin_at == at(
        "2026-11-25T22:00:00-06:00"
    )
    assert [e.person_id for e in events(faro, "checkin_skipped")] == [intern_id(faro, "ana")]


def test_pings_due_while_down_go_out_late_that_local_day_in_each_zone(faro, restarted, transport):
    # Carla in Tijuana, due 22:00 (06:00Z): 30 min late, her planned window still holds.
    [carla] = checkin_texts(transport, phone("carla"))
    assert carla.startswith("Hola Carla, tu registro de las 22:00 sale tarde")
    ping = checkin(faro, "carla")
    assert (str(ping.local_date), ping.sent_at) == ("2026-11-24", RESTART)
    assert ping.deadline_at == at("2026-11-25T08:00:00+00:00")  # 00:00 in Tijuana, as planned
    assert ping.remind_at == RESTART + timedelta(minutes=30)  # from when it left
    # Dora in Mazatlan, due 21:00 (04:00Z): her whole window passed, her day did not.
    [dora] = checkin_texts(transport, phone("dora"))
    assert dora.startswith("Hola Dora, tu registro de las 21:00 sale tarde")
    ping = checkin(faro, "dora")
    assert (str(ping.local_date), ping.sent_at) == ("2026-11-24", RESTART)
    assert ping.deadline_at == ping.escalate_at == RESTART + timedelta(hours=2)  # a fresh one
    assert ping.remind_at == RESTART + timedelta(minutes=30)
    late = {e.person_id: e.data for e in events(faro, "checkin_sent") if e.at == RESTART}
    assert late == {
        intern_id(faro, "carla"): {"local_date": "2026-11-24", "late": True, "channel": "sms"},
        intern_id(faro, "dora"): {"local_date": "2026-11-24", "late": True, "channel": "sms"},
    }


def test_a_ping_due_after_the_restart_leaves_on_time(faro, restarted, transport):
    tick_at(faro, "2026-11-25T06:59:45+00:00")
    assert sms_to(transport, phone("fer")) == []
    tick_at(faro, "2026-11-25T07:00:00+00:00")  # 23:00 in Tijuana
    [ping] = checkin_texts(transport, phone("fer"))
    assert ping == "Hola Fer, ¿todo bien hoy? Responde 1 si estas bien, 2 si necesitas apoyo, " \
        "9 si es emergencia."  # fmt: skip
    [sent] = hers(faro, "checkin_sent", "fer")
    assert sent.data["late"] is False


def test_a_deadline_passed_while_down_opens_its_incident_without_the_reminder(
    faro, restarted, transport
):
    # Beto, pinged on time at 03:15Z; his reminder (03:45Z) and deadline (05:15Z) passed.
    [reminder_skipped] = hers(faro, "checkin_reminder_skipped", "beto")
    assert (reminder_skipped.at, reminder_skipped.data["reason"]) == (RESTART, "deadline_passed")
    assert len(sms_to(transport, phone("beto"))) == 1  # the ping alone
    [missed] = hers(faro, "checkin_missed", "beto")
    assert (missed.at, missed.data["incident_kind"]) == (RESTART, MISSED_CHECKIN)
    [incident] = incidents(faro, MISSED_CHECKIN)
    assert (incident.intern_id, incident.opened_at) == (intern_id(faro, "beto"), RESTART)
    [opened] = [e for e in events(faro, "incident_opened") if e.incident_id == incident.id]
    assert opened.at == RESTART
    [to_rosa] = [m for m in sent_at(faro, RESTART) if m.incident_id == incident.id]
    assert to_rosa.to_phone == ROSA and "Beto Lopez" in to_rosa.body
    # Gabi answered during the outage: the webhook needs no scheduler, so no incident.
    assert checkin(faro, "gabi").answered_at == at("2026-11-25T04:10:00+00:00")
    assert hers(faro, "checkin_missed", "gabi") == []


def test_a_reminder_due_while_down_goes_out_late_when_her_deadline_is_ahead(
    faro, restarted, transport
):
    # Elena: pinged 03:00Z, reminder after 60 min (04:00Z, down), deadline after 4 h (07:00Z).
    ping, reminder = checkin_texts(transport, phone("elena"))
    assert "Si no respondes antes de las 01:00 avisaremos a tu equipo." in reminder
    [reminded] = hers(faro, "checkin_reminded", "elena")
    assert reminded.at == RESTART
    assert checkin(faro, "elena").escalate_at == at("2026-11-25T07:00:00+00:00")  # unchanged
    assert hers(faro, "checkin_missed", "elena") == []
    tick_at(faro, "2026-11-25T07:00:00+00:00")
    [missed] = hers(faro, "checkin_missed", "elena")
    assert missed.at == at("2026-11-25T07:00:00+00:00")


# --- an open incident and a trip ---------------------------------------------------------


def alerted(faro, incident_id: int) -> list[tuple[datetime, int, int]]:
    return [
        (e.at, e.data["step"], e.data["repeat"])
        for e in events(faro, "alerted")
        if e.incident_id == incident_id
    ]


def test_an_emergencys_missed_steps_are_taken_at_once_and_its_repeats_collapse(
    faro, restarted, transport
):
    [sos] = incidents(faro, EMERGENCY)
    sos_at = at("2026-11-25T03:25:00+00:00")
    # Step 2 (03:35Z) and step 3 (03:45Z) were missed: both at the restart. Step 3's repeats
    # every 10 min since 03:55Z are one round, not eighteen calls: the next is 10 min on.
    assert alerted(faro, sos.id) == [(sos_at, 1, 0), (RESTART, 2, 0), (RESTART, 3, 0)]
    later = RESTART + timedelta(minutes=10)
    assert incidents(faro, EMERGENCY)[0].next_step_at == later
    calls = [m.to_phone for m in sent_at(faro, RESTART) if m.incident_id == sos.id]
    assert sorted(calls) == sorted([MARTA, MARTA, ROSA, LUIS])  # step 2, then step 3 by voice
    tick_at(faro, later - timedelta(seconds=15))
    assert len(alerted(faro, sos.id)) == 3
    tick_at(faro, later)
    assert alerted(faro, sos.id)[3:] == [(later, 3, 1)]


def test_a_trip_overdue_while_down_opens_its_incident(faro, restarted):
    [overdue] = hers(faro, "trip_overdue", "iris")
    assert overdue.at == RESTART
    [incident] = incidents(faro, TRIP_OVERDUE)
    assert (incident.intern_id, incident.opened_at) == (intern_id(faro, "iris"), RESTART)
    assert incident.detail["expected"] == "21:05"  # Mazatlan: left 20:05 for one hour
    assert [m.to_phone for m in sent_at(faro, RESTART) if m.incident_id == incident.id] == [LUIS]


def test_the_passes_after_the_restart_send_nothing_twice(faro, restarted, transport):
    before = len(transport.sent)
    tick_at(faro, RESTART + timedelta(seconds=15))
    tick_at(faro, RESTART + timedelta(seconds=30))
    assert len(transport.sent) == before
    assert len(events(faro, "checkin_sent")) == 5  # Elena, Gabi, Beto on time; Carla, Dora late
    assert len(incidents(faro)) == 3  # the SOS, Beto's missed check-in, Iris's trip


# --- the heartbeat -----------------------------------------------------------------------


def test_the_administrators_hear_once_that_ticks_are_back_with_the_late_count(
    faro, restarted, transport
):
    [back] = sms_to(transport, ADMIN)
    assert back == (
        "FARO ADMIN: el programador volvio a correr 25/11 00:30 tras 180 min sin actividad "
        "(desde 24/11 21:30). Enviamos lo pendiente; registros que salen tarde: 2."
    )  # Carla and Dora; Ana's day is over, Fer's ping is ahead
    [resumed] = events(faro, "scheduler_resumed")
    assert (resumed.at, resumed.data["late_pings"]) == (RESTART, 2)
    assert events(faro, "scheduler_silent") == []  # nobody polled /health meanwhile
    tick_at(faro, RESTART + timedelta(seconds=15))
    assert len(sms_to(transport, ADMIN)) == 1


def test_an_outage_health_noticed_gets_one_alarm_and_one_all_clear(faro, night, transport):
    evening(faro, health_polled=True)
    [silent] = events(faro, "scheduler_silent")
    assert silent.at == LAST_PASS + timedelta(minutes=10)  # the first poll 10 min in
    [alarm] = sms_to(transport, ADMIN)
    assert alarm.startswith("FARO ADMIN: el programador no corre desde 24/11 21:30 (10 min).")
    tick_at(faro, RESTART)
    alarm_again, back = sms_to(transport, ADMIN)
    assert alarm_again == alarm
    assert back.startswith("FARO ADMIN: el programador volvio a correr 25/11 00:30 tras 180 min")
    assert back.endswith("registros que salen tarde: 2.")
    assert len(events(faro, "scheduler_resumed")) == 1
    tick_at(faro, RESTART + timedelta(seconds=15))
    assert len(sms_to(transport, ADMIN)) == 2
