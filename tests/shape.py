"""Faro's production shape as separate processes on loopback, for the tests that start it:
gunicorn with the shipped gunicorn.conf.py, `flask --app app scheduler` and `tick --at`
processes, the Twilio transport through the real SDK to the local mock (tests/twilio_mock.py).

`Shape` starts the processes of one test and stops every one of them however the test ends
(SIGTERM, then SIGKILL), then prints the end of their logs, which pytest shows when the test
failed. The helpers post signed webhooks as Twilio does and tell which outbox row a request
at the mock was for.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from twilio.request_validator import RequestValidator

from escalation.base.models import Event, OutboundMessage
from escalation.engine import ALERT
from tests.conftest import AUTH_TOKEN, PUBLIC_URL
from tests.pg import _free_port
from tests.twilio_mock import mock_env

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FLASK = [str(BIN / "flask"), "--app", "app"]
FARO_NUMBER = "+15005550006"
LOG_TAIL = 60  # lines of each process's log printed at the end


def shape_env(database_url: str, twilio_url: str, home: Path, **extra: str) -> dict[str, str]:
    """The processes' environment: production settings against the mock, a quick tick, and a
    sender pace the mock can take."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        **mock_env(twilio_url, TWILIO_AUTH_TOKEN=AUTH_TOKEN),
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": PUBLIC_URL,
        "SECRET_KEY": "production-shape-secret",
        "TICK_SECONDS": "1",
        "TWILIO_MPS": "1000",
        **extra,
    }


class Shape:
    """The processes one test started (`with Shape(env, folder) as shape:`)."""

    def __init__(self, env: dict[str, str], folder: Path):
        self.env = env
        self.folder = folder
        self.processes: dict[str, subprocess.Popen] = {}
        self._names = itertools.count(1)

    def __enter__(self) -> Shape:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop_all()
        self.print_logs()

    def start(self, name: str, command: list[str], **env: str) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 (closed in stop)
        process = subprocess.Popen(command, cwd=ROOT, env={**self.env, **env}, stdout=log,
                                   stderr=subprocess.STDOUT)  # fmt: skip
        process.log = log
        self.processes[name] = process
        return process

    def gunicorn(self, workers: int = 2) -> str:
        """gunicorn with gunicorn.conf.py and WEB_CONCURRENCY workers; returns its base URL
        once it answers /health."""
        port = _free_port()
        command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind",
                   f"127.0.0.1:{port}", "app:create_app()"]  # fmt: skip
        self.start("web", command, WEB_CONCURRENCY=str(workers))
        base = f"http://127.0.0.1:{port}"
        wait(lambda: get(f"{base}/health")[0] in (200, 503), "gunicorn answering /health")
        return base

    def scheduler(self, name: str = "scheduler") -> subprocess.Popen:
        return self.start(name, [*FLASK, "scheduler"])

    def flask(self, *args: str, timeout: float = 120) -> str:
        """Run one `flask --app app …` command to its end; its output (it must succeed)."""
        name = f"{args[0]}-{next(self._names)}"
        process = self.start(name, [*FLASK, *args])
        return self.finish(name, process, timeout)

    def ticks(self, instant: str, copies: int = 2, timeout: float = 120) -> list[str]:
        """`copies` `flask tick --at instant` processes at once, as that many schedulers would
        tick at the same moment; their outputs."""
        names = [f"tick-{next(self._names)}" for _ in range(copies)]
        started = [(name, self.start(name, [*FLASK, "tick", "--at", instant])) for name in names]
        return [self.finish(name, process, timeout) for name, process in started]

    def finish(self, name: str, process: subprocess.Popen, timeout: float) -> str:
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        finally:
            self._stop(name)
        output = (self.folder / f"{name}.log").read_text()
        assert code == 0, f"{name} exited {code}:\n{output[-4000:]}"
        return output

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash or the OOM killer would: no handler, no cleanup."""
        process = self.processes[name]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def alive(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.poll() is None]

    def stop_all(self) -> None:
        for name in list(self.processes):
            if self.processes[name].poll() is None:
                self.processes[name].terminate()
        for name in list(self.processes):
            self._stop(name)

    def _stop(self, name: str) -> None:
        process = self.processes[name]
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        process.log.close()

    def print_logs(self) -> None:
        for name in self.processes:
            lines = (self.folder / f"{name}.log").read_text(errors="replace").splitlines()
            print(f"--- {name} (exit {self.processes[name].returncode}), last lines:")
            print("\n".join(lines[-LOG_TAIL:]))


def wait(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {seconds} s")


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


_sid = itertools.count(1)


def new_sid() -> str:
    return f"SM{os.getpid():08d}{next(_sid):024d}"


def post_sms(base: str, sender: str, body: str, *, sid: str | None = None,
             timeout: float = 15) -> tuple[int, str]:  # fmt: skip
    """A signed inbound text as Twilio posts it; (status, body)."""
    params = {"MessageSid": sid or new_sid(), "From": sender, "To": FARO_NUMBER, "Body": body}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC_URL}/twilio/sms", params)
    data = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(f"{base}/twilio/sms", data=data,
                                     headers={"X-Twilio-Signature": signature})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def text(base: str, sender: str, body: str) -> str:
    """A signed text that must be answered 200; Faro's TwiML answer."""
    status, answer = post_sms(base, sender, body)
    assert status == 200, (status, answer)
    return answer


