"""An intern's history as the console draws it: one state per local day, and her mood and
PHQ-2 scores, all read back from her Event rows (never from counters that could drift).

Days are her own calendar days (`person.timezone`). A day's state is what the record says
happened to that day's check-in, in this order: answered (on time or late), not sent (the
scheduler was down all day, or no channel reached her), missed, cancelled by a pause, sent
and not answered yet; a day without a check-in is paused, opted out, or none (she was
inactive, had not joined yet, or had nothing scheduled). A failover that still reached her
leaves the day's outcome as it was and is named as its reason; so is an answer that came by
call (a missed call in her window, or 1 on the call's menu).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from escalation.base.models import MOOD, PHQ2_1, UNREACHABLE, Event, Person
from escalation.base.schedule import local_day, local_start
from escalation.base.timeline import record
from escalation.wellbeing import PHQ2_POSITIVE

DAYS = 90

# A day's states, in the legend's order.
ON_TIME, LATE, MISSED, UNANSWERED = "on_time", "late", "missed", "unanswered"
NOT_SENT, PAUSED, OPTED_OUT, NONE = "not_sent", "paused", "opted_out", "none"
STATES = (ON_TIME, LATE, MISSED, UNANSWERED, NOT_SENT, PAUSED, OPTED_OUT, NONE)
# Why: a day not sent, a day with no check-in, an answer that came on her other channel.
OUTAGE, UNDELIVERABLE, FAILOVER = "outage", "undeliverable", "failover"
# How an answer came when it was not a text (the `via` of its event): a missed call, a key.
MISSED_CALL, CALL = "missed_call", "call"
BEFORE_JOINING, INACTIVE, NOT_SCHEDULED, NOT_YET = (
    "before_joining",
    "inactive",
    "not_scheduled",
    "not_yet",
)
REASONS = (
    OUTAGE,
    UNDELIVERABLE,
    FAILOVER,
    MISSED_CALL,
    CALL,
    BEFORE_JOINING,
    INACTIVE,
    NOT_SCHEDULED,
    NOT_YET,
)
LABELLED = STATES + REASONS  # the console labels each (history.day.<name>)

# What happened to one day's check-in (`local_date` in the data, or the day of the event).
DAY_KINDS = (
    "checkin_sent",
    "checkin_answered",
    "checkin_missed",
    "checkin_skipped",
    "checkin_cancelled",
    "checkin_undeliverable",
    "checkin_failover",
)
# What lasts from one event to another; read whenever it began, even before the window.
SPAN_KINDS = (
    "paused",
    "resumed",
    "opted_out",
    "opted_in",
    "person_deactivated",
    "person_reactivated",
)
# Where her scores are: the answer's event (mood), the questionnaire's total (PHQ-2), and the
# question each answers, whose day the answer belongs to (a mood answered after midnight is
# the evening's).
SCORE_KINDS = ("question_asked", "question_answered", "phq2_scored")
VIEWED = "mental_health_viewed"


@dataclass(frozen=True)
class Day:
    day: date
    state: str
    reason: str | None = None


@dataclass(frozen=True)
class Trend:
    """Her answers over the window: mood (1–5) by day; PHQ-2 totals (0–6) by the day it was
    asked, with whether both items were answered. Days she did not answer are absent."""

    first: date
    last: date
    mood: list[tuple[date, int]]
    phq2: list[tuple[date, int, bool]]
    cutoff: int = PHQ2_POSITIVE


def window(today: date, days: int = DAYS) -> tuple[date, date]:
    return today - timedelta(days=days - 1), today


# --- the calendar ----------------------------------------------------------------------------


def calendar(session: Session, intern: Person, today: date, days: int = DAYS) -> list[Day]:
    """Her last `days` local days, oldest first, each with its state (one query)."""
    first, last = window(today, days)
    since = local_start(first, intern.timezone)
    events = list(
        session.scalars(
            select(Event)
            .where(
                Event.person_id == intern.id,
                or_(Event.kind.in_(SPAN_KINDS), and_(Event.kind.in_(DAY_KINDS), Event.at >= since)),
            )
            .order_by(Event.at, Event.id)
        )
    )
    zone = intern.timezone
    facts = _day_facts(events, zone)
    spans = _spans(events, zone)
    joined = _joined(intern, events, zone)
    return [
        _state(first + timedelta(days=n), today, facts, spans, joined)
        for n in range((last - first).days + 1)
    ]


def _day_facts(events: Iterable[Event], zone: str) -> dict[date, dict[str, object]]:
    """For each day, what its check-in's events said."""
    facts: dict[date, dict[str, object]] = {}
    for event in events:
        if event.kind not in DAY_KINDS:
            continue
        day = _day_of(event, zone)
        seen = facts.setdefault(day, {})
        if event.kind == "checkin_answered" and not event.data.get("repeated"):
            seen.setdefault("answered", LATE if event.data.get("late") else ON_TIME)
            if event.data.get("via") in (MISSED_CALL, CALL):
                seen.setdefault("via", event.data["via"])
        elif event.kind == "checkin_missed":
            unreachable = event.data.get("incident_kind") == UNREACHABLE
            seen[UNDELIVERABLE if unreachable else MISSED] = True
        elif event.kind == "checkin_skipped":
            seen[OUTAGE] = True
        elif event.kind == "checkin_undeliverable":
            seen[UNDELIVERABLE] = True
        elif event.kind == "checkin_failover":
            seen[FAILOVER] = True
        elif event.kind == "checkin_cancelled":
            seen[PAUSED] = True
        elif event.kind == "checkin_sent":
            seen["sent"] = True
    return facts


