"""The events' hash chain: a record nobody can rewrite unnoticed.

Every event gets, when the transaction that wrote it commits, the next sequence number `seq`,
the hash of the event before it (`prev_hash`) and its own `hash`: SHA-256 over that link, its
number and its content (id, instant, kind, person, incident, message, data) in one canonical
JSON form. `verify` walks the chain in `seq` order and names the first event that no longer matches
(altered), the first number missing (deleted), and any event outside the chain (inserted).

How the chain stays one line with several processes writing: `seq` follows commit order, and
no two transactions can take the same place; a transaction (or a SAVEPOINT) that rolls back
gives its place back with its events.
- PostgreSQL: the chain is extended in the committing transaction's last moment
  (`before_commit`), under the row lock of the single `audit_head` row. Committers queue on
  that lock only while their own events are numbered: one call of the `faro_chain` function
  (the contents are made before, outside the lock), then the commit.
- SQLite: its write lock, taken at BEGIN, serialises whole transactions, so insertion order is
  commit order, and each event is chained as it is inserted, by the trigger `event_chained`
  (migration 0009) calling `faro_link` (`escalation.base.links`), registered on every connection
  Faro opens (`escalation.base.db`): no statement of its own. An INSERT through a connection
  without it (the sqlite3 shell) is refused; a table rebuilt by a later migration must create
  the trigger again.

A chain without a secret shows tampering against a head somebody kept: whoever can write to
the database and recompute every later hash can build a consistent new chain. So exports carry
the head they cover (`seq:hash`), and `verify(…, head=…)` checks that head is still there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, event, inspect, select, text, update
from sqlalchemy.orm import Session

from escalation.base.links import content, digest, link
from escalation.base.models import AuditHead, Event

__all__ = ["content", "digest", "link"]  # the formula, kept beside the chain it makes

GENESIS = "0" * 64  # the `prev_hash` of the first event
HEAD_ID = 1
_CHUNK = 5_000


# What an event's hash covers (`content`), as an INSERT … RETURNING gives it back.
CONTENT_COLUMNS = tuple(
    Event.__table__.c[name]
    for name in ("id", "at", "kind", "person_id", "incident_id", "message_id", "data")
)


# What chains an event on SQLite (migration 0009): the head moves on by one, and the event gets
# its place, its link and its hash. The head is made again if somebody deleted it (`verify`
# then reports the chain broken), as PostgreSQL's `faro_chain` does.
SQLITE_TRIGGER = f"""
CREATE TRIGGER event_chained AFTER INSERT ON event WHEN NEW.seq IS NULL
BEGIN
    INSERT OR IGNORE INTO audit_head (id, seq, hash) VALUES ({HEAD_ID}, 0, '{GENESIS}');
    UPDATE event
       SET seq = head.seq + 1,
           prev_hash = head.hash,
           hash = faro_link(head.hash, head.seq + 1, NEW.id, NEW.at, NEW.kind, NEW.person_id,
                            NEW.incident_id, NEW.message_id, NEW.data)
      FROM (SELECT seq, hash FROM audit_head WHERE id = {HEAD_ID}) AS head
     WHERE event.id = NEW.id;
    UPDATE audit_head
       SET (seq, hash) = (SELECT seq, hash FROM event WHERE id = NEW.id)
     WHERE id = {HEAD_ID};
END
"""


def chain(rows: Iterable[Any], after: Head) -> list[dict[str, Any]]:
    """Number and hash `rows` (oldest first) onto `after`: one `{_id, seq, prev_hash, hash}`
    per row, for the UPDATE that writes them (`write_links`)."""
    seq, digest, links = after.seq, after.hash, []
    for row in rows:
        seq += 1
        links.append(
            {"_id": row.id, "seq": seq, "prev_hash": digest, "hash": link(digest, row, seq)}
        )
        digest = links[-1]["hash"]
    return links


def write_links(connection, links: list[dict[str, Any]]) -> None:
    """Store `chain`'s links on their events, in one executemany."""
    connection.execute(_WRITE_LINKS, links)


_EVENT = Event.__table__
_WRITE_LINKS = (
    update(_EVENT)
    .where(_EVENT.c.id == bindparam("_id"))
    .values(seq=bindparam("seq"), prev_hash=bindparam("prev_hash"), hash=bindparam("hash"))
)


