"""What a pass reports is what it handled: rows it looked at but lost (answered meanwhile, or
claimed by another process) are not counted, and leave nothing behind."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from escalation import deadlines
from escalation.base.db import transaction
from escalation.base.models import CheckIn
from tests.conftest import at
from tests.escalation_helpers import outbox

PING = at("2026-11-24T08:00:00-06:00")


def answered_behind_the_claim(faro) -> None:
    """Her answer commits between a tick's look at the due rows and its claim: the row still
    has its due times, but it is answered (what the claim's condition re-checks)."""
    with transaction(faro.sessions) as session:
        session.execute(update(CheckIn).values(answered_at=PING + timedelta(minutes=1)))


def test_a_reminder_answered_before_the_claim_is_not_counted(faro, people):
    faro.run_pass(PING)
    answered_behind_the_claim(faro)
    before = len(outbox(faro))

    with transaction(faro.sessions) as session:
        later = PING + timedelta(hours=3)
        handled = deadlines.handle_some_reminders(session, later, faro.settings.domain)

    assert handled == 0
    assert len(outbox(faro)) == before


def test_a_deadline_answered_before_the_claim_is_not_counted(faro, people):
    faro.run_pass(PING)
    answered_behind_the_claim(faro)

    with transaction(faro.sessions) as session:
        later = PING + timedelta(hours=6)
        handled = deadlines.handle_some_deadlines(session, later, faro.settings.domain)

    assert handled == 0
