"""The Reports page: figures per university, municipality or unit over a chosen period, two
server-rendered SVG charts, each figure's definition, and CSV downloads of the table and of
the raw events behind it (escalation.reports computes everything from Events).

Each download carries the chain head it covers, in its first rows, in its file name and in an
`X-Faro-Chain-Head` header, and is itself recorded (`report_exported`, naming the account) in
the transaction that read that head (and, for the table, its figures). Downloads are POST
forms with CSRF: they write an Event, and a prefetching browser must not write one.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from bot.console.i18n import t
from bot.console.views import scope
from bot.runtime import faro
from escalation import reports
from escalation.base.db import utcnow
from escalation.base.models import Person, Unit, University
from escalation.base.schedule import local_day

bp = Blueprint("reports", __name__, url_prefix="/admin/reports")
DEFAULT_DAYS = 7
# Okabe-Ito colours (safe for the common colour blindnesses), as on the intern's calendar;
# each state also has its words in the legend and its count in the bar, and "missed" a hatch.
COLOURS = {
    reports.ON_TIME: "#009E73",
    reports.LATE: "#E69F00",
    reports.MISSED: "#D55E00",
    reports.PENDING: "#F0E442",
}
MEDIAN_COLOUR, P95_COLOUR = "#0072B2", "#56B4E9"
# The charts' drawing box, in SVG user units (the SVG scales to its container, text with it).
WIDTH, LABEL, VALUE, ROW, TOP = 360, 62, 40, 22, 8


class ExportForm(FlaskForm):
    pass  # the report's arguments travel as hidden fields, read like the page's


@bp.before_request
@login_required
def _signed_in():
    """Every report needs a session."""


# --- the page -------------------------------------------------------------------------------


@bp.get("/")
def page():
    arguments, error = _arguments(request.args)
    with faro().sessions() as db:
        choices = _choices(db)
        _in_scope_or_404(arguments, choices)
        report = None
        if error is None:
            report = reports.compute(db, *_compute_args(arguments))
    return render_template(
        "console/reports.html",
        arguments=arguments,
        error=error,
        choices=choices,
        report=report,
        tables=_tables(report) if report else None,
        days_chart=days_chart(report) if report else None,
        ack_chart=ack_chart(report) if report else None,
        labels=_labels(),
        colours=COLOURS,
        median_colour=MEDIAN_COLOUR,
        p95_colour=P95_COLOUR,
        form=ExportForm(),
    )


def _labels() -> dict[str, str]:
    found = {outcome: t(f"reports.col.{outcome}") for outcome in reports.OUTCOMES}
    return found | {f"download_{w}": t(f"reports.download.{w}") for w in ("table", "events")}


@dataclass(frozen=True)
class Arguments:
    start: str
    end: str
    grouping: str
    university: int | None = None
    municipality: str | None = None

    def period(self) -> reports.Period:
        return reports.Period.parse(self.start, self.end)

    def query(self) -> dict[str, str]:
        found = {"start": self.start, "end": self.end, "grouping": self.grouping}
        if self.university is not None:
            found["university"] = str(self.university)
        if self.municipality:
            found["municipality"] = self.municipality
        return found


def _arguments(values) -> tuple[Arguments, str | None]:
    """The page's arguments, defaults filled in (the last 7 days up to today in the default
    zone), and the one line to show if they cannot be read."""
    today = local_day(utcnow(), faro().settings.default_timezone)
    start = values.get("start") or (today - timedelta(DEFAULT_DAYS - 1)).isoformat()
    end = values.get("end") or today.isoformat()
    grouping = values.get("grouping") or reports.UNIVERSITY
    university = values.get("university") or None
    if university is not None and not university.isdigit():
        abort(404)
    arguments = Arguments(start, end, grouping, int(university) if university else None,
                          values.get("municipality") or None)  # fmt: skip
    if grouping not in reports.GROUPINGS:
        return arguments, "reports.error.grouping"
    try:
        arguments.period()
    except reports.ReportError:
        return arguments, "reports.error.period"
    return arguments, None


def _compute_args(arguments: Arguments) -> tuple:
    filters = {"university": arguments.university, "municipality": arguments.municipality}
    return arguments.period(), arguments.grouping, scope(), filters


def _choices(db) -> dict:
    """The universities and municipalities the user may narrow the report to: those of the
    interns in her scope."""
    visible = select(Person.university_id).where(scope().people())
    universities = db.execute(
        select(University.id, University.name)
        .where(University.id.in_(visible))
        .order_by(University.name)
    ).all()
    units = select(Person.unit_id).where(scope().people())
    municipalities = db.scalars(
        select(Unit.municipality)
        .where(Unit.id.in_(units), Unit.municipality.is_not(None))
        .distinct()
        .order_by(Unit.municipality)
    ).all()
    return {"universities": universities, "municipalities": municipalities}


def _in_scope_or_404(arguments: Arguments, choices: dict) -> None:
    """A university or municipality outside her scope does not exist for her."""
    universities = {u for u, _ in choices["universities"]}
    if arguments.university is not None and arguments.university not in universities:
        abort(404)
    municipality = arguments.municipality
    if municipality is not None and municipality not in choices["municipalities"]:
        abort(404)


# --- the table ------------------------------------------------------------------------------


def checkin_columns() -> list[tuple[str, str]]:
    """(key, definition anchor) of the interns' columns: her check-ins and her status."""
    return [("group", "grouping"), ("sent", "sent"), ("on_time", "on_time"), ("late", "late"),
            ("missed", "missed"), ("pending", "pending"), ("on_time_rate", "on_time_rate"),
            ("opted_out", "opted_out"), ("inactive", "inactive")]  # fmt: skip


