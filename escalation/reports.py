"""Honest reports: check-in outcomes, incidents and who answered them, read from Events only.

Every figure is computed from the timeline (never from a counter or a state column that could
drift or be edited): the check-in events (`checkin_sent`, `checkin_answered`, `checkin_missed`),
the incident events (`incident_opened`, `acknowledged`, `resolved`) and the status events
(`opted_out` / `opted_in`, `person_deactivated` / `person_reactivated`). Besides events a
report reads only what never changes once written and what says where someone is: an
incident's `kind`, its `drill` flag and its intern (fixed when it opens), and the intern's
current university, unit and zone (the roster's placement, for the grouping).

Figures cover exactly the events of the chain up to the head read at the start (`seq <=
head.seq`, the same transaction), so a report and its raw events can be checked later against
the live record with `flask --app app audit verify --head SEQ:HASH`.

Periods are local dates in each intern's own zone (her check-in's `local_date`, and the local
date on which an incident opened), from the first to the last day inclusive. A check-in's
outcome counts whenever it came (an answer up to three days later, as Faro accepts one), up to
the head. Drills (`Incident.drill`) and every event of a drill are left out.

The work is one pass over a few indexed range queries (`event.at`, joined to the intern and her
place): a month for 10,000 interns is a few hundred thousand rows read once, no query per
intern.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, false, select
from sqlalchemy.orm import Session

from escalation.accounts import Scope
from escalation.base import audit
from escalation.base.kinds import KINDS
from escalation.base.models import INTERN, Event, Incident, Person, Unit, University
from escalation.base.timeline import record

UNIVERSITY, MUNICIPALITY, UNIT = "university", "municipality", "unit"
GROUPINGS = (UNIVERSITY, MUNICIPALITY, UNIT)
CHECKIN_KINDS = ("checkin_sent", "checkin_answered", "checkin_missed")
INCIDENT_KINDS = ("incident_opened", "acknowledged", "resolved")
STATUS_KINDS = ("opted_out", "opted_in", "person_deactivated", "person_reactivated")
# Outcomes of a check-in that was sent (`checkin_outcome`).
ON_TIME, LATE, MISSED, PENDING = "on_time", "late", "missed", "pending"
OUTCOMES = (ON_TIME, LATE, MISSED, PENDING)
# Zones are at most 14 h from UTC: a local date's events lie within this much of its UTC day.
_ZONE_SLACK = timedelta(hours=14)
# An answer counts for a ping of up to three days before (escalation.answers.PENDING_DAYS).
_ANSWER_SLACK = timedelta(days=4)
MAX_DAYS = 366
NONE = ""  # the group of someone with no university / unit / municipality on the roster


class ReportError(ValueError):
    """A period or grouping the report cannot take; the message says what to do."""


@dataclass(frozen=True)
class Period:
    """Local dates, first and last inclusive."""

    start: date
    end: date

    @classmethod
    def parse(cls, start: str | None, end: str | None) -> Period:
        try:
            period = cls(date.fromisoformat(start or ""), date.fromisoformat(end or ""))
        except ValueError:
            raise ReportError("dates read YYYY-MM-DD") from None
        if period.end < period.start:
            raise ReportError("the period ends before it starts")
        if (period.end - period.start).days >= MAX_DAYS:
            raise ReportError(f"a period is at most {MAX_DAYS} days")
        return period

    def days(self) -> list[date]:
        return [self.start + timedelta(n) for n in range((self.end - self.start).days + 1)]

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """The period's first and past-last instants in `timezone`."""
        zone = ZoneInfo(timezone)
        first = datetime.combine(self.start, time(), zone).astimezone(UTC)
        after = datetime.combine(self.end + timedelta(1), time(), zone).astimezone(UTC)
        return first, after

    def utc_window(self) -> tuple[datetime, datetime]:
        """Instants that hold the period's local dates in any zone."""
        first = datetime.combine(self.start, time(), UTC) - _ZONE_SLACK
        after = datetime.combine(self.end + timedelta(1), time(), UTC) + _ZONE_SLACK
        return first, after


