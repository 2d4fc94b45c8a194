"""Dates and times as interns type them, for the PAUSA and HORA commands (`commands`): dates
day first as Mexico writes them, times with or without minutes and am/pm."""

from __future__ import annotations

import re
from datetime import date, time

from bot.conversation.vocabulary import MONTHS

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC_DATE = re.compile(r"(\d{1,2})[/\-.](\d{1,2})(?:[/\-.](\d{4}|\d{2}))?\b")
_DAY_MONTH = re.compile(r"(\d{1,2}) (?:de )?([a-z]+)(?: (?:de |del )?(\d{4}))?\b")
_MONTH_DAY = re.compile(r"([a-z]+) (\d{1,2})(?: (\d{4}))?\b")


def date_parts(rest: str) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) of a date at the start of `rest`, day first as Mexico
    writes it: 24/12, 24-12-2026, 24 dic, 24 de diciembre de 2026, 2026-12-24."""
    if m := _ISO_DATE.match(rest):
        return int(m[1]), int(m[2]), int(m[3])
    if m := _NUMERIC_DATE.match(rest):
        year = None if m[3] is None else int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        return year, int(m[2]), int(m[1])
    if (m := _DAY_MONTH.match(rest)) and m[2] in MONTHS:
        return (int(m[3]) if m[3] else None), MONTHS[m[2]], int(m[1])
    if (m := _MONTH_DAY.match(rest)) and m[1] in MONTHS:
        return (int(m[3]) if m[3] else None), MONTHS[m[1]], int(m[2])
    return None


def complete_date(year: int | None, month: int, day: int, today: date | None) -> date | None:
    """The date itself; without a year, the next such date on/after today (None when today
    is unknown or the day does not exist)."""
    if year is None and today is None:
        return None
    for candidate in [year] if year is not None else [today.year, today.year + 1]:
        try:
            found = date(candidate, month, day)
        except ValueError:
            continue
        if year is not None or found >= today:
            return found
    return None


_TIME = re.compile(
    r"(\d{1,2})(?:[:.](\d{2})| (\d{2})(?![\d:]))?\s*(?:(am|pm|a m|p m)|hrs|hr|h|horas)?\s*$"
)


def parse_time(rest: str) -> time | None:
    """'08:30', '7:45', '7', '7.30', '7 pm', '19 hrs'; nothing else may follow."""
    match = _TIME.match(rest)
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2] or match[3] or 0)
    meridiem = (match[4] or "").replace(" ", "")
    if meridiem and not 1 <= hour <= 12:
        return None
    if meridiem:
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    return time(hour, minute) if hour < 24 and minute < 60 else None
