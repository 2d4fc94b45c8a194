"""The daily mood question: its own short text right after the check-in, once a day."""

from __future__ import annotations

from sqlalchemy import select

from escalation.base.db import transaction
from escalation.base.models import CALL_OFFER, MOOD, SUPPORT, Person, Question, University
from escalation.wellbeing import ask_by_text
from tests.conftest import at
from tests.stories import events, incidents, rows, sms_to, text, tick, update_person

MOOD_QUESTION = "¿Como te sientes hoy del 1 al 5?"


def one_intern(faro, people):
    update_person(faro, people["beto"], active=False)
    tick(faro, "2026-11-23T07:00:00-06:00")


def check_in(faro, people, day: int, mood: str | None = None) -> str | None:
    """Ana answers her ping on 2026-11-<day> at 08:05, then the mood question at 08:10."""
    tick(faro, f"2026-11-{day}T08:00:00-06:00")
    text(faro, people["ana"], "ok", f"2026-11-{day}T08:05:00-06:00")
    tick(faro, f"2026-11-{day}T08:06:00-06:00")
    if mood is None:
        return None
    return text(faro, people["ana"], mood, f"2026-11-{day}T08:10:00-06:00")


def test_the_mood_question_follows_her_ok_as_its_own_text(faro, people, transport):
    one_intern(faro, people)
    reply = text(faro, people["ana"], "ok", "2026-11-24T08:05:00-06:00")
    assert reply.startswith("Gracias Ana")
    assert MOOD_QUESTION not in reply  # never on the same message as the check-in
    tick(faro, "2026-11-24T08:06:00-06:00")
    assert [b for b in sms_to(transport, people["ana"]) if b.startswith(MOOD_QUESTION)]
    text(faro, people["ana"], "ok otra vez", "2026-11-24T12:00:00-06:00")
    assert len(rows(faro, Question)) == 1  # never more than one a day


def test_a_mood_answer_is_thanked_and_stays_private(faro, people, transport):
    one_intern(faro, people)
    reply = check_in(faro, people, 24, "4")
    assert reply.startswith("Gracias por contarnos, Ana")
    [question] = rows(faro, Question)
    assert (question.kind, question.answer) == (MOOD, 4)
    assert incidents(faro) == []


def test_a_digit_answers_the_mood_question_not_the_menu(faro, people, transport):
    one_intern(faro, people)
    check_in(faro, people, 24, "3")
    assert incidents(faro) == []  # 3 is a mood here, not an emergency


def test_no_mood_question_on_questionnaire_day(faro, people, transport):
    one_intern(faro, people)
    check_in(faro, people, 29)  # Sunday: the weekly PHQ-2 day
    assert rows(faro, Question) == []


def test_a_university_may_turn_it_off(faro, people, transport):
    with transaction(faro.sessions) as session:
        session.query(University).update({"mood_enabled": False})
    one_intern(faro, people)
    check_in(faro, people, 24)
    assert rows(faro, Question) == []


def test_three_low_days_in_a_row_offer_a_call(faro, people, transport):
    one_intern(faro, people)
    check_in(faro, people, 23, "2")
    check_in(faro, people, 24, "1")
    offer = check_in(faro, people, 25, "2")
    assert "¿Quieres que alguien del equipo te llame?" in offer
    assert "te llamara pronto" in text(faro, people["ana"], "si", "2026-11-25T08:15:00-06:00")
    [incident] = incidents(faro)
    assert incident.kind == SUPPORT
    assert len(events(faro, "mood_low")) == 1


def test_a_drop_of_two_below_her_own_average_offers_a_call(faro, people, transport):
    one_intern(faro, people)
    for day in (23, 24, 25, 26):
        assert check_in(faro, people, day, "5").startswith("Gracias")
    offer = check_in(faro, people, 27, "3")
    assert "¿Quieres que alguien del equipo te llame?" in offer


def test_no_mood_question_for_an_intern_who_opted_out(faro, people, transport):
    one_intern(faro, people)
    tick(faro, "2026-11-24T08:00:00-06:00")
    text(faro, people["ana"], "ok", "2026-11-24T08:05:00-06:00")
    # She leaves before the question is due: it is decided when it is due, not at her OK.
    update_person(faro, people["ana"], opted_out_at=at("2026-11-24T08:05:10-06:00"))
    tick(faro, "2026-11-24T08:06:00-06:00")
    assert rows(faro, Question) == []


def test_the_question_waits_a_moment_after_her_thanks(faro, people, transport):
    one_intern(faro, people)
    tick(faro, "2026-11-24T08:00:00-06:00")
    text(faro, people["ana"], "ok", "2026-11-24T08:05:00-06:00")
    tick(faro, "2026-11-24T08:05:10-06:00")
    assert rows(faro, Question) == []  # not yet: the thank-you leaves first
    tick(faro, "2026-11-24T08:05:30-06:00")
    [question] = rows(faro, Question)
    assert question.kind == MOOD
    tick(faro, "2026-11-24T08:06:00-06:00")
    assert len([b for b in sms_to(transport, people["ana"]) if b.startswith(MOOD_QUESTION)]) == 1


def test_no_mood_question_while_another_question_is_open(faro, people, transport):
    one_intern(faro, people)
    tick(faro, "2026-11-24T08:00:00-06:00")
    text(faro, people["ana"], "ok", "2026-11-24T08:05:00-06:00")
    with transaction(faro.sessions) as session:  # a call offer asked meanwhile
        ana = session.scalar(select(Person).where(Person.phone == people["ana"]))
        ask_by_text(session, at("2026-11-24T08:05:05-06:00"), ana, CALL_OFFER)
    tick(faro, "2026-11-24T08:06:00-06:00")
    assert [q.kind for q in rows(faro, Question)] == [CALL_OFFER]
