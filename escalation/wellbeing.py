"""Mental-health check-ins: the daily mood, the weekly PHQ-2, item 9, and the offer of a call.

Plain functions of `(session, now, …)`. A question is one `Question` row and one text; an
intern has at most one open question at a time, so a digit she sends answers exactly that
question (the question says which scale). Unanswered questions expire after 24 h, or when
her next daily ping goes out (a `1` then is that check-in, not yesterday's mood), and are
recorded as not answered, never as 0. Scores are health data: they stay in these rows and
in events on the intern's own timeline, never in a responder's alert.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session, joinedload

from escalation.base.config import DomainConfig
from escalation.base.db import first_due, skip_locked
from escalation.base.messages import render
from escalation.base.models import (
    CALL_OFFER,
    MOOD,
    PHQ2_1,
    PHQ2_2,
    PHQ9_9,
    PRIORITY_LOW,
    SELF_HARM,
    SUPPORT,
    CheckIn,
    Incident,
    Person,
    Question,
    University,
)
from escalation.base.schedule import SCHEDULE_NOW, local_day, ping_instant
from escalation.base.timeline import event_row, message_row, queue, queue_many, record, record_many
from escalation.incidents import open_incident, open_incident_of

EXPIRE_AFTER = timedelta(hours=24)
PHQ2_POSITIVE = 3  # total of the two items, 0..6 (Kroenke et al. 2003)
LOW_MOOD = (1, 2)
LOW_MOOD_DAYS = 3
MOOD_WINDOW = timedelta(days=14)
MOOD_DROP = 2
MOOD_DELAY = timedelta(seconds=20)
PHQ_LATE = timedelta(hours=3)
# What the interpreter expects while each kind of question is open.
SCALE = {MOOD: "mood", PHQ2_1: "phq", PHQ2_2: "phq", PHQ9_9: "phq", CALL_OFFER: "yesno"}
TEMPLATE = {
    MOOD: "mh_mood_question",
    PHQ2_1: "mh_phq2_1",
    PHQ2_2: "mh_phq2_2",
    PHQ9_9: "mh_phq9_9",
    CALL_OFFER: "mh_call_offer",
}


def open_question_kind(session: Session, intern: Person, now: datetime) -> tuple[int, str] | None:
    """(id, kind) of the question waiting for her answer: what reading her text needs, in one
    Core statement built once (every text of an intern asks for it)."""
    found = session.connection().execute(_OPEN_QUESTION, {"intern_id": intern.id, "now": now})
    return found.first()


# A question waiting for her answer now (intern and instant bound as :intern_id and :now).
_OPEN_NOW = (
    Question.answered_at.is_(None),
    Question.expired_at.is_(None),
    Question.expires_at > bindparam("now"),
)


def _latest_open(intern_id):
    """Her newest question waiting for an answer now, (id, kind): one query for both uses."""
    return (
        select(Question.id, Question.kind)
        .where(Question.intern_id == intern_id, *_OPEN_NOW)
        .order_by(Question.asked_at.desc())
        .limit(1)
    )


_OPEN_QUESTION = _latest_open(bindparam("intern_id"))


def open_question_of(intern_id) -> tuple:
    """`open_question_kind` as two columns for a query that reads her (`intern_id`: its
    column), `now` bound as :now: her open question's id and kind, or NULLs."""
    latest = _latest_open(intern_id)
    return (
        latest.with_only_columns(Question.id).scalar_subquery().label("question_id"),
        latest.with_only_columns(Question.kind).scalar_subquery().label("question_kind"),
    )


def ask(session: Session, now: datetime, intern: Person, kind: str) -> tuple[Question, str]:
    """Record a new question (closing any other open one) and return it with its text.

    The caller sends the text: as the TwiML reply when it answers her message, through the
    outbox otherwise (`ask_by_text`)."""
    today = local_day(now, intern.timezone)
    for earlier in session.scalars(
        select(Question).where(
            Question.intern_id == intern.id,
            Question.answered_at.is_(None),
            Question.expired_at.is_(None),
        )
    ):
        _expire(session, now, earlier, reason="superseded")
    question = session.scalar(
        select(Question).where(
            Question.intern_id == intern.id, Question.kind == kind, Question.local_date == today
        )
    )
    if question is None:  # one row per kind and day; asked again the same day, it reopens
        question = Question(intern_id=intern.id, kind=kind, local_date=today)
    return _put(session, now, intern, question)


