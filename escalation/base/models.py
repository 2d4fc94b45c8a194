"""Faro's tables, SQLAlchemy 2 typed declarative.

Who covers whom is not stored as links: it follows from a responder's role and the place she
is attached to (a nurse's unit, a coordinator's university, a supervisor's municipality), so it
can never disagree with the roster. Buddies are the one explicit link, because they are chosen.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from escalation.base.db import Base, utcnow

# Roles (roster CSV `role` column)
INTERN = "intern"
PEER = "peer"
NURSE = "nurse"
COORDINATOR = "coordinator"
SUPERVISOR = "supervisor"
MENTAL_HEALTH = "mental_health"
ROLES = (INTERN, PEER, NURSE, COORDINATOR, SUPERVISOR, MENTAL_HEALTH)

# Channels
SMS = "sms"
WHATSAPP = "whatsapp"
VOICE = "voice"

UNIT_TYPES = ("A", "B", "C", "CC")

# Incident kinds and severities
EMERGENCY = "emergency"
DURESS = "duress"
MISSED_CHECKIN = "missed_checkin"
UNREACHABLE = "unreachable"
TRIP_OVERDUE = "trip_overdue"
SELF_HARM = "self_harm"
SUPPORT = "support"
UNCLEAR = "unclear"  # texts Faro could not understand, several in a row: someone checks on her
SILENT_CALL = "silent_call"  # she called and chose nothing on the menu: someone checks on her
CRITICAL, HIGH, NORMAL = "critical", "high", "normal"

# Outbound priorities, the first key of the outbox's queue: critical alerts (emergency,
# duress, the administrators' alarms) leave first, then the other cases' alerts, then the rest
# (pings, reminders, replies) by `send_by`, and last the mental-health questions, which wait
# for the day's pings at a slow sender (a ping is her safety; the question can come later).
# Within each class of alerts a stage's first alert goes one higher (`engine.LEAD`).
PRIORITY_LOW = -5
PRIORITY_NORMAL = 0
PRIORITY_HIGH = 5
PRIORITY_CRITICAL = 10

_OPEN = text("resolved_at IS NULL")
# A drill never takes a real case's place: one open real incident per intern and kind, and
# apart from it at most one open drill per intern and kind.
_OPEN_REAL = text("resolved_at IS NULL AND NOT drill")
_OPEN_DRILL = text("resolved_at IS NULL AND drill")
_ENDED = text("ended_at IS NULL")


class University(Base):
    __tablename__ = "university"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # Check-in timing for its interns (an intern may override the first two).
    reminder_minutes: Mapped[int] = mapped_column(default=30)
    deadline_minutes: Mapped[int] = mapped_column(default=120)
    trip_grace_minutes: Mapped[int] = mapped_column(default=20)
    mood_enabled: Mapped[bool] = mapped_column(default=True)
    # Weekly PHQ-2: ISO weekday (7 = Sunday) and local time.
    phq_weekday: Mapped[int] = mapped_column(default=7)
    phq_time: Mapped[str] = mapped_column(String(5), default="19:00")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Unit(Base):
    """A health unit (clinic) where interns serve; its name is unique across the roster."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    municipality: Mapped[str | None] = mapped_column(String(200))
    unit_type: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


