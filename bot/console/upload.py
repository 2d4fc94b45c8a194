"""Uploading a roster CSV from the console: a preview first, then the import.

The preview runs the very import the CLI runs, inside a transaction that is rolled back, so
what it reports (people created, updated, deactivated; every bad row with its line number;
interns nobody covers) is exactly what the import will do, and nothing is saved until the
administrator confirms. Only administrators import: a file may touch every university.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField

from bot.runtime import faro
from escalation.base.db import utcnow
from escalation.base.models import ADMIN
from escalation.base.timeline import record
from escalation.roster import ImportReport, import_roster

bp = Blueprint("upload", __name__, url_prefix="/admin/roster")
MAX_BYTES = 5 * 1024 * 1024  # about 50,000 rows


class UploadForm(FlaskForm):
    file = FileField("file", validators=[FileRequired()])


class ConfirmForm(FlaskForm):
    csv = HiddenField("csv")


@bp.before_request
@login_required
def _administrators_only():
    if current_user.role != ADMIN:
        abort(404)


@bp.route("/upload", methods=["GET", "POST"])
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template("console/upload.html", form=form, report=None, problem=None)
    text, problem = _read(form.file.data)
    report = _preview(text) if text is not None else None
    confirm = ConfirmForm(csv=text) if report is not None and not report.errors else None
    return render_template("console/upload.html", form=form, report=report, problem=problem,
                           confirm=confirm)  # fmt: skip


def _read(upload) -> tuple[str | None, str | None]:
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return None, "upload.too_big"
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return None, "upload.not_utf8"


def _options() -> dict[str, str]:
    settings = faro().settings
    return {"default_timezone": settings.default_timezone,
            "default_language": settings.default_language}  # fmt: skip


def _preview(text: str) -> ImportReport:
    """What importing `text` would do, computed and then rolled back."""
    with faro().sessions() as db, db.begin():
        report = import_roster(db, text, now=utcnow(), **_options())
        db.rollback()
    return report


@bp.post("/import")
def confirm_import():
    form = ConfirmForm()
    if not form.validate_on_submit() or not form.csv.data:
        abort(400)
    now = utcnow()
    with faro().transaction() as db:
        report = import_roster(db, form.csv.data, now=now, **_options())
        if report.errors:  # the roster changed since the preview: show what is wrong now
            db.rollback()
            return render_template("console/upload.html", form=UploadForm(), report=report,
                                   problem=None, confirm=None)  # fmt: skip
        record(db, now, "roster_uploaded", account=current_user.email, created=report.created,
               updated=report.updated, unchanged=report.unchanged)  # fmt: skip
    flash(("upload.done", report.created, report.updated, report.unchanged))
    return redirect(url_for("console.roster"))
