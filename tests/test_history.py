"""Her page's pictures: the 90-day calendar says what the record says of each day, and her
mood and PHQ-2 trend is shown (and the view recorded) only to those who may see scores."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from bot.transports import TransportError
from escalation import history
from escalation.base.models import Event, Person
from tests.conftest import at
from tests.console_helpers import account
from tests.console_session import signed_in
from tests.stories import events, person, rows, text, tick, update_person

TODAY = "2026-11-11T09:00:00-06:00"  # Wednesday: the page is looked at then
FIRST = date(2026, 11, 2)  # Monday: Ana's first day on the record

# What happened to each of Ana's days in `ana_s_fortnight`, as the calendar must say it.
EXPECTED = {
    date(2026, 11, 1): (history.NONE, history.BEFORE_JOINING),
    date(2026, 11, 2): (history.ON_TIME, None),
    date(2026, 11, 3): (history.LATE, None),
    date(2026, 11, 4): (history.MISSED, None),
    date(2026, 11, 5): (history.NOT_SENT, history.UNDELIVERABLE),
    date(2026, 11, 6): (history.PAUSED, None),
    date(2026, 11, 7): (history.PAUSED, None),
    date(2026, 11, 8): (history.ON_TIME, None),
    date(2026, 11, 9): (history.OPTED_OUT, None),
    date(2026, 11, 10): (history.OPTED_OUT, None),
    date(2026, 11, 11): (history.UNANSWERED, None),
}


def day(n: int, hhmm: str) -> str:
    return f"2026-11-{n:02d}T{hhmm}:00-06:00"


def ana_s_fortnight(faro, people, transport) -> None:
    """Ana's ten days through the real paths: the ticks and her texts, at frozen instants."""
    ana = people["ana"]
    update_person(faro, people["beto"], active=False)  # one intern in this story
    tick(faro, day(2, "07:00"))  # her first ping is scheduled
    # Monday: on time, mood 4.
    tick(faro, day(2, "08:00"))
    text(faro, ana, "ok", day(2, "08:10"))
    tick(faro, day(2, "08:11"))
    text(faro, ana, "4", day(2, "08:12"))
    # Tuesday: the deadline (10:00) passes, she answers at 10:30; mood 2.
    for hhmm in ("08:00", "08:30", "10:00"):
        tick(faro, day(3, hhmm))
    text(faro, ana, "ok", day(3, "10:30"))
    tick(faro, day(3, "10:31"))
    text(faro, ana, "2", day(3, "10:32"))
    # Wednesday: never answered.
    for hhmm in ("08:00", "08:30", "10:00", "12:00"):
        tick(faro, day(4, hhmm))
    # Thursday: her number cannot receive texts; no other channel: undeliverable.
    transport.failing[ana] = TransportError("Twilio 400 21614: not a mobile number",
                                            permanent=True, code="21614")  # fmt: skip
    tick(faro, day(5, "08:00"))
    tick(faro, day(5, "08:01"))
    del transport.failing[ana]
    # Friday: PAUSA 2d, no pings Friday and Saturday.
    text(faro, ana, "PAUSA 2d", day(6, "07:00"))
    for n in (6, 7):
        tick(faro, day(n, "08:00"))
    tick(faro, day(8, "00:00"))  # the pause ends
    # Sunday: on time; the weekly PHQ-2 at 19:00, 2 + 2 = 4 (positive), item 9 and the offer.
    tick(faro, day(8, "08:00"))
    text(faro, ana, "ok", day(8, "08:05"))
    tick(faro, day(8, "19:00"))
    for minute, answer in ((5, "2"), (6, "2"), (7, "0"), (8, "no")):
        text(faro, ana, answer, day(8, f"19:{minute:02d}"))
    # Monday: BAJA before her ping; Tuesday: ALTA at noon, after her time.
    text(faro, ana, "BAJA", day(9, "07:00"))
    tick(faro, day(9, "08:00"))
    tick(faro, day(10, "08:00"))
    text(faro, ana, "ALTA", day(10, "12:00"))
    tick(faro, day(10, "12:01"))
    # Wednesday: her ping is out, she has not answered yet.
    tick(faro, day(11, "08:00"))


def ana(faro, people) -> Person:
    return person(faro, people["ana"])