buddy = Table(
    "buddy",
    Base.metadata,
    Column("intern_id", ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
    Column("buddy_id", ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
)


class Person(Base):
    """An intern or a responder, identified by an E.164 phone."""

    __tablename__ = "person"
    __table_args__ = (
        Index("ix_person_role_unit", "role", "unit_id"),
        Index("ix_person_role_university", "role", "university_id"),
        Index("ix_person_role_municipality", "role", "municipality"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[str] = mapped_column(String(10), default=SMS)
    language: Mapped[str] = mapped_column(String(5), default="es")
    timezone: Mapped[str] = mapped_column(String(64), default="America/Monterrey")
    checkin_time: Mapped[str | None] = mapped_column(String(5))
    university_id: Mapped[int | None] = mapped_column(ForeignKey("university.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    # Only a supervisor's coverage is a municipality; everyone else's follows from the unit.
    municipality: Mapped[str | None] = mapped_column(String(200))
    duress_word: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    # Interns' schedule. ISO weekdays (1 = Monday) on which she is pinged.
    checkin_days: Mapped[str] = mapped_column(String(7), default="1234567")
    reminder_minutes: Mapped[int | None]
    deadline_minutes: Mapped[int | None]
    # First local date on which pings resume after PAUSA / VACACIONES.
    paused_until: Mapped[date | None] = mapped_column(Date)
    # Due work, found by index: the next ping, and the "pings resume tomorrow" notice.
    next_checkin_at: Mapped[datetime | None] = mapped_column(index=True)
    pause_notice_at: Mapped[datetime | None] = mapped_column(index=True)
    # Set when a text to this person failed for good (shown to administrators).
    unreachable_since: Mapped[datetime | None]
    # Set when she texted STOP/BAJA … or Twilio refused a message with 21610 (she opted out at
    # the carrier): no pings or questions, nothing that expects an answer; START/ALTA clears it.
    opted_out_at: Mapped[datetime | None]
    # Due work: the next weekly PHQ-2 questionnaire.
    next_phq_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    university: Mapped[University | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    buddies: Mapped[list[Person]] = relationship(
        secondary=buddy,
        primaryjoin=lambda: Person.id == buddy.c.intern_id,
        secondaryjoin=lambda: Person.id == buddy.c.buddy_id,
        order_by=lambda: Person.id,
    )

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name

    @property
    def is_intern(self) -> bool:
        return self.role == INTERN

    @property
    def takes_prompts(self) -> bool:
        """Whether Faro may text her first (pings, questions): active and not opted out."""
        return bool(self.active) and self.opted_out_at is None


class InboundMessage(Base):
    """Every text that reached us, stored before anything else is done with it."""

    __tablename__ = "inbound_message"
    __table_args__ = (Index("ix_inbound_unprocessed", "processed_at", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_address: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    channel: Mapped[str] = mapped_column(String(10), default=SMS)
    body: Mapped[str] = mapped_column(Text, default="")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    intent: Mapped[str | None] = mapped_column(String(20))
    reply: Mapped[str | None] = mapped_column(Text)


class OutboundMessage(Base):
    """The outbox. A row is pending while `next_attempt_at` is set; its status is derived."""

    __tablename__ = "outbound_message"
    __table_args__ = (
        Index("ix_outbound_due", "next_attempt_at", "priority"),
        Index("ix_outbound_person_kind", "person_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)
    to_phone: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10), default=SMS)
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(default=PRIORITY_NORMAL)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    provider_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    error_code: Mapped[str | None] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(Text)
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    delivery_updated_at: Mapped[datetime | None]
    # WhatsApp business-initiated messages go as an approved template.
    content_sid: Mapped[str | None] = mapped_column(String(64))
    content_variables: Mapped[str | None] = mapped_column(Text)
    # The message this one replaces after a failed delivery (the failover chain).
    failover_of_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_message.id"))
    # The check-in a ping or reminder serves (its deadlines count from when the ping left).
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkin.id"), index=True)
    # The moment after which it is of little use (a ping: her deadline); orders a queue longer
    # than a second of sending, after priority. Unset: its own queueing time.
    send_by: Mapped[datetime | None]
    # Not sent because it was overtaken (she answered, the case was acknowledged, a later
    # repeat replaced it) or grew too old while the sender was down: no longer pending.
    dropped_at: Mapped[datetime | None]

    @property
    def status(self) -> str:
        return outbound_status(self)


def outbound_status(message: OutboundMessage) -> str:
    """queued, sent, failed or dropped, from the timestamps; Twilio's delivery status refines
    `sent`."""
    if message.failed_at is not None:
        return "failed"
    if message.dropped_at is not None:
        return "dropped"
    if message.sent_at is not None:
        return message.delivery_status or "sent"
    return "queued"


class Incident(Base):
    """Something a human must act on. Open while `resolved_at` is unset."""

    __tablename__ = "incident"
    __table_args__ = (
        Index(
            "uq_incident_open_kind",
            "intern_id",
            "kind",
            unique=True,
            sqlite_where=_OPEN_REAL,
            postgresql_where=_OPEN_REAL,
        ),
        Index(
            "uq_incident_open_drill_kind",
            "intern_id",
            "kind",
            unique=True,
            sqlite_where=_OPEN_DRILL,
            postgresql_where=_OPEN_DRILL,
        ),
        Index(
            "uq_incident_open_code", "code", unique=True, sqlite_where=_OPEN, postgresql_where=_OPEN
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8))
    intern_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    kind: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    resolution: Mapped[str | None] = mapped_column(String(40))
    # Escalation progress: the last step taken, how often the last step repeated, and when
    # the next one is due (indexed due work; NULL once acknowledged or resolved).
    step: Mapped[int] = mapped_column(default=0)
    repeats: Mapped[int] = mapped_column(default=0)
    next_step_at: Mapped[datetime | None] = mapped_column(index=True)
    # After an acknowledgement: when to check it was resolved (reminder, then re-escalation).
    ack_check_at: Mapped[datetime | None] = mapped_column(index=True)
    ack_reminded_at: Mapped[datetime | None]
    # Facts the alerts need beyond the intern (a trip's destination and departure …).
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A drill (SIMULACRO): runs its policy like a real case, never texts the intern, is kept
    # out of reports and closes itself after its last step (escalation.drills).
    drill: Mapped[bool] = mapped_column(default=False)

    intern: Mapped[Person] = relationship(foreign_keys=[intern_id])

    @property
    def status(self) -> str:
        return incident_status(self)


def incident_status(incident: Incident) -> str:
    if incident.resolved_at is not None:
        return "resolved"
    if incident.acknowledged_at is not None:
        return "acknowledged"
    return "open"


class CheckIn(Base):
    """One intern's check-in for one local date (never two the same day)."""

    __tablename__ = "checkin"
    __table_args__ = (UniqueConstraint("intern_id", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    intern_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    local_date: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime | None]  # the scheduled ping instant
    sent_at: Mapped[datetime | None]  # when the ping was queued (late after downtime)
    deadline_at: Mapped[datetime | None]
    # Due work (indexed, cleared once done or answered): the reminder and the deadline; once
    # she answers, the day's mood question (asked by the tick, `wellbeing.handle_some_due_moods`).
    remind_at: Mapped[datetime | None] = mapped_column(index=True)
    escalate_at: Mapped[datetime | None] = mapped_column(index=True)
    mood_at: Mapped[datetime | None] = mapped_column(index=True)
    reminded_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def late(self) -> bool:
        return bool(self.answered_at and self.deadline_at and self.answered_at > self.deadline_at)


class Event(Base):
    """The append-only timeline: every state change writes one; nobody edits or deletes them.

    The events form a hash chain (escalation.base.audit): when its transaction commits, each
    event gets the next `seq`, the `hash` of the event before it (`prev_hash`) and its own
    `hash` over its content and that link, so `audit verify` finds a row altered, deleted or
    inserted afterwards. Unset only while the transaction that wrote it is still open.
    """

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_incident_at", "incident_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"))
    message_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's head, one row: the last event's `seq` and `hash`. Committers queue on its
    row lock, so the chain stays one line however many processes write."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class Sender(Base):
    """The sender, one row every dispatcher shares (bot/outbox.py): its next free sending slot,
    which keeps all processes together within TWILIO_MPS, and a provider-wide outage while one
    lasts (only a probe is sent until it ends)."""

    __tablename__ = "sender"

    id: Mapped[int] = mapped_column(primary_key=True)
    next_slot: Mapped[datetime | None]
    outage_since: Mapped[datetime | None]
    probe_at: Mapped[datetime | None]


class Trip(Base):
    """VIAJE 3h Monterrey: a timer on the road. Open while `ended_at` is unset."""

    __tablename__ = "trip"
    __table_args__ = (
        Index(
            "uq_trip_open", "intern_id", unique=True, sqlite_where=_ENDED, postgresql_where=_ENDED
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    intern_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    destination: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime]
    expected_at: Mapped[datetime]
    # Due work: ask "¿Llegaste bien?", then open a trip-overdue incident.
    ask_at: Mapped[datetime | None] = mapped_column(index=True)
    overdue_at: Mapped[datetime | None] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]


class Policy(Base):
    """Escalation steps for one incident kind, per university (NULL: the default policy).

    `steps` is validated JSON (escalation.policy) so a bad policy is refused when saved.
    """

    __tablename__ = "policy"
    __table_args__ = (UniqueConstraint("university_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    university_id: Mapped[int | None] = mapped_column(ForeignKey("university.id"))
    kind: Mapped[str] = mapped_column(String(20))
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Heartbeat(Base):
    """The last completed scheduler tick (one row), for /health and the silence alarm."""

    __tablename__ = "heartbeat"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_tick_at: Mapped[datetime | None]
    # One alarm per outage and one all-clear when ticks resume, claimed by conditional UPDATE.
    silence_alerted_at: Mapped[datetime | None]
    resume_notified_at: Mapped[datetime | None]


# Mental-health question kinds
MOOD = "mood"  # 1..5, daily, right after the check-in is answered
PHQ2_1 = "phq2_1"  # 0..3, little interest or pleasure
PHQ2_2 = "phq2_2"  # 0..3, down, depressed or hopeless
PHQ9_9 = "phq9_9"  # 0..3, thoughts of self-harm (asked after a positive PHQ-2)
CALL_OFFER = "call_offer"  # yes/no, "shall someone from the team call you?"


class Question(Base):
    """One mental-health question put to one intern. Health data: never in responders' alerts.

    Open while neither `answered_at` nor `expired_at` is set; `expires_at` is the indexed due
    work that records an unanswered question as not answered (never as 0).
    """

    __tablename__ = "question"
    __table_args__ = (
        UniqueConstraint("intern_id", "kind", "local_date"),
        Index("ix_question_intern_open", "intern_id", "answered_at", "expired_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    intern_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    kind: Mapped[str] = mapped_column(String(20))
    local_date: Mapped[date] = mapped_column(Date)
    asked_at: Mapped[datetime]
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]
    expired_at: Mapped[datetime | None]
    answer: Mapped[int | None]


# Console roles (`flask --app app create-admin --role`)
ADMIN = "admin"
ACCOUNT_ROLES = (ADMIN, COORDINATOR, SUPERVISOR, MENTAL_HEALTH)


class Account(Base):
    """Someone who signs in to the web console. Her role and place decide what she sees: an
    administrator everything, a coordinator her university, a supervisor her municipality, a
    mental-health contact the mental-health cases of her university."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    university_id: Mapped[int | None] = mapped_column(ForeignKey("university.id"))
    municipality: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5), default="es")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    university: Mapped[University | None] = relationship()
