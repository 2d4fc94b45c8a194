"""Drills from the console: start one for an intern in the user's scope, list them.

Administrators and coordinators (of the intern's university) may start drills; for anyone
else the page does not exist (404), and so does an intern outside the user's scope. Starting
one goes through escalation.drills, which writes the `drill_started` event naming the account.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from bot.console.views import scope
from bot.runtime import faro
from escalation.base.db import utcnow
from escalation.base.kinds import KINDS
from escalation.base.models import ADMIN, COORDINATOR, INTERN, Incident, Person
from escalation.drills import DrillError, drills, start_drill
from escalation.engine import drill_account

bp = Blueprint("drills", __name__, url_prefix="/admin/drills")
MAY_DRILL = (ADMIN, COORDINATOR)


class DrillForm(FlaskForm):
    pass  # intern and kind are read from request.form, checked against the user's scope


@bp.before_request
@login_required
def _signed_in():
    """Every page here needs a session, and is for administrators and coordinators."""
    if current_user.role not in MAY_DRILL:
        abort(404)


@bp.get("/")
def drills_page():
    return _page(DrillForm())


@bp.post("/")
def start():
    form = DrillForm()
    if not form.validate_on_submit():
        abort(400)
    kind = request.form.get("kind", "")
    intern_id = request.form.get("intern", "")
    if not intern_id.isdigit():
        return _page(form, error="drills.error_choose", status=400)
    if kind not in KINDS:
        return _page(form, error="drills.error_unknown_kind", status=400)
    try:
        with faro().transaction() as db:
            intern = _intern_or_404(db, int(intern_id))
            drill = start_drill(db, utcnow(), intern, kind, config=faro().settings.domain,
                                account=current_user.email)  # fmt: skip
            drill_id = drill.id
    except DrillError as exc:
        return _page(form, error=f"drills.error_{exc.reason}", status=409)
    return redirect(url_for("console.incident_page", incident_id=drill_id))


def _intern_or_404(db, intern_id: int) -> Person:
    intern = db.scalar(
        select(Person).where(Person.id == intern_id, Person.role == INTERN, scope().people())
    )
    if intern is None:
        abort(404)
    return intern


def _page(form: DrillForm, *, error: str | None = None, status: int = 200):
    with faro().sessions() as db:
        interns = db.scalars(
            select(Person)
            .where(Person.role == INTERN, Person.active.is_(True), scope().people())
            .order_by(Person.name)
        ).all()
        rows = [_row(db, d) for d in drills(db, scope().incidents())]
        chosen = {"intern": request.form.get("intern"), "kind": request.form.get("kind")}
        html = render_template("console/drills.html", form=form, interns=interns, rows=rows,
                               kinds=list(KINDS), error=error, chosen=chosen)  # fmt: skip
    return html, status


def _row(db, drill: Incident) -> dict:
    return {"incident": drill, "intern": drill.intern, "by": drill_account(db, drill)}
