"""Simulated month of mental-health check-ins: questionnaires sent, answered, positive; incidents.

    .venv/bin/python bench/wellbeing.py                 # 1,000 interns, 30 days, SQLite
    .venv/bin/python bench/wellbeing.py --interns 200   # smaller

Synthetic interns with seeded personas (most well, some struggling, a few depressed) answer
their daily check-in, the mood question and the Sunday PHQ-2 through the same code path as a
real text (`bot.conversation.inbound.receive`), in simulated time driven by
`run_pass(now)`. It measures what the mental-health path does over a month, not speed. Stops
by itself.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from bench import webhooks  # noqa: E402
from bot.conversation.inbound import receive  # noqa: E402
from escalation.base.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from escalation.base.models import (  # noqa: E402
    MENTAL_HEALTH,
    MOOD,
    PHQ2_1,
    PHQ2_2,
    PHQ9_9,
    Event,
    Incident,
    Person,
    Question,
    University,
)
from escalation.wellbeing import open_question_kind  # noqa: E402

START = datetime(2026, 11, 2, 13, 0, tzinfo=UTC)  # Monday 07:00 in Monterrey
PERSONAS = {  # share, mood range, PHQ item range, chance item 9 > 0, chance to accept a call
    "well": (0.80, (3, 5), (0, 1), 0.0, 0.2),
    "struggling": (0.15, (2, 4), (1, 2), 0.05, 0.5),
    "depressed": (0.05, (1, 2), (2, 3), 0.3, 0.6),
}


SOFIA = "+524881000006"
PHQ_KINDS = {PHQ2_1, PHQ2_2, PHQ9_9, "call_offer"}


class NullTransport:
    name = "bench"

    def send(self, envelope) -> str:
        return f"SM{envelope.id:032d}"


def seed(url: str, interns: int, rng: random.Random) -> dict[str, str]:
    """The webhook benchmark's roster (UANL, one unit, a nurse, a coordinator, the interns),
    plus the university's mental-health contact; each intern gets a persona."""
    phones = webhooks.seed(url, interns)
    engine = make_engine(url)
    with transaction(make_sessionmaker(engine)) as session:
        uni = session.scalar(select(University))
        session.add(
            Person(role=MENTAL_HEALTH, name="Sofia Reyes", phone=SOFIA, university_id=uni.id)
        )
    engine.dispose()
    return {phone: _persona(rng) for phone in phones}


def _persona(rng: random.Random) -> str:
    roll, total = rng.random(), 0.0
    for name, (share, *_rest) in PERSONAS.items():
        total += share
        if roll < total:
            return name
    return "well"


class Month:
    def __init__(self, faro, phones: dict[str, str], rng: random.Random):
        self.faro, self.phones, self.rng = faro, phones, rng
        self.sids = 0

    def text(self, phone: str, body: str, now: datetime) -> None:
        self.sids += 1
        receive(
            self.faro.sessions, now, sid=f"SMbench{self.sids:026d}", from_address=phone, body=body
        )

    def answer_open_questions(self, now: datetime, chance: float, kinds: set[str]) -> None:
        with self.faro.sessions() as session:
            people = session.scalars(select(Person).where(Person.phone.in_(self.phones))).all()
            pending = {p.phone: q[1] for p in people if (q := open_question_kind(session, p, now))}
        for phone, kind in pending.items():
            if kind in kinds and self.rng.random() < chance:
                self.text(phone, self._answer(self.phones[phone], kind), now)

    def _answer(self, persona: str, kind: str) -> str:
        _share, mood, item, harm, accept = PERSONAS[persona]
        if kind == MOOD:
            return str(self.rng.randint(*mood))
        if kind in (PHQ2_1, PHQ2_2):
            return str(self.rng.randint(*item))
        if kind == PHQ9_9:
            return str(self.rng.randint(1, 2)) if self.rng.random() < harm else "0"
        return "si" if self.rng.random() < accept else "no"

    def day(self, day: int) -> None:
        morning = START + timedelta(days=day, hours=1)  # 08:00 local
        self.faro.run_pass(morning)
        for phone in self.phones:
            if self.rng.random() < 0.95:
                self.text(phone, "ok", morning + timedelta(minutes=5))
        self.faro.run_pass(morning + timedelta(minutes=6))
        self.answer_open_questions(morning + timedelta(minutes=10), 0.85, {MOOD, "call_offer"})
        self.faro.run_pass(morning + timedelta(hours=2, minutes=1))  # deadlines
        evening = START + timedelta(days=day, hours=12)  # 19:00 local
        self.faro.run_pass(evening)
        for minute in (5, 6, 7, 8):  # the PHQ-2 and its follow-ups, one reply each
            self.answer_open_questions(evening + timedelta(minutes=minute), 0.75, PHQ_KINDS)
        self.faro.run_pass(evening + timedelta(hours=4))


def report(faro) -> dict[str, int]:
    with faro.sessions() as session:
        asked = Counter(
            dict(session.execute(select(Question.kind, func.count()).group_by(Question.kind)).all())
        )
        answered = Counter(
            dict(
                session.execute(
                    select(Question.kind, func.count())
                    .where(Question.answer.is_not(None))
                    .group_by(Question.kind)
                ).all()
            )
        )
        positive = session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.kind == "phq2_scored", Event.data["total"].as_integer() >= 3)
        )
        incidents = Counter(
            dict(session.execute(select(Incident.kind, func.count()).group_by(Incident.kind)).all())
        )
        accepted = session.scalar(
            select(func.count()).where(Question.kind == "call_offer", Question.answer == 1)
        )
        low = session.scalar(
            select(func.count()).select_from(Event).where(Event.kind == "mood_low")
        )
    return {
        "mood questions sent": asked[MOOD],
        "mood answered": answered[MOOD],
        "low-mood runs (call offered)": low,
        "PHQ-2 sent (first item)": asked[PHQ2_1],
        "PHQ-2 completed": answered[PHQ2_2],
        "PHQ-2 positive (total >= 3)": positive,
        "item 9 asked": asked[PHQ9_9],
        "item 9 answered": answered[PHQ9_9],
        "call offers": asked["call_offer"],
        "call offers answered": answered["call_offer"],
        "calls accepted": accepted,
        "support incidents": incidents["support"],
        "self-harm incidents": incidents["self_harm"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interns", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=4821)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        config = {
            "DATABASE_URL": f"sqlite:///{tmp}/month.db",
            "SECRET_KEY": "bench",
            "SMS_TRANSPORT": "console",
        }
        phones = seed(config["DATABASE_URL"], args.interns, rng)
        app = create_app(config, transport=NullTransport())
        faro = app.extensions["faro"]
        started = time.perf_counter()
        month = Month(faro, phones, rng)
        for day in range(args.days):
            month.day(day)
        elapsed = time.perf_counter() - started
        figures = report(faro)
        faro.close()
    print(f"{args.interns} interns, {args.days} days, seed {args.seed} ({elapsed:.0f} s)")
    personas = Counter(phones.values())
    print("personas: " + ", ".join(f"{k} {personas[k]}" for k in PERSONAS))
    for name, value in figures.items():
        print(f"  {name:32} {value}")


if __name__ == "__main__":
    main()
