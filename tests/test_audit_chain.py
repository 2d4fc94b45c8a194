"""The events' hash chain: every event is numbered and hashed in commit order (as it is inserted
on SQLite, when its transaction commits on PostgreSQL), on both engines and with several
writers at once, and `audit verify` names the first event that
was altered, deleted or inserted in SQL afterwards."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from escalation.base import audit
from escalation.base.db import make_engine, make_sessionmaker, transaction
from escalation.base.models import AuditHead, Event
from escalation.base.timeline import event_row, record, record_many
from tests.conftest import at

T0 = at("2026-11-24T09:00:00-06:00")


def story(faro, people, text_faro, clock) -> None:
    """A morning with a bit of everything: a check-in, an emergency and its acknowledgement."""
    clock.set(T0)
    faro.run_pass(T0)
    text_faro(people["ana"], "ok")
    clock.set(T0 + timedelta(minutes=3))
    text_faro(people["ana"], "sos")
    code = faro_code(faro)
    clock.set(T0 + timedelta(minutes=5))
    text_faro(people["rosa"], f"ATIENDO {code}")
    assert faro.dispatcher.wait_idle(5)  # its `sent` events are in the record too


def faro_code(faro) -> str:
    from escalation.base.models import Incident

    with faro.sessions() as session:
        return session.scalars(select(Incident.code)).one()


def verify(faro, expected=None) -> audit.Finding:
    with transaction(faro.sessions) as session:
        return audit.verify(session, expected=expected)


def sql(faro, statement: str, **values) -> None:
    with faro.engine.begin() as connection:
        connection.execute(text(statement), values)


def chained(faro) -> list[Event]:
    with faro.sessions() as session:
        return list(session.scalars(select(Event).order_by(Event.seq)))


# --- What a commit writes ------------------------------------------------------------------


def test_every_event_is_numbered_in_commit_order_and_linked_to_the_one_before(
    faro, people, text_faro, clock
):
    story(faro, people, text_faro, clock)

    events = chained(faro)
    assert len(events) > 5
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == audit.GENESIS
    assert all(
        later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:], strict=False)
    )
    assert all(e.hash == audit.link(e.prev_hash, e, e.seq) for e in events)
    finding = verify(faro)
    assert finding.ok, finding.problem
    assert (finding.events, str(finding.head)) == (len(events), f"{len(events)}:{events[-1].hash}")


def test_events_written_in_bulk_and_in_a_rolled_back_savepoint(faro):
    with transaction(faro.sessions) as session:
        record(session, T0, "first")
        try:
            with session.begin_nested():
                record(session, T0, "taken_back")
                session.flush()
                raise RuntimeError("the savepoint rolls back")
        except RuntimeError:
            pass
        record_many(session, [event_row(T0, "bulk", n=n) for n in range(300)])

    events = chained(faro)
    assert [e.kind for e in events] == ["first"] + ["bulk"] * 300
    assert verify(faro).ok


def test_single_events_chained_as_written_and_one_a_savepoint_took_back(faro):
    """A lone event written in Core is chained from the values written (no read-back); one
    that a rolled-back SAVEPOINT took away takes no place."""
    with transaction(faro.sessions) as session:
        record_many(session, [event_row(T0, "kept", n=1)])
        try:
            with session.begin_nested():
                record_many(session, [event_row(T0, "taken_back")])
                raise RuntimeError("the savepoint rolls back")
        except RuntimeError:
            pass
        record_many(session, [event_row(T0, "kept", n=2)])

    events = chained(faro)
    assert [(e.kind, e.data, e.seq) for e in events] == [
        ("kept", {"n": 1}, 1),
        ("kept", {"n": 2}, 2),
    ]
    assert verify(faro).ok


def test_a_rolled_back_transaction_takes_no_place_in_the_chain(faro):
    with pytest.raises(RuntimeError), transaction(faro.sessions) as session:
        record(session, T0, "never_happened")
        session.flush()
        raise RuntimeError
    with transaction(faro.sessions) as session:
        record(session, T0, "happened")

    assert [(e.kind, e.seq) for e in chained(faro)] == [("happened", 1)]
    assert verify(faro).ok


def test_the_chain_stays_one_line_with_many_writers_at_once(faro):
    """Eight threads with their own connections commit 25 transactions each, at once."""
    engine = make_engine(str(faro.engine.url.render_as_string(hide_password=False)))
    sessions = make_sessionmaker(engine)
    start = threading.Barrier(8)
    failures = []

    def writer(n: int) -> None:
        start.wait()
        try:
            for i in range(25):
                with transaction(sessions) as session:
                    record(session, T0, "writer", n=n, i=i)
                    record_many(session, [event_row(T0, "writer_bulk", n=n, i=i)] * 2)
        except Exception as exc:  # noqa: BLE001 (reported below)
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()

    assert failures == []
    finding = verify(faro)
    assert finding.ok, finding.problem
    assert finding.events == 8 * 25 * 3


def test_migrating_chains_the_events_already_stored(database_url):
    from alembic import command

    from escalation.base.migrate import alembic_config, upgrade

    engine = make_engine(database_url)
    command.downgrade(alembic_config(engine), "0005")
    with engine.begin() as connection:
        for _ in range(3):
            connection.execute(
                text("INSERT INTO event (at, kind, data) VALUES (:at, 'before_0006', '{}')"),
                {"at": T0 if engine.dialect.name == "postgresql" else T0.replace(tzinfo=None)},
            )
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        finding = audit.verify(session)
        assert finding.ok, finding.problem
        assert finding.events == 3
        assert session.get(AuditHead, audit.HEAD_ID).seq == 3
    engine.dispose()


# --- Tampering, in SQL ---------------------------------------------------------------------


def middle(faro) -> Event:
    events = chained(faro)
    return events[len(events) // 2]


def test_an_altered_event_is_named(faro, people, text_faro, clock):
    story(faro, people, text_faro, clock)
    target = middle(faro)

    sql(faro, "UPDATE event SET data = :data WHERE id = :id", data='{"by": "nobody"}', id=target.id)

    finding = verify(faro)
    assert not finding.ok
    assert finding.event_id == target.id
    assert finding.problem == (
        f"event #{target.id} (seq {target.seq}) was altered: its content no longer matches its hash"
    )


def test_an_altered_instant_is_named_too(faro, people, text_faro, clock):
    story(faro, people, text_faro, clock)
    target = middle(faro)

    sql(faro, "UPDATE event SET kind = 'ok' WHERE id = :id", id=target.id)

    assert verify(faro).event_id == target.id


def test_a_deleted_event_is_named_by_its_place(faro, people, text_faro, clock):
    story(faro, people, text_faro, clock)
    target = middle(faro)
    before = chained(faro)[target.seq - 2]

    sql(faro, "DELETE FROM event WHERE id = :id", id=target.id)

    finding = verify(faro)
    assert not finding.ok
    assert finding.problem.startswith(
        f"event {target.seq} of the chain was deleted (after event #{before.id}"
    )


def test_the_last_events_deleted_are_found_by_the_head(faro, people, text_faro, clock):
    story(faro, people, text_faro, clock)
    last = chained(faro)[-1]

    sql(faro, "DELETE FROM event WHERE id = :id", id=last.id)

    finding = verify(faro)
    assert not finding.ok
    assert "the last 1 event(s) of the chain were deleted" in finding.problem


def test_an_inserted_event_is_named(faro, people, text_faro, clock):
    story(faro, people, text_faro, clock)
    with faro.sessions() as session:
        person_id = session.scalar(select(func.min(Event.person_id)))
    insert = (
        "INSERT INTO event (at, kind, person_id, data) VALUES (:at, 'checkin_answered', :p, '{}')"
    )
    if faro.engine.dialect.name == "sqlite":
        # SQLite chains an event as it is inserted, through Faro's function: elsewhere (the
        # sqlite3 shell) an INSERT is refused, and one made with the trigger gone is named.
        raw = sqlite3.connect(faro.engine.url.database)
        with pytest.raises(sqlite3.OperationalError, match="no such function: faro_link"):
            raw.execute(insert, {"at": "2026-11-24 15:00:00.000000", "p": person_id})
        raw.close()
        sql(faro, "DROP TRIGGER event_chained")
    instant = T0 if faro.engine.dialect.name == "postgresql" else T0.replace(tzinfo=None)
    sql(faro, insert, at=instant, p=person_id)

    finding = verify(faro)
    with faro.sessions() as session:
        inserted = session.scalar(select(func.max(Event.id)))
    assert not finding.ok
    assert finding.event_id == inserted
    assert finding.problem == f"event #{inserted} is not in the chain: it was inserted outside Faro"


def test_an_event_inserted_inside_the_chain_is_named(faro, people, text_faro, clock):
    """A forger who renumbers the later events to make room breaks the links after it."""
    story(faro, people, text_faro, clock)
    target = middle(faro)
    sql(faro, "UPDATE event SET seq = -seq - 1 WHERE seq >= :s", s=target.seq)
    sql(faro, "UPDATE event SET seq = -seq WHERE seq < 0")
    sql(
        faro,
        "INSERT INTO event (at, kind, data, seq, prev_hash, hash) "
        "VALUES (:at, 'checkin_answered', '{}', :s, :p, :h)",
        at=T0 if faro.engine.dialect.name == "postgresql" else T0.replace(tzinfo=None),
        s=target.seq,
        p=target.prev_hash,
        h="f" * 64,
    )

    finding = verify(faro)
    assert not finding.ok
    assert finding.problem.startswith("event #") and f"(seq {target.seq})" in finding.problem


def test_a_kept_head_is_checked_against_the_live_record(faro, people, text_faro, clock):
    story(faro, people, text_faro, clock)
    kept = verify(faro).head
    with transaction(faro.sessions) as session:
        record(session, T0 + timedelta(hours=1), "later")

    assert verify(faro, expected=kept).ok
    forged = audit.Head(kept.seq, "e" * 64)
    assert "is no longer in the chain" in verify(faro, expected=forged).problem
    beyond = audit.Head(kept.seq + 50, kept.hash)
    assert "beyond the chain's end" in verify(faro, expected=beyond).problem


# --- The command --------------------------------------------------------------------------


def test_audit_verify_says_intact_or_names_the_event(faro, people, text_faro, clock, runner):
    story(faro, people, text_faro, clock)

    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    head = verify(faro).head
    assert result.output == f"{head.seq} events, chain intact, head {head}\n"
    assert runner.invoke(args=["audit", "verify", "--head", str(head)]).exit_code == 0

    target = middle(faro)
    sql(faro, "UPDATE event SET at = :at WHERE id = :id", id=target.id,
        at=(T0 + timedelta(days=1)) if faro.engine.dialect.name == "postgresql"
        else (T0 + timedelta(days=1)).replace(tzinfo=None))  # fmt: skip
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: the record was changed: event #{target.id} (seq {target.seq}) was altered: "
        "its content no longer matches its hash\n"
    )


def test_a_malformed_head_is_one_line(faro, runner):
    result = runner.invoke(args=["audit", "verify", "--head", "12:abc"])
    assert result.exit_code == 2
    assert "a chain head reads SEQ:HASH (64 hex digits), not '12:abc'" in result.output
    assert "Traceback" not in result.output
