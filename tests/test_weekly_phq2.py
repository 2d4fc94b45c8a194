"""The weekly PHQ-2 on Sunday evening: two questions; item 9 after a positive total; a call."""

from __future__ import annotations

from sqlalchemy import select

from escalation.base.models import EMERGENCY, PHQ2_1, PHQ9_9, SELF_HARM, SUPPORT, Question
from tests.conftest import at
from tests.stories import events, incidents, person, rows, sms_to, text, tick, update_person

SUNDAY_EVENING = "2026-11-29T19:00:00-06:00"


def at_sunday(faro, people, transport):
    """Ana's first questionnaire goes out on Sunday at 19:00, her university's default (she
    answered that morning's check-in: a ping still waiting for her holds it back)."""
    update_person(faro, people["beto"], active=False)  # one intern in these stories
    tick(faro, "2026-11-28T09:00:00-06:00")
    tick(faro, "2026-11-29T08:00:00-06:00")
    text(faro, people["ana"], "ok", "2026-11-29T08:05:00-06:00")
    transport.sent.clear()
    tick(faro, SUNDAY_EVENING)
    return sms_to(transport, people["ana"])


def reply(faro, people, body, minute):
    return text(faro, people["ana"], body, f"2026-11-29T19:{minute:02d}:00-06:00")


def test_sunday_evening_ana_gets_the_first_question_with_its_scale(faro, people, transport):
    [question] = at_sunday(faro, people, transport)
    assert question.startswith("Pregunta semanal 1 de 2")
    assert "0 nunca, 1 varios dias, 2 mas de la mitad de los dias, 3 casi diario" in question
    [row] = rows(faro, Question)
    assert (row.kind, row.answer) == (PHQ2_1, None)


def test_a_low_total_is_thanked_and_nobody_is_alerted(faro, people, transport):
    at_sunday(faro, people, transport)
    assert reply(faro, people, "0", 5).startswith("Pregunta semanal 2 de 2")
    assert reply(faro, people, "1", 6).startswith("Gracias por responder, Ana")
    assert incidents(faro) == []
    [scored] = events(faro, "phq2_scored")
    assert scored.data == {"total": 1, "complete": True}


def test_a_total_of_three_asks_item_9_then_offers_a_call(faro, people, transport):
    at_sunday(faro, people, transport)
    reply(faro, people, "2", 5)
    item9 = reply(faro, people, "1", 6)
    assert item9.startswith("Una ultima pregunta") and "lastimarte" in item9
    offer = reply(faro, people, "0", 7)
    assert "¿Quieres que alguien del equipo te llame? Responde SI o NO." in offer
    assert "te llamara pronto" in reply(faro, people, "si, por favor", 8)
    [incident] = incidents(faro)
    assert incident.kind == SUPPORT
    alerts = sms_to(transport, people["sofia"])
    assert alerts and all("pidio apoyo" in body for body in alerts)
    assert not any(word in body for body in alerts for word in ("PHQ", "puntaje", "score"))


def test_no_to_the_call_is_respected(faro, people, transport):
    at_sunday(faro, people, transport)
    reply(faro, people, "3", 5)
    reply(faro, people, "3", 6)
    reply(faro, people, "0", 7)
    assert "Si cambias de opinion, responde APOYO" in reply(faro, people, "no gracias", 8)
    assert incidents(faro) == []


def test_item_9_above_zero_sends_the_crisis_line_and_opens_self_harm(faro, people, transport):
    at_sunday(faro, people, transport)
    reply(faro, people, "3", 5)
    reply(faro, people, "2", 6)
    crisis = reply(faro, people, "1", 7)
    assert "800 911 2000" in crisis and "24 horas" in crisis
    [incident] = incidents(faro)
    assert incident.kind == SELF_HARM
    [alert] = sms_to(transport, people["sofia"])
    assert "necesita apoyo urgente" in alert
    assert transport.to(people["rosa"]) == []  # a nurse is not told of a mental-health answer


def test_a_3_answers_the_question_but_an_emergency_word_still_wins(faro, people, transport):
    at_sunday(faro, people, transport)
    reply(faro, people, "3", 5)
    assert not [i for i in incidents(faro) if i.kind == EMERGENCY]
    assert reply(faro, people, "ayuda", 6).startswith("Recibimos tu alerta")
    assert [i.kind for i in incidents(faro)] == [EMERGENCY]


