"""Escalation policies as data: per university and incident kind, ordered steps.

A policy is JSON (a list of steps) stored in the `policy` table, one row per university and
kind; a row without a university is the default for every university that has none of its
own, and without any row the built-in DEFAULTS (DESIGN.md, "Escalation defaults") apply.

A step says when (`after_minutes` since the previous step; the first step is at once), whom
(`targets`: roles, `admins`, or `person:+52…`) and how (`channels`: sms, whatsapp, voice).
The last step repeats every `repeat_every_minutes`, `repeat_count` times; after that the
chain never goes quiet: everyone on the policy and the administrators are called, and called
again at the same interval until somebody acknowledges.

Everything is validated when saved or imported (`PolicyError` names the step and the field),
so a bad policy is refused at the desk, never discovered at 3 a.m.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.base.channels import CHANNELS
from escalation.base.db import utcnow
from escalation.base.kinds import ADMINS, BUDDIES, PERSON_PREFIX, TARGET_ROLES
from escalation.base.kinds import KINDS as REGISTRY
from escalation.base.models import (
    COORDINATOR,
    MENTAL_HEALTH,
    NURSE,
    SMS,
    SUPERVISOR,
    VOICE,
    WHATSAPP,
    Policy,
    University,
)
from escalation.base.phones import BadPhone, normalize_phone
from escalation.base.timeline import record

log = logging.getLogger(__name__)

# Policy data lives with each incident kind (escalation.base.kinds); these are its views.
KINDS = tuple(REGISTRY)
DEFAULTS: dict[str, list[dict[str, Any]]] = {
    name: list(kind.default_policy) for name, kind in REGISTRY.items()
}
STEP_CHANNELS = tuple(CHANNELS)
STEP_KEYS = {"after_minutes", "targets", "channels", "repeat_every_minutes", "repeat_count"}
MAX_STEPS = 10
MAX_MINUTES = 7 * 24 * 60
MAX_REPEATS = 50
# Repeats this often are a flood of calls, not an escalation.
MIN_REPEAT_MINUTES = 2


class PolicyError(ValueError):
    """A policy that cannot be saved; the message says which step and field, and why."""


@dataclass(frozen=True)
class Step:
    after_minutes: int
    targets: tuple[str, ...]
    channels: tuple[str, ...]
    repeat_every_minutes: int | None = None
    repeat_count: int = 0


def _step(after, targets, channels, every=None, count=0) -> dict[str, Any]:
    step = {"after_minutes": after, "targets": list(targets), "channels": list(channels)}
    if every is not None:
        step |= {"repeat_every_minutes": every, "repeat_count": count}
    return step


# --- validation ------------------------------------------------------------------------------


def validate(kind: str, steps: Any) -> list[Step]:
    """The steps of a policy for `kind`, or PolicyError saying what is wrong."""
    if kind not in KINDS:
        raise PolicyError(f"unknown incident kind {kind!r}; use one of: {', '.join(KINDS)}")
    if not isinstance(steps, list) or not steps:
        raise PolicyError(f"{kind}: a policy is a non-empty list of steps")
    if len(steps) > MAX_STEPS:
        raise PolicyError(f"{kind}: at most {MAX_STEPS} steps")
    parsed = [_parse_step(kind, n, raw, last=n == len(steps)) for n, raw in enumerate(steps, 1)]
    if parsed[0].after_minutes != 0:
        raise PolicyError(f"{kind} step 1: after_minutes must be 0 (the first alert goes at once)")
    return parsed


def _parse_step(kind: str, n: int, raw: Any, *, last: bool) -> Step:
    where = f"{kind} step {n}"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: a step is an object with after_minutes, targets, channels")
    unknown = sorted(set(raw) - STEP_KEYS)
    if unknown:
        raise PolicyError(f"{where}: unknown field(s) {', '.join(unknown)}")
    low = 0 if n == 1 else 1
    after = _minutes(where, "after_minutes", raw.get("after_minutes"), low, MAX_MINUTES)
    targets = tuple(_target(where, t) for t in _list(where, "targets", raw.get("targets")))
    channels = tuple(_list(where, "channels", raw.get("channels")))
    for channel in channels:
        if channel not in STEP_CHANNELS:
            raise PolicyError(
                f"{where}: channel {channel!r} is not one of {', '.join(STEP_CHANNELS)}"
            )
    _no_duplicates(where, "targets", targets)
    _no_duplicates(where, "channels", channels)
    if not last:
        if "repeat_every_minutes" in raw or "repeat_count" in raw:
            raise PolicyError(f"{where}: only the last step repeats")
        return Step(after, targets, channels)
    every = _minutes(
        where, "repeat_every_minutes", raw.get("repeat_every_minutes"), MIN_REPEAT_MINUTES,
        MAX_MINUTES,
    )  # fmt: skip
    count = _minutes(where, "repeat_count", raw.get("repeat_count", 0), 0, MAX_REPEATS)
    return Step(after, targets, channels, every, count)


def _minutes(where: str, field: str, value: Any, low: int, high: int) -> int:
    if value is None:
        raise PolicyError(f"{where}: {field} is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{where}: {field} must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise PolicyError(f"{where}: {field}={value} is out of range ({low}..{high})")
    return value


def _list(where: str, field: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise PolicyError(f"{where}: {field} must be a non-empty list")
    if not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where}: every item of {field} must be text")
    return [v.strip() for v in value]


def _target(where: str, target: str) -> str:
    if target.lower().startswith(PERSON_PREFIX):
        raw = target[len(PERSON_PREFIX) :]
        try:
            return PERSON_PREFIX + normalize_phone(raw)
        except BadPhone:
            raise PolicyError(f"{where}: {target!r} is not a valid phone number") from None
    if target not in TARGET_ROLES:
        raise PolicyError(
            f"{where}: target {target!r} is not one of {', '.join(TARGET_ROLES)} or person:+52…"
        )
    return target


def _no_duplicates(where: str, field: str, values: tuple[str, ...]) -> None:
    if len(set(values)) != len(values):
        raise PolicyError(f"{where}: {field} lists the same entry twice")


def to_json(steps: list[Step]) -> list[dict[str, Any]]:
    return [
        _step(s.after_minutes, s.targets, s.channels, s.repeat_every_minutes, s.repeat_count)
        if s.repeat_every_minutes is not None
        else _step(s.after_minutes, s.targets, s.channels)
        for s in steps
    ]


# --- storage ---------------------------------------------------------------------------------


def save_policy(session: Session, university: University | None, kind: str, steps: Any) -> Policy:
    """Validate and store the policy of `university` (None: the default) for `kind`."""
    parsed = validate(kind, steps)
    university_id = university.id if university is not None else None
    row = _row(session, university_id, kind)
    if row is None:
        row = Policy(university_id=university_id, kind=kind, steps=to_json(parsed))
        session.add(row)
    else:
        row.steps = to_json(parsed)
        row.updated_at = utcnow()
    session.flush()
    return row


def import_policies(
    session: Session, document: Any, *, now: datetime | None = None, account: str = "cli"
) -> list[Policy]:
    """Import `{"university": name or null, "policies": {kind: [steps]}}`; all or nothing.
    Each kind saved writes a `policy_changed` event naming `account`, as the console does."""
    if not isinstance(document, dict) or not isinstance(document.get("policies"), dict):
        raise PolicyError('a policy file is {"university": …, "policies": {kind: [steps]}}')
    university = None
    if document.get("university"):
        name = str(document["university"])
        university = session.scalar(select(University).where(University.name == name))
        if university is None:
            raise PolicyError(f"unknown university {name!r}")
    checked = {kind: validate(kind, steps) for kind, steps in document["policies"].items()}
    now = now or utcnow()
    return [
        change_policy(session, now, university, k, to_json(s), account=account)
        for k, s in checked.items()
    ]


def load_policy(session: Session, university_id: int | None, kind: str) -> list[Step]:
    """The steps for `kind` at `university_id`: its own policy, else the default row, else
    DEFAULTS. A stored row that no longer validates is logged and skipped, never fatal."""
    for candidate in (university_id, None) if university_id is not None else (None,):
        row = _row(session, candidate, kind)
        if row is None:
            continue
        try:
            return validate(kind, row.steps)
        except PolicyError as exc:
            log.error("stored policy %s is invalid, using the next one: %s", row.id, exc)
    return validate(kind, DEFAULTS[kind])


def _row(session: Session, university_id: int | None, kind: str) -> Policy | None:
    university = (
        Policy.university_id.is_(None)
        if university_id is None
        else Policy.university_id == university_id
    )
    return session.scalar(select(Policy).where(university, Policy.kind == kind).limit(1))


# --- changing a policy (the console and `import-policies`) ------------------------------------

OWN, DEFAULT_ROW, BUILT_IN = "own", "default", "built_in"


def policy_source(session: Session, university_id: int | None, kind: str) -> str:
    """Where the steps `load_policy` gives come from: the university's own row (OWN), the
    default row (DEFAULT_ROW) or the built-in table (BUILT_IN). A stored row that no longer
    validates is skipped here as it is there."""
    candidates = (
        ((university_id, OWN), (None, DEFAULT_ROW))
        if university_id is not None
        else ((None, DEFAULT_ROW),)
    )
    for candidate, source in candidates:
        row = _row(session, candidate, kind)
        if row is not None and _valid(kind, row.steps):
            return source
    return BUILT_IN


def _valid(kind: str, steps: Any) -> bool:
    try:
        validate(kind, steps)
    except PolicyError:
        return False
    return True


def change_policy(
    session: Session,
    now: datetime,
    university: University | None,
    kind: str,
    steps: Any,
    *,
    account: str,
) -> Policy:
    """Validate and store one kind's policy for `university` (None: the default), and write
    a `policy_changed` event with the steps that applied before and after. Nothing is
    stored and no event is written when the steps do not validate (PolicyError)."""
    university_id = university.id if university is not None else None
    before = to_json(load_policy(session, university_id, kind))
    row = save_policy(session, university, kind, steps)
    _changed(session, now, university, kind, before, row.steps, account=account)
    return row


def reset_policy(
    session: Session, now: datetime, university: University | None, kind: str, *, account: str
) -> bool:
    """Back to the default: drop the university's own policy for `kind` (for the default
    row, back to the built-in table). Whether there was one to drop."""
    university_id = university.id if university is not None else None
    row = _row(session, university_id, kind)
    if row is None:
        return False
    before = to_json(load_policy(session, university_id, kind))
    session.delete(row)
    session.flush()
    after = to_json(load_policy(session, university_id, kind))
    _changed(session, now, university, kind, before, after, account=account, reset=True)
    return True


def _changed(session, now, university, kind, before, after, *, account, reset=False) -> None:
    record(session, now, "policy_changed", account=account, incident_kind=kind,
           university=university.name if university is not None else None,
           university_id=university.id if university is not None else None,
           before=before, after=after, reset=reset)  # fmt: skip


# --- a readable summary ------------------------------------------------------------------------

# The words of a summary, per language: what a coordinator reads on the console, and what
# `import-policies` prints after saving. Targets and channels not listed read as themselves.
_WORDS: dict[str, dict[str, str]] = {
    "es": {
        "at_once": "al momento", "later": "{wait} después", "by": "por", "and": "y",
        "repeat": "luego cada {every}, {count}", "times_1": "1 vez", "times_n": "{n} veces",
        "tail": "después, cada {every} hasta que alguien responda: todos ellos y los "
                "administradores por SMS y llamada",
        BUDDIES: "compañeras", NURSE: "enfermera", COORDINATOR: "coordinación",
        SUPERVISOR: "supervisión", MENTAL_HEALTH: "salud mental", ADMINS: "administradores",
        SMS: "SMS", WHATSAPP: "WhatsApp", VOICE: "llamada",
    },
    "en": {
        "at_once": "at once", "later": "{wait} later", "by": "by", "and": "and",
        "repeat": "then every {every}, {count}", "times_1": "once", "times_n": "{n} times",
        "tail": "then every {every} until someone answers: all of them and the "
                "administrators by SMS and call",
        BUDDIES: "buddies", NURSE: "nurse", COORDINATOR: "coordinator",
        SUPERVISOR: "supervisor", MENTAL_HEALTH: "mental-health contact",
        ADMINS: "administrators", SMS: "SMS", WHATSAPP: "WhatsApp", VOICE: "call",
    },
}  # fmt: skip


def summary(steps: list[Step], language: str = "es") -> str:
    """One line saying what the policy does, e.g. "al momento: compañeras y enfermera por
    SMS; 30 min después: coordinación por SMS y llamada; …". Waits read as "later" because
    `after_minutes` counts from the step before, not from the opening of the case."""
    words = _WORDS.get(language, _WORDS["es"])
    return "; ".join(_step_summary(step, n, words) for n, step in enumerate(steps, 1))


def after_the_repeats(steps: list[Step], language: str = "es") -> str:
    """What follows the last repeat (the chain never goes quiet), in the same words."""
    words = _WORDS.get(language, _WORDS["es"])
    return words["tail"].format(every=_duration(steps[-1].repeat_every_minutes or 0))


def _step_summary(step: Step, n: int, words: dict[str, str]) -> str:
    when = words["at_once"] if n == 1 else words["later"].format(wait=_duration(step.after_minutes))
    whom = _joined([words.get(t, t.removeprefix(PERSON_PREFIX)) for t in step.targets], words)
    how = _joined([words.get(c, c) for c in step.channels], words)
    text = f"{when}: {whom} {words['by']} {how}"
    if step.repeat_every_minutes is not None and step.repeat_count:
        count = words["times_1"] if step.repeat_count == 1 else words["times_n"]
        text += ", " + words["repeat"].format(
            every=_duration(step.repeat_every_minutes), count=count.format(n=step.repeat_count)
        )
    return text


def _joined(items: list[str], words: dict[str, str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {words['and']} {items[-1]}"


def _duration(minutes: int) -> str:
    """`45 min`, `2 h`, `1 h 30 min`: waits as a coordinator says them."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" if not rest else f"{hours} h {rest} min"
