"""The console's pages: the incident board, an incident, the roster, a person.

Every query is narrowed by the user's Scope (escalation.accounts); what is outside it answers
404. Actions go through the same domain functions as the text commands (acknowledge, resolve)
and write Events naming the account.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import case, or_, select
from sqlalchemy.orm import joinedload
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from bot.runtime import faro
from escalation.accounts import MENTAL_HEALTH_KINDS, Scope
from escalation.base.db import utcnow
from escalation.base.kinds import KINDS
from escalation.base.models import (
    COORDINATOR,
    CRITICAL,
    HIGH,
    INTERN,
    MENTAL_HEALTH,
    NURSE,
    SUPERVISOR,
    Event,
    InboundMessage,
    Incident,
    OutboundMessage,
    Person,
    Unit,
    University,
)
from escalation.base.timeline import record
from escalation.engine import alerted, covering
from escalation.incidents import acknowledge, holder_name, resolve
from escalation.trips import open_trip

bp = Blueprint("console", __name__, url_prefix="/admin")
RECENTLY_CLOSED = timedelta(days=3)
SHOWN = 200
_SEVERITY_ORDER = case((Incident.severity == CRITICAL, 0), (Incident.severity == HIGH, 1), else_=2)


class NoteForm(FlaskForm):
    note = TextAreaField("note", validators=[Length(max=1000)])


class ActionForm(FlaskForm):
    pass


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("q")


@bp.before_request
@login_required
def _signed_in():
    """Every console page needs a session (the sign-in page lives in bot.console.auth)."""


def scope() -> Scope:
    return Scope(current_user.role, current_user.university_id, current_user.municipality)


# --- the board ----------------------------------------------------------------------------------


@bp.get("/")
def board():
    return render_template("console/board.html", **_board(closed=request.args.get("closed")))


@bp.get("/board/rows")
def board_rows():
    """The board's table alone: htmx swaps it every few seconds."""
    return render_template("console/_board_rows.html", **_board(closed=request.args.get("closed")))


def _board(closed: str | None) -> dict:
    now = utcnow()
    query = (
        select(Incident)
        .where(scope().incidents())
        .options(joinedload(Incident.intern).joinedload(Person.unit))
    )
    filters = {k: request.args.get(k) or None for k in ("kind", "university", "municipality")}
    query = _board_filters(query, **filters)
    if closed:
        query = query.where(Incident.resolved_at >= now - RECENTLY_CLOSED)
        query = query.order_by(Incident.resolved_at.desc())
    else:
        query = query.where(Incident.resolved_at.is_(None))
        # Real cases first: a drill (SIMULACRO) never sits above a real night's case.
        query = query.order_by(Incident.drill, _SEVERITY_ORDER, Incident.opened_at)
    with faro().sessions() as db:
        rows = [_row(db, incident, now) for incident in db.scalars(query.limit(SHOWN))]
        choices = _board_choices(db)
    return {"rows": rows, "closed": bool(closed), "filters": filters, "choices": choices}


def _board_filters(query, kind: str | None, university: str | None, municipality: str | None):
    if kind:
        query = query.where(Incident.kind == kind)
    if university and university.isdigit():
        interns = select(Person.id).where(Person.university_id == int(university))
        query = query.where(Incident.intern_id.in_(interns))
    if municipality:
        units = select(Unit.id).where(Unit.municipality == municipality)
        query = query.where(
            Incident.intern_id.in_(select(Person.id).where(Person.unit_id.in_(units)))
        )
    return query


def _board_choices(db) -> dict:
    """What the board's filters offer: the kinds, and the places the user may see."""
    visible = select(Person.unit_id).where(scope().people())
    municipalities = db.scalars(
        select(Unit.municipality)
        .where(Unit.id.in_(visible), Unit.municipality.is_not(None))
        .distinct()
        .order_by(Unit.municipality)
    ).all()
    universities = db.execute(
        select(University.id, University.name)
        .where(University.id.in_(select(Person.university_id).where(scope().people())))
        .order_by(University.name)
    ).all()
    return {"kinds": list(KINDS), "municipalities": municipalities, "universities": universities}


