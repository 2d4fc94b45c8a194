"""Escalation policies on the console: each university's, per incident kind, read as a summary
in the user's language, edited one kind at a time, and put back to the default.

A saved form goes through escalation.policy.change_policy, which validates with the very code
`import_policies` (and `flask --app app import-policies`) uses, so a step the file would refuse
is refused here with the same one-line reason, nothing is saved, and every change is a
`policy_changed` event naming the account.

Who (decided from escalation.accounts.Scope and DESIGN's console roles):
- administrators see and edit every university's policies and the default policy;
- a coordinator sees and edits her own university's (the default shows through where it has
  none of its own);
- a supervisor reads the policies of the universities whose interns work in her municipality,
  and a mental-health contact her university's, each only for the kinds of case she sees
  (Scope.incidents: supervisors not the mental-health path, mental-health contacts only it);
- anything else, and every edit by a reader, answers 404 as a page outside her scope does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from bot.console.i18n import language, t
from bot.console.views import scope
from bot.runtime import faro
from escalation.accounts import MENTAL_HEALTH_KINDS
from escalation.base.db import utcnow
from escalation.base.kinds import PERSON_PREFIX, TARGET_ROLES
from escalation.base.models import (
    ADMIN,
    COORDINATOR,
    MENTAL_HEALTH,
    SUPERVISOR,
    Event,
    Person,
    University,
)
from escalation.policy import (
    KINDS,
    MAX_STEPS,
    STEP_CHANNELS,
    PolicyError,
    Step,
    after_the_repeats,
    change_policy,
    load_policy,
    policy_source,
    reset_policy,
    summary,
    validate,
)

bp = Blueprint("policies", __name__, url_prefix="/admin/policies")
DEFAULT = "default"  # the URL's name for the default policy (no university)
KIND = f"<any({', '.join(KINDS)}):kind>"  # an unknown kind is no page at all
NEW_STEP_MINUTES = 30
RECENT_CHANGES = 500  # policy_changed events read for "last changed by"
HISTORY = 10  # changes listed under a policy's form


class PolicyForm(FlaskForm):
    pass  # the steps are read from request.form (a variable number of rows)


@bp.before_request
@login_required
def _signed_in():
    """Every page here needs a session."""


# --- who sees and edits what ---------------------------------------------------------------


def visible_kinds() -> tuple[str, ...]:
    """The kinds of case she sees on the board are the kinds whose policy she reads."""
    if current_user.role == MENTAL_HEALTH:
        return tuple(k for k in KINDS if k in MENTAL_HEALTH_KINDS)
    if current_user.role == SUPERVISOR:
        return tuple(k for k in KINDS if k not in MENTAL_HEALTH_KINDS)
    return KINDS


def visible_universities(db) -> list[University | None]:
    """The universities whose policies she reads; None stands for the default policy."""
    query = select(University).order_by(University.name)
    if current_user.role == ADMIN:
        return [None, *db.scalars(query)]
    if current_user.role == SUPERVISOR:
        theirs = select(Person.university_id).where(scope().people())
        return list(db.scalars(query.where(University.id.in_(theirs))))
    return list(db.scalars(query.where(University.id == current_user.university_id)))


def may_edit(university: University | None) -> bool:
    if current_user.role == ADMIN:
        return True
    mine = university is not None and university.id == current_user.university_id
    return current_user.role == COORDINATOR and mine


def _university_or_404(db, key: str) -> University | None:
    """The university named by the URL (`default` or an id), if she may read its policies."""
    for university in visible_universities(db):
        if (DEFAULT if university is None else str(university.id)) == key:
            return university
    abort(404)


def _editable_or_404(db, key: str, kind: str) -> University | None:
    university = _university_or_404(db, key)
    if kind not in visible_kinds() or not may_edit(university):
        abort(404)
    return university


def key_of(university: University | None) -> str:
    return _key(university.id if university is not None else None)


def policy_url(university_id: int | None, kind: str, *, action: str = "edit") -> str:
    """The page (or, with action="reset", the reset) of one kind's policy at a university,
    or of the default policy."""
    if university_id is None:
        return url_for(f"policies.{action}_default", kind=kind)
    return url_for(f"policies.{action}", university_id=university_id, kind=kind)


def _key(university_id: int | None) -> str:
    """A university's name in URLs and anchors: its id, or `default` for the default policy."""
    return DEFAULT if university_id is None else str(university_id)