@dataclass(frozen=True)
class Head:
    """Where the chain ends: the last event's `seq` and `hash` (`0:GENESIS` when empty)."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        seq, _, digest = text.strip().partition(":")
        if not seq.isdigit() or len(digest) != 64 or set(digest) - set("0123456789abcdef"):
            raise ValueError(f"a chain head reads SEQ:HASH (64 hex digits), not {text!r}")
        return cls(int(seq), digest)


def head(session: Session) -> Head:
    """The chain's head as this transaction sees it."""
    table = AuditHead.__table__.c
    row = session.execute(select(table.seq, table.hash).where(table.id == HEAD_ID)).first()
    return Head(row.seq, row.hash) if row else Head(0, GENESIS)


# --- Extending the chain, at commit ------------------------------------------------------------

_ADDED = "faro.events_added"  # Event objects this transaction flushed (read and written here)
_BULK = "faro.events_bulk"  # events it inserted in bulk, by id: their rows as written
_DOUBT = "faro.savepoint_rolled_back"  # a SAVEPOINT rolled back: bulk rows may be gone


def chained_as_inserted(bind) -> bool:
    """Whether the database of `bind` (a connection or an engine) chains each event as it is
    inserted (SQLite's trigger): then nothing is noted nor done at commit."""
    return bind.dialect.name == "sqlite"


def written(session: Session, rows: Iterable[Any]) -> None:
    """Note events this transaction wrote with a Core INSERT (`timeline.record_many`), as it
    returned them (`CONTENT_COLUMNS`), for the commit to chain (PostgreSQL). Those added
    through the ORM are noted by the flush."""
    noted = session.info.setdefault(_BULK, {})
    for row in rows:
        noted[row.id] = row


@event.listens_for(Session, "after_flush")
def _noted(session: Session, _context) -> None:
    new = [obj for obj in session.new if isinstance(obj, Event)]
    if new and not chained_as_inserted(session.connection()):
        session.info.setdefault(_ADDED, []).extend(new)


@event.listens_for(Session, "before_commit")
def _chain(session: Session) -> None:
    if session.in_nested_transaction() or chained_as_inserted(session.get_bind()):
        return
    session.flush()
    added, bulk = session.info.pop(_ADDED, []), session.info.pop(_BULK, {})
    # An event a rolled-back SAVEPOINT took away is no longer persistent: it takes no place.
    rows = [obj for obj in added if inspect(obj).persistent]
    if bulk:
        for obj in rows:
            bulk.pop(obj.id, None)
        if session.info.pop(_DOUBT, False):  # which are still there: the database knows
            rows += _unchained(session, set(bulk))
        else:
            rows += bulk.values()
    if rows:
        extend(session, sorted(rows, key=lambda row: row.id))


@event.listens_for(Session, "after_soft_rollback")
def _doubt(session: Session, previous) -> None:
    if previous.nested and session.info.get(_BULK):
        session.info[_DOUBT] = True


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    if not session.in_transaction():
        session.info.pop(_ADDED, None)
        session.info.pop(_BULK, None)
        session.info.pop(_DOUBT, None)


def extend(session: Session, rows: list[Any]) -> None:
    """Number and hash this transaction's events `rows` (oldest first) onto the head, under
    its row lock, held from here to the commit (PostgreSQL). One round trip under the lock:
    every other committer waits for each one. The contents are made here, outside it;
    PostgreSQL numbers and hashes them."""
    ids, contents = [row.id for row in rows], [content(row) for row in rows]
    session.connection().execute(CHAIN_ON_POSTGRESQL, {"ids": ids, "contents": contents})


_UNCHAINED = (
    select(_EVENT)
    .where(_EVENT.c.id.between(bindparam("first"), bindparam("last")), _EVENT.c.seq.is_(None))
    .order_by(_EVENT.c.id)
)


CHAIN_ON_POSTGRESQL = text("SELECT faro_chain(CAST(:ids AS bigint[]), CAST(:contents AS text[]))")

