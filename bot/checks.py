"""What an operator got wrong, in one line saying what to do: never a traceback.

`database_problem` is asked before a command that needs the database, when a scheduler
process starts, and by the web process at start (which serves all the same: its webhook
spools texts it cannot store). `explain` turns a database error met later into the same
kind of line.
"""

from __future__ import annotations

import logging

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from escalation.base.migrate import alembic_config

UPGRADE = "run: flask --app app db upgrade"


def where(engine: Engine) -> str:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"the SQLite database {url.database or ':memory:'}"
    return f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}, database {url.database}"


def database_problem(engine: Engine) -> str | None:
    """None when the database can be reached and is at the migrations' head."""
    quiet = logging.getLogger("alembic.runtime.migration")  # "Context impl …" at each look
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        return explain(engine, exc)
    finally:
        quiet.setLevel(level)
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    if current is None:
        return f"{where(engine)} has no Faro tables yet; {UPGRADE}"
    if current != head:
        return f"{where(engine)} is at migration {current}, this Faro needs {head}; {UPGRADE}"
    return None


def explain(engine: Engine, exc: SQLAlchemyError) -> str:
    """One line for a database error an operator can act on."""
    original = getattr(exc, "orig", None) or exc
    reason = str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__
    text = reason.lower()
    if "no such table" in text or ("relation" in text and "does not exist" in text):
        return f"{where(engine)} is missing Faro's tables ({reason}); {UPGRADE}"
    lost = isinstance(exc, DBAPIError) and exc.connection_invalidated
    if lost or "connect" in text:
        return (
            f"cannot reach {where(engine)}: {reason}; check DATABASE_URL and that the "
            "database server is running"
        )
    return f"{where(engine)}: {reason}"
