"""Benchmark: the events' hash chain, on SQLite or PostgreSQL.

    .venv/bin/python bench/audit.py --engine sqlite
    .venv/bin/python bench/audit.py --engine postgresql --events 1000000

Prints (1) what chaining costs a commit: small transactions of 1, 3 and 10 events, the
median time to write and commit them with the chain and without it (switched off: the
commit's listener on PostgreSQL, the INSERT's trigger on SQLite), from one writer and from 4
writer threads at once; (2) bulk writing N events in transactions of 10,000; (3) how long
`audit verify` takes over those N events, and its peak memory. PostgreSQL is a throwaway
server on loopback (tests/pg.py); the run stops by itself.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from escalation.base import audit  # noqa: E402
from escalation.base.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from escalation.base.migrate import upgrade  # noqa: E402
from escalation.base.timeline import event_row, record, record_many  # noqa: E402

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def database(engine_name: str, folder: Path):
    if engine_name == "sqlite":
        return f"sqlite:///{folder}/audit.db", None
    from tests import pg

    server = pg.ThrowawayServer()
    return server.start(), server


def small_commits(sessions, per_commit: int, commits: int, threads: int) -> float:
    """Median milliseconds to write and commit `per_commit` events, `threads` writers at once."""
    times: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def writer() -> None:
        start.wait()
        mine = []
        for n in range(commits):
            began = time.perf_counter()
            with transaction(sessions) as session:
                for i in range(per_commit):
                    record(session, NOW, "bench", n=n, i=i, words="una linea de datos")
            mine.append((time.perf_counter() - began) * 1000)
        with lock:
            times.extend(mine)

    workers = [threading.Thread(target=writer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return statistics.median(times)


@contextmanager
def unchained(engine) -> Iterator[None]:
    """The chain switched off for the block: SQLite's trigger dropped, PostgreSQL's listener
    removed."""
    if audit.chained_as_inserted(engine):
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TRIGGER event_chained")
        try:
            yield
        finally:
            with engine.begin() as connection:
                connection.exec_driver_sql(audit.SQLITE_TRIGGER)
        return
    event.remove(Session, "before_commit", audit._chain)
    try:
        yield
    finally:
        event.listen(Session, "before_commit", audit._chain)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--commits", type=int, default=200, help="per writer, per size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url, server = database(args.engine, Path(folder))
        try:
            run(url, args)
        finally:
            if server is not None:
                server.stop()


def run(url: str, args) -> None:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    print(f"engine: {args.engine}")
    print("writers | events per commit | median commit, chained | unchained")
    for writers in (1, 4):
        for size in (1, 3, 10):
            chained = small_commits(sessions, size, args.commits, writers)
            with unchained(engine):
                bare = small_commits(sessions, size, args.commits, writers)
            print(f"{writers:>7} | {size:>17} | {chained:>19.2f} ms | {bare:>6.2f} ms")
    with transaction(sessions) as session:  # the unchained rows just written, chained now
        session.execute(audit.Event.__table__.delete().where(audit.Event.seq.is_(None)))

    began = time.perf_counter()
    batch = 10_000
    for start in range(0, args.events, batch):
        rows = [event_row(NOW, "bench_bulk", n=n, words="una linea de datos")
                for n in range(start, min(start + batch, args.events))]  # fmt: skip
        with transaction(sessions) as session:
            record_many(session, rows)
    written = time.perf_counter() - began
    print(f"bulk: {args.events:,} events in transactions of {batch:,}: {written:.1f} s "
          f"({args.events / written:,.0f} events/s, chained)")  # fmt: skip

    began = time.perf_counter()
    with transaction(sessions) as session:
        finding = audit.verify(session)
    took = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert finding.ok, finding.problem
    print(f"audit verify: {finding.events:,} events in {took:.1f} s "
          f"({finding.events / took:,.0f} events/s), peak RSS {peak:.0f} MB")  # fmt: skip
    engine.dispose()


if __name__ == "__main__":
    main()
