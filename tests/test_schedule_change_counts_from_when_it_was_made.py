"""A schedule change (a new intern, an import, the console, HORA) takes effect as of the moment
it was made, not as of the next scheduler pass: a ping that fell in between is sent, late."""

from __future__ import annotations

from escalation.base.db import transaction
from escalation.base.models import INTERN, Person
from escalation.roster import import_roster
from tests.conftest import at
from tests.stories import checkins, events, person, scheduled, sms_to, text, tick, update_person

CARLA = "+524881007777"
ROSTER = (
    "role,name,phone,checkin_time,university,unit,municipality\n"
    "intern,Carla Rios,+524881007777,{time},UANL,CS Galeana,Galeana\n"
)


def import_carla(faro, when: str, time: str = "09:00") -> None:
    with transaction(faro.sessions) as session:
        assert not import_roster(session, ROSTER.format(time=time), now=at(when)).errors


def carla_checkin(faro):
    [checkin] = [c for c in checkins(faro) if c.intern_id == person(faro, CARLA).id]
    return checkin


def test_an_intern_added_at_eight_is_pinged_late_by_the_first_pass_after_nine(
    faro, people, transport
):
    tick(faro, "2026-11-24T07:00:00-06:00")
    import_carla(faro, "2026-11-24T08:00:00-06:00")
    tick(faro, "2026-11-24T09:20:00-06:00")  # the first pass since she was added
    [ping] = sms_to(transport, CARLA)
    assert ping.startswith("Hola Carla, tu registro de las 09:00 sale tarde")
    checkin = carla_checkin(faro)
    assert checkin.due_at == at("2026-11-24T09:00:00-06:00")
    assert checkin.remind_at == at("2026-11-24T09:50:00-06:00")  # 30 min after it left
    assert checkin.deadline_at == at("2026-11-24T11:00:00-06:00")  # her window, still open
    [sent] = [e for e in events(faro, "checkin_sent") if e.person_id == checkin.intern_id]
    assert sent.data["late"] is True


def test_an_intern_added_after_her_time_starts_the_next_day(faro, people, transport):
    import_carla(faro, "2026-11-24T09:10:00-06:00")
    tick(faro, "2026-11-24T09:20:00-06:00")
    assert sms_to(transport, CARLA) == []
    assert person(faro, CARLA).next_checkin_at == at("2026-11-25T09:00:00-06:00")


def test_an_intern_added_through_the_console_counts_from_her_rows_time(faro, people, transport):
    with transaction(faro.sessions) as session:
        added = at("2026-11-24T08:00:00-06:00")
        session.add(scheduled(Person(role=INTERN, name="Carla Rios", phone=CARLA,
                                     checkin_time="09:00", created_at=added,
                                     updated_at=added)))  # fmt: skip
    tick(faro, "2026-11-24T09:20:00-06:00")
    [ping] = sms_to(transport, CARLA)
    assert "tu registro de las 09:00 sale tarde" in ping


def test_a_reactivated_intern_gets_todays_ping_late(faro, people, transport):
    import_carla(faro, "2026-11-20T12:00:00-06:00")
    update_person(faro, CARLA, active=False, updated_at=at("2026-11-21T12:00:00-06:00"))
    tick(faro, "2026-11-24T07:00:00-06:00")
    update_person(faro, CARLA, active=True, updated_at=at("2026-11-24T08:00:00-06:00"))
    tick(faro, "2026-11-24T09:20:00-06:00")
    [ping] = sms_to(transport, CARLA)
    assert "tu registro de las 09:00 sale tarde" in ping
    assert events(faro, "checkin_skipped") == []  # not the days she was inactive


def test_a_time_moved_by_a_reimport_counts_from_the_import(faro, people, transport):
    import_carla(faro, "2026-11-23T12:00:00-06:00", time="07:30")
    tick(faro, "2026-11-24T06:00:00-06:00")
    import_carla(faro, "2026-11-24T06:30:00-06:00", time="07:00")
    tick(faro, "2026-11-24T07:20:00-06:00")
    [ping] = sms_to(transport, CARLA)
    assert "tu registro de las 07:00 sale tarde" in ping
    tick(faro, "2026-11-24T07:30:00-06:00")
    assert len(sms_to(transport, CARLA)) == 1  # one ping that day


def test_an_intern_added_days_before_the_next_pass_skips_only_the_days_that_ended(
    faro, people, transport
):
    tick(faro, "2026-11-24T07:00:00-06:00")
    import_carla(faro, "2026-11-24T08:00:00-06:00")
    tick(faro, "2026-11-26T09:20:00-06:00")
    carla = person(faro, CARLA).id
    skipped = [
        e.data["local_date"] for e in events(faro, "checkin_skipped") if e.person_id == carla
    ]
    assert skipped == ["2026-11-24", "2026-11-25"]
    [ping] = sms_to(transport, CARLA)
    assert "tu registro de las 09:00 sale tarde" in ping


def test_estado_before_the_next_pass_keeps_the_late_ping(faro, people, transport):
    tick(faro, "2026-11-24T07:00:00-06:00")
    import_carla(faro, "2026-11-24T08:00:00-06:00")
    reply = text(faro, CARLA, "estado", "2026-11-24T09:10:00-06:00")
    assert reply.startswith("Carla: proximo registro 24/11 09:00")
    tick(faro, "2026-11-24T09:20:00-06:00")
    [ping] = sms_to(transport, CARLA)
    assert "tu registro de las 09:00 sale tarde" in ping


def test_hora_for_a_time_already_past_today_gives_today_up_and_tells_her(faro, people, transport):
    update_person(faro, people["ana"], checkin_time="09:00")
    tick(faro, "2026-11-24T07:00:00-06:00")
    reply = text(faro, people["ana"], "HORA 08:30", "2026-11-24T08:40:00-06:00")
    assert reply == "Listo Ana, tu registro diario sera a las 08:30. Proximo: 25/11 08:30."
    [changed] = events(faro, "checkin_time_changed")
    assert changed.data["skipped_today"] is True  # she is told, and so is the timeline
    tick(faro, "2026-11-24T09:20:00-06:00")
    assert sms_to(transport, people["ana"]) == []  # no late ping for a time she gave up
    tick(faro, "2026-11-25T08:30:00-06:00")
    [ping] = sms_to(transport, people["ana"])
    assert ping.startswith("Hola Ana, ¿todo bien hoy?")


def test_hora_for_a_time_still_ahead_today_is_used_today(faro, people, transport):
    update_person(faro, people["ana"], checkin_time="09:00")
    tick(faro, "2026-11-24T07:00:00-06:00")
    reply = text(faro, people["ana"], "HORA 08:30", "2026-11-24T08:20:00-06:00")
    assert reply.endswith("Proximo: 24/11 08:30.")
    tick(faro, "2026-11-24T09:20:00-06:00")  # no pass at 08:30: it leaves late
    [ping] = sms_to(transport, people["ana"])
    assert "tu registro de las 08:30 sale tarde" in ping
