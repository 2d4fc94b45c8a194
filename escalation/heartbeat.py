"""The scheduler's heartbeat and the silence alarm.

Every completed tick writes `heartbeat.last_tick_at` (escalation/tick.py). When it is older
than SILENCE, nothing is pinged or escalated any more, and the on-call administrators
(ADMIN_PHONES) must hear of it. A scheduler cannot notice its own silence, so two others do:
- the web process, on `GET /health` (what uptime monitors poll), claims the alarm;
- the next tick to run after the silence, which sends the all-clear (and, when nobody
  noticed the outage while it lasted, says how long it was) with how many check-ins are
  going out late because of it. It is the tick's first step, so it counts the late pings
  the pings step is about to send (late_pings.late_pings_due) rather than waiting for them.
Both claim by conditional UPDATE on the one heartbeat row, so the administrators get one
alarm per outage and one all-clear however many processes notice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from escalation.base.config import DomainConfig
from escalation.base.messages import render
from escalation.base.models import PRIORITY_CRITICAL, Heartbeat
from escalation.base.schedule import day_and_time
from escalation.base.timeline import queue, record
from escalation.late_pings import late_pings_due

SILENCE = timedelta(minutes=10)
ADMIN_ALERT = "admin_alert"
# Nobody has told of a silence since the last pass. The pass that tells of one stamps it with
# its own instant, which its heartbeat then also holds: a silence after that pass is new.
_this_outage_unalerted = or_(
    Heartbeat.silence_alerted_at.is_(None), Heartbeat.silence_alerted_at <= Heartbeat.last_tick_at
)


def _last(session: Session) -> datetime | None:
    return session.scalar(select(Heartbeat.last_tick_at).where(Heartbeat.id == 1))


def notice_silence(session: Session, now: datetime, config: DomainConfig) -> bool:
    """From /health: text the administrators once if the scheduler has been silent too long.
    Cheap when all is well: one primary-key read."""
    last = _last(session)
    if last is None or now - last < SILENCE:
        return False
    claimed = session.execute(
        update(Heartbeat)
        .where(Heartbeat.id == 1, Heartbeat.last_tick_at == last, _this_outage_unalerted)
        .values(silence_alerted_at=now)
    ).rowcount
    if claimed != 1:
        return False
    tell_admins(session, now, config, "scheduler_silent", last)
    record(session, now, "scheduler_silent", last_tick=last.isoformat())
    return True


def handle_one_resume(session: Session, now: datetime, config: DomainConfig) -> bool:
    """The first step of a tick: after a silence, the administrators hear ticks are back."""
    row = session.execute(
        select(Heartbeat.last_tick_at, Heartbeat.silence_alerted_at).where(Heartbeat.id == 1)
    ).first()
    if row is None or row.last_tick_at is None:
        return False
    last, alerted = row.last_tick_at, row.silence_alerted_at
    if alerted is not None and alerted > last:  # /health raised the alarm: the all-clear
        values = {"resume_notified_at": now}
        condition = (
            Heartbeat.silence_alerted_at > Heartbeat.last_tick_at,
            or_(
                Heartbeat.resume_notified_at.is_(None),
                Heartbeat.resume_notified_at < Heartbeat.silence_alerted_at,
            ),
        )
    elif now - last >= SILENCE:  # nobody noticed the outage while it lasted: one text says all
        values = {"silence_alerted_at": now, "resume_notified_at": now}
        condition = (Heartbeat.last_tick_at == last, _this_outage_unalerted)
    else:
        return False
    claimed = session.execute(
        update(Heartbeat).where(Heartbeat.id == 1, *condition).values(**values)
    ).rowcount
    if claimed != 1:
        return False
    late = late_pings_due(session, now)
    tell_admins(session, now, config, "scheduler_resumed", last, late=late)
    record(session, now, "scheduler_resumed", last_tick=last.isoformat(), late_pings=late)
    return True


def tell_admins(
    session: Session, now: datetime, config: DomainConfig, template: str, last, **fields: object
) -> None:
    zone = config.default_timezone
    body = render(
        template,
        config.default_language,
        since=day_and_time(last, zone),
        at=day_and_time(now, zone),
        minutes=int((now - last).total_seconds() // 60),
        **fields,
    )
    for phone in config.admin_phones:
        queue(session, now, kind=ADMIN_ALERT, body=body, phone=phone, priority=PRIORITY_CRITICAL)
