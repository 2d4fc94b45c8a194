"""Drills (SIMULACRO): a university's policy run for a chosen intern as a real incident would,
so that her team practises before the night it matters.

A drill is an Incident with `drill=True`. It takes the same steps, waits, targets, channels
and calls as a real case of its kind (escalation.engine), and responders answer it the same
way (`ATIENDO <code>`, `LISTO <code>`, a keypress, the console). What differs:
- every message about it starts with SIMULACRO (a call says "Simulacro" first), counted in
  the two GSM-7 segments like the rest of the text (`render`'s mark);
- the intern is never texted or called about it: nobody tells her that her team is being
  alerted, who has her case, or that it is over; her own texts never join, close or block it
  (`escalation.incidents.open_incident_of` and the partial unique indexes keep real cases and
  drills apart, so her SOS during a drill opens a real incident);
- it never reaches the "never goes quiet" final stage: when that stage would fall due (the
  last step's wait after its last repeat has passed) it closes itself, with a `drill_ended`
  event and a "SIMULACRO terminado" notice to everyone it alerted (`engine.end_drill`);
- reports leave it out: every event it writes carries its `incident_id`.

Starting one is a console action: its `drill_started` event names the account, and so does
its `drill_ended` event, however it ends.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.base.config import DomainConfig
from escalation.base.kinds import KINDS
from escalation.base.messages import render
from escalation.base.models import INTERN, TRIP_OVERDUE, Incident, Person
from escalation.base.schedule import hhmm
from escalation.base.timeline import record
from escalation.engine import start
from escalation.incidents import insert_incident, open_incident_of

DRILL_STARTED = "drill_started"


# Why a drill may not start (DrillError.reason); the console has a line for each.
UNKNOWN_KIND, NOT_AN_ACTIVE_INTERN, REAL_CASE_OPEN, DRILL_RUNNING = (
    "unknown_kind", "not_an_active_intern", "real_case_open", "drill_running",
)  # fmt: skip
REASONS = (UNKNOWN_KIND, NOT_AN_ACTIVE_INTERN, REAL_CASE_OPEN, DRILL_RUNNING)


class DrillError(ValueError):
    """A drill that cannot start: `reason` (one of REASONS) and a message saying why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def start_drill(
    session: Session,
    now: datetime,
    intern: Person,
    kind: str,
    *,
    config: DomainConfig,
    account: str,
) -> Incident:
    """Open a drill of `kind` for `intern` and take its first step, as `account`.

    At most one drill per intern and kind is open at a time (a partial unique index backs
    the check), and none starts while a real case of hers is open (DrillError)."""
    if kind not in KINDS:
        raise DrillError(UNKNOWN_KIND, f"unknown incident kind {kind!r}")
    if intern.role != INTERN or not intern.active:
        raise DrillError(NOT_AN_ACTIVE_INTERN, "a drill is for an active intern")
    if _real_case_open(session, intern):
        raise DrillError(REAL_CASE_OPEN, "she has a real case open: attend to it first")
    if open_incident_of(session, intern, kind, drill=True) is not None:
        raise DrillError(DRILL_RUNNING, "a drill of this kind is already running for her")
    drill = insert_incident(
        session, now, intern, kind, detail=_facts(intern, kind, now), drill=True
    )
    if drill is None:
        raise DrillError(DRILL_RUNNING, "a drill of this kind is already running for her")
    record(session, now, DRILL_STARTED, person=intern, incident=drill, account=account,
           incident_kind=kind)  # fmt: skip
    start(session, now, drill, config)
    return drill


def _real_case_open(session: Session, intern: Person) -> bool:
    """Whether any real case of hers is open: her team must not be practising on her then."""
    query = select(Incident.id).where(
        Incident.intern_id == intern.id, Incident.resolved_at.is_(None), Incident.drill.is_(False)
    )
    return session.scalar(query.limit(1)) is not None


def _facts(intern: Person, kind: str, now: datetime) -> dict:
    """What a real case of `kind` would know beyond the intern (a trip's departure and
    destination), filled in for the drill."""
    if kind != TRIP_OVERDUE:
        return {}
    return {
        "left": hhmm(now, intern.timezone),
        "destination": render("drill_destination", intern.language),
    }


def drills(session: Session, where=None, limit: int = 200) -> list[Incident]:
    """Drills, newest first (`where`: a clause narrowing them, e.g. a console Scope's)."""
    query = select(Incident).where(Incident.drill.is_(True))
    if where is not None:
        query = query.where(where)
    return list(session.scalars(query.order_by(Incident.opened_at.desc()).limit(limit)))
