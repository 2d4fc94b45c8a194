"""The intern's page, its pictures: the 90-day calendar and, for those who may see scores, her
mood and PHQ-2 trend as server-rendered SVG (escalation.history computes both from Events).

Showing the trend is itself recorded (`mental_health_viewed`, naming the account) before the
page is rendered, so nobody sees her scores without a trace; a page without it writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_login import current_user

from escalation import history
from escalation.accounts import Scope
from escalation.base.db import utcnow
from escalation.base.models import Person
from escalation.base.schedule import local_day

# The charts' drawing box (SVG user units; the SVG scales to its container, text with it).
WIDTH, LEFT, RIGHT, TOP, BOTTOM = 360, 30, 10, 10, 26
MOOD_HEIGHT, PHQ_HEIGHT = 150, 150
# A symbol per state, so that colour is never the only cue (the legend repeats them).
SYMBOLS = {
    history.ON_TIME: "✓",
    history.LATE: "◐",
    history.MISSED: "✗",
    history.UNANSWERED: "…",
    history.NOT_SENT: "!",
    history.PAUSED: "‖",
    history.OPTED_OUT: "⊘",
    history.NONE: "·",
}


def context(db, person: Person, scope: Scope) -> dict:
    """What person.html needs for her calendar and trend (nothing for a responder)."""
    if not person.is_intern:
        return {}
    today = local_day(utcnow(), person.timezone)
    days = history.calendar(db, person, today)
    found = {"weeks": weeks(days), "legend": history.counts(days), "symbols": SYMBOLS,
             "chart": None}  # fmt: skip
    if scope.sees_scores:
        found["chart"] = chart(history.trend(db, person, today))
        # In the page's own session: a second one would queue behind its lock on SQLite.
        history.record_viewed(db, utcnow(), person, account=current_user.email)
        db.commit()
    return found


def weeks(days: list[history.Day]) -> list[dict]:
    """The days as weeks Monday to Sunday, padded with None before the first and after the
    last."""
    first = days[0].day
    padded = [None] * (first.isoweekday() - 1) + list(days)
    padded += [None] * (-len(padded) % 7)
    rows = []
    for start in range(0, len(padded), 7):
        monday = first + timedelta(days=start - (first.isoweekday() - 1))
        rows.append({"monday": monday, "days": padded[start : start + 7]})
    return rows


# --- the charts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    low: int
    high: int
    height: int
    ticks: tuple[int, ...]

    def y(self, value: float) -> float:
        span = self.height - TOP - BOTTOM
        return round(TOP + span * (self.high - value) / (self.high - self.low), 1)


MOOD_AXIS = Axis(1, 5, MOOD_HEIGHT, (1, 2, 3, 4, 5))
PHQ_AXIS = Axis(0, 6, PHQ_HEIGHT, (0, 1, 2, 3, 4, 5, 6))


def chart(trend: history.Trend) -> dict:
    """Coordinates for both panels: points, lines broken where she did not answer (a missing
    day for the daily mood, a missing week for the weekly PHQ-2), and the date ticks."""
    x = _x_scale(trend.first, trend.last)
    mood = [{"day": d, "value": v, "x": x(d), "y": MOOD_AXIS.y(v)} for d, v in trend.mood]
    phq = [
        {"day": d, "value": v, "complete": c, "positive": v >= trend.cutoff, "x": x(d),
         "y": PHQ_AXIS.y(v)}
        for d, v, c in trend.phq2
    ]  # fmt: skip
    phq_panel = _panel(phq, PHQ_AXIS, step=7) | {
        "cutoff": PHQ_AXIS.y(trend.cutoff),
        "cutoff_value": trend.cutoff,
    }
    return {
        "width": WIDTH,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "mood": _panel(mood, MOOD_AXIS, step=1),
        "phq": phq_panel,
        "ticks": [{"x": x(d), "label": d.strftime("%d/%m")} for d in _date_ticks(trend)],
        "empty": not mood and not phq,
        "first": trend.first,
        "last": trend.last,
    }


def _panel(points: list[dict], axis: Axis, *, step: int) -> dict:
    grid = [{"y": axis.y(v), "label": v} for v in axis.ticks]
    return {"points": points, "lines": _lines(points, step), "axis": axis, "grid": grid,
            "bottom": axis.height - BOTTOM}  # fmt: skip


def _x_scale(first: date, last: date):
    span = max((last - first).days, 1)

    def x(day: date) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * (day - first).days / span, 1)

    return x


def _lines(points: list[dict], step: int) -> list[str]:
    """SVG polyline point lists, one per run of answers at most `step` days apart."""
    runs: list[list[dict]] = []
    for point in points:
        if runs and (point["day"] - runs[-1][-1]["day"]).days <= step:
            runs[-1].append(point)
        else:
            runs.append([point])
    return [" ".join(f"{p['x']},{p['y']}" for p in run) for run in runs if len(run) > 1]


def _date_ticks(trend: history.Trend) -> list[date]:
    """The 1st and the 15th of each month inside the window."""
    day, ticks = trend.first, []
    while day <= trend.last:
        if day.day in (1, 15):
            ticks.append(day)
        day += timedelta(days=1)
    return ticks