def _put(
    session: Session, now: datetime, intern: Person, question: Question
) -> tuple[Question, str]:
    session.add(question)
    kind = question.kind
    question.asked_at, question.expires_at = now, now + EXPIRE_AFTER
    question.answered_at = question.expired_at = question.answer = None
    record(session, now, "question_asked", person=intern, question=kind)
    return question, render(TEMPLATE[kind], intern.language, name=intern.first_name)


def ask_by_text(session: Session, now: datetime, intern: Person, kind: str) -> Question:
    question, text = ask(session, now, intern, kind)
    queue(session, now, kind=f"question_{kind}", body=text, person=intern, priority=PRIORITY_LOW)
    return question


def _ask_first_by_text(session: Session, now: datetime, interns: list[Person], kind: str) -> None:
    """Ask each of them a question when the caller knows she has none open and none of this
    kind today: their rows, events and texts in three multi-row INSERTs built once (the 09:00
    burst's mood questions pass here, a batch per tick). A question waits for the day's pings
    (`PRIORITY_LOW`)."""
    if not interns:
        return
    session.flush()  # the events written before stay before these
    session.connection().execute(
        _NEW_QUESTION,
        [{"intern_id": intern.id, "kind": kind, "local_date": local_day(now, intern.timezone),
          "asked_at": now, "expires_at": now + EXPIRE_AFTER} for intern in interns],
    )  # fmt: skip
    record_many(session, [event_row(now, "question_asked", person_id=intern.id, question=kind)
                          for intern in interns])  # fmt: skip
    queue_many(session, [message_row(now, kind=f"question_{kind}", person=intern,
                                     body=render(TEMPLATE[kind], intern.language,
                                                 name=intern.first_name),
                                     priority=PRIORITY_LOW) for intern in interns])  # fmt: skip


_NEW_QUESTION = insert(Question.__table__)


def close_open_questions(
    session: Session, now: datetime, intern_ids: list[int], *, reason: str
) -> list[dict]:
    """Record every question still open for these interns as not answered, as expiry does, in
    one UPDATE (the ping step's batch); returns the timeline rows for the caller to write."""
    if not intern_ids:
        return []
    table = Question.__table__
    closed = session.execute(
        update(table)
        .where(
            table.c.intern_id.in_(intern_ids),
            table.c.answered_at.is_(None),
            table.c.expired_at.is_(None),
        )
        .values(expires_at=None, expired_at=now)
        .returning(table.c.intern_id, table.c.kind)
    ).all()
    return [
        event_row(now, "question_unanswered", person_id=intern_id, question=kind, reason=reason)
        for intern_id, kind in sorted(closed)  # RETURNING has no order
    ]


def _expire(session: Session, now: datetime, question: Question, *, reason: str) -> None:
    question.expired_at = now
    question.expires_at = None
    record(
        session,
        now,
        "question_unanswered",
        person_id=question.intern_id,
        question=question.kind,
        reason=reason,
    )


# --- answers ---------------------------------------------------------------------------------


def answer(
    session: Session,
    now: datetime,
    intern: Person,
    question: Question,
    value: int,
    config: DomainConfig,
) -> str:
    """Record `value` for `question` and return what we say next (the next question, or thanks)."""
    question.answer = value
    question.answered_at = now
    question.expires_at = None
    record(session, now, "question_answered", person=intern, question=question.kind, answer=value)
    follow = _FOLLOW_UP[question.kind]
    return follow(session, now, intern, question, config)


def _after_mood(session, now, intern, question, config) -> str:
    if low_mood(session, intern, now):
        record(session, now, "mood_low", person=intern)
        return ask(session, now, intern, CALL_OFFER)[1]
    return render("mh_mood_thanks", intern.language, name=intern.first_name)


def _after_phq2_1(session, now, intern, question, config) -> str:
    return ask(session, now, intern, PHQ2_2)[1]


def _after_phq2_2(session, now, intern, question, config) -> str:
    first = session.scalar(
        select(Question.answer).where(
            Question.intern_id == intern.id,
            Question.kind == PHQ2_1,
            Question.local_date == question.local_date,
        )
    )
    total = (first or 0) + question.answer
    record(session, now, "phq2_scored", person=intern, total=total, complete=first is not None)
    if total >= PHQ2_POSITIVE:
        # Item 9 first: whether she has thought of hurting herself matters most; the offer of
        # a call follows its answer.
        return ask(session, now, intern, PHQ9_9)[1]
    return render("mh_phq_thanks", intern.language, name=intern.first_name)