def _row(db, incident: Incident, now) -> dict:
    told = alerted(db, incident)
    return {
        "incident": incident,
        "intern": incident.intern,
        "unit": incident.intern.unit,
        "minutes": int((now - incident.opened_at).total_seconds() // 60),
        "alerted": [r.person.name if r.person else r.phone for r in told],
        "holder": holder_name(db, incident) if incident.acknowledged_at else None,
    }


# --- an incident --------------------------------------------------------------------------------


def _incident_or_404(db, incident_id: int) -> Incident:
    incident = db.scalar(select(Incident).where(Incident.id == incident_id, scope().incidents()))
    if incident is None:
        abort(404)
    return incident


@bp.get("/incidents/<int:incident_id>")
def incident_page(incident_id: int):
    with faro().sessions() as db:
        incident = _incident_or_404(db, incident_id)
        return render_template(
            "console/incident.html",
            incident=incident,
            intern=incident.intern,
            timeline=_timeline(db, incident),
            messages=_case_messages(db, incident),
            names=_names(db, incident),
            holder=holder_name(db, incident) if incident.acknowledged_at else None,
            note_form=NoteForm(),
            action_form=ActionForm(),
        )


# Shown with each message (its delivery status) rather than as a line of its own.
QUIET_EVENTS = ("sent",)


def _timeline(db, incident: Incident) -> list[Event]:
    query = (
        select(Event)
        .where(Event.incident_id == incident.id, Event.kind.not_in(QUIET_EVENTS))
        .order_by(Event.at, Event.id)
    )
    return list(db.scalars(query))


def _names(db, incident: Incident) -> dict[str, str]:
    """Who each phone of the case is, so a message reads `→ Rosa Martinez`, not a number."""
    names = {r.phone: r.person.name for r in alerted(db, incident) if r.person is not None}
    return names | {incident.intern.phone: incident.intern.name}


def _case_messages(db, incident: Incident) -> list[dict]:
    """The alerts and notices of the case, with their delivery, and her own texts meanwhile
    (never her answers to mental-health questions)."""
    sent = db.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.incident_id == incident.id)
        .order_by(OutboundMessage.id)
    )
    end = incident.resolved_at or utcnow()
    texts = db.scalars(
        select(InboundMessage)
        .where(
            InboundMessage.person_id == incident.intern_id,
            InboundMessage.received_at >= incident.opened_at - timedelta(minutes=5),
            InboundMessage.received_at <= end,
            or_(InboundMessage.intent.is_(None), InboundMessage.intent != "answer"),
        )
        .order_by(InboundMessage.id)
    )
    if incident.kind in MENTAL_HEALTH_KINDS and not scope().reads_her_words:
        texts = []  # her words on the mental-health path stay on it
    # Her texts first: what is sent at the instant of one of them was set off by it (a stable
    # sort keeps them ahead on a tie, as with her sos and the first alerts).
    rows = [{"at": m.received_at, "in": m} for m in texts]
    rows += [{"at": m.created_at, "out": m} for m in sent]
    return sorted(rows, key=lambda r: r["at"])


@bp.post("/incidents/<int:incident_id>/acknowledge")
def acknowledge_incident(incident_id: int):
    _act(incident_id, lambda db, now, incident: acknowledge(
        db, now, incident, None, channel="console", account=current_user.email))  # fmt: skip
    return redirect(url_for("console.incident_page", incident_id=incident_id))


@bp.post("/incidents/<int:incident_id>/resolve")
def resolve_incident(incident_id: int):
    note = (request.form.get("note") or "").strip()[:1000] or None
    _act(incident_id, lambda db, now, incident: resolve(
        db, now, incident, None, "console", account=current_user.email, note=note))  # fmt: skip
    return redirect(url_for("console.incident_page", incident_id=incident_id))


@bp.post("/incidents/<int:incident_id>/note")
def add_note(incident_id: int):
    form = NoteForm()
    text = (form.note.data or "").strip()
    if form.validate_on_submit() and text:
        _act(incident_id, lambda db, now, incident: record(
            db, now, "note_added", incident=incident, account=current_user.email,
            text=text))  # fmt: skip
    return redirect(url_for("console.incident_page", incident_id=incident_id))


