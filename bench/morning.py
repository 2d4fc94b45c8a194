"""Benchmark: the morning burst (issue 13): interns answering `ok` over minutes, a scheduler beside.

    .venv/bin/python bench/morning.py                              # 10,000 over 10 min (~12 min)
    .venv/bin/python bench/morning.py --interns 500 --minutes 0.5  # a quick look
    .venv/bin/python bench/morning.py --engine sqlite

Faro as in production on one machine: a throwaway PostgreSQL on loopback (or a SQLite file),
gunicorn serving `app:create_app()` (gunicorn.conf.py: gthread workers, `--workers` of them,
SMS_TRANSPORT=twilio through the real SDK to the in-process Twilio mock, RUN_SCHEDULER=0), and
one `flask --app app scheduler` process beside it with the same settings (a pass every
TICK_SECONDS, 15 unless the environment says otherwise). Every intern has an open check-in whose
ping has left (bench/webhooks.py `seed`) and answers `ok` once, by a signed webhook; the answers
arrive as a Poisson process of rate interns / (minutes * 60), each posted at its instant by one of
`--clients` threads over keep-alive connections (open loop: a stalled server does not slow the
arrivals). Latency counts from the scheduled instant (a stall shows, no coordinated omission);
service time from the actual send. Prints one summary: the arrivals and the rate achieved,
latency and service time p50/p99/max, the errors by kind, the scheduler's passes during the burst
(from its log lines: how many, their time p50/max, the largest gap between two starts), and
whether every check-in is answered with no missed_check_in incident. Progress every 30 s on
stderr. Traffic goes to 127.0.0.1 only; the run stops by itself and stops what it started.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlalchemy import select as query

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhooks import (  # noqa: E402
    PUBLIC,
    SID,
    TOKEN,
    database,
    percentile,
    seed,
    signed,
    start_gunicorn,
    stop,
    twilio_settings,
)
from escalation.base.db import make_engine  # noqa: E402
from escalation.base.models import MISSED_CHECKIN, CheckIn, Incident  # noqa: E402
from tests.pg import _free_port  # noqa: E402
from tests.twilio_mock import TwilioMock  # noqa: E402

TIMEOUT = 15.0  # seconds: Twilio gives up on a webhook after 15 s
PROGRESS_EVERY = 30.0


@contextlib.contextmanager
def stderr_to(path: Path):
    """Children started meanwhile write their standard error to `path` (gunicorn's access log
    and the app's JSON lines would drown the progress lines); ours is put back after."""
    saved = os.dup(2)
    sys.stderr.flush()
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def start_scheduler(url: str, mock_url: str, port: int, log: Path) -> subprocess.Popen:
    """`flask --app app scheduler` with gunicorn's settings; its JSON log lines go to `log`."""
    env = {**os.environ, **twilio_settings(url, mock_url, f"{PUBLIC}:{port}")}
    command = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "app", "scheduler"]
    with open(log, "ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)


@dataclass
class Passes:
    """The scheduler's passes as its log lines tell them (APScheduler's executor logs each
    job's start and end; bot/scheduler.py logs a pass that failed or was skipped)."""

    runs: list[tuple[float, float]]  # (start, end), seconds since the epoch
    trouble: Counter

    @classmethod
    def read(cls, log: Path) -> Passes:
        runs, trouble, started = [], Counter(), None
        for line in log.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            try:
                record = json.loads(line)
                at = datetime.strptime(record["time"], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            except (ValueError, KeyError):
                continue
            message, level = record.get("message", ""), record.get("level")
            if message.startswith('Running job "_safe_pass'):
                started = at
            elif message.endswith("executed successfully") and started is not None:
                runs.append((started, at))
                started = None
            elif level in ("WARNING", "ERROR", "CRITICAL"):
                trouble[f"{level}: {message[:90]}"] += 1
        return cls(runs, trouble)

    def within(self, start: float, end: float) -> list[tuple[float, float]]:
        return [run for run in self.runs if start <= run[0] <= end]


class Load:
    """The answers, posted at their scheduled instants by a pool of client threads."""

    def __init__(self, port: int, phones: list[str], offsets: list[float], clients: int):
        self.port, self.offsets, self.clients = port, offsets, clients
        self.requests = [signed(port, p, "ok", f"SMmorning{i:028d}") for i, p in enumerate(phones)]
        self.sent: list[float | None] = [None] * len(phones)  # seconds after the origin
        self.done: list[float | None] = [None] * len(phones)
        self.failures: list[str | None] = [None] * len(phones)
        self.reconnects = 0
        self._next = 0
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self.origin = 0.0

    def start(self) -> list[threading.Thread]:
        self.origin = time.perf_counter() + 1.0  # every thread ready before the first instant
        threads = [threading.Thread(target=self.run, daemon=True) for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        return threads

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        while not self.stopping.is_set():
            with self._lock:
                i, self._next = self._next, self._next + 1
            if i >= len(self.requests):
                break
            time.sleep(max(0.0, self.origin + self.offsets[i] - time.perf_counter()))
            self.fresh(connection)
            self.sent[i] = time.perf_counter() - self.origin
            error = self.post(connection, self.requests[i])
            self.done[i] = time.perf_counter() - self.origin
            if error:
                self.failures[i] = error
                connection.close()  # the next request starts on a new connection
        connection.close()

    def fresh(self, connection: http.client.HTTPConnection) -> None:
        """Drop a kept-alive connection the server closed while it sat idle (gunicorn's
        keepalive is 5 s), as urllib3 does before reusing one: an idle client is no error."""
        sock = connection.sock
        if sock is not None and select.select([sock], [], [], 0)[0]:
            connection.close()
            with self._lock:
                self.reconnects += 1

    @staticmethod
    def post(connection: http.client.HTTPConnection, request: tuple) -> str | None:
        try:
            connection.request("POST", "/twilio/sms", *request)
            response = connection.getresponse()
            response.read()
        except TimeoutError:
            return "timeout"
        except (OSError, http.client.HTTPException) as exc:
            return f"connection: {type(exc).__name__}"
        return None if response.status == 200 else f"HTTP {response.status}"

    def progress(self) -> str:
        now = time.perf_counter() - self.origin
        sent = sum(1 for s in self.sent if s is not None)
        done = [d for d in self.done if d is not None]
        due = sum(1 for o in self.offsets if o <= now)
        errors = sum(1 for f in self.failures if f)
        late = [s - o for o, s in zip(self.offsets, self.sent, strict=True) if s is not None]
        behind = max(late, default=0.0)
        return (f"  {now:5.0f} s: {due} due, {sent} sent, {len(done)} answered, "
                f"{errors} errors, sends up to {behind * 1000:.0f} ms late")  # fmt: skip


def arrivals(count: int, seconds: float, rng: random.Random) -> list[float]:
    """A Poisson process of rate count / seconds: exponential gaps, seconds after the origin."""
    rate, at, offsets = count / seconds, 0.0, []
    for _ in range(count):
        at += rng.expovariate(rate)
        offsets.append(at)
    return offsets


def answered(url: str) -> tuple[int, int]:
    """(check-ins answered, missed_check_in incidents) in the database."""
    engine = make_engine(url)
    with engine.connect() as connection:
        done = connection.scalar(
            query(func.count()).select_from(CheckIn).where(CheckIn.answered_at.is_not(None))
        )
        missed = connection.scalar(
            query(func.count()).select_from(Incident).where(Incident.kind == MISSED_CHECKIN)
        )
    engine.dispose()
    return done, missed


def server_trouble(log: Path) -> Counter:
    """Warnings and errors in gunicorn's and the app's log lines (not the access log)."""
    trouble: Counter = Counter()
    for line in log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            if line.startswith("Traceback") or "WORKER TIMEOUT" in line:
                trouble[line[:90]] += 1
            continue
        if isinstance(record, dict) and record.get("level") in ("WARNING", "ERROR", "CRITICAL"):
            trouble[f"{record['level']}: {str(record.get('message'))[:90]}"] += 1
    return trouble


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--interns", type=int, default=10_000)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16, help="load generator threads")
    parser.add_argument("--seed", type=int, default=4821)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, interrupted)  # `kill` cleans up as Ctrl-C does
    with (
        tempfile.TemporaryDirectory() as folder,
        TwilioMock(account_sid=SID, auth_token=TOKEN) as mock,
    ):
        url, server = database(args.engine, folder)
        try:
            run(url, mock, Path(folder), args)
        finally:
            if server is not None:
                server.stop()


def interrupted(signum, _frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(url: str, mock: TwilioMock, folder: Path, args) -> None:
    started = time.perf_counter()
    phones = seed(url, args.interns)
    print(f"seeded {args.interns} interns with an open check-in ({args.engine}) in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)  # fmt: skip
    offsets = arrivals(args.interns, args.minutes * 60, random.Random(args.seed))
    port = _free_port()
    server_log, scheduler_log = folder / "gunicorn.log", folder / "scheduler.log"
    with stderr_to(server_log):
        gunicorn = start_gunicorn(url, port, mock.url, args.workers)
    scheduler = None
    try:
        scheduler = start_scheduler(url, mock.url, port, scheduler_log)
        wait_for_first_pass(scheduler, scheduler_log)
        load = Load(port, phones, offsets, args.clients)
        wall = time.time() - time.perf_counter()  # perf_counter + wall = the epoch
        threads = load.start()
        watch(load, threads)
        end = max(d for d in load.done if d is not None)
        window = (load.origin + wall, load.origin + end + wall)
        texts = sum(1 for r in mock.accepted() if r.resource == "Messages"
                    and window[0] <= r.received_at + wall <= window[1])  # fmt: skip
    finally:
        if scheduler is not None:
            stop(scheduler)
        stop(gunicorn)
    report(args, load, Passes.read(scheduler_log), window, texts, answered(url), server_log)


def wait_for_first_pass(scheduler: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while not Passes.read(log).runs:
        if scheduler.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the scheduler did not run a pass:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)


def watch(load: Load, threads: list[threading.Thread]) -> None:
    """Wait for the clients, a progress line every 30 s; Ctrl-C stops them."""
    last = time.perf_counter()
    try:
        while any(thread.is_alive() for thread in threads):
            time.sleep(0.2)
            if time.perf_counter() - last >= PROGRESS_EVERY:
                last = time.perf_counter()
                print(load.progress(), file=sys.stderr, flush=True)
    finally:
        load.stopping.set()


def report(args, load: Load, passes: Passes, window, texts: int, db, server_log: Path) -> None:
    print(f"morning burst: engine={args.engine} workers={args.workers} clients={args.clients} "
          f"seed={args.seed} TICK_SECONDS={os.environ.get('TICK_SECONDS', '15')}")  # fmt: skip
    report_load(args, load, window[1] - window[0])
    trouble = server_trouble(server_log)
    print(f"gunicorn and app warnings/errors: {sum(trouble.values())}")
    for line, n in trouble.most_common(5):
        print(f"  {n} x {line}")
    report_scheduler(passes, window)
    print(f"texts accepted by the Twilio mock during the burst (the mood questions, asked by the "
          f"scheduler 20-35 s after each answer): {texts}")  # fmt: skip
    done, missed = db
    missing = "" if done == args.interns else f" ({args.interns - done} missing)"
    print(f"check-ins answered: {done} of {args.interns}{missing}; "
          f"missed_check_in incidents: {missed}")  # fmt: skip


def report_load(args, load: Load, duration: float) -> None:
    requests = zip(load.offsets, load.sent, load.done, load.failures, strict=True)
    finished = [(o, s, d, f) for o, s, d, f in requests if d is not None]
    errors = Counter(f for *_times, f in finished if f)
    ok = [(o, s, d) for o, s, d, f in finished if not f]
    behind = max(s - o for o, s, _d, _f in finished)
    rate = args.interns / (args.minutes * 60)
    print(f"arrivals: {len(load.offsets)} `ok` (Poisson, {rate:.2f}/s over {args.minutes:g} min); "
          f"{len(finished)} done in {duration:.1f} s = {len(finished) / duration:.2f}/s achieved; "
          f"sends at most {behind * 1000:.0f} ms behind their instant")  # fmt: skip
    for name, values in (
        ("latency from the scheduled instant", [d - o for o, _s, d in ok]),
        ("service time from the send        ", [d - s for _o, s, d in ok]),
    ):
        if len(values) > 1:
            p50, p99 = percentile(values, 50), percentile(values, 99)
            print(f"{name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(values) * 1000:.0f} ms")
    kinds = ", ".join(f"{kind} {n}" for kind, n in errors.most_common()) or "none"
    print(f"errors: {sum(errors.values())} ({kinds}); kept-alive connections the server had "
          f"closed, reopened before a send: {load.reconnects}")  # fmt: skip


def report_scheduler(passes: Passes, window: tuple[float, float]) -> None:
    runs = passes.within(*window)
    if not runs:
        print(f"scheduler: no pass during the burst ({window[1] - window[0]:.1f} s)")
    else:
        took = [end - start for start, end in runs]
        # The burst's edges count as pass starts: a scheduler that stopped mid-burst shows.
        edges = [window[0], *(start for start, _end in runs), window[1]]
        gap = max(b - a for a, b in zip(edges, edges[1:], strict=False))
        print(f"scheduler: {len(runs)} passes during the burst, pass time p50 "
              f"{statistics.median(took) * 1000:.0f} ms, max {max(took) * 1000:.0f} ms; "
              f"largest gap between pass starts {gap:.1f} s")  # fmt: skip
    for line, n in passes.trouble.most_common(5):
        print(f"  {n} x {line}")


if __name__ == "__main__":
    main()
