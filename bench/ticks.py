"""Daily check-ins at scale: how long a tick takes with 1k, 10k and 100k interns.

    .venv/bin/python bench/ticks.py             # 1k, 10k, 100k on SQLite and PostgreSQL
    .venv/bin/python bench/ticks.py --sizes 1000,10000 --engines sqlite

For each engine and roster size, in a fresh database (PostgreSQL: a throwaway server from
tests/pg.py) and a fresh process (so peak RSS is that run's):
- nothing due: the median of 15 ticks when no ping, reminder or deadline is due;
- 1,000 pings: one pass (tick + outbox, console transport) with 1,000 interns due;
- one day: every other intern's ping, 10% reminded, 3% missed (incidents and their alerts),
  tick + outbox; answers are written straight into the table (they are the webhook's cost,
  see bench/webhooks.py), so the figure is the scheduler's and the dispatcher's work.
Figures are printed as a Markdown table. The run stops by itself.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, select, text, update  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.runtime import STEPS, Faro  # noqa: E402
from bot.transports import ConsoleTransport  # noqa: E402
from escalation.base.db import transaction  # noqa: E402
from escalation.base.migrate import upgrade  # noqa: E402
from escalation.base.models import (  # noqa: E402
    INTERN,
    NURSE,
    CheckIn,
    Incident,
    OutboundMessage,
    Person,
    Unit,
    University,
)
from escalation.pings import PING  # noqa: E402
from escalation.tick import tick  # noqa: E402

DAY = datetime(2026, 11, 24, tzinfo=UTC)
MONTERREY = timedelta(hours=6)  # UTC-6, no DST
EARLY = 1_000  # interns pinged at 07:00: the "1,000 pings" tick
CHUNK = 5_000


def local(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return DAY + MONTERREY + timedelta(hours=hour, minutes=minute, seconds=second)


class QuietConsole(ConsoleTransport):
    """The console transport without a log line per message (100k lines would be the cost)."""

    def send(self, envelope) -> str:
        return f"console-{envelope.id}"


# --- one run (a child process) -------------------------------------------------------------


def populate(faro: Faro, size: int) -> None:
    """`size` interns (EARLY at 07:00, the rest at 08:00), two per unit, a nurse per unit."""
    with transaction(faro.sessions) as session:
        uni = University(name="UANL")
        session.add(uni)
        session.flush()
        units = [{"name": f"CS {n}", "municipality": f"Mun {n // 20}"} for n in range(size // 2)]
        for start in range(0, len(units), CHUNK):
            session.execute(insert(Unit), units[start : start + CHUNK])
        unit_ids = list(session.scalars(select(Unit.id).order_by(Unit.id)))
        nurses = [
            {"role": NURSE, "name": f"Enfermera {n}", "phone": f"+52811{n:07d}", "unit_id": uid}
            for n, uid in enumerate(unit_ids)
        ]
        for start in range(0, len(nurses), CHUNK):
            session.execute(insert(Person), nurses[start : start + CHUNK])
    for start in range(0, size, CHUNK):
        with transaction(faro.sessions) as session:
            rows = [_intern(n, uni.id, unit_ids) for n in range(start, min(size, start + CHUNK))]
            session.execute(insert(Person), rows)


def _intern(n: int, university_id: int, unit_ids: list[int]) -> dict:
    early = n < EARLY
    return {
        "role": INTERN,
        "name": f"Interna {n}",
        "phone": f"+52488{n:07d}",
        "checkin_time": "07:00" if early else "08:00",
        "university_id": university_id,
        "unit_id": unit_ids[n // 2 % len(unit_ids)],
        "next_checkin_at": local(7) if early else local(8),
    }


def timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def answer(faro: Faro, fraction: float, due: datetime, at: datetime) -> None:
    """Mark `fraction` of the still-unanswered check-ins due at `due` answered (as the
    webhook would)."""
    with transaction(faro.sessions) as session:
        pending = (
            select(CheckIn.id)
            .where(CheckIn.answered_at.is_(None), CheckIn.due_at == due)
            .order_by(CheckIn.id)
        )
        ids = list(session.scalars(pending))
        chosen = ids[: int(len(ids) * fraction)]
        for start in range(0, len(chosen), CHUNK):
            session.execute(
                update(CheckIn)
                .where(CheckIn.id.in_(chosen[start : start + CHUNK]))
                .values(answered_at=at, remind_at=None, escalate_at=None)
            )


def one_run(url: str, size: int, with_day: bool = True) -> dict:
    logging.disable(logging.WARNING)
    env = {"DATABASE_URL": url, "SMS_TRANSPORT": "console", "RUN_SCHEDULER": "0"}
    faro = Faro(load_settings(env), QuietConsole())
    upgrade(faro.engine)
    populate(faro, size)
    idle = []
    for i in range(15):
        seconds, _ = timed(lambda i=i: faro.run_pass(local(6, 0, i)))
        idle.append(seconds)
    queue_seconds, done = timed(lambda: tick(faro.sessions, local(7), faro.settings.domain, STEPS))
    assert done["pings"] == min(EARLY, size), done
    send_seconds, _ = timed(lambda: faro.dispatch(local(7)))
    pings_seconds = queue_seconds + send_seconds
    if not with_day:
        faro.close()
        return {
            "idle_ms": statistics.median(idle) * 1000,
            "pings_1000_s": pings_seconds,
            "queue_1000_s": queue_seconds,
            "send_1000_s": send_seconds,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    # The day: 90% answer before the reminder, 7% after it, 3% never (both groups).
    day = 0.0
    for when, due, then in (
        (None, local(7), 0.90),
        (local(7, 30), local(7), 0.07 / 0.10),
        (local(8), local(8), 0.90),
        (local(8, 30), local(8), 0.07 / 0.10),
        (local(9), None, None),
        (local(10), None, None),
        (local(10, 0, 15), None, None),
    ):
        if when is not None:
            seconds, _ = timed(lambda when=when: faro.run_pass(when))
            day += seconds
        if then is not None:
            answer(faro, then, due, (when or local(7)) + timedelta(minutes=10))
    with faro.sessions() as session:
        reminded = select(func.count()).where(CheckIn.reminded_at.is_not(None))
        counts = {
            "pings": session.scalar(select(func.count()).where(OutboundMessage.kind == PING)),
            "reminders": session.scalar(reminded),
            "incidents": session.scalar(select(func.count()).select_from(Incident)),
        }
    faro.close()
    return {
        "idle_ms": statistics.median(idle) * 1000,
        "pings_1000_s": pings_seconds,
        "queue_1000_s": queue_seconds,
        "send_1000_s": send_seconds,
        "day_s": day + pings_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **counts,
    }


# --- the driver ------------------------------------------------------------------------------


def database(engine: str, size: int, scratch: Path, pg_admin: str | None) -> str:
    if engine == "sqlite":
        return f"sqlite:///{scratch / f'ticks-{size}.db'}"
    name = f"bench_ticks_{size}"
    admin = create_engine(pg_admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return pg_admin.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--day-up-to", type=int, default=100_000, help="simulate the day only up to this size"
    )
    parser.add_argument("--one", nargs=3, metavar=("URL", "SIZE", "DAY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one[0], int(args.one[1]), args.one[2] == "1")))
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the PostgreSQL server too
    sizes = [int(s) for s in args.sizes.split(",")]
    engines = args.engines.split(",")
    server = None
    pg_admin = None
    if "postgresql" in engines:
        from tests.pg import ThrowawayServer

        server = ThrowawayServer()
        pg_admin = server.start()
    print("| engine | interns | nothing due (median) | 1,000 pings: queue + send | one day | "
          "peak RSS | pings / reminders / incidents |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---|")
    try:
        with tempfile.TemporaryDirectory(prefix="faro-bench-") as scratch:
            for engine in engines:
                for size in sizes:
                    url = database(engine, size, Path(scratch), pg_admin)
                    result = subprocess.run(
                        [sys.executable, __file__, "--one", url, str(size),
                         "1" if size <= args.day_up_to else "0"],
                        capture_output=True, text=True, timeout=3600, env=os.environ,
                    )  # fmt: skip
                    if result.returncode != 0:
                        print(f"| {engine} | {size} | failed: {result.stderr[-500:]} |")
                        continue
                    print(_row(engine, size, json.loads(result.stdout.strip().splitlines()[-1])))
    finally:
        if server is not None:
            server.stop()


def _row(engine: str, size: int, r: dict) -> str:
    pings = f"{r['queue_1000_s']:.2f} + {r['send_1000_s']:.2f} = {r['pings_1000_s']:.2f} s"
    day = f"{r['day_s']:.1f} s" if "day_s" in r else "(not run)"
    counts = f"{r['pings']:,} / {r['reminders']:,} / {r['incidents']:,}" if "day_s" in r else "-"
    return (
        f"| {engine} | {size:,} | {r['idle_ms']:.1f} ms | {pings} | {day} "
        f"| {r['peak_rss_mb']:.0f} MB | {counts} |"
    )


if __name__ == "__main__":
    main()
