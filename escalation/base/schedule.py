"""When an intern's check-in is due: pure functions of her schedule and an instant.

No database and no clock. A schedule is a local wall time (`checkin_time`) in an IANA zone on
some ISO weekdays, possibly paused until a local date. Two local-time traps are decided here,
once, so that every caller agrees:
- a wall time that does not exist that day (a DST gap: 02:30 on the night clocks jump from
  02:00 to 03:00) is pinged at the first instant after the gap (03:00);
- a wall time that happens twice (a DST fold) is pinged at its first occurrence (fold=0).
Either way the day has one ping instant, and the unique (intern, local_date) constraint on
check-ins makes sure it is used at most once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ALL_DAYS = "1234567"
# `person.next_checkin_at` set to this means "her schedule changed: compute the next ping at the
# next tick, as of the change". It is in the past, so the indexed due query finds it like any
# due ping. The change's moment is her row's `updated_at` (escalation/pings.py, `changed_at`):
# a ping that fell between the change and that tick is still sent, late, instead of skipped.
# `person.next_phq_at` uses it too: "compute her first questionnaire date".
SCHEDULE_NOW = datetime(2000, 1, 1, tzinfo=UTC)
# The Person fields `Schedule.of` reads: a change to any of them is a change of her schedule.
SCHEDULE_FIELDS = (
    "role", "active", "opted_out_at", "checkin_time", "timezone", "checkin_days", "paused_until"
)  # fmt: skip
# A gap is never longer than this (the largest in tzdata is a day skipped by a date-line move).
_GAP_SEARCH_MINUTES = 24 * 60


@dataclass(frozen=True)
class Schedule:
    checkin_time: str  # "HH:MM", local
    timezone: str  # IANA name
    days: str = ALL_DAYS  # ISO weekdays, 1 = Monday
    paused_until: date | None = None  # first local date pings resume (exclusive end)

    @classmethod
    def of(cls, person) -> Schedule | None:
        """A Person's schedule; None unless she is an active intern with a check-in time who
        has not opted out."""
        if not (person.is_intern and person.takes_prompts and person.checkin_time):
            return None
        return cls(
            person.checkin_time,
            person.timezone,
            person.checkin_days or "",
            person.paused_until,
        )


def parse_hhmm(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def _exists(naive: datetime, zone: ZoneInfo) -> bool:
    """Whether a wall time happens at all in `zone` (False inside a DST gap)."""
    aware = naive.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


def ping_instant(day: date, checkin_time: str, timezone: str) -> datetime:
    """The one UTC instant of `day`'s check-in: the wall time, the first instant after a DST
    gap that swallowed it, or the first of two occurrences in a fold."""
    zone = ZoneInfo(timezone)
    naive = datetime.combine(day, parse_hhmm(checkin_time))
    step = timedelta(minutes=1)
    for _ in range(_GAP_SEARCH_MINUTES):
        if _exists(naive, zone):
            return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
        naive += step
    raise ValueError(f"{checkin_time} on {day} does not exist in {timezone}")


def local_day(instant: datetime, timezone: str) -> date:
    return instant.astimezone(ZoneInfo(timezone)).date()


def local_date(person, now: datetime) -> date:
    """A Person's local date at `now` (her zone's calendar, not the server's)."""
    return local_day(now, person.timezone)


def next_ping(
    schedule: Schedule, after: datetime, *, last_pinged: date | None = None
) -> datetime | None:
    """The first ping instant at or after `after` on a day later than `last_pinged` (the last
    local date that had a check-in), on a chosen weekday, not paused. None with no weekdays.

    So changing the time or the zone never gives a second ping on a day that had one, and a
    new time still ahead today is used today."""
    if not any(d in schedule.days for d in ALL_DAYS):
        return None
    day = local_day(after, schedule.timezone)
    if last_pinged is not None and day <= last_pinged:
        day = last_pinged + timedelta(days=1)
    if schedule.paused_until is not None and day < schedule.paused_until:
        day = schedule.paused_until
    for _ in range(9):  # today may be past its time; then a week covers every weekday
        if str(day.isoweekday()) in schedule.days:
            instant = ping_instant(day, schedule.checkin_time, schedule.timezone)
            if instant >= after:
                return instant
        day += timedelta(days=1)
    return None


def local_start(day: date, timezone: str) -> datetime:
    """The first instant of a local date (midnight, or the end of a gap at midnight)."""
    return ping_instant(day, "00:00", timezone)


def hhmm(instant: datetime, timezone: str) -> str:
    return instant.astimezone(ZoneInfo(timezone)).strftime("%H:%M")


def day_and_time(instant: datetime, timezone: str) -> str:
    """`24/11 08:00`, local: how a date and time are shown in a text."""
    return instant.astimezone(ZoneInfo(timezone)).strftime("%d/%m %H:%M")