# What `extend` does, as one PostgreSQL function (created by migration 0006): lock the head,
# number and hash each event with `digest`'s formula, move the head.
POSTGRESQL_FUNCTION = r"""
CREATE OR REPLACE FUNCTION faro_chain(event_ids bigint[], contents text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash text;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        head_seq := 0;
        head_hash := repeat('0', 64);
        INSERT INTO audit_head (id, seq, hash) VALUES (1, head_seq, head_hash);
    END IF;
    FOR i IN 1 .. coalesce(array_length(event_ids, 1), 0) LOOP
        head_seq := head_seq + 1;
        UPDATE event
           SET seq = head_seq,
               prev_hash = head_hash,
               hash = encode(sha256(convert_to(
                   head_hash || E'\n' || head_seq::text || E'\n' || contents[i], 'UTF8')), 'hex')
         WHERE id = event_ids[i]
        RETURNING hash INTO head_hash;
    END LOOP;
    UPDATE audit_head SET seq = head_seq, hash = head_hash WHERE id = 1;
END
$$
"""


def _unchained(session: Session, ids: set[int]) -> list[Any]:
    """Events this transaction wrote in bulk, as the database holds them, oldest first (rows
    a rolled-back SAVEPOINT took away are not there to be read)."""
    if not ids:
        return []
    rows = []
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        span = {"first": chunk[0], "last": chunk[-1]}
        wanted = set(chunk)
        rows.extend(
            row for row in session.connection().execute(_UNCHAINED, span) if row.id in wanted
        )
    return rows


# --- Walking it --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """What `verify` found: `ok`, how many events it walked, the head, and the first problem."""

    ok: bool
    events: int
    head: Head
    problem: str | None = None
    event_id: int | None = None


def verify(session: Session, *, expected: Head | None = None) -> Finding:
    """Walk the whole chain; stop at the first event altered, deleted or inserted. With
    `expected` (a head an export carried), also check that head is still part of the chain."""
    columns = Event.__table__.c
    walk = _Walk(expected)
    chained = select(columns).where(columns.seq.is_not(None)).order_by(columns.seq)
    with session.connection().execution_options(yield_per=_CHUNK).execute(chained) as rows:
        problem = next(filter(None, map(walk.step, rows)), None)
    if problem:
        return walk.broken(*problem)
    top = head(session)
    last = f"after event #{walk.last_id}" if walk.last_id else "the chain is empty"
    if top.seq > walk.seq:
        gone = top.seq - walk.seq
        return walk.broken(
            f"the last {gone} event(s) of the chain were deleted ({last})", walk.last_id
        )
    if top != Head(walk.seq, walk.hash):
        return walk.broken(
            f"the chain's head {top} does not match its last event ({last}): the head was altered",
            walk.last_id,
        )
    outside = session.scalar(
        select(columns.id).where(columns.seq.is_(None)).order_by(columns.id).limit(1)
    )
    if outside is not None:
        return walk.broken(
            f"event #{outside} is not in the chain: it was inserted outside Faro", outside
        )
    if expected is not None and expected.seq > walk.seq:
        return walk.broken(
            f"the head {expected} is beyond the chain's end (seq {walk.seq}): events were deleted",
            None,
        )
    return Finding(True, walk.seq, Head(walk.seq, walk.hash))


class _Walk:
    """The chain walked so far: the last good event's `seq`, `hash` and id."""

    def __init__(self, expected: Head | None) -> None:
        self.expected = expected
        self.seq, self.hash, self.last_id = 0, GENESIS, None

    def step(self, row: Any) -> tuple[str, int] | None:
        """Take the next event; what is wrong with it, if anything (and its id)."""
        if row.seq != self.seq + 1:
            missing = (
                f"{self.seq + 1}" if row.seq == self.seq + 2 else f"{self.seq + 1} to {row.seq - 1}"
            )
            after = f"after event #{self.last_id}" if self.last_id else "at the start"
            return (
                f"event {missing} of the chain was deleted ({after}, before event #{row.id})",
                row.id,
            )
        if row.prev_hash != self.hash:
            problem = (
                "does not follow the event before it: that one was altered or this one inserted"
            )
            return f"event #{row.id} (seq {row.seq}) {problem}", row.id
        if link(self.hash, row, row.seq) != row.hash:
            problem = "was altered: its content no longer matches its hash"
            return f"event #{row.id} (seq {row.seq}) {problem}", row.id
        kept = self.expected
        if kept is not None and row.seq == kept.seq and row.hash != kept.hash:
            where = f"event #{row.id} (seq {row.seq})"
            return f"the head {kept} is no longer in the chain: {where} has another hash", row.id
        self.seq, self.hash, self.last_id = row.seq, row.hash, row.id
        return None

    def broken(self, problem: str, event_id: int | None) -> Finding:
        return Finding(False, self.seq, Head(self.seq, self.hash), problem, event_id)