def _after_phq9_9(session, now, intern, question, config) -> str:
    if question.answer > 0:
        open_incident(session, now, intern, SELF_HARM, config=config)
        return render("mh_crisis_line", intern.language, name=intern.first_name)
    return ask(session, now, intern, CALL_OFFER)[1]


def _after_call_offer(session, now, intern, question, config) -> str:
    if question.answer == 1:
        open_incident(session, now, intern, SUPPORT, config=config)
        return render("mh_call_yes", intern.language, name=intern.first_name)
    return render("mh_call_no", intern.language, name=intern.first_name)


_FOLLOW_UP = {
    MOOD: _after_mood,
    PHQ2_1: _after_phq2_1,
    PHQ2_2: _after_phq2_2,
    PHQ9_9: _after_phq9_9,
    CALL_OFFER: _after_call_offer,
}


def low_mood(session: Session, intern: Person, now: datetime) -> bool:
    """Three answered days in a row at 1–2, or today 2+ below her own two-week average."""
    rows = session.execute(
        select(Question.local_date, Question.answer)
        .where(
            Question.intern_id == intern.id,
            Question.kind == MOOD,
            Question.answer.is_not(None),
            Question.asked_at >= now - MOOD_WINDOW,
        )
        .order_by(Question.local_date.desc())
    ).all()
    if not rows:
        return False
    return _three_low_days(rows) or _dropped(rows)


def _three_low_days(rows: list[tuple[date, int]]) -> bool:
    recent = rows[:LOW_MOOD_DAYS]
    if len(recent) < LOW_MOOD_DAYS or any(value not in LOW_MOOD for _day, value in recent):
        return False
    return (recent[0][0] - recent[-1][0]).days == LOW_MOOD_DAYS - 1  # consecutive days


def _dropped(rows: list[tuple[date, int]]) -> bool:
    today, earlier = rows[0][1], [value for _day, value in rows[1:]]
    if len(earlier) < 3:  # too little history for an average to mean anything
        return False
    return sum(earlier) / len(earlier) - today >= MOOD_DROP


# --- what the daily check-in triggers --------------------------------------------------------


MOOD_BATCH = 200  # check-ins a transaction of the tick asks about


def handle_some_due_moods(
    session: Session, now: datetime, config: DomainConfig, limit: int = MOOD_BATCH
) -> int:
    """The daily mood question, as its own text shortly after a check-in is answered
    (`CheckIn.mood_at`, set by her OK MOOD_DELAY ahead), for up to `limit` due check-ins in
    one transaction; returns how many were due. On by default, at most once a day, not on
    PHQ-2 days, not while another question is open or a self-harm incident is open, never to
    someone who left or opted out: decided now, each check-in once (its `mood_at` is cleared,
    claimed under FOR UPDATE SKIP LOCKED on PostgreSQL)."""
    query = select(CheckIn.id, CheckIn.intern_id).where(CheckIn.mood_at <= now)
    due = session.execute(skip_locked(query.order_by(CheckIn.mood_at).limit(limit), session)).all()
    if not due:
        return 0
    checkins = CheckIn.__table__
    session.execute(
        update(checkins).where(checkins.c.id.in_([row.id for row in due])).values(mood_at=None)
    )
    interns = session.scalars(
        select(Person)
        .where(Person.id.in_({row.intern_id for row in due}))
        .order_by(Person.id)
        .options(joinedload(Person.university))
    ).all()
    candidates = [intern for intern in interns if _mood_day(now, intern)]
    blocked = _mood_blocked(session, now, candidates)
    _ask_first_by_text(session, now, [i for i in candidates if i.id not in blocked], MOOD)
    return len(due)


def _mood_day(now: datetime, intern: Person) -> bool:
    """Whether she takes today's mood question, as far as her own row says: she still takes
    prompts, her university asks it, and today is not her questionnaire day."""
    if not intern.takes_prompts:
        return False
    university = intern.university
    if university is not None and not university.mood_enabled:
        return False
    return local_day(now, intern.timezone).isoweekday() != _phq_weekday(university)


