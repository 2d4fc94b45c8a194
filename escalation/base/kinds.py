"""The registry of incident kinds: everything that makes a kind what it is, in one entry.

Adding a kind is one entry here plus its templates (`alert_<kind>`, `voice_<kind>` and
`kind_<kind>`, its name, in every language); a test walks the registry, so a missing template
or an invalid default policy fails at once rather than when the first such incident opens.

Default policies are data (DESIGN's "Escalation defaults"): ordered steps with `after_minutes`
(since the previous step), `targets` (the roles below, `admins`, or `person:+52…`) and
`channels`; the last step may repeat. `escalation.policy` validates them like any stored one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from escalation.base.models import (
    COORDINATOR,
    CRITICAL,
    DURESS,
    EMERGENCY,
    HIGH,
    MENTAL_HEALTH,
    MISSED_CHECKIN,
    NORMAL,
    NURSE,
    SELF_HARM,
    SILENT_CALL,
    SMS,
    SUPERVISOR,
    SUPPORT,
    TRIP_OVERDUE,
    UNCLEAR,
    UNREACHABLE,
    VOICE,
)

# Policy targets beyond the covering roles (nurse, coordinator, supervisor, mental_health).
BUDDIES = "buddies"
ADMINS = "admins"
PERSON_PREFIX = "person:"
TARGET_ROLES = (BUDDIES, NURSE, COORDINATOR, SUPERVISOR, MENTAL_HEALTH, ADMINS)

# Who may close an incident: a responder only (her own text may be coerced), or also her OK.
RESPONDER = "responder"
HER_OK = "her_ok"


@dataclass(frozen=True)
class IncidentKind:
    name: str
    severity: str  # critical alerts jump the outbox queue
    closed_by: str  # RESPONDER, or HER_OK: her later OK resolves it and sends the all-clear
    tells_intern_on_ack: bool  # she hears who has her case (never for duress)
    default_policy: tuple[dict[str, Any], ...]

    @property
    def alert_template(self) -> str:
        return f"alert_{self.name}"

    @property
    def voice_template(self) -> str:
        return f"voice_{self.name}"

    @property
    def name_template(self) -> str:
        """What a responder reads the kind as (`ESTADO <code>`)."""
        return f"kind_{self.name}"


def _step(after: int, targets: list[str], channels: list[str], every=None, count=0) -> dict:
    step = {"after_minutes": after, "targets": targets, "channels": channels}
    if every is not None:
        step |= {"repeat_every_minutes": every, "repeat_count": count}
    return step


_CRITICAL = (
    _step(0, [BUDDIES, NURSE, COORDINATOR], [SMS, VOICE]),
    _step(10, [SUPERVISOR], [VOICE]),
    _step(10, [BUDDIES, NURSE, COORDINATOR, SUPERVISOR], [VOICE], every=10, count=3),
)
_MISSED = (
    _step(0, [BUDDIES, NURSE], [SMS]),
    _step(30, [COORDINATOR], [SMS, VOICE]),
    _step(60, [SUPERVISOR], [SMS], every=30, count=3),
)

KINDS: dict[str, IncidentKind] = {
    kind.name: kind
    for kind in (
        IncidentKind(EMERGENCY, CRITICAL, RESPONDER, True, _CRITICAL),
        # Silent: her reply is the OK one; alerts say not to call or text her back.
        IncidentKind(DURESS, CRITICAL, RESPONDER, False, _CRITICAL),
        IncidentKind(MISSED_CHECKIN, HIGH, HER_OK, True, _MISSED),
        IncidentKind(UNREACHABLE, HIGH, HER_OK, False, _MISSED),
        IncidentKind(
            TRIP_OVERDUE, HIGH, HER_OK, True,
            (
                _step(0, [BUDDIES, COORDINATOR], [SMS]),
                _step(20, [SUPERVISOR], [VOICE], every=20, count=3),
            ),
        ),
        # Mental-health cases: whoever takes one reaches her; she is not told who.
        IncidentKind(
            SELF_HARM, HIGH, RESPONDER, False,
            (
                _step(0, [MENTAL_HEALTH], [SMS]),
                _step(60, [COORDINATOR], [SMS], every=60, count=3),
            ),
        ),
        IncidentKind(
            SUPPORT, NORMAL, RESPONDER, False,
            (
                _step(0, [BUDDIES, MENTAL_HEALTH], [SMS]),
                _step(120, [COORDINATOR], [SMS], every=120, count=0),
            ),
        ),
        # Three texts in a row Faro could not understand: a frightened person types badly.
        IncidentKind(
            UNCLEAR, NORMAL, HER_OK, True,
            (
                _step(0, [BUDDIES, NURSE], [SMS]),
                _step(120, [COORDINATOR], [SMS], every=120, count=0),
            ),
        ),
        # She called and pressed nothing (or nothing the menu knows): she may be unable to
        # speak, or it was a pocket dial. Someone near checks on her; her OK ends it. She is
        # not texted who has it: if she could not speak, someone may be reading her phone.
        IncidentKind(
            SILENT_CALL, NORMAL, HER_OK, False,
            (
                _step(0, [BUDDIES, NURSE], [SMS]),
                _step(120, [COORDINATOR], [SMS], every=120, count=0),
            ),
        ),
    )
}  # fmt: skip

CLOSED_BY_HER_OK = tuple(name for name, kind in KINDS.items() if kind.closed_by == HER_OK)