def test_words_of_self_harm_win_over_a_pending_answer(faro, people, transport):
    at_sunday(faro, people, transport)
    assert "800 911 2000" in reply(faro, people, "3 ya no quiero vivir", 5)
    assert [i.kind for i in incidents(faro)] == [SELF_HARM]


def test_unanswered_questions_expire_as_not_answered_never_as_zero(faro, people, transport):
    update_person(faro, people["ana"], checkin_days="234567")  # no ping on Monday to close it
    at_sunday(faro, people, transport)
    tick(faro, "2026-11-30T19:01:00-06:00")
    [question] = rows(faro, Question)
    assert question.answer is None and question.expired_at is not None
    [unanswered] = events(faro, "question_unanswered")
    assert unanswered.data == {"question": PHQ2_1, "reason": "expired"}
    assert text(faro, people["ana"], "2", "2026-11-30T19:05:00-06:00").startswith("Gracias")


def test_no_questionnaire_while_her_self_harm_incident_is_open(faro, people, transport):
    update_person(faro, people["beto"], active=False)
    text(faro, people["ana"], "me quiero morir", "2026-11-28T10:00:00-06:00")
    tick(faro, "2026-11-28T10:01:00-06:00")
    transport.sent.clear()
    tick(faro, SUNDAY_EVENING)
    assert not any(b.startswith("Pregunta semanal") for b in sms_to(transport, people["ana"]))
    [skipped] = events(faro, "questionnaire_skipped")
    assert skipped.data["reason"] == "paused_or_busy"


def test_after_downtime_a_late_questionnaire_is_skipped_with_a_reason(faro, people, transport):
    update_person(faro, people["beto"], active=False)
    tick(faro, "2026-11-28T09:00:00-06:00")
    tick(faro, "2026-11-30T08:00:00-06:00")  # the scheduler was down all Sunday evening
    with faro.sessions() as session:
        assert session.scalar(select(Question)) is None
    [skipped] = events(faro, "questionnaire_skipped")
    assert skipped.data["reason"] == "late"


def test_item_9_is_only_asked_after_a_positive_total(faro, people, transport):
    at_sunday(faro, people, transport)
    reply(faro, people, "1", 5)
    reply(faro, people, "1", 6)
    assert not [q for q in rows(faro, Question) if q.kind == PHQ9_9]


def test_mondays_ping_closes_an_unanswered_questionnaire_and_1_is_the_checkin(
    faro, people, transport
):
    at_sunday(faro, people, transport)
    tick(faro, "2026-11-30T08:00:00-06:00")
    [question] = rows(faro, Question)
    assert question.answer is None and question.expired_at is not None
    [unanswered] = events(faro, "question_unanswered")
    assert unanswered.data == {"question": PHQ2_1, "reason": "new_checkin"}
    reply_ = text(faro, people["ana"], "1", "2026-11-30T08:05:00-06:00")
    assert reply_.startswith("Gracias Ana, anotamos que estas bien")
    assert rows(faro, Question)[0].answer is None  # never scored as the questionnaire's 1


def test_a_late_ping_after_an_outage_holds_the_questionnaire_back(faro, people, transport):
    update_person(faro, people["beto"], active=False)
    tick(faro, "2026-11-28T09:00:00-06:00")
    transport.sent.clear()
    tick(faro, SUNDAY_EVENING)  # down all Sunday: the 08:00 ping leaves now, late
    [ping] = sms_to(transport, people["ana"])
    assert "tu registro de las 08:00 sale tarde" in ping
    [skipped] = events(faro, "questionnaire_skipped")
    assert skipped.data["reason"] == "paused_or_busy"
    reply_ = text(faro, people["ana"], "1", "2026-11-29T19:05:00-06:00")
    assert reply_.startswith("Gracias Ana, anotamos que estas bien")


def test_no_questionnaire_for_an_intern_who_opted_out(faro, people, transport):
    update_person(faro, people["beto"], active=False)
    tick(faro, "2026-11-28T09:00:00-06:00")
    update_person(faro, people["ana"], opted_out_at=at("2026-11-28T10:00:00-06:00"))
    transport.sent.clear()
    tick(faro, SUNDAY_EVENING)
    assert sms_to(transport, people["ana"]) == []
    assert rows(faro, Question) == []
    assert person(faro, people["ana"]).next_phq_at is None  # START schedules her again
