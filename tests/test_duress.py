"""Ana's duress word: set with `CLAVE palabra` (never repeated back), answered exactly like
`OK`, and silently raising a critical incident whose alerts say not to call or text her."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from escalation.base.db import transaction
from escalation.base.models import CRITICAL, DURESS, MISSED_CHECKIN, InboundMessage
from tests.conftest import at
from tests.escalation_helpers import alerts, events, freeze, incident, open_for, person, texts
from tests.stories import MOOD_QUESTION

T0 = at("2025-11-24T10:00:00-06:00")
WORD = "girasol"


@pytest.fixture
def clock(monkeypatch):
    clock = freeze(monkeypatch)
    clock.set(T0)
    return clock


def reply(text_faro, sender: str, body: str) -> str:
    return text_faro(sender, body).get_data(as_text=True)


def test_clave_sets_the_word_without_repeating_it(faro, people, text_faro, clock):
    answer = reply(text_faro, people["ana"], f"CLAVE {WORD}")
    assert "guardamos tu clave" in answer and WORD not in answer.lower()
    with faro.sessions() as session:
        assert person(session, people["ana"]).duress_word == WORD
    [saved] = events(faro, "duress_word_set")
    assert WORD not in str(saved.data)


@pytest.mark.parametrize("word", ["ok", "viaje largo", "1234", "bien", "listo", "ayu"])
def test_a_word_that_clashes_or_is_too_short_is_refused(faro, people, text_faro, clock, word):
    answer = reply(text_faro, people["ana"], f"CLAVE {word}")
    assert "Esa clave no sirve" in answer
    with faro.sessions() as session:
        assert person(session, people["ana"]).duress_word is None


def test_the_word_is_answered_exactly_like_ok_and_alerts_silently(
    faro, people, text_faro, clock, transport
):
    with transaction(faro.sessions) as session:
        person(session, people["ana"]).duress_word = WORD
        person(session, people["beto"]).duress_word = "tlacuache"
    plain_ok = reply(text_faro, people["beto"], "ok")  # another intern's ordinary check-in
    coerced = reply(text_faro, people["ana"], f"estoy bien, {WORD.upper()}")
    assert coerced == plain_ok.replace("Beto", "Ana")
    faro.dispatcher.wait_idle()

    case = incident(faro)
    assert (case.kind, case.severity, case.status) == (DURESS, CRITICAL, "open")
    for who in ("beto", "rosa", "luis"):
        [alert] = texts(faro, people[who])
        assert "ALERTA SILENCIOSA" in alert.body and "NO la llames ni le escribas" in alert.body
        assert "enfermera" in alert.body and f"ATIENDO {case.code}" in alert.body
    [call] = [m for m in alerts(faro, people["luis"]) if m.channel == "voice"]
    assert "No la llame ni le escriba" in call.body
    # Nothing ever goes to Ana but what an OK brings (the reply, then the daily mood
    # question); her message reads as a check-in.
    assert [b for b in transport.to(people["ana"]) if not b.startswith(MOOD_QUESTION)] == []
    assert [m for m in alerts(faro) if m.to_phone == people["ana"]] == []
    with faro.sessions() as session:
        stored = session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()[-1]
        assert f"<Message>{stored.reply}</Message>" in coerced
    assert events(faro, "checkin_answered")  # her check-in counts, as after an OK


def test_her_own_ok_never_closes_it_and_does_not_close_the_rest_either(
    faro, people, text_faro, clock
):
    with transaction(faro.sessions) as session:
        person(session, people["ana"]).duress_word = WORD
    missed = open_for(faro, people["ana"], MISSED_CHECKIN, T0 - timedelta(minutes=5))
    clock.set(T0 + timedelta(minutes=1))
    reply(text_faro, people["ana"], WORD)
    clock.set(T0 + timedelta(minutes=2))
    reply(text_faro, people["ana"], "ok")
    duress = incident(faro, [i for i in _ids(faro) if i != missed.id][0])
    assert duress.kind == DURESS and duress.status == "open"
    assert incident(faro, missed.id).status == "open"  # no "she is fine" to her team now
    assert events(faro, "close_refused")
    clock.set(T0 + timedelta(minutes=3))
    reply(text_faro, people["luis"], f"LISTO {duress.code}")
    assert incident(faro, duress.id).status == "resolved"


def _ids(faro) -> list[int]:
    from escalation.base.models import Incident

    with faro.sessions() as session:
        return list(session.scalars(select(Incident.id)))
