"""Engine, sessions and the column types every table shares.

All timestamps are stored as timezone-aware UTC. SQLite has no such type, so `UTCDateTime`
normalises on the way in and re-attaches UTC on the way out; PostgreSQL gets `timestamptz`.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from escalation.base.links import sqlite_link

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL, foreign keys and immediate write locks."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if parsed.database and parsed.database != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
    lock_path = None
    if parsed.database and parsed.database != ":memory:":
        lock_path = os.path.abspath(parsed.database) + ".writelock"
    connect_args = {"timeout": 30, "check_same_thread": False}
    if lock_path:
        connect_args["factory"] = _queued_writer(lock_path)
    engine = create_engine(url, connect_args=connect_args)
    _sqlite_pragmas(engine)
    return engine


_WRITERS: dict[str, threading.Lock] = {}  # one in-process queue per database file
_WRITERS_GUARD = threading.Lock()


def _queued_writer(lock_path: str) -> type[sqlite3.Connection]:
    """A sqlite3 connection that queues for the write lock before BEGIN: on a lock of this
    process (its threads), then on a file lock (other processes).

    SQLite's own busy handler polls with sleeps of up to 100 ms, so under concurrent writers
    a waiting transaction can lose a tenth of a second for nothing. A thread waiting on the
    process's lock wakes the moment the previous writer commits; only the one thread at the
    head of the queue polls the file lock, at most a millisecond apart.
    """
    with _WRITERS_GUARD:
        local = _WRITERS.setdefault(lock_path, threading.Lock())

    class QueuedWriterConnection(sqlite3.Connection):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._queued = self._locked = self._held = False

        def acquire_write_lock(self, timeout: float = 30.0) -> None:
            deadline = time.monotonic() + timeout
            if not self._queued:  # (else held on from an earlier transaction)
                if not local.acquire(timeout=timeout):
                    return  # fall back on SQLite's busy_timeout, which will report it
                self._queued = True
            delay = 0.0001
            while not self._locked:
                try:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    self._locked = True
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        return  # as above; the next thread of this process waits behind it
                    time.sleep(delay)
                    delay = min(delay * 1.5, 0.001)

        @contextmanager
        def hold_write_lock(self) -> Iterator[None]:
            """Keep the write lock from the first transaction in the block to its end."""
            self._held = True
            try:
                yield
            finally:
                self._held = False
                if not self.in_transaction:
                    self._release()

        def _release(self) -> None:
            if self._held:
                return
            if self._locked:
                self._locked = False
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            if self._queued:
                self._queued = False
                local.release()

        def commit(self):
            try:
                super().commit()
            finally:
                self._release()

        def rollback(self):
            try:
                super().rollback()
            finally:
                self._release()

        def close(self):
            try:
                super().close()
            finally:
                self._held = False
                self._release()
                if self._lock_fd >= 0:
                    os.close(self._lock_fd)
                    self._lock_fd = -1

    return QueuedWriterConnection


def _sqlite_pragmas(engine: Engine) -> None:
    # pysqlite's own BEGIN handling defers the write lock until the first write, so two
    # processes that both read-then-write can deadlock on the upgrade. We take the write lock
    # at BEGIN (IMMEDIATE) instead: writers queue on busy_timeout, readers are never blocked (WAL).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # The events' hash chain, for the trigger that chains each event as it is inserted.
        dbapi_connection.create_function("faro_link", 9, sqlite_link, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        dbapi_connection = connection.connection.dbapi_connection
        if hasattr(dbapi_connection, "acquire_write_lock"):
            dbapi_connection.acquire_write_lock()
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def one_writer(connection: Connection) -> Iterator[None]:
    """Run the block's transactions on `connection` as one writer: on a SQLite file, the write
    lock taken by its first BEGIN is kept until the block ends, so another writer cannot come
    between them (and nobody queues twice). PostgreSQL's writers lock rows, not the database:
    nothing to do. Nothing in the block may begin a transaction on another connection."""
    hold = getattr(connection.connection.dbapi_connection, "hold_write_lock", None)
    if hold is None:
        yield
        return
    with hold():
        yield


@contextmanager
def alone(connection: Connection) -> Iterator[None]:
    """The block's one statement as a transaction of its own, committed when the block ends.
    PostgreSQL commits it by itself (autocommit: no BEGIN nor COMMIT to wait for, and the row
    is durable when the statement returns); SQLite begins and commits it as any write (its
    write lock is taken at BEGIN). `connection` must not be in a transaction."""
    if connection.dialect.name != "postgresql":
        with connection.begin():
            yield
        return
    connection.execution_options(isolation_level="AUTOCOMMIT")
    try:
        with connection.begin():  # SQLAlchemy's marker only: the DBAPI commits per statement
            yield
    finally:
        connection.execution_options(isolation_level=connection.default_isolation_level)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def skip_locked(query, session: Session, **options):
    """Lock the selected due rows `FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent ticks
    and dispatchers claim different rows instead of queueing on the same one. On SQLite the
    write lock taken at BEGIN already serialises claimers. `options`: e.g. `of=Person`."""
    return query.with_for_update(skip_locked=True, **options) if is_postgres(session) else query


def due_ids(session: Session, column, now: datetime, limit: int = 1) -> list[int]:
    """The ids of the `limit` earliest rows whose due-work `column` has come (indexed)."""
    model = column.class_
    query = select(model.id).where(column <= now).order_by(column).limit(limit)
    return list(session.scalars(skip_locked(query, session)))


def first_due(session: Session, column, now: datetime) -> int | None:
    ids = due_ids(session, column, now)
    return ids[0] if ids else None