@dataclass
class Figures:
    """One group's figures (or the total's)."""

    group: str
    sent: int = 0
    on_time: int = 0
    late: int = 0
    missed: int = 0
    pending: int = 0
    incidents: dict[str, int] = field(default_factory=dict)
    ack_minutes: list[float] = field(default_factory=list)
    unresolved: int = 0
    opted_out: int = 0
    inactive: int = 0

    @property
    def ack_median(self) -> float | None:
        return median(self.ack_minutes)

    @property
    def ack_p95(self) -> float | None:
        return p95(self.ack_minutes)

    @property
    def incidents_total(self) -> int:
        return sum(self.incidents.values())

    def add(self, other: Figures) -> None:
        for name in ("sent", "on_time", "late", "missed", "pending", "unresolved"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.opted_out += other.opted_out
        self.inactive += other.inactive
        for kind, n in other.incidents.items():
            self.incidents[kind] = self.incidents.get(kind, 0) + n
        self.ack_minutes += other.ack_minutes


@dataclass
class Report:
    period: Period
    grouping: str
    head: audit.Head
    rows: list[Figures]
    total: Figures
    kinds: list[str]  # incident kinds with at least one incident, in the registry's order
    days: dict[date, dict[str, int]]  # local date -> outcome -> count (all groups)
    weeks: list[tuple[date, list[float]]]  # Monday -> acknowledgement minutes of its incidents


def median(values: list[float]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count)."""
    return statistics.median(values) if values else None


def p95(values: list[float]) -> float | None:
    """The 95th percentile by nearest rank: the smallest value with at least 95 % of the values
    at or below it (of 3, the largest; of 20, the 19th; of 100, the 95th)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


# --- reading the events ------------------------------------------------------------------------


def _group_column(grouping: str):
    return {UNIVERSITY: University.name, MUNICIPALITY: Unit.municipality, UNIT: Unit.name}[grouping]


def _placed(query: Select, grouping: str, scope: Scope, filters: dict[str, Any]) -> Select:
    """Join each event's intern and her place; keep her in scope and in the filters."""
    query = (
        query.add_columns(Person.timezone, _group_column(grouping).label("group"))
        .join(Person, Person.id == Event.person_id)
        .outerjoin(Unit, Unit.id == Person.unit_id)
        .outerjoin(University, University.id == Person.university_id)
        .where(Person.role == INTERN, scope.people())
    )
    if filters.get("university") is not None:
        query = query.where(Person.university_id == filters["university"])
    if filters.get("municipality") is not None:
        query = query.where(Unit.municipality == filters["municipality"])
    return query


def _chained(head: audit.Head):
    return and_(Event.seq.is_not(None), Event.seq <= head.seq)


def checkin_events(period: Period, head: audit.Head) -> Select:
    """The check-in events of the period's local dates, answers up to a few days after."""
    first, after = period.utc_window()
    local_date = Event.data["local_date"].as_string()
    return select(*Event.__table__.c).where(
        Event.kind.in_(CHECKIN_KINDS),
        Event.at >= first,
        Event.at < after + _ANSWER_SLACK,
        local_date >= period.start.isoformat(),
        local_date <= period.end.isoformat(),
        _chained(head),
    )


def incident_events(period: Period, head: audit.Head, scope: Scope) -> Select:
    """Opening, acknowledgements and closing of every real incident (no drill) that opened
    before the period ended and was not closed before it began."""
    first, after = period.utc_window()
    opened_before_end = select(Event.incident_id).where(
        Event.kind == "incident_opened", Event.at < after
    )
    closed_before_start = select(Event.incident_id).where(
        Event.kind == "resolved", Event.at < first, Event.incident_id.is_not(None)
    )
    return (
        select(*Event.__table__.c, Incident.kind.label("incident_kind"), Incident.intern_id)
        .join(Incident, Incident.id == Event.incident_id)
        .where(
            Event.kind.in_(INCIDENT_KINDS),
            Incident.drill.is_(false()),
            Event.incident_id.in_(opened_before_end),
            Event.incident_id.not_in(closed_before_start),
            scope.incidents(),
            _chained(head),
        )
    )


def status_events(period: Period, head: audit.Head) -> Select:
    """Every opt-out, opt-in, deactivation and reactivation up to the period's end."""
    _, after = period.utc_window()
    return select(*Event.__table__.c).where(
        Event.kind.in_(STATUS_KINDS), Event.at < after, _chained(head)
    )


def source_queries(period: Period, grouping: str, scope: Scope, filters: dict, head) -> list:
    """The queries whose events are behind a report, each ordered along the chain."""
    incidents = incident_events(period, head, scope)
    # An incident's events are the intern's: placed by her, not by who acknowledged it.
    incidents = _placed_incidents(incidents, grouping, scope, filters)
    return [
        _placed(checkin_events(period, head), grouping, scope, filters).order_by(Event.seq),
        incidents.order_by(Event.seq),
        _placed(status_events(period, head), grouping, scope, filters).order_by(Event.seq),
    ]


def _placed_incidents(query: Select, grouping: str, scope: Scope, filters: dict) -> Select:
    query = (
        query.add_columns(Person.timezone, _group_column(grouping).label("group"))
        .join(Person, Person.id == Incident.intern_id)
        .outerjoin(Unit, Unit.id == Person.unit_id)
        .outerjoin(University, University.id == Person.university_id)
    )
    if filters.get("university") is not None:
        query = query.where(Person.university_id == filters["university"])
    if filters.get("municipality") is not None:
        query = query.where(Unit.municipality == filters["municipality"])
    return query


def source_events(
    session: Session, period: Period, grouping: str, scope: Scope, filters: dict, head
) -> Iterator[Any]:
    """Every event a report with these arguments reads, in chain order within each kind
    (check-ins, then incidents, then opt-outs and activations)."""
    for query in source_queries(period, grouping, scope, filters, head):
        yield from session.execute(query.execution_options(yield_per=2_000))


# --- computing ---------------------------------------------------------------------------------


def compute(
    session: Session,
    period: Period,
    grouping: str,
    scope: Scope,
    filters: dict[str, Any] | None = None,
) -> Report:
    """The report for `period`, one row per group of `grouping`, as of the chain's head now."""
    if grouping not in GROUPINGS:
        raise ReportError(f"group by one of {', '.join(GROUPINGS)}")
    filters = filters or {}
    head = audit.head(session)
    checkins, incidents, statuses = (
        session.execute(q.execution_options(yield_per=2_000))
        for q in source_queries(period, grouping, scope, filters, head)
    )
    groups: dict[str, Figures] = defaultdict(lambda: Figures(NONE))
    days = {day: dict.fromkeys(OUTCOMES, 0) for day in period.days()}
    _count_checkins(checkins, groups, days)
    weeks = _count_incidents(incidents, groups, period)
    _count_statuses(statuses, groups, period)
    rows = sorted(groups.values(), key=lambda f: (f.group == NONE, f.group.lower()))
    total = Figures("total")
    for row in rows:
        total.add(row)
    order = list(KINDS)
    kinds = sorted(total.incidents, key=lambda k: order.index(k) if k in order else len(order))
    return Report(period, grouping, head, rows, total, kinds, days, sorted(weeks.items()))


def _figures(groups: dict[str, Figures], row) -> Figures:
    name = row.group or NONE
    figures = groups[name]
    figures.group = name
    return figures


def checkin_outcome(events: list[str], late: bool) -> str | None:
    """A sent check-in's outcome from its events' kinds (in chain order): answered by the
    deadline, answered after it, its deadline passed unanswered, or neither yet."""
    if "checkin_sent" not in events:
        return None  # an answer before the ping: no ping was sent that day
    if "checkin_answered" in events:
        return LATE if late else ON_TIME
    return MISSED if "checkin_missed" in events else PENDING


def _count_checkins(rows, groups: dict[str, Figures], days: dict) -> None:
    seen: dict[tuple[int, str], list] = {}
    for row in rows:
        key = (row.person_id, row.data["local_date"])
        entry = seen.setdefault(key, [row, [], None])
        entry[1].append(row.kind)
        if row.kind == "checkin_answered" and entry[2] is None:
            entry[2] = bool(row.data.get("late"))  # her first answer decides
    for (_, local_date), (row, kinds, late) in seen.items():
        outcome = checkin_outcome(kinds, bool(late))
        if outcome is None:
            continue
        figures = _figures(groups, row)
        figures.sent += 1
        setattr(figures, outcome, getattr(figures, outcome) + 1)
        day = date.fromisoformat(local_date)
        if day in days:
            days[day][outcome] += 1


@dataclass
class _Case:
    row: Any = None  # its incident_opened event (with the intern's zone and group)
    kind: str = ""
    intern_id: int = 0
    opened: datetime | None = None
    first_human: datetime | None = None
    resolved: datetime | None = None


def _cases(rows) -> dict[int, _Case]:
    cases: dict[int, _Case] = defaultdict(_Case)
    for row in rows:
        case = cases[row.incident_id]
        case.kind, case.intern_id = row.incident_kind, row.intern_id
        if row.kind == "incident_opened" and case.opened is None:
            case.row, case.opened = row, row.at
        elif row.kind == "resolved" and case.resolved is None:
            case.resolved = row.at
        if is_human_acknowledgement(row) and case.first_human is None:
            case.first_human = row.at
    return cases


def is_human_acknowledgement(row) -> bool:
    """An `acknowledged` event, or a `resolved` one by someone other than the intern herself
    (a responder or the console closing it without acknowledging first)."""
    if row.kind == "acknowledged":
        return True
    return row.kind == "resolved" and row.person_id != row.intern_id


def _count_incidents(rows, groups: dict[str, Figures], period: Period) -> dict:
    weeks: dict[date, list[float]] = {}
    for case in _cases(rows).values():
        if case.row is None:
            continue
        first, after = period.bounds(case.row.timezone)
        figures = _figures(groups, case.row)
        if case.opened < after and (case.resolved is None or case.resolved >= after):
            figures.unresolved += 1
        if not first <= case.opened < after:
            continue
        figures.incidents[case.kind] = figures.incidents.get(case.kind, 0) + 1
        if case.first_human is not None:
            minutes = (case.first_human - case.opened).total_seconds() / 60
            figures.ack_minutes.append(minutes)
            day = case.opened.astimezone(ZoneInfo(case.row.timezone)).date()
            weeks.setdefault(day - timedelta(day.weekday()), []).append(minutes)
    return weeks


def _count_statuses(rows, groups: dict[str, Figures], period: Period) -> None:
    """Opted out, or inactive, at the period's end: her last such event before it says so."""
    last: dict[tuple[int, str], Any] = {}
    for row in rows:
        _, after = period.bounds(row.timezone)
        if row.at >= after:
            continue
        axis = "optout" if row.kind in ("opted_out", "opted_in") else "active"
        last[(row.person_id, axis)] = row
    for row in last.values():
        figures = _figures(groups, row)
        if row.kind == "opted_out":
            figures.opted_out += 1
        elif row.kind == "person_deactivated":
            figures.inactive += 1


# --- exporting ---------------------------------------------------------------------------------


def record_export(
    session: Session, now: datetime, report: Report, *, what: str, account: str
) -> Event:
    """The export of a report on the timeline: who took which figures, as of which head."""
    return record(
        session,
        now,
        "report_exported",
        account=account,
        what=what,
        start=report.period.start.isoformat(),
        end=report.period.end.isoformat(),
        grouping=report.grouping,
        head=str(report.head),
    )


__all__ = [
    "GROUPINGS",
    "Figures",
    "Period",
    "Report",
    "ReportError",
    "checkin_outcome",
    "compute",
    "is_human_acknowledgement",
    "median",
    "p95",
    "record_export",
    "source_events",
]
