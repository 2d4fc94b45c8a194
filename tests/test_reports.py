"""A simulated week (Monday 23 to Sunday 29 November 2026) with known counts, built through
the real paths: scheduler passes at frozen instants, the interns' and responders' texts, a
roster import. The report's figures, per university, municipality and unit, are the counts
the story was written to produce; a drill in the same week is left out.

The week, in America/Monterrey (ping 08:00, reminder 08:30, deadline 10:00):
- Ana (UANL, CS Doctor Arroyo): on time Mon, Tue, Thu, Sat, Sun; Wed missed, Rosa acknowledges
  after 3 min, Ana answers at 10:30 (late); Fri missed, Rosa acknowledges after 7 min (Ana's
  OK on Saturday closes it); Sun 20:00 SOS, Luis acknowledges after 20 min, still open at the
  end of the week. Monday 30 (after the period) she misses again: not counted.
- Beto (UANL, CS Mier y Noriega): Mon on time; Tue answers at 10:30 (late), his OK closes the
  incident, no human acknowledged it; Wed missed, nobody acknowledges (open at the end);
  Thu 07:00 he texts BAJA: no more pings, opted out at the end.
- Carla (UDEM, CS Galeana): on time Mon, Tue; deactivated by a roster import Wed 07:00.
- A drill emergency for Ana on Thursday (escalation.drills), Luis acknowledges it after 1 min
  and closes it: in no figure.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from escalation.accounts import Scope
from escalation.base.db import transaction
from escalation.base.models import ADMIN, EMERGENCY, MISSED_CHECKIN, Incident, Person
from escalation.base.timeline import record
from escalation.drills import start_drill
from escalation.reports import (
    LATE,
    MISSED,
    ON_TIME,
    PENDING,
    Period,
    ReportError,
    checkin_outcome,
    compute,
    median,
    p95,
)
from escalation.roster import import_roster
from tests.conftest import at
from tests.stories import text, tick

WEEK = Period(date(2026, 11, 23), date(2026, 11, 29))
DAYS = ["23", "24", "25", "26", "27", "28", "29"]
CARLA = "+524881000007"
ROSTER = (
    "role,name,phone,checkin_time,university,unit,municipality,active\n"
    "intern,Carla Ruiz,{phone},08:00,UDEM,CS Galeana,Galeana,{active}\n"
)


def local(day: str, hhmm: str) -> str:
    return f"2026-11-{day}T{hhmm}:00-06:00"


def import_carla(faro, when: str, active: str) -> None:
    with transaction(faro.sessions) as session:
        report = import_roster(session, ROSTER.format(phone=CARLA, active=active), now=at(when))
        assert not report.errors


def open_code(faro, phone: str, kind: str) -> str:
    with faro.sessions() as session:
        intern = session.scalar(select(Person).where(Person.phone == phone))
        return session.scalar(
            select(Incident.code).where(
                Incident.intern_id == intern.id,
                Incident.kind == kind,
                Incident.resolved_at.is_(None),
            )
        )


def drill_for(faro, phone: str, responder: str, day: str) -> None:
    """A drill emergency for her at 12:00 (escalation.drills, as the console starts one): her
    team acknowledges it by text after 1 min and closes it after 5. It must change no figure."""
    with transaction(faro.sessions) as session:
        intern = session.scalar(select(Person).where(Person.phone == phone))
        drill = start_drill(session, at(local(day, "12:00")), intern, EMERGENCY,
                            config=faro.settings.domain, account="admin@faro.mx")  # fmt: skip
        code = drill.code
    text(faro, responder, f"ATIENDO {code}", local(day, "12:01"))
    text(faro, responder, f"LISTO {code}", local(day, "12:05"))
    with faro.sessions() as session:
        drill = session.scalar(select(Incident).where(Incident.code == code, Incident.drill))
        assert drill.acknowledged_at == at(local(day, "12:01")) and drill.resolved_at


def ping_day(faro, day: str, answers: dict[str, str], *, late: dict[str, str] | None = None):
    """08:00 the pings; `answers` (phone -> HH:MM before 08:30) say OK; the 08:30 reminders
    and the 10:00 deadline pass; `late` (phone -> HH:MM after 10:00) answer after it."""
    tick(faro, local(day, "08:00"))
    for phone, hhmm in sorted(answers.items(), key=lambda a: a[1]):
        text(faro, phone, "ok", local(day, hhmm))
    tick(faro, local(day, "08:30"))
    tick(faro, local(day, "10:00"))
    for phone, hhmm in sorted((late or {}).items(), key=lambda a: a[1]):
        text(faro, phone, "ok", local(day, hhmm))


def acknowledge(faro, responder: str, intern: str, kind: str, when: str) -> None:
    code = open_code(faro, intern, kind)
    assert code, (intern, kind)
    text(faro, responder, f"ATIENDO {code}", when)


def the_week(faro, people) -> None:
    ana, beto, rosa, luis = people["ana"], people["beto"], people["rosa"], people["luis"]
    import_carla(faro, local("22", "12:00"), "yes")
    tick(faro, local("22", "12:00"))  # schedules the three of them
    ping_day(faro, "23", {ana: "08:05", beto: "08:10", CARLA: "08:20"})
    ping_day(faro, "24", {ana: "08:05", CARLA: "08:15"}, late={beto: "10:30"})
    import_carla(faro, local("25", "07:00"), "no")
    tick(faro, local("25", "07:00"))
    ping_day(faro, "25", {})  # Ana and Beto miss; Carla is no longer pinged
    acknowledge(faro, rosa, ana, MISSED_CHECKIN, local("25", "10:03"))
    text(faro, ana, "ok", local("25", "10:30"))
    text(faro, beto, "baja", local("26", "07:00"))
    ping_day(faro, "26", {ana: "08:05"})
    drill_for(faro, ana, luis, "26")
    ping_day(faro, "27", {})
    acknowledge(faro, rosa, ana, MISSED_CHECKIN, local("27", "10:07"))
    ping_day(faro, "28", {ana: "08:05"})  # her OK is Saturday's, and closes Friday's case
    ping_day(faro, "29", {ana: "08:05"})
    text(faro, ana, "sos", local("29", "20:00"))
    acknowledge(faro, luis, ana, EMERGENCY, local("29", "20:20"))
    ping_day(faro, "30", {})  # Monday, after the period: counts nowhere


def row(report, group: str):
    [found] = [r for r in report.rows if r.group == group]
    return found


def checkins(figures) -> tuple[int, int, int, int, int]:
    return figures.sent, figures.on_time, figures.late, figures.missed, figures.pending


def test_a_known_week_gives_its_known_figures_by_university_municipality_and_unit(faro, people):
    the_week(faro, people)
    with faro.sessions() as session:
        by_university = compute(session, WEEK, "university", Scope(ADMIN))
        by_municipality = compute(session, WEEK, "municipality", Scope(ADMIN))
        by_unit = compute(session, WEEK, "unit", Scope(ADMIN))

    assert [r.group for r in by_university.rows] == ["UANL", "UDEM"]
    uanl, udem = row(by_university, "UANL"), row(by_university, "UDEM")
    assert checkins(uanl) == (10, 6, 2, 2, 0)
    assert uanl.incidents == {MISSED_CHECKIN: 4, EMERGENCY: 1}
    assert sorted(uanl.ack_minutes) == [3, 7, 20]  # the drill's 1 min is not there
    assert (uanl.ack_median, uanl.ack_p95) == (7, 20)
    assert (uanl.unresolved, uanl.opted_out, uanl.inactive) == (2, 1, 0)
    assert checkins(udem) == (2, 2, 0, 0, 0)
    assert (udem.incidents, udem.ack_minutes, udem.unresolved) == ({}, [], 0)
    assert (udem.opted_out, udem.inactive) == (0, 1)
    assert checkins(by_university.total) == (12, 8, 2, 2, 0)

    for report, names in (
        (by_municipality, ("Doctor Arroyo", "Mier y Noriega", "Galeana")),
        (by_unit, ("CS Doctor Arroyo", "CS Mier y Noriega", "CS Galeana")),
    ):
        ana, beto, carla = (row(report, name) for name in names)
        assert checkins(ana) == (7, 5, 1, 1, 0)
        assert ana.incidents == {MISSED_CHECKIN: 2, EMERGENCY: 1}
        assert (ana.ack_median, ana.ack_p95, ana.unresolved) == (7, 20, 1)
        assert checkins(beto) == (3, 1, 1, 1, 0)
        assert beto.incidents == {MISSED_CHECKIN: 2}
        assert (beto.ack_minutes, beto.unresolved, beto.opted_out) == ([], 1, 1)
        assert checkins(carla) == (2, 2, 0, 0, 0)
        assert (carla.inactive, carla.opted_out) == (1, 0)

    days = by_unit.days
    assert [days[WEEK.start + timedelta(n)][ON_TIME] for n in range(7)] == [3, 2, 0, 1, 0, 1, 1]
    assert [days[WEEK.start + timedelta(n)][LATE] for n in range(7)] == [0, 1, 1, 0, 0, 0, 0]
    assert [days[WEEK.start + timedelta(n)][MISSED] for n in range(7)] == [0, 0, 1, 0, 1, 0, 0]
    assert by_unit.weeks == [(WEEK.start, [3, 7, 20])]
    assert by_unit.kinds == [EMERGENCY, MISSED_CHECKIN]  # in the registry's order


def test_the_day_after_the_period_moves_the_open_cases_and_the_next_misses(faro, people):
    """Monday 30 alone: Ana's miss of that day is counted, Sunday's SOS and Beto's Wednesday
    case are still open, and nothing of the week is."""
    the_week(faro, people)
    monday = Period(date(2026, 11, 30), date(2026, 11, 30))
    with faro.sessions() as session:
        report = compute(session, monday, "university", Scope(ADMIN))
    uanl = row(report, "UANL")
    assert checkins(uanl) == (1, 0, 0, 1, 0)  # Beto opted out, Carla inactive: one ping
    assert uanl.incidents == {MISSED_CHECKIN: 1}
    assert (uanl.unresolved, uanl.opted_out) == (3, 1)
    assert row(report, "UDEM").inactive == 1


def test_the_figures_cover_the_chain_up_to_the_head_they_carry(faro, people):
    the_week(faro, people)
    with faro.sessions() as session:
        before = compute(session, WEEK, "unit", Scope(ADMIN))
    text(faro, people["beto"], "alta", local("30", "12:00"))  # after the head, and the period
    with faro.sessions() as session:
        after = compute(session, WEEK, "unit", Scope(ADMIN))
    assert after.head.seq > before.head.seq
    assert row(after, "CS Mier y Noriega").opted_out == 1  # at the period's end, still out


def test_median_and_p95_by_nearest_rank():
    assert (median([3, 7, 20]), p95([3, 7, 20])) == (7, 20)
    assert (median([1, 2, 3, 4]), p95(list(range(1, 21)))) == (2.5, 19)
    assert p95(list(range(1, 101))) == 95
    assert (median([]), p95([])) == (None, None)


def test_a_check_ins_outcome_follows_its_events():
    assert checkin_outcome(["checkin_sent", "checkin_answered"], False) == ON_TIME
    assert checkin_outcome(["checkin_sent", "checkin_missed", "checkin_answered"], True) == LATE
    assert checkin_outcome(["checkin_sent", "checkin_missed"], False) == MISSED
    assert checkin_outcome(["checkin_sent"], False) == PENDING
    assert checkin_outcome(["checkin_answered"], False) is None  # an OK before the ping


@pytest.mark.parametrize(
    ("start", "end"), [("2026-11-30", "2026-11-23"), ("23/11/2026", "2026-11-29"), ("", "")]
)
def test_a_period_that_cannot_be_read_says_what_to_do(start, end):
    with pytest.raises(ReportError):
        Period.parse(start, end)


@pytest.mark.parametrize("drill", [True, False])
def test_a_drill_counts_nowhere_even_written_as_a_real_case_would_be(faro, people, drill):
    """escalation.drills opens a drill with `drill_started`, never `incident_opened`; should a
    drill's events ever read like a real case's, the drill flag still keeps it out (the same
    events on a real incident count, so the filter is what this shows)."""
    with transaction(faro.sessions) as session:
        ana = session.scalar(select(Person).where(Person.phone == people["ana"]))
        case = Incident(code="9999", intern_id=ana.id, kind=EMERGENCY, severity="critical",
                        opened_at=at(local("24", "12:00")), drill=drill)  # fmt: skip
        session.add(case)
        session.flush()
        record(session, at(local("24", "12:00")), "incident_opened", person=ana, incident=case)
        record(session, at(local("24", "12:04")), "acknowledged", incident=case, channel="sms")
    with faro.sessions() as session:
        report = compute(session, WEEK, "university", Scope(ADMIN))
    counted = ({}, [], 0) if drill else ({EMERGENCY: 1}, [4], 1)
    total = report.total
    assert (total.incidents, total.ack_minutes, total.unresolved) == counted