def test_each_day_reads_as_what_happened_to_its_check_in(faro, people, transport):
    ana_s_fortnight(faro, people, transport)
    with faro.sessions() as session:
        days = history.calendar(session, ana(faro, people), date(2026, 11, 11))
    assert len(days) == history.DAYS
    assert days[0].day == date(2026, 11, 11) - timedelta(days=89)
    assert days[-1].day == date(2026, 11, 11)
    by_day = {d.day: (d.state, d.reason) for d in days}
    assert {d: by_day[d] for d in EXPECTED} == EXPECTED
    before = [d for d in days if d.day < FIRST]
    assert {(d.state, d.reason) for d in before} == {(history.NONE, history.BEFORE_JOINING)}
    counts = history.counts(days)
    assert counts[history.ON_TIME] == 2 and counts[history.PAUSED] == 2
    assert counts[history.NONE] == 90 - 10


def test_the_trend_holds_her_mood_answers_and_phq2_totals(faro, people, transport):
    ana_s_fortnight(faro, people, transport)
    with faro.sessions() as session:
        trend = history.trend(session, ana(faro, people), date(2026, 11, 11))
    assert trend.mood == [(date(2026, 11, 2), 4), (date(2026, 11, 3), 2)]
    assert trend.phq2 == [(date(2026, 11, 8), 4, True)]
    assert trend.cutoff == 3


def test_a_mood_answered_after_midnight_is_the_evening_s(faro, people, transport):
    update_person(faro, people["beto"], active=False)
    update_person(faro, people["ana"], checkin_time="22:00")
    tick(faro, day(2, "07:00"))
    tick(faro, day(2, "22:00"))
    text(faro, people["ana"], "ok", day(2, "23:58"))
    tick(faro, day(2, "23:59"))
    text(faro, people["ana"], "5", "2026-11-03T00:03:00-06:00")
    with faro.sessions() as session:
        trend = history.trend(session, ana(faro, people), date(2026, 11, 3))
    assert trend.mood == [(date(2026, 11, 2), 5)]


def test_days_are_her_own_calendar_days(faro, people, transport):
    """Ana in Tijuana answers at 23:30 local, already the next day in UTC."""
    update_person(faro, people["beto"], active=False)
    update_person(faro, people["ana"], timezone="America/Tijuana", checkin_time="23:00")
    tick(faro, "2026-11-02T07:00:00-08:00")
    tick(faro, "2026-11-02T23:00:00-08:00")
    text(faro, people["ana"], "ok", "2026-11-02T23:30:00-08:00")
    with faro.sessions() as session:
        days = history.calendar(session, ana(faro, people), date(2026, 11, 3))
    assert [(d.day, d.state) for d in days[-2:]] == [
        (date(2026, 11, 2), history.ON_TIME),
        (date(2026, 11, 3), history.NONE),
    ]
    assert days[-1].reason == history.NOT_YET


CARLA = "+524881007777"
ROSTER = (
    "role,name,phone,channel,checkin_time,university,unit,municipality,active\n"
    "intern,Carla Rios,+524881007777,whatsapp,08:00,UANL,CS Galeana,Galeana,{active}\n"
)


def import_carla(faro, when: str, active: str = "yes") -> None:
    from escalation.base.db import transaction
    from escalation.roster import import_roster

    with transaction(faro.sessions) as session:
        assert not import_roster(session, ROSTER.format(active=active), now=at(when)).errors


def test_the_record_says_why_a_day_had_no_answer(faro, transport):
    """Carla, imported on Sunday noon: her WhatsApp ping fails over to SMS and she answers;
    the scheduler is down two whole days; the roster deactivates her for two days."""
    import_carla(faro, day(1, "12:00"))
    tick(faro, day(2, "07:00"))
    transport.failures.append(TransportError("Twilio 400 63016: outside window",
                                             permanent=True, code="63016"))  # fmt: skip
    tick(faro, day(2, "08:00"))
    text(faro, CARLA, "ok", day(2, "08:10"))
    tick(faro, day(5, "07:00"))  # nothing ran from Monday morning to Thursday morning
    tick(faro, day(5, "08:00"))
    text(faro, CARLA, "ok", day(5, "08:05"))
    import_carla(faro, day(6, "07:00"), active="no")
    tick(faro, day(6, "08:00"))
    import_carla(faro, day(8, "07:00"), active="yes")
    tick(faro, day(8, "07:01"))
    tick(faro, day(8, "08:00"))
    text(faro, CARLA, "ok", day(8, "08:05"))
    with faro.sessions() as session:
        days = history.calendar(session, person(faro, CARLA), date(2026, 11, 9))
    assert [(d.day.day, d.state, d.reason) for d in days[-11:]] == [
        (30, history.NONE, history.BEFORE_JOINING),
        (31, history.NONE, history.BEFORE_JOINING),
        (1, history.NONE, history.NOT_SCHEDULED),  # she joined at noon, first ping Monday
        (2, history.ON_TIME, history.FAILOVER),
        (3, history.NOT_SENT, history.OUTAGE),
        (4, history.NOT_SENT, history.OUTAGE),
        (5, history.ON_TIME, None),
        (6, history.NONE, history.INACTIVE),
        (7, history.NONE, history.INACTIVE),
        (8, history.ON_TIME, None),
        (9, history.NONE, history.NOT_YET),
    ]


