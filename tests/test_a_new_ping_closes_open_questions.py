"""A new daily ping closes any question still open from before, as not answered: a `1` after
today's ping is today's check-in, never the answer to yesterday's mood question."""

from __future__ import annotations

from escalation.base.models import MOOD, Question
from tests.conftest import at
from tests.stories import MOOD_QUESTION, checkins, events, rows, sms_to, statements, text, tick


def mood_questions_left_open(faro, *phones: str) -> None:
    """They answer the 24th's ping at 08:05; the mood question follows, and nobody answers it."""
    tick(faro, "2026-11-24T08:00:00-06:00")
    for phone in phones:
        text(faro, phone, "ok", "2026-11-24T08:05:00-06:00")
    tick(faro, "2026-11-24T08:06:00-06:00")


def test_todays_ping_closes_yesterdays_mood_question_and_1_is_todays_checkin(
    faro, people, transport
):
    tick(faro, "2026-11-24T07:00:00-06:00")
    mood_questions_left_open(faro, people["ana"])
    tick(faro, "2026-11-25T08:00:00-06:00")  # before yesterday's question would expire
    [yesterdays] = rows(faro, Question)
    assert yesterdays.expired_at == at("2026-11-25T08:00:00-06:00") and yesterdays.answer is None
    [closed] = [e for e in events(faro, "question_unanswered") if e.person_id == 1]
    assert closed.data == {"question": MOOD, "reason": "new_checkin"}
    reply = text(faro, people["ana"], "1", "2026-11-25T08:05:00-06:00")
    assert reply == "Gracias Ana, anotamos que estas bien. Cuidate."
    todays = [c for c in checkins(faro) if c.intern_id == 1 and str(c.local_date) == "2026-11-25"]
    assert todays[0].answered_at == at("2026-11-25T08:05:00-06:00")
    assert rows(faro, Question, Question.local_date == yesterdays.local_date)[0].answer is None
    tick(faro, "2026-11-25T08:06:00-06:00")
    mood = [b for b in sms_to(transport, people["ana"]) if b.startswith(MOOD_QUESTION)]
    assert len(mood) == 2  # today's own mood question follows today's check-in


def test_a_question_asked_after_the_ping_stays_open(faro, people):
    tick(faro, "2026-11-24T07:00:00-06:00")
    mood_questions_left_open(faro, people["ana"])
    tick(faro, "2026-11-24T09:00:00-06:00")
    assert [q.expired_at for q in rows(faro, Question)] == [None]


def test_a_batch_of_pings_closes_its_questions_in_one_update(faro, people):
    tick(faro, "2026-11-24T07:00:00-06:00")
    mood_questions_left_open(faro, people["ana"], people["beto"])
    assert len(rows(faro, Question)) == 2
    with statements(faro, "UPDATE QUESTION") as updates:
        tick(faro, "2026-11-25T08:00:00-06:00")
    assert len(updates) == 1
    assert all(q.expired_at is not None for q in rows(faro, Question))
    closed = events(faro, "question_unanswered")
    assert sorted(e.person_id for e in closed) == [1, 2]
