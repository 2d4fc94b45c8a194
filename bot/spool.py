"""The webhook's last line: a signed text that cannot be stored is written to a local spool.

Twilio does not retry a messaging webhook, so a text the database cannot take (PostgreSQL
restarting, the disk full, the pool exhausted) would be gone, and the intern would get no
answer at all. Instead the webhook writes the signed form to this machine's spool, one file
per message, fsync'd before it answers (file and directory, so a power cut keeps it), and
still answers her. The first moment this process reaches the database again, a replay thread
stores the spooled texts in the order they arrived (with the instant they arrived) and acts
on them; a text delivered twice is one message all the same (the MessageSid is unique).

A spool belongs to one database: its directory is named after the database URL, so a machine
serving two never replays a text into the wrong one. Several processes of one machine may
share a spool; one replays at a time (a file lock), and a file is deleted only once its text
is committed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.conversation.inbound import reply_later, store
from escalation.base.config import DomainConfig
from escalation.base.db import transaction
from escalation.base.timeline import wake_on_commit

log = logging.getLogger(__name__)

SUFFIX = ".json"
RETRY_FIRST, RETRY_MAX = 0.5, 5.0  # seconds between attempts to reach the database again

# What "the database cannot take it" looks like: the driver's errors (connection refused or
# lost, disk full, too many connections) and the pool's timeout. A bug is not among them.
UNAVAILABLE = (DBAPIError, SQLAlchemyError, OSError)


def directory_for(instance: Path, database_url: str) -> Path:
    """The spool of one database under the app's instance folder."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:12]
    return instance / "spool" / digest


@dataclass(frozen=True)
class Spooled:
    arrived: datetime
    sid: str
    sender: str
    body: str | None


class Spool:
    def __init__(self, directory: Path):
        self.directory = directory

    def write(self, arrived: datetime, form: Sequence[tuple[str, str]], signature: str) -> Path:
        """Keep one signed text durably; returns its file. Names sort in arrival order."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{threading.get_ident()}{SUFFIX}"
        final = self.directory / name
        temporary = self.directory / f".{name}.tmp"
        record = {"arrived": arrived.isoformat(), "form": list(form), "signature": signature}
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(record, file, ensure_ascii=False)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, final)
        self._sync_directory()
        return final

    def pending(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(
            p for p in self.directory.iterdir() if p.name.endswith(SUFFIX) and p.name[0] != "."
        )

    @staticmethod
    def read(path: Path) -> Spooled:
        record = json.loads(path.read_text(encoding="utf-8"))
        form: dict[str, str] = {}
        for key, value in record["form"]:
            form.setdefault(key, value)  # the first value of each field, as the webhook reads
        return Spooled(
            datetime.fromisoformat(record["arrived"]),
            form.get("MessageSid", "").strip(),
            form.get("From", "").strip(),
            form.get("Body"),
        )

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self._sync_directory()

    @contextmanager
    def replaying(self) -> Iterator[bool]:
        """One replayer per spool at a time, across this machine's processes."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / ".replay.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def _sync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def replay(
    spool: Spool,
    sessions: sessionmaker[Session],
    config: DomainConfig,
    wake: Callable[[bool], object] | None = None,
) -> int:
    """Store and act on every spooled text, oldest first; returns how many. Stops at the first
    text the database still cannot take (raising the error), leaving it and the later ones."""
    done = 0
    with spool.replaying() as mine:
        if not mine:
            return 0
        for path in spool.pending():
            try:
                text = spool.read(path)
            except (OSError, ValueError, KeyError, TypeError):
                log.error("spooled file %s cannot be read; left in place for an operator", path)
                path.rename(path.with_suffix(".unreadable"))
                continue
            message_id = store(
                sessions, text.arrived, sid=text.sid, from_address=text.sender, body=text.body
            )
            _act(sessions, text, message_id, config, wake)
            spool.remove(path)
            done += 1
            log.warning("replayed spooled text %s from %s (arrived %s)", text.sid,
                        text.sender, text.arrived.isoformat())  # fmt: skip
    return done


def _act(sessions, text: Spooled, message_id: int, config, wake) -> None:
    """Act on it as of when it arrived, answering through the outbox (the webhook's answer
    could not say what Faro did). Should that fail, the text is stored: the tick retries it."""
    try:
        with transaction(sessions) as session:
            if wake is not None:
                wake_on_commit(session, wake)
            reply_later(session, text.arrived, message_id, config)
    except Exception:
        log.exception("acting on replayed text %s failed; the tick will retry it", message_id)


class Replayer:
    """This process's replay thread: started when a text is spooled (and at start-up when the
    spool holds some), it retries until the database takes them all, then ends."""

    def __init__(self, run: Callable[[], int], pending: Callable[[], list[Path]]):
        self._run, self._pending = run, pending
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="faro-spool", daemon=True)
                self._thread.start()

    def wait(self, timeout: float) -> bool:
        """Until the spool is empty (tests, graceful shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self._pending()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        delay = RETRY_FIRST
        while not self._stopping.is_set() and self._pending():
            try:
                self._run()
            except UNAVAILABLE as exc:
                log.warning("spooled texts wait for the database: %s", exc.__class__.__name__)
            except Exception:
                log.exception("replaying the spool failed")
            if self._pending():
                self._stopping.wait(delay)
                delay = min(delay * 2, RETRY_MAX)
