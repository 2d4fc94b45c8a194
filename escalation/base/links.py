"""The events' chain formula: an event's content in canonical form, and its link's hash.

Apart from `escalation.base.audit`, which makes and walks the chain, so that the engine's
connections can carry it (`escalation.base.db` registers `sqlite_link` on every SQLite
connection, for the trigger that chains each event as it is inserted) without importing the
models. PostgreSQL computes the same `digest` in `faro_chain` (migration 0006).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, NamedTuple


def content(row: Any) -> str:
    """An event's content in canonical form: what its hash covers besides its place and link.
    `row`: an event row read from the database (or an Event)."""
    at = row.at.astimezone(UTC).isoformat(timespec="microseconds")
    fields = [row.id, at, row.kind, row.person_id, row.incident_id, row.message_id]
    fields.append(row.data or {})
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def digest(prev_hash: str, seq: int, content_: str) -> str:
    """SHA-256 of `prev_hash \n seq \n content`, hex: the one formula, also computed by
    PostgreSQL's `faro_chain` (migrations 0006)."""
    return hashlib.sha256(f"{prev_hash}\n{seq}\n{content_}".encode("ascii")).hexdigest()


def link(prev_hash: str, row: Any, seq: int) -> str:
    """The hash of event `row` as number `seq`, after the event whose hash is `prev_hash`."""
    return digest(prev_hash, seq, content(row))


class _Stored(NamedTuple):
    """An event's content columns as SQLite hands them to a function: its instant as stored
    (naive UTC text) and its data as JSON text."""

    id: int
    at: datetime
    kind: str
    person_id: int | None
    incident_id: int | None
    message_id: int | None
    data: Any


def sqlite_link(prev_hash, seq, event_id, at, kind, person_id, incident_id, message_id, data):
    """`faro_link(…)`, SQLite's `link` for the trigger that chains each event as it is
    inserted (migration 0009): the same content, read from the row as stored."""
    stored = _Stored(
        event_id,
        datetime.fromisoformat(at).replace(tzinfo=UTC),
        kind,
        person_id,
        incident_id,
        message_id,
        json.loads(data) if data is not None else None,
    )
    return link(prev_hash, stored, seq)