# --- the page ------------------------------------------------------------------------------


@pytest.fixture
def page_clock(monkeypatch):
    monkeypatch.setattr("bot.console.history.utcnow", lambda: at(TODAY))


ACCOUNTS = {
    "admin": {},
    "mental_health": {"university": "UANL"},
    "coordinator": {"university": "UANL"},
    "supervisor": {"municipality": "Doctor Arroyo"},
}
SEES_SCORES = {"admin": True, "mental_health": True, "coordinator": False, "supervisor": False}


def viewed(faro) -> list[Event]:
    return events(faro, history.VIEWED)


def cells(page: str) -> dict[str, str]:
    found = re.findall(r'data-date="([\d-]+)" data-state="(\w+)"', page)
    return dict(found)


def test_the_page_shows_the_trend_only_to_those_who_may_see_scores(
    app, faro, people, transport, page_clock
):
    ana_s_fortnight(faro, people, transport)
    ana_id = ana(faro, people).id
    for role, place in ACCOUNTS.items():
        account(faro, f"{role}@faro.example.org", role=role, **place)
    for role in ACCOUNTS:
        email = f"{role}@faro.example.org"
        before = len(viewed(faro))
        client = signed_in(app.test_client(), email)
        response = client.get(f"/admin/people/{ana_id}")
        assert response.status_code == 200, role
        page = response.get_data(as_text=True)
        # Everyone who sees her page sees her calendar, the same for all.
        found = cells(page)
        assert len(found) == history.DAYS, role
        shown = {date.fromisoformat(d): state for d, state in found.items()}
        assert {d: shown[d] for d in EXPECTED} == {d: s for d, (s, _) in EXPECTED.items()}
        assert 'aria-label="mié 04/11/2026: No respondió"' in page
        assert 'aria-label="jue 05/11/2026: No enviado (no se pudo entregar)"' in page
        now_viewed = viewed(faro)[before:]
        if SEES_SCORES[role]:
            assert 'id="chart-mood"' in page and 'id="chart-phq"' in page, role
            assert "punto de corte 3" in page
            assert "<title>02/11/2026: 4</title>" in page  # her mood on Monday
            assert "<title>08/11/2026: 4 ≥ 3</title>" in page  # Sunday's positive PHQ-2
            [event] = now_viewed
            assert (event.person_id, event.data) == (ana_id, {"account": email})
            assert event.seq is not None and event.hash  # on the hash chain
        else:
            assert "chart-mood" not in page and "PHQ-2" not in page, role
            assert now_viewed == [], role


def test_a_responder_s_page_has_no_calendar_and_records_nothing(app, faro, people, page_clock):
    account(faro, "admin@faro.example.org")
    client = signed_in(app.test_client(), "admin@faro.example.org")
    rosa = person(faro, people["rosa"])
    page = client.get(f"/admin/people/{rosa.id}").get_data(as_text=True)
    assert 'id="calendar"' not in page and "chart-mood" not in page
    assert viewed(faro) == []


def test_outside_her_scope_the_page_is_404_and_records_nothing(app, faro, people, page_clock):
    from tests.console_session import add_university

    add_university(faro, "UdeM")
    account(faro, "mh@udem.example.org", role="mental_health", university="UdeM")
    client = signed_in(app.test_client(), "mh@udem.example.org")
    assert client.get(f"/admin/people/{ana(faro, people).id}").status_code == 404
    assert rows(faro, Event, Event.kind == history.VIEWED) == []