def _mood_blocked(session: Session, now: datetime, interns: list[Person]) -> set[int]:
    """Those of `interns` asked today's mood question already, or with a question still open,
    or a self-harm incident open: two reads for the batch."""
    if not interns:
        return set()
    ids, today = [i.id for i in interns], {i.id: local_day(now, i.timezone) for i in interns}
    questions = session.execute(
        select(Question.intern_id, Question.kind, Question.local_date, and_(*_OPEN_NOW)).where(
            Question.intern_id.in_(ids),
            or_(
                and_(Question.kind == MOOD, Question.local_date.in_(set(today.values()))),
                and_(*_OPEN_NOW),
            ),
        ),
        {"now": now},
    ).all()
    blocked = {
        intern_id
        for intern_id, kind, day, open_now in questions
        if open_now or (kind == MOOD and day == today[intern_id])
    }
    return blocked | set(
        session.scalars(
            select(Incident.intern_id).where(
                Incident.intern_id.in_(ids),
                Incident.kind == SELF_HARM,
                Incident.resolved_at.is_(None),
                Incident.drill.is_(False),
            )
        )
    )


def _busy(session: Session, intern: Person, now: datetime) -> bool:
    """A question open, a self-harm incident open, or a check-in inside its window (a late
    ping after an outage can leave in the same tick as the questionnaire: her `1` is the
    check-in's, so the questionnaire is skipped this week)."""
    return (
        open_question_kind(session, intern, now) is not None
        or _checkin_waiting(session, intern)
        or open_incident_of(session, intern, SELF_HARM) is not None
    )


def _checkin_waiting(session: Session, intern: Person) -> bool:
    """A ping she has not answered yet whose deadline is still to come (`escalate_at` is
    cleared by her answer, the deadline, or a pause)."""
    waiting = select(CheckIn.id).where(
        CheckIn.intern_id == intern.id, CheckIn.escalate_at.is_not(None)
    )
    return session.scalar(waiting.limit(1)) is not None


def _phq_weekday(university: University | None) -> int:
    return university.phq_weekday if university is not None else 7


# --- tick steps ------------------------------------------------------------------------------


def next_phq(intern: Person, university: University | None, after: datetime) -> datetime:
    """The next weekly PHQ-2 instant (the university's weekday and local time) after `after`."""
    weekday = _phq_weekday(university)
    at = university.phq_time if university is not None else "19:00"
    day = local_day(after, intern.timezone)
    for offset in range(8):
        candidate_day = day + timedelta(days=offset)
        if candidate_day.isoweekday() != weekday:
            continue
        instant = ping_instant(candidate_day, at, intern.timezone)
        if instant > after:
            return instant
    return ping_instant(day + timedelta(days=7), at, intern.timezone)


def handle_one_due_phq(session: Session, now: datetime, config: DomainConfig) -> bool:
    """Send one due weekly PHQ-2 (its first question); claimed by moving next_phq_at on."""
    intern_id = first_due(session, Person.next_phq_at, now)
    if intern_id is None:
        return False
    intern = session.get(Person, intern_id)
    university = session.get(University, intern.university_id) if intern.university_id else None
    due = intern.next_phq_at
    # Someone who left the roster or opted out is no longer scheduled (re-activating her,
    # pings.schedule_changed, or her START, optout.opt_in, schedules her again).
    following = next_phq(intern, university, max(now, due)) if intern.takes_prompts else None
    claimed = session.execute(
        update(Person)
        .where(Person.id == intern.id, Person.next_phq_at == due)
        .values(next_phq_at=following)
    ).rowcount
    if claimed != 1:
        return True
    session.refresh(intern)
    if due == SCHEDULE_NOW or not intern.takes_prompts:  # new: only her first date was due
        return True
    if now - due > PHQ_LATE:  # after downtime: no questionnaire at the wrong time of day
        record(
            session,
            now,
            "questionnaire_skipped",
            person=intern,
            reason="late",
            due=due.isoformat(),
        )
    elif _paused(intern, now) or _busy(session, intern, now):
        record(session, now, "questionnaire_skipped", person=intern, reason="paused_or_busy")
    else:
        ask_by_text(session, now, intern, PHQ2_1)
    return True


def _paused(intern: Person, now: datetime) -> bool:
    return intern.paused_until is not None and local_day(now, intern.timezone) < intern.paused_until


def handle_one_expired_question(session: Session, now: datetime, config: DomainConfig) -> bool:
    question_id = first_due(session, Question.expires_at, now)
    if question_id is None:
        return False
    question = session.get(Question, question_id)
    claimed = session.execute(
        update(Question)
        .where(
            Question.id == question.id,
            Question.expires_at.is_not(None),
            Question.answered_at.is_(None),
        )
        .values(expires_at=None, expired_at=now)
    ).rowcount
    if claimed == 1:
        record(
            session,
            now,
            "question_unanswered",
            person_id=question.intern_id,
            question=question.kind,
            reason="expired",
        )
    return True