def case_columns(report: reports.Report) -> list[tuple[str, str]]:
    """The cases' columns: in all and a column per kind seen, then who acknowledged how fast."""
    found = [("group", "grouping"), ("incidents", "incidents")]
    found += [(f"kind:{kind}", "incidents") for kind in report.kinds]
    return found + [("acknowledged", "ack"), ("ack_median", "ack"), ("ack_p95", "ack"),
                    ("unresolved", "unresolved")]  # fmt: skip


def columns(report: reports.Report) -> list[tuple[str, str]]:
    """Every column, as the CSV has them (one table for a spreadsheet)."""
    return checkin_columns() + case_columns(report)[1:]


def heading(key: str, grouping: str) -> str:
    if key == "group":
        return t(f"reports.grouping.{grouping}")
    if key.startswith("kind:"):
        return t("kind." + key.split(":", 1)[1])
    return t(f"reports.col.{key}")


def value(figures: reports.Figures, key: str, *, csv_form: bool = False):
    """One cell: a count, minutes with one decimal, a percentage, or empty when undefined."""
    if key == "group":
        return figures.group or t("reports.no_place")
    if key.startswith("kind:"):
        return figures.incidents.get(key.split(":", 1)[1], 0)
    if key == "incidents":
        return figures.incidents_total
    if key == "acknowledged":
        return len(figures.ack_minutes)
    if key in ("ack_median", "ack_p95"):
        found = figures.ack_median if key == "ack_median" else figures.ack_p95
        return "" if found is None else _minutes(found)
    if key == "on_time_rate":
        if not figures.sent:
            return ""
        rate = round(100 * figures.on_time / figures.sent)
        return rate if csv_form else f"{rate} %"
    return getattr(figures, key)


def _tables(report: reports.Report) -> list[dict]:
    """The page's two tables (a phone and a desktop read them without scrolling far)."""
    report.total.group = t("reports.total")
    found = []
    for name, keys in (("checkins", checkin_columns()), ("cases", case_columns(report))):
        found.append({
            "id": f"report-{name}",
            "title": t(f"reports.table.{name}"),
            "columns": [(key, anchor, heading(key, report.grouping)) for key, anchor in keys],
            "rows": [[value(row, key) for key, _ in keys] for row in report.rows],
            "total": [value(report.total, key) for key, _ in keys],
        })  # fmt: skip
    return found


# --- the charts -----------------------------------------------------------------------------


def days_chart(report: reports.Report) -> dict:
    """Check-in outcomes per day, one horizontal stacked bar per local date (a long period
    stays readable on a phone: it grows down, not sideways). Counts are written in the
    segments wide enough for them, and every day's numbers are in the table below it."""
    area = WIDTH - LABEL - VALUE
    most = max((sum(c.values()) for c in report.days.values()), default=0) or 1
    rows = []
    for n, (day, counts) in enumerate(sorted(report.days.items())):
        y, x, segments = TOP + n * ROW, LABEL, []
        for outcome in reports.OUTCOMES:
            width = round(area * counts[outcome] / most, 1)
            if counts[outcome]:
                segments.append({"outcome": outcome, "x": x, "width": width,
                                 "count": counts[outcome], "labelled": width >= 14})  # fmt: skip
            x += width
        summary = f"{counts[reports.ON_TIME]}/{sum(counts.values())}"
        rows.append({"label": day_label(day), "y": y, "segments": segments,
                     "summary": summary})  # fmt: skip
    return {"rows": rows, "width": WIDTH, "height": TOP * 2 + len(rows) * ROW,
            "label": LABEL, "value_x": WIDTH - VALUE + 4, "row": ROW}  # fmt: skip


def ack_chart(report: reports.Report) -> dict:
    """Time to first human acknowledgement per week (by the local date incidents opened): a
    bar to the median over a paler one to the 95th percentile, both written out beside it."""
    area = WIDTH - LABEL - 112  # room for "7 / 20 min (n=3)" after the longest bar
    weeks = [(monday, reports.median(m), reports.p95(m), len(m)) for monday, m in report.weeks]
    most = max((p for _, _, p, _ in weeks), default=0) or 1
    rows = []
    for n, (monday, middle, high, count) in enumerate(weeks):
        summary = t("reports.chart.ack_summary", median=_minutes(middle), p95=_minutes(high),
                    n=count)  # fmt: skip
        rows.append({"label": day_label(monday), "y": TOP + n * ROW * 1.5, "summary": summary,
                     "median": round(middle, 1), "p95": round(high, 1),
                     "median_width": max(1, round(area * middle / most, 1)),
                     "p95_width": max(1, round(area * high / most, 1))})  # fmt: skip
    height = TOP * 2 + len(rows) * ROW * 1.5
    return {"rows": rows, "width": WIDTH, "height": height, "label": LABEL, "row": ROW}


