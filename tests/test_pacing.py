"""The sender's real speed (TWILIO_MPS): all dispatchers together stay within it, critical
alerts go first and pings by their deadline; a ping that left late moves its reminder and
deadline, so a slow sender raises no false missed check-in; a message overtaken while it
waited is dropped, not sent."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select, update

from bot import outbox
from bot.conversation.inbound import receive
from bot.runtime import STEPS
from bot.transports import TransportError
from escalation.base.db import transaction
from escalation.base.models import (
    EMERGENCY,
    MISSED_CHECKIN,
    PRIORITY_CRITICAL,
    PRIORITY_HIGH,
    OutboundMessage,
)
from escalation.tick import tick as domain_tick
from tests.conftest import RecordingTransport, at
from tests.stories import MOOD_QUESTION, checkins, events, incidents, person, text, tick
from tests.stories import outbox as outbox_rows
from tests.test_batches import queue_texts

DAY = "2026-11-24T{}:00-06:00"
NINE = DAY.format("08:00")


class TimedTransport(RecordingTransport):
    """Remembers when each message reached it (several dispatcher threads send at once)."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []
        self._lock = threading.Lock()

    def send(self, envelope) -> str:
        with self._lock:
            self.times.append(time.monotonic())
            return super().send(envelope)


def dispatch(faro, transport, when: str, mps: float | None, **options) -> int:
    return outbox.dispatch_due(faro.sessions, transport, clock=lambda: at(when), mps=mps,
                               **options)  # fmt: skip


def held(faro, when: str) -> None:
    """A scheduler pass whose messages do not leave: a sender too slow to reach them yet."""
    domain_tick(faro.sessions, at(when), faro.settings.domain, STEPS)