# --- the list ---------------------------------------------------------------------------------


@bp.get("")
def index():
    with faro().sessions() as db:
        changes = _last_changes(db)
        sections = [_section(db, u, changes) for u in visible_universities(db)]
    zone = faro().settings.default_timezone
    return render_template("console/policies.html", sections=sections, zone=zone,
                           policy_url=policy_url)  # fmt: skip


def _section(db, university: University | None, changes: dict) -> dict:
    university_id = university.id if university is not None else None
    rows = []
    for kind in visible_kinds():
        steps = load_policy(db, university_id, kind)
        rows.append({
            "kind": kind, "summary": summary(steps, language()),
            "then": after_the_repeats(steps, language()),
            "source": policy_source(db, university_id, kind),
            "changed": changes.get((university_id, kind)),
        })  # fmt: skip
    return {"university": university, "university_id": university_id, "rows": rows,
            "key": key_of(university), "editable": may_edit(university)}  # fmt: skip


def _last_changes(db) -> dict[tuple[int | None, str], Event]:
    """The latest policy_changed event per university and kind (for "changed by … at …")."""
    events = db.scalars(
        select(Event).where(Event.kind == "policy_changed").order_by(Event.id.desc())
    )
    latest: dict[tuple[int | None, str], Event] = {}
    for event in events.fetchmany(RECENT_CHANGES):
        latest.setdefault(_which(event), event)
    return latest


def _which(event: Event) -> tuple[int | None, str | None]:
    """The policy a policy_changed event is about: (university id or None, kind)."""
    return event.data.get("university_id"), event.data.get("incident_kind")


# --- one kind's policy -----------------------------------------------------------------------


@dataclass
class Draft:
    """The form's state: the steps as typed (strings, lists of checked boxes) and the repeats
    of the last step, kept as they were when something is refused or a step is added."""

    steps: list[dict[str, Any]]
    repeat_every: str
    repeat_count: str

    @classmethod
    def of(cls, steps: list[Step]) -> Draft:
        rows = [_row_of(step) for step in steps]
        last = steps[-1]
        every = "" if last.repeat_every_minutes is None else str(last.repeat_every_minutes)
        return cls(rows, every, str(last.repeat_count))

    @classmethod
    def from_form(cls, form) -> Draft:
        count = min(_int(form.get("steps")) or 1, MAX_STEPS)
        rows = [_row_from_form(form, n) for n in range(1, count + 1)]
        return cls(rows, form.get("repeat_every", "").strip(), form.get("repeat_count", "").strip())

    def as_policy(self) -> list[dict[str, Any]]:
        """The steps as `import_policies` reads them; the fields as typed, so that the
        validation's message names what is wrong with what she wrote."""
        steps = [
            {
                "after_minutes": 0 if n == 1 else _number(row["after"]),
                "targets": [*row["targets"], *(PERSON_PREFIX + p for p in _phones(row["people"]))],
                "channels": row["channels"],
            }
            for n, row in enumerate(self.steps, 1)
        ]
        count = _number(self.repeat_count) if self.repeat_count else 0
        steps[-1] |= {"repeat_every_minutes": _number(self.repeat_every), "repeat_count": count}
        return steps


def _row_of(step: Step) -> dict[str, Any]:
    people = [t.removeprefix(PERSON_PREFIX) for t in step.targets if t.startswith(PERSON_PREFIX)]
    return {
        "after": str(step.after_minutes),
        "targets": [t for t in step.targets if not t.startswith(PERSON_PREFIX)],
        "people": "; ".join(people),
        "channels": list(step.channels),
    }


def _row_from_form(form, n: int) -> dict[str, Any]:
    return {
        "after": form.get(f"step-{n}-after", "").strip(),
        "targets": [v for v in form.getlist(f"step-{n}-targets") if v in TARGET_ROLES],
        "people": form.get(f"step-{n}-people", "").strip(),
        "channels": [v for v in form.getlist(f"step-{n}-channels") if v in STEP_CHANNELS],
    }