def day_label(day) -> str:
    """`lu 23/11`: the weekday in her language, and the date."""
    return f"{t(f'reports.weekday.{day.isoweekday()}')} {day.strftime('%d/%m')}"


def _minutes(found: float) -> str:
    """Minutes with one decimal, none when whole: `7`, `6.5`."""
    rounded = round(found, 1)
    return f"{rounded:.0f}" if rounded == int(rounded) else f"{rounded:.1f}"


# --- the downloads --------------------------------------------------------------------------


@bp.post("/table.csv")
def table_csv():
    return _export("table")


@bp.post("/events.csv")
def events_csv():
    """The raw events, streamed: a month of a large roster is hundreds of thousands of rows.
    They are read after the export is recorded, in a second transaction; `seq <= head`
    keeps them exactly the events up to the head the file carries."""
    return _export("events")


def _export(what: str) -> Response:
    form = ExportForm()
    if not form.validate_on_submit():
        abort(400)
    arguments, error = _arguments(request.form)
    if error is not None:
        abort(400)
    period, grouping = arguments.period(), arguments.grouping
    with faro().transaction() as db:
        _in_scope_or_404(arguments, _choices(db))
        if what == "table":
            report = reports.compute(db, *_compute_args(arguments))
            head = report.head
            body = _lines(_preamble(period, grouping, head, what) + _table_rows(report))
        else:
            head = reports.chain_head(db)
        reports.record_export(db, utcnow(), period=period, grouping=grouping, head=head,
                              what=what, account=current_user.email,
                              filters=_compute_args(arguments)[3])  # fmt: skip
    if what == "events":
        body = stream_with_context(_event_lines(arguments, head))
    name = f"faro-{what}-{period.start}-{period.end}-head-{head.seq}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Faro-Chain-Head": str(head),
        },  # fmt: skip
    )


def _lines(rows) -> Iterator[str]:
    """CSV text, a few rows at a time, after a BOM (spreadsheets then read the accents)."""
    yield "\ufeff"
    out = io.StringIO()
    writer = csv.writer(out)
    for n, row in enumerate(rows, 1):
        writer.writerow(row)
        if n % 500 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _preamble(period: reports.Period, grouping: str, head, what: str) -> list[list[str]]:
    """The first rows of every download: what it is, and the chain head it covers, with the
    command that checks that head against the live record. A blank row ends it."""
    return [
        [t(f"reports.csv.title.{what}")],
        [t("reports.csv.period"), period.start.isoformat(), period.end.isoformat()],
        [t("reports.csv.grouping"), t(f"reports.grouping.{grouping}")],
        [t("reports.csv.head"), str(head)],
        [t("reports.csv.verify"), f"flask --app app audit verify --head {head}"],
        [],
    ]


def _table_rows(report: reports.Report) -> list[list]:
    keys = columns(report)
    rows = [[heading(key, report.grouping) for key, _ in keys]]
    rows += [[_cell(value(row, key, csv_form=True)) for key, _ in keys] for row in report.rows]
    report.total.group = t("reports.total")
    rows.append([_cell(value(report.total, key, csv_form=True)) for key, _ in keys])
    return rows


EVENT_COLUMNS = ("id", "seq", "at", "kind", "person", "incident", "message", "data",
                 "prev_hash", "hash")  # fmt: skip


def _event_lines(arguments: Arguments, head) -> Iterator[str]:
    """One row per event the figures count, as the chain hashed it: `at` in UTC to the
    microsecond and `data` in canonical JSON, so each row's hash can be recomputed."""
    preamble = _preamble(arguments.period(), arguments.grouping, head, "events")
    header = [[t(f"reports.csv.event.{name}") for name in EVENT_COLUMNS]]
    with faro().sessions() as db:
        events = reports.source_events(db, *_compute_args(arguments), head=head)
        yield from _lines(itertools.chain(preamble, header, map(_event_row, events)))


def _event_row(row) -> list:
    at = row.at.astimezone(UTC).isoformat(timespec="microseconds")
    data = json.dumps(row.data or {}, sort_keys=True, separators=(",", ":"))
    return [row.id, row.seq, at, row.kind, row.person_id or "", row.incident_id or "",
            row.message_id or "", data, row.prev_hash, row.hash]  # fmt: skip


def _cell(found):
    """A text cell a spreadsheet would take for a formula is written as text."""
    if isinstance(found, str) and found[:1] in ("=", "+", "-", "@"):
        return "'" + found
    return found
