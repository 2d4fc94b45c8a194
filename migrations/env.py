"""Alembic environment: runs on the engine handed over by escalation.base.migrate."""

from __future__ import annotations

from alembic import context

from escalation.base import models  # noqa: F401  (registers every table on the metadata)
from escalation.base.db import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
