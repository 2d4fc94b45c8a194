"""APScheduler 3 only *triggers* the tick; every durable fact lives in our tables.

One interval job, `max_instances=1` and coalescing, so a slow pass is never run twice at
once in one process, and passes missed while the process slept collapse into one.
"""

from __future__ import annotations

import logging
import signal
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.exc import SQLAlchemyError

from bot.checks import explain

log = logging.getLogger(__name__)
PATIENCE = 1.0  # seconds a pass waits for the sender's tokens


def _safe_pass(faro) -> None:
    try:
        faro.run_pass(patience=PATIENCE)
        # What a slow sender could not take yet leaves from the dispatcher thread, at the
        # sender's pace, while the next passes come on time.
        faro.dispatcher.nudge()
    except SQLAlchemyError as exc:  # a database restart: one line a pass, the next retries
        log.error("scheduler pass skipped: %s", explain(faro.engine, exc))
    except Exception:  # the loop must outlive anything; the next pass retries
        log.exception("scheduler pass failed")


def _add_job(scheduler, faro) -> None:
    scheduler.add_job(
        _safe_pass,
        "interval",
        args=[faro],
        seconds=faro.settings.tick_seconds,
        id="tick",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),  # first pass at once, then every tick_seconds
    )


def start_background(faro) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC", daemon=True)
    _add_job(scheduler, faro)
    scheduler.start()
    faro.scheduler = scheduler
    log.info("in-process scheduler: a tick every %ss", faro.settings.tick_seconds)
    return scheduler


def run_blocking(faro) -> None:
    scheduler = BlockingScheduler(timezone="UTC")
    _add_job(scheduler, faro)

    def stop(signum, _frame):
        log.info("signal %s: stopping the scheduler after the current pass", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler: a tick every %ss", faro.settings.tick_seconds)
    scheduler.start()