def _day_of(event: Event, zone: str) -> date:
    named = event.data.get("local_date")
    return date.fromisoformat(named) if named else local_day(event.at, zone)


def _spans(events: Iterable[Event], zone: str) -> dict[str, list[list[date | None]]]:
    """Her pauses, opt-outs and inactive times as [first day, last day] (None: still on).
    A pause runs to the day before `until` or to the day she resumed; a new pause replaces
    the one before; an opt-out or deactivation runs to the day it ended, that day included."""
    spans: dict[str, list[list[date | None]]] = {PAUSED: [], OPTED_OUT: [], INACTIVE: []}
    starts = {"opted_out": OPTED_OUT, "person_deactivated": INACTIVE}
    ends = {"opted_in": OPTED_OUT, "person_reactivated": INACTIVE, "resumed": PAUSED}
    for event in events:
        day = local_day(event.at, zone)
        if event.kind == "paused":
            _close(spans[PAUSED], day - timedelta(days=1))
            until = date.fromisoformat(event.data["until"]) - timedelta(days=1)
            spans[PAUSED].append([day, until])
        elif event.kind in starts and not _open(spans[starts[event.kind]]):
            spans[starts[event.kind]].append([day, None])
        elif event.kind in ends:
            _close(spans[ends[event.kind]], day)
    return spans


def _open(spans: list[list[date | None]]) -> bool:
    return bool(spans) and spans[-1][1] is None


def _close(spans: list[list[date | None]], day: date) -> None:
    """End the latest span on `day` at the latest (a pause already over is left as it was)."""
    if spans and (spans[-1][1] is None or spans[-1][1] > day):
        spans[-1][1] = day


def _within(spans: list[list[date | None]], day: date) -> bool:
    return any(start <= day and (end is None or day <= end) for start, end in spans)


def _joined(intern: Person, events: list[Event], zone: str) -> date | None:
    """Her first day on the record: the earlier of her row's creation and her first event
    read (a row written without the record's own clock, as a seeded demo's, still has one)."""
    instants = [e.at for e in events[:1]] + ([intern.created_at] if intern.created_at else [])
    return local_day(min(instants), zone) if instants else None


def _state(day: date, today: date, facts: dict, spans: dict, joined: date | None) -> Day:
    seen = facts.get(day, {})
    failover = FAILOVER if seen.get(FAILOVER) else None
    if "answered" in seen:
        return Day(day, seen["answered"], seen.get("via") or failover)
    for reason in (UNDELIVERABLE, OUTAGE):
        if seen.get(reason):
            return Day(day, NOT_SENT, reason)
    if seen.get(MISSED):
        return Day(day, MISSED, failover)
    if seen.get(PAUSED):
        return Day(day, PAUSED)
    if seen.get("sent") and not (_within(spans[OPTED_OUT], day) or _within(spans[INACTIVE], day)):
        return Day(day, UNANSWERED, failover)
    return _without_checkin(day, today, spans, joined)


def _without_checkin(day: date, today: date, spans: dict, joined: date | None) -> Day:
    if _within(spans[PAUSED], day):
        return Day(day, PAUSED)
    if _within(spans[OPTED_OUT], day):
        return Day(day, OPTED_OUT)
    if _within(spans[INACTIVE], day):
        return Day(day, NONE, INACTIVE)
    if joined is None or day < joined:
        return Day(day, NONE, BEFORE_JOINING)
    return Day(day, NONE, NOT_YET if day == today else NOT_SCHEDULED)


def counts(days: Iterable[Day]) -> dict[str, int]:
    """How many days of each state, in the legend's order."""
    found = {state: 0 for state in STATES}
    for day in days:
        found[day.state] += 1
    return found


# --- the trend (mental-health data: only for those who may see scores) -----------------------


def trend(session: Session, intern: Person, today: date, days: int = DAYS) -> Trend:
    """Her mood answers and PHQ-2 totals over the window, each on the day it was asked."""
    first, last = window(today, days)
    # A day's margin: the question an answer in the window's first hours belongs to.
    since = local_start(first - timedelta(days=1), intern.timezone)
    events = session.scalars(
        select(Event)
        .where(Event.person_id == intern.id, Event.kind.in_(SCORE_KINDS), Event.at >= since)
        .order_by(Event.at, Event.id)
    )
    asked: dict[str, date] = {}
    mood: dict[date, int] = {}
    phq2: dict[date, tuple[int, bool]] = {}
    for event in events:
        question = event.data.get("question")
        if event.kind == "question_asked":
            asked[question] = local_day(event.at, intern.timezone)
        elif event.kind == "question_answered" and question == MOOD:
            mood[asked.get(MOOD, local_day(event.at, intern.timezone))] = event.data["answer"]
        elif event.kind == "phq2_scored":
            day = asked.get(PHQ2_1, local_day(event.at, intern.timezone))
            phq2[day] = (event.data["total"], bool(event.data.get("complete")))
    return Trend(
        first=first,
        last=last,
        mood=sorted((d, v) for d, v in mood.items() if first <= d <= last),
        phq2=sorted((d, t, c) for d, (t, c) in phq2.items() if first <= d <= last),
    )


def record_viewed(session: Session, now: datetime, intern: Person, *, account: str) -> None:
    """Seeing her scores is itself on the record (and on the hash chain): who, whose, when."""
    record(session, now, VIEWED, person=intern, account=account)