def _act(incident_id: int, action) -> None:
    """One console action on an incident in scope: CSRF checked, one transaction whose queued
    notices leave as soon as it commits."""
    if not ActionForm().validate_on_submit():
        abort(400)
    app = faro()
    with app.transaction() as db:
        action(db, utcnow(), _incident_or_404(db, incident_id))


# --- the roster ---------------------------------------------------------------------------------

ROSTER_FILTERS = ("inactive", "opted_out", "paused", "open_incident")


@bp.get("/roster")
def roster():
    form = SearchForm(request.args)
    query = select(Person).where(scope().people()).options(joinedload(Person.unit))
    if form.q.data:
        like = f"%{form.q.data.strip()}%"
        query = query.where(or_(Person.name.ilike(like), Person.phone.ilike(like)))
    role = request.args.get("role")
    if role:
        query = query.where(Person.role == role)
    query = _placed(_filtered(query, request.args.get("show")), request.args)
    with faro().sessions() as db:
        people = list(db.scalars(query.order_by(Person.role != INTERN, Person.name).limit(SHOWN)))
        return render_template("console/roster.html", people=people, form=form, role=role,
                               show=request.args.get("show"), choices=_board_choices(db),
                               args=request.args)  # fmt: skip


def _placed(query, args):
    """The roster's place filters: university, municipality, unit type."""
    if (args.get("university") or "").isdigit():
        query = query.where(Person.university_id == int(args["university"]))
    if args.get("municipality"):
        units = select(Unit.id).where(Unit.municipality == args["municipality"])
        query = query.where(Person.unit_id.in_(units))
    if args.get("unit_type"):
        units = select(Unit.id).where(Unit.unit_type == args["unit_type"])
        query = query.where(Person.unit_id.in_(units))
    return query


def _filtered(query, show: str | None):
    if show == "inactive":
        return query.where(Person.active.is_(False))
    if show == "opted_out":
        return query.where(Person.opted_out_at.is_not(None))
    if show == "paused":
        return query.where(Person.paused_until > utcnow().date())
    if show == "open_incident":
        open_ = select(Incident.intern_id).where(Incident.resolved_at.is_(None))
        return query.where(Person.id.in_(open_))
    return query


@bp.get("/people/<int:person_id>")
def person_page(person_id: int):
    with faro().sessions() as db:
        person = db.scalar(select(Person).where(Person.id == person_id, scope().people()))
        if person is None:
            abort(404)
        incidents = db.scalars(
            select(Incident)
            .where(Incident.intern_id == person.id, scope().incidents())
            .order_by(Incident.opened_at.desc())
            .limit(50)
        ).all()
        covered = _covered_by(db, person) if person.is_intern else []
        trip = open_trip(db, person) if person.is_intern else None
        from bot.console.history import context  # her calendar and trend (issue 10)

        return render_template("console/person.html", person=person, incidents=incidents,
                               messages=_last_messages(db, person), covered=covered,
                               trip=trip, action_form=ActionForm(),
                               history=context(db, person, scope()))  # fmt: skip


def _covered_by(db, intern: Person) -> list[tuple[str, list[Person]]]:
    """Who her alerts reach, role by role (escalation.engine.covering decides it)."""
    return [(role, covering(db, intern, role)) for role in (NURSE, COORDINATOR, SUPERVISOR,
                                                             MENTAL_HEALTH)]  # fmt: skip


def _last_messages(db, person: Person) -> list[dict]:
    inbound = db.scalars(
        select(InboundMessage)
        .where(InboundMessage.phone == person.phone)
        .order_by(InboundMessage.id.desc())
        .limit(20)
    ).all()
    outbound = db.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.to_phone == person.phone)
        .order_by(OutboundMessage.id.desc())
        .limit(20)
    ).all()
    private = {"answer"} if scope().reads_her_words else {"answer", "self_harm", "not_ok"}
    rows = [{"at": m.received_at, "in": m} for m in inbound if m.intent not in private]
    rows += [{"at": m.created_at, "out": m} for m in outbound if not m.kind.startswith("question")]
    return sorted(rows, key=lambda r: r["at"], reverse=True)[:20]
