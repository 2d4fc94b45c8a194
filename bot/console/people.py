"""Creating, editing, deactivating and pausing people from the console.

A form is one roster row: it goes through the very import the CSV goes through
(escalation.roster.import_roster), so the rules, the error messages, the events and the
schedule changes are the same whichever way an administrator works. Pausing and resuming an
intern use the same domain functions as her own PAUSA and REGRESO.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from bot.console.views import scope
from bot.runtime import faro
from escalation import pauses
from escalation.base.db import utcnow
from escalation.base.models import ADMIN, Person
from escalation.base.phones import normalize_phone
from escalation.base.timeline import record
from escalation.roster import COLUMNS, import_roster

bp = Blueprint("people", __name__, url_prefix="/admin/people")


class PersonForm(FlaskForm):
    pass  # the fields are the roster's columns, read from request.form (one CSV row)


@bp.before_request
@login_required
def _signed_in():
    """Every page here needs a session; editing the roster is for administrators."""


def _administrators_only() -> None:
    if current_user.role != ADMIN:
        abort(404)


def _person_or_404(db, person_id: int) -> Person:
    person = db.scalar(select(Person).where(Person.id == person_id, scope().people()))
    if person is None:
        abort(404)
    return person


def _row_of(person: Person) -> dict[str, str]:
    unit = person.unit
    return {
        "role": person.role, "name": person.name, "phone": person.phone,
        "channel": person.channel, "language": person.language, "timezone": person.timezone,
        "checkin_time": person.checkin_time or "",
        "university": person.university.name if person.university else "",
        "unit": unit.name if unit else "",
        "municipality": person.municipality or (unit.municipality if unit else "") or "",
        "unit_type": (unit.unit_type if unit else "") or "",
        "buddies": ";".join(b.phone for b in person.buddies),
        "active": "yes" if person.active else "no",
    }  # fmt: skip


def _as_csv(row: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow([row.get(column, "") for column in COLUMNS])
    return out.getvalue()


@bp.route("/new", methods=["GET", "POST"])
def new():
    _administrators_only()
    return _edit(None, {"role": "intern", "channel": "sms", "language": "es", "active": "yes"})


@bp.route("/<int:person_id>/edit", methods=["GET", "POST"])
def edit(person_id: int):
    _administrators_only()
    with faro().sessions() as db:
        row = _row_of(_person_or_404(db, person_id))
    return _edit(person_id, row)


def _edit(person_id: int | None, row: dict[str, str]):
    form, errors = PersonForm(), []
    if form.validate_on_submit():
        row = {column: request.form.get(column, "").strip() for column in COLUMNS}
        errors, saved_id = _save(row)
        if not errors:
            return redirect(url_for("console.person_page", person_id=saved_id))
    return render_template("console/person_form.html", form=form, row=row, errors=errors,
                           person_id=person_id, columns=COLUMNS)  # fmt: skip


def _save(row: dict[str, str]) -> tuple[list[str], int | None]:
    settings, now = faro().settings, utcnow()
    with faro().transaction() as db:
        options = {"default_timezone": settings.default_timezone,
                   "default_language": settings.default_language}  # fmt: skip
        report = import_roster(db, _as_csv(row), now=now, **options)
        if report.errors:
            db.rollback()
            return [error.reason for error in report.errors], None
        person = db.scalar(select(Person).where(Person.phone == normalize_phone(row["phone"])))
        record(db, now, "person_saved_in_console", person=person, account=current_user.email)
        return [], person.id


@bp.post("/<int:person_id>/pause")
def pause(person_id: int):
    until = _date(request.form.get("until"))
    with faro().transaction() as db:
        intern = _person_or_404(db, person_id)
        if not PersonForm().validate_on_submit() or not intern.is_intern or until is None:
            abort(400)
        pauses.pause(db, utcnow(), intern, until)
        record(db, utcnow(), "paused_in_console", person=intern, account=current_user.email)
    return redirect(url_for("console.person_page", person_id=person_id))


@bp.post("/<int:person_id>/resume")
def resume(person_id: int):
    with faro().transaction() as db:
        intern = _person_or_404(db, person_id)
        if not PersonForm().validate_on_submit() or not intern.is_intern:
            abort(400)
        pauses.resume(db, utcnow(), intern)
        record(db, utcnow(), "resumed_in_console", person=intern, account=current_user.email)
    return redirect(url_for("console.person_page", person_id=person_id))


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return None
