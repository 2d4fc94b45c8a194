"""What one inbound text costs the database: statements per intent, through the signed webhook.

At 09:00 thousands of `ok` arrive within minutes, and each statement is a round trip (and, on
SQLite, a moment holding the one write lock). Each intent has a budget, the count it takes
today on each engine; a change that adds a statement fails here and must either find a cheaper
way or raise the budget knowingly. Counted: every statement sent to the database, BEGIN and
SAVEPOINTs included (COMMIT is the driver's own call and is not seen)."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.engine.interfaces import CacheStats

from tests.conftest import at
from tests.stories import statements, tick

# (SQLite, PostgreSQL): the two differ where the engines do (the events' chain is one
# function call at commit on PostgreSQL, a trigger inside each INSERT on SQLite; SQLite's
# BEGIN IMMEDIATE is a statement, PostgreSQL's BEGIN is implicit).
BUDGET = {
    "ok": (8, 7),
    "sos": (27, 21),
    "mood_answer": (9, 8),
    "repeat": (4, 2),
    "stranger": (7, 6),
}


def within_budget(faro, intent: str, seen: list[str]) -> None:
    sqlite, postgresql = BUDGET[intent]
    budget = postgresql if faro.engine.dialect.name == "postgresql" else sqlite
    listing = "\n".join(f"  {s[:140]}" for s in seen)
    assert len(seen) <= budget, f"{intent}: {len(seen)} statements, budget {budget}:\n{listing}"


@pytest.fixture
def pinged(faro, people, clock):
    """09:00 on the 24th: Ana's ping has left; her webhooks arrive five minutes later."""
    tick(faro, "2026-11-24T07:00:00-06:00")
    tick(faro, "2026-11-24T08:00:00-06:00")
    clock.set(at("2026-11-24T08:05:00-06:00"))
    return people


def test_her_ok_to_the_ping(faro, pinged, text_faro):
    with statements(faro) as seen:
        reply = text_faro(pinged["ana"], "ok", sid="SMbudgetok")
    assert b"anotamos que estas bien" in reply.data
    within_budget(faro, "ok", seen)


def test_her_sos(faro, pinged, text_faro):
    with statements(faro) as seen:
        reply = text_faro(pinged["ana"], "sos", sid="SMbudgetsos")
    assert b"Estamos avisando a tu equipo" in reply.data
    within_budget(faro, "sos", seen)


def test_her_answer_to_the_mood_question(faro, pinged, text_faro, clock):
    text_faro(pinged["ana"], "ok")
    tick(faro, "2026-11-24T08:06:00-06:00")  # the mood question leaves
    clock.set(at("2026-11-24T08:07:00-06:00"))
    with statements(faro) as seen:
        reply = text_faro(pinged["ana"], "4", sid="SMbudgetmood")
    assert reply.status_code == 200 and b"<Message>" in reply.data
    within_budget(faro, "mood_answer", seen)


def test_a_repeated_delivery(faro, pinged, text_faro):
    first = text_faro(pinged["ana"], "ok", sid="SMbudgetrepeat")
    with statements(faro) as seen:
        again = text_faro(pinged["ana"], "ok", sid="SMbudgetrepeat")
    assert again.data == first.data
    within_budget(faro, "repeat", seen)


def test_a_stranger(faro, pinged, text_faro):
    with statements(faro) as seen:
        reply = text_faro("+524889999999", "hola", sid="SMbudgetstranger")
    assert reply.status_code == 200
    within_budget(faro, "stranger", seen)


def test_an_ok_compiles_no_statement_anew(faro, pinged, text_faro):
    """Compiling a statement costs more than running it. After a first `ok`, the next one's
    statements all come from SQLAlchemy's cache of compiled statements; one that cannot be
    cached (in SQLAlchemy 2.0, any `INSERT … ON CONFLICT`) is compiled again for every text."""
    text_faro(pinged["beto"], "ok", sid="SMbudgetwarm")
    compiled_anew: list[str] = []

    def hit_or_miss(_connection, _cursor, statement, _parameters, context, _many):
        if context.compiled is not None and context.cache_hit is not CacheStats.CACHE_HIT:
            compiled_anew.append(f"{context.cache_hit.name}: {' '.join(statement.split())[:140]}")

    engine = faro.sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", hit_or_miss)
    try:
        reply = text_faro(pinged["ana"], "ok", sid="SMbudgetcached")
    finally:
        event.remove(engine, "before_cursor_execute", hit_or_miss)
    assert b"anotamos que estas bien" in reply.data
    assert compiled_anew == []


def test_the_text_is_committed_alone_before_it_is_acted_on(faro, pinged, text_faro):
    """Her text is committed by itself before anything reads her: on PostgreSQL in autocommit
    (the INSERT is the transaction: no BEGIN and no COMMIT to wait for), on SQLite in its own
    BEGIN IMMEDIATE … COMMIT; the second transaction begins afterwards."""
    steps: list[str] = []

    def statement(connection, _cursor, text, *_args):
        dbapi = connection.connection.dbapi_connection
        alone = getattr(dbapi, "autocommit", False) is True  # psycopg's; sqlite3's is 3.12's
        steps.append(("alone: " if alone else "") + " ".join(text.split())[:40])

    def commit(_connection):
        steps.append("COMMIT")

    engine = faro.sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        reply = text_faro(pinged["ana"], "ok", sid="SMbudgetalone")
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
    assert b"anotamos que estas bien" in reply.data
    stored = next(i for i, s in enumerate(steps) if "INSERT INTO inbound_message" in s)
    if faro.engine.dialect.name == "postgresql":
        assert steps[stored].startswith("alone: "), steps
        assert not any(s.startswith("alone: ") for s in steps[stored + 1 :]), steps
    else:
        assert steps[stored - 1] == "BEGIN IMMEDIATE" and steps[stored + 1] == "COMMIT", steps
    assert steps[stored + 1] == "COMMIT" and "inbound_message" not in steps[stored + 2], steps