def _phones(text: str) -> list[str]:
    return [p.strip() for p in text.replace(",", ";").split(";") if p.strip()]


def _int(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() else None


def _number(text: str) -> Any:
    """A whole number as typed, else the text itself (or None when empty), so that the
    validation says "must be a whole number, not 'media hora'" or "is required"."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


@bp.route(f"/{DEFAULT}/{KIND}", methods=["GET", "POST"])
def edit_default(kind: str):
    return edit(None, kind)


@bp.route(f"/<int:university_id>/{KIND}", methods=["GET", "POST"])
def edit(university_id: int | None, kind: str):
    key = _key(university_id)
    form, error = PolicyForm(), None
    with faro().sessions() as db:
        university = _editable_or_404(db, key, kind)
        university_id = university.id if university is not None else None
        current = load_policy(db, university_id, kind)
        source = policy_source(db, university_id, kind)
        name = university.name if university is not None else None
        history = _history(db, university_id, kind)
    draft = Draft.of(current)
    if form.validate_on_submit():
        draft = Draft.from_form(request.form)
        action = request.form.get("action", "save")
        if action == "save":
            error = _save(key, kind, draft)
            if error is None:
                return redirect(url_for("policies.index") + f"#policy-{key}-{kind}")
        else:
            draft = _edited(draft, action)
    return render_template(
        "console/policies_edit.html", form=form, draft=draft, error=error, kind=kind, key=key,
        university_id=university_id, policy_url=policy_url,
        university=name, source=source, current=summary(current, language()),
        then=after_the_repeats(current, language()),
        targets=TARGET_ROLES, channels=STEP_CHANNELS, max_steps=MAX_STEPS,
        target_label=target_label, history=history, zone=faro().settings.default_timezone,
    )  # fmt: skip


def _history(db, university_id: int | None, kind: str) -> list[dict]:
    """The last changes of this policy, newest first: who, when, and what it became."""
    events = db.scalars(
        select(Event).where(Event.kind == "policy_changed").order_by(Event.id.desc())
    )
    mine = [e for e in events.fetchmany(RECENT_CHANGES) if _which(e) == (university_id, kind)]
    return [{"event": e, "after": _said(kind, e.data.get("after"))} for e in mine[:HISTORY]]


def _said(kind: str, steps) -> str:
    try:
        return summary(validate(kind, steps), language())
    except PolicyError as exc:  # a step an older version allowed: shown as stored
        return str(exc)


def _edited(draft: Draft, action: str) -> Draft:
    """Add a step at the end, or remove step N (the first then starts at once)."""
    if action == "add" and len(draft.steps) < MAX_STEPS:
        draft.steps.append({"after": str(NEW_STEP_MINUTES), "targets": [], "people": "",
                            "channels": ["sms"]})  # fmt: skip
    elif action.startswith("remove-") and len(draft.steps) > 1:
        n = _int(action.removeprefix("remove-"))
        if n and n <= len(draft.steps):
            del draft.steps[n - 1]
    return draft


def _save(key: str, kind: str, draft: Draft) -> str | None:
    """Save the draft through the domain; the validation's one-line reason on a refusal."""
    with faro().transaction() as db:
        university = _editable_or_404(db, key, kind)
        try:
            change_policy(db, utcnow(), university, kind, draft.as_policy(),
                          account=current_user.email)  # fmt: skip
        except PolicyError as exc:
            db.rollback()
            return str(exc)
    return None


@bp.post(f"/{DEFAULT}/{KIND}/reset")
def reset_default(kind: str):
    return reset(None, kind)


@bp.post(f"/<int:university_id>/{KIND}/reset")
def reset(university_id: int | None, kind: str):
    key = _key(university_id)
    if not PolicyForm().validate_on_submit():
        abort(400)
    with faro().transaction() as db:
        university = _editable_or_404(db, key, kind)
        reset_policy(db, utcnow(), university, kind, account=current_user.email)
    return redirect(url_for("policies.index") + f"#policy-{key}-{kind}")


def target_label(target: str) -> str:
    return t(f"policies.target.{target}")
