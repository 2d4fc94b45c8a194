"""`flask --app app scheduler` ticks on its own and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy.orm import Session

from escalation.base.db import make_engine
from escalation.base.migrate import upgrade
from escalation.tick import last_tick

ROOT = Path(__file__).resolve().parent.parent


def test_the_scheduler_ticks_and_stops_on_sigterm(tmp_path):
    url = f"sqlite:///{tmp_path / 'faro.db'}"
    engine = make_engine(url)
    upgrade(engine)
    env = {**os.environ, "DATABASE_URL": url, "TICK_SECONDS": "1", "SMS_TRANSPORT": "console",
           "RUN_SCHEDULER": "0", "SECRET_KEY": "test"}  # fmt: skip
    flask = Path(sys.executable).with_name("flask")
    log = tmp_path / "scheduler.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(flask), "--app", "app", "scheduler"], cwd=ROOT, env=env, stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        ticked = None
        while ticked is None and time.monotonic() < deadline and process.poll() is None:
            with Session(engine) as session:
                ticked = last_tick(session)
            time.sleep(0.2)
        assert ticked is not None, log.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
        engine.dispose()