_OUTBOX_ID = re.compile(r"/twilio/(?:status\?id=|voice/)(\d+)")


def outbox_id(form: dict[str, str]) -> int | None:
    """The outbox row a text or call at the mock was for, from its status callback (our id)."""
    match = _OUTBOX_ID.search(form.get("StatusCallback", ""))
    return int(match.group(1)) if match else None


def received_by_outbox_id(twilio) -> Counter[int | None]:
    """How often the mock accepted a text or a call for each outbox row (None: for none)."""
    return Counter(outbox_id(r.form) for r in list(twilio.received) if r.status == 201)


# --- the database ------------------------------------------------------------------------------

HEADER = "role,name,phone,channel,language,timezone,checkin_time,university,unit,municipality,"
HEADER += "unit_type,buddies"


def roster_csv(folder: Path, rows: list[tuple], name: str = "roster.csv") -> Path:
    """A roster file of (role, name, phone, channel, checkin_time, unit, municipality, buddies)
    rows, everyone of UANL in America/Monterrey, in Spanish."""
    lines = [HEADER]
    for role, person, phone, channel, checkin, unit, municipality, buddies in rows:
        lines.append(f"{role},{person},{phone},{channel},es,America/Monterrey,{checkin},UANL,"
                     f"{unit},{municipality},A,{buddies}")  # fmt: skip
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def drained(sessions: sessionmaker[Session]) -> bool:
    """Whether the outbox has nothing due left to send (a message queued to leave later, like
    the mood question after a check-in, is not due yet)."""
    with sessions() as session:
        due = session.scalar(
            select(func.count())
            .select_from(OutboundMessage)
            .where(OutboundMessage.next_attempt_at <= datetime.now(UTC))
        )
    return due == 0


def alert_rounds(session: Session) -> tuple[Counter, Counter]:
    """The escalation rounds taken, (incident, step, repeat) → how often (the `alerted`
    events), and the alerts queued, (incident, step, repeat, phone, channel) → how many rows.

    An alert belongs to the round written with it (same incident, same instant). Should two
    rounds of one incident share an instant (a step whose time had passed is taken at once
    after the one before), their alerts are keyed by both: (incident, ((step, repeat), …), …)."""
    events = session.execute(
        select(Event.incident_id, Event.at, Event.data).where(Event.kind == "alerted")
    ).all()
    rounds = Counter((e.incident_id, e.data["step"], e.data["repeat"]) for e in events)
    moments: dict[tuple, list] = {}
    for e in events:
        moments.setdefault((e.incident_id, e.at), []).append((e.data["step"], e.data["repeat"]))
    alerts = Counter()
    rows = session.execute(
        select(OutboundMessage.incident_id, OutboundMessage.created_at, OutboundMessage.to_phone,
               OutboundMessage.channel).where(OutboundMessage.kind == ALERT)
    )  # fmt: skip
    for incident, created, phone, channel in rows:
        stage = sorted(moments.get((incident, created), []))
        key = stage[0] if len(stage) == 1 else (tuple(stage),)
        alerts[(incident, *key, phone, channel)] += 1
    return rounds, alerts