def test_two_dispatchers_together_never_exceed_the_pace(faro, people):
    queue_texts(faro, 60)
    transport, mps = TimedTransport(), 20.0
    threads = [
        threading.Thread(target=dispatch, args=(faro, transport, NINE, mps)) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(e.body for e in transport.sent) == sorted(f"Aviso {n}" for n in range(60))
    times = sorted(transport.times)
    # Each text at its own slot, 1/mps apart, whichever dispatcher sends it (a claim may still
    # take the slots of the last CATCH_UP seconds, which its batch's end let pass).
    for i in range(len(times)):
        for j in range(i + 1, len(times)):
            assert times[j] - times[i] >= (j - i) / mps - outbox.CATCH_UP - 0.03, (i, j)
    assert times[-1] - times[0] >= 59 / mps - outbox.CATCH_UP - 0.03


def test_a_critical_alert_queued_while_texts_wait_for_the_pace_leaves_next(faro, people):
    queue_texts(faro, 12)

    class AlertArrives(TimedTransport):
        arrived = threading.Event()

        def send(self, envelope) -> str:
            if len(self.sent) >= 2 and not self.arrived.is_set():
                self.arrived.set()
                queue_texts(faro, 1, priority=PRIORITY_CRITICAL, first="Alerta")
            return super().send(envelope)

    transport = AlertArrives()
    dispatch(faro, transport, NINE, mps=4.0)
    bodies = [e.body for e in transport.sent]
    assert len(bodies) == 13
    # Claimed with the next token, before any text still waiting.
    assert bodies.index("Alerta 0") <= 3


def test_the_queue_is_priority_then_deadline(faro, people):
    with transaction(faro.sessions) as session:
        for body, send_by, priority in [
            ("ping 11:00", "11:00", 0),
            ("ping 10:00", "10:00", 0),
            ("alerta caso", None, PRIORITY_HIGH),
            ("ping 10:30", "10:30", 0),
            ("alerta sos", None, PRIORITY_CRITICAL),
        ]:
            by = at(DAY.format(send_by)) if send_by else None
            session.add(OutboundMessage(to_phone=people["ana"], kind="checkin_ping", body=body,
                                        priority=priority, created_at=at(NINE),
                                        next_attempt_at=at(NINE), send_by=by))  # fmt: skip
    transport = RecordingTransport()
    dispatch(faro, transport, NINE, mps=100.0, limit=5)
    assert [e.body for e in transport.sent] == [
        "alerta sos", "alerta caso", "ping 10:00", "ping 10:30", "ping 11:00"
    ]  # fmt: skip


def test_each_emergency_reaches_a_first_human_before_any_is_told_to_everyone(faro, people):
    """Ana's SOS, then Beto's a moment later, at a slow sender: the first alert of each leaves
    before the rest of Ana's list."""
    for n, phone in enumerate([people["ana"], people["beto"]]):
        receive(faro.sessions, at(DAY.format("09:00")), sid=f"SMsos{n}", from_address=phone,
                body="SOS")  # fmt: skip
    with faro.sessions() as session:
        queued = session.scalars(
            select(OutboundMessage).where(OutboundMessage.channel == "sms")
            .order_by(OutboundMessage.id)
        ).all()  # fmt: skip
    by_incident = [m.incident_id for m in queued]
    assert len(set(by_incident)) == 2 and by_incident.count(by_incident[0]) >= 2
    transport = RecordingTransport()
    for second in range(6):  # one message a second (calls are not paced, but count here)
        dispatch(faro, transport, f"2026-11-24T09:00:0{second}-06:00", mps=1.0, limit=1)
    sent = [m for m in transport.sent if m.channel == "sms"]
    leads = {m.id: m.incident_id for m in queued if m.priority > PRIORITY_CRITICAL}
    assert [leads.get(m.id) for m in sent[:2]] == sorted(set(by_incident))
    assert sent[2].id in {m.id for m in queued if m.incident_id == by_incident[0]}


def test_a_mood_question_waits_for_the_pings_still_queued(faro, people):
    """Her `ok` makes her mood question due, and the next pass queues it; at a slow sender it
    leaves after the pings that are still waiting, however far their deadlines: a ping is
    someone's safety."""
    tick(faro, DAY.format("07:00"))
    held(faro, DAY.format("08:00"))
    with transaction(faro.sessions) as session:  # Ana's ping left; Beto's still waits
        session.execute(update(OutboundMessage).where(OutboundMessage.to_phone == people["ana"])
                        .values(sent_at=at(NINE), next_attempt_at=None))  # fmt: skip
    receive(faro.sessions, at(DAY.format("08:02")), sid="SMmood", from_address=people["ana"],
            body="ok")  # fmt: skip
    held(faro, "2026-11-24T08:02:30-06:00")  # MOOD_DELAY after her ok
    transport = RecordingTransport()
    dispatch(faro, transport, DAY.format("08:03"), mps=1.0, limit=1)
    dispatch(faro, transport, DAY.format("08:04"), mps=1.0, limit=1)
    beto_ping, ana_mood = transport.sent
    assert beto_ping.to == people["beto"] and not beto_ping.body.startswith(MOOD_QUESTION)
    assert ana_mood.to == people["ana"] and ana_mood.body.startswith(MOOD_QUESTION)


def test_calls_are_not_held_by_the_texts_pace(faro, people):
    with transaction(faro.sessions) as session:
        for channel in ["sms", "voice"] * 3:
            session.add(OutboundMessage(to_phone=people["rosa"], kind="alert", body="Alerta",
                                        channel=channel, priority=PRIORITY_CRITICAL,
                                        created_at=at(NINE), next_attempt_at=at(NINE)))  # fmt: skip
    transport = RecordingTransport()
    outbox.handle_some_outbound(faro.sessions, transport, now=at(NINE), worker="w", mps=1.0)
    channels = [e.channel for e in transport.sent]
    assert sorted(channels) == ["sms", "voice", "voice", "voice"]  # a fresh second: one token


def test_a_ping_that_left_late_moves_her_reminder_and_deadline(faro, people, transport):
    tick(faro, DAY.format("07:00"))
    held(faro, DAY.format("08:00"))  # her ping is queued, and waits for the sender
    held(faro, DAY.format("08:30"))  # the planned reminder: it waits for the ping
    assert outbox_rows(faro, "checkin_reminder") == []

    faro.dispatch(at(DAY.format("08:40")))  # the ping leaves, 40 minutes late
    ana = [c for c in checkins(faro) if c.intern_id == person(faro, people["ana"]).id][0]
    assert ana.sent_at == at(DAY.format("08:40"))
    assert ana.remind_at == at(DAY.format("09:10"))
    assert ana.deadline_at == at(DAY.format("10:40"))  # 120 minutes from when it left
    assert events(faro, "checkin_deadline_moved")[0].data["waited_seconds"] == 40 * 60

    tick(faro, DAY.format("10:00"))  # the planned deadline: no false alarm
    assert incidents(faro, MISSED_CHECKIN) == []
    assert len(outbox_rows(faro, "checkin_reminder")) == 2  # at 09:10, Ana and Beto
    tick(faro, DAY.format("10:40"))
    assert len(incidents(faro, MISSED_CHECKIN)) == 2


def test_a_deadline_waits_for_a_ping_that_has_not_left(faro, people, transport):
    tick(faro, DAY.format("07:00"))
    held(faro, DAY.format("08:00"))
    held(faro, DAY.format("10:30"))  # past the planned deadline, the ping still queued
    assert incidents(faro) == [] and outbox_rows(faro, "checkin_reminder") == []


def test_a_ping_she_answered_before_it_left_is_dropped(faro, people, transport):
    tick(faro, DAY.format("07:00"))
    held(faro, DAY.format("08:00"))
    text(faro, people["ana"], "OK", DAY.format("08:05"))  # the outbox runs, five minutes on
    assert [m.to for m in transport.sent] == [people["beto"]]
    ana_ping = [m for m in outbox_rows(faro, "checkin_ping") if m.to_phone == people["ana"]][0]
    assert (ana_ping.status, ana_ping.sent_at) == ("dropped", None)
    [dropped] = events(faro, "message_dropped")
    assert dropped.data["reason"] == "answered" and dropped.message_id == ana_ping.id
    beto_ping = [m for m in outbox_rows(faro, "checkin_ping") if m.to_phone == people["beto"]][0]
    assert beto_ping.status == "sent"  # still waited for


def test_a_ping_of_a_day_that_is_over_is_dropped_and_nothing_is_missed(faro, people, transport):
    tick(faro, DAY.format("07:00"))
    held(faro, DAY.format("08:00"))
    faro.dispatch(at("2026-11-25T00:30:00-06:00"))  # the sender was down all day
    assert transport.sent == []
    assert {e.data["reason"] for e in events(faro, "message_dropped")} == {"day_over"}
    tick(faro, "2026-11-25T00:31:00-06:00")
    assert incidents(faro) == []


def test_alerts_of_an_acknowledged_case_and_repeated_ones_are_dropped(faro, people, transport):
    transport.failures = [TransportError("Twilio 503", code="20503")] * 100
    text(faro, people["ana"], "SOS", DAY.format("10:00"))
    transport.failures = []
    [case] = incidents(faro, EMERGENCY)
    with transaction(faro.sessions) as session:  # every alert waits out a long backoff
        session.execute(update(OutboundMessage).values(next_attempt_at=at(DAY.format("10:25"))))
    held(faro, DAY.format("10:10"))  # step 2: the supervisor; and at 10:20 everyone again
    held(faro, DAY.format("10:20"))
    faro.dispatch(at(DAY.format("10:25")))
    reasons = {e.message_id: e.data["reason"] for e in events(faro, "message_dropped")}
    alerts = outbox_rows(faro, "alert")
    newest = {(m.to_phone, m.channel): m.id for m in alerts}  # (ordered by id)
    repeated = {m.id for m in alerts if newest[m.to_phone, m.channel] != m.id}
    assert repeated and reasons == dict.fromkeys(repeated, "repeated")
    sent = [(m.to_phone, m.channel) for m in alerts if m.sent_at is not None]
    assert sent and len(sent) == len(set(sent))  # one alert per person and channel, the newest

    held(faro, DAY.format("10:30"))  # a new round is queued; before it leaves, Rosa has it
    text(faro, people["rosa"], f"ATIENDO {case.code}", DAY.format("10:31"))
    late = {e.data["reason"] for e in events(faro, "message_dropped")} - {"repeated"}
    assert late == {"acknowledged"}
    assert all(m.sent_at is None for m in outbox_rows(faro, "alert")
               if m.created_at == at(DAY.format("10:30")))  # fmt: skip
