"""Ana runs her own schedule by text: HORA, MENU, ESTADO; each confirmed in one short reply."""

from __future__ import annotations

import pytest

from escalation.base.messages import is_gsm7, segments
from tests.stories import events, person, sms_to, text, tick


def test_hora_moves_her_checkin_from_the_next_occurrence(faro, people, transport):
    tick(faro, "2026-11-24T06:00:00-06:00")
    reply = text(faro, people["ana"], "HORA 07:45", "2026-11-24T06:30:00-06:00")
    assert reply == "Listo Ana, tu registro diario sera a las 07:45. Proximo: 24/11 07:45."
    tick(faro, "2026-11-24T07:45:00-06:00")
    tick(faro, "2026-11-24T08:00:00-06:00")
    assert len(sms_to(transport, people["ana"])) == 1
    [changed] = events(faro, "checkin_time_changed")
    assert (changed.data["old"], changed.data["new"]) == ("08:00", "07:45")


def test_a_later_time_the_same_day_never_gives_a_second_ping(faro, people, transport):
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T08:00:00-06:00")
    text(faro, people["ana"], "ok", "2026-11-24T08:01:00-06:00")
    reply = text(faro, people["ana"], "hora 19 hrs", "2026-11-24T08:02:00-06:00")
    assert "Proximo: 25/11 19:00" in reply
    tick(faro, "2026-11-24T19:00:00-06:00")
    tick(faro, "2026-11-25T19:00:00-06:00")
    assert len([b for b in sms_to(transport, people["ana"]) if b.startswith("Hola")]) == 2


def test_an_earlier_time_already_past_gives_up_today_and_says_so(faro, people, transport):
    tick(faro, "2026-11-24T07:00:00-06:00")
    reply = text(faro, people["ana"], "hora 6:30", "2026-11-24T07:10:00-06:00")
    assert "Proximo: 25/11 06:30" in reply
    [changed] = events(faro, "checkin_time_changed")
    assert changed.data["skipped_today"] is True


def test_a_changed_zone_never_gives_a_second_ping_that_day(faro, people, transport):
    from tests.stories import update_person

    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T08:00:00-06:00")  # Monterrey 08:00
    update_person(faro, people["ana"], timezone="America/Tijuana")  # 08:00 there is 10:00 here
    for hour in ("09", "10", "11"):
        tick(faro, f"2026-11-24T{hour}:00:00-06:00")
    assert len([b for b in sms_to(transport, people["ana"]) if b.startswith("Hola")]) == 1
    tick(faro, "2026-11-25T10:00:00-06:00")
    assert len([b for b in sms_to(transport, people["ana"]) if b.startswith("Hola")]) == 2


def test_estado_tells_her_next_checkin_pause_and_trip(faro, people):
    tick(faro, "2026-11-24T07:00:00-06:00")
    text(faro, people["ana"], "VIAJE 2h Linares", "2026-11-24T07:00:00-06:00")
    reply = text(faro, people["ana"], "estado", "2026-11-24T07:05:00-06:00")
    assert reply == (
        "Ana: proximo registro 24/11 08:00 (diario a las 08:00). "
        "Viaje a Linares, llegada 24/11 09:00."
    )
    text(faro, people["ana"], "pausa 2d", "2026-11-24T07:06:00-06:00")
    reply = text(faro, people["ana"], "ESTADO", "2026-11-24T07:07:00-06:00")
    assert "En pausa hasta el 26/11/2026" in reply and "proximo registro 26/11 08:00" in reply


def test_menu_lists_the_words(faro, people):
    reply = text(faro, people["ana"], "menu", "2026-11-24T07:00:00-06:00")
    assert "VIAJE" in reply and "PAUSA" in reply and "HORA" in reply and "ESTADO" in reply
    assert len(events(faro, "menu_sent")) == 1


@pytest.mark.parametrize(
    "body",
    ["VIAJE 3h Monterrey", "VIAJE +1h", "LLEGUE", "PAUSA 3d", "VACACIONES 24/12", "REGRESO",
     "HORA 07:45", "MENU", "ESTADO"],
)  # fmt: skip
def test_every_command_is_confirmed_in_one_short_gsm7_reply(faro, people, body):
    tick(faro, "2026-11-24T07:00:00-06:00")
    text(faro, people["ana"], "VIAJE 1h", "2026-11-24T07:00:00-06:00")
    reply = text(faro, people["ana"], body, "2026-11-24T07:01:00-06:00")
    assert reply and is_gsm7(reply) and segments(reply) <= 2


def test_commands_from_a_nurse_are_not_hers_to_give(faro, people):
    reply = text(faro, people["rosa"], "PAUSA 3d", "2026-11-24T07:00:00-06:00")
    assert reply.startswith("No entendi")
    assert person(faro, people["rosa"]).paused_until is None
