"""The escalation engine: whom an incident's steps reach, when, by which channel, and what
happens when an alert cannot be delivered.

Every unit of due work is claimed by a conditional UPDATE (proceed only on rowcount 1), with
`FOR UPDATE SKIP LOCKED` on PostgreSQL so that concurrent schedulers pick different rows:
- a due step: `next_step_at` (indexed) moves from the value we read to the next step's time,
  and only while nobody has acknowledged or resolved the incident;
- an acknowledgement left unresolved: `ack_check_at` (indexed) moves on, reminding the
  acknowledger first and re-escalating 30 minutes later;
- a failed alert: its follow-up claimed once (`escalation.base.timeline.claim_follow_up`).

A step's stage is (step, repeats): steps 1..n of the policy, then repeats of step n, then the
"final" stage n + 1 (everyone on the policy and the administrators, called and texted) which
repeats at the last step's interval until someone acknowledges: the chain never goes quiet.

A drill (`Incident.drill`, escalation.drills) runs the same stages with every message marked
SIMULACRO, and never reaches the final stage: when that stage falls due (the last step's wait
after its last repeat has passed) the drill closes itself instead and tells those it alerted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from escalation.base.channels import CHANNELS, after
from escalation.base.config import DomainConfig
from escalation.base.db import skip_locked
from escalation.base.kinds import ADMINS, BUDDIES, KINDS, PERSON_PREFIX
from escalation.base.messages import render
from escalation.base.models import (
    CRITICAL,
    NURSE,
    PRIORITY_CRITICAL,
    PRIORITY_HIGH,
    SMS,
    SUPERVISOR,
    VOICE,
    Event,
    Incident,
    OutboundMessage,
    Person,
)
from escalation.base.timeline import claim_follow_up, not_followed_up, queue, record
from escalation.policy import Step, load_policy

log = logging.getLogger(__name__)

ALERT = "alert"
DRILL_MARK, VOICE_DRILL_MARK = "drill_mark", "voice_drill_mark"
DRILL_ENDED = "drill_ended"  # the event, the notice's template and the resolution
ACK_REMIND_AFTER = timedelta(hours=2)
REESCALATE_AFTER = timedelta(minutes=30)
# A failed alert older than this is history, not something to fail over any more.
FAILOVER_WINDOW = timedelta(hours=1)
FAILED_STATUSES = ("failed", "undelivered")


@dataclass(frozen=True)
class Recipient:
    """Someone an alert goes to: a person on the roster, or an administrator's phone."""

    person: Person | None
    phone: str

    @property
    def language(self) -> str:
        return self.person.language if self.person else "es"


# --- who ----------------------------------------------------------------------------------------


def covering(session: Session, intern: Person, role: str) -> list[Person]:
    """The active people of `role` who cover `intern` (by unit, municipality or university)."""
    query = select(Person).where(Person.role == role, Person.active.is_(True))
    if role == NURSE:
        if intern.unit_id is None:
            return []
        query = query.where(Person.unit_id == intern.unit_id)
    elif role == SUPERVISOR:
        municipality = intern.unit.municipality if intern.unit else None
        if municipality is None:
            return []
        query = query.where(Person.municipality == municipality)
    elif intern.university_id is None:
        return []
    else:
        query = query.where(Person.university_id == intern.university_id)
    return list(session.scalars(query.order_by(Person.id)))


def recipients(
    session: Session, intern: Person, targets: tuple[str, ...], admin_phones: tuple[str, ...]
) -> list[Recipient]:
    """Everyone `targets` names for `intern`, once each, never the intern herself."""
    found: list[Recipient] = []
    for target in targets:
        if target == BUDDIES:
            found += [Recipient(p, p.phone) for p in intern.buddies]
        elif target == ADMINS:
            found += [Recipient(None, phone) for phone in admin_phones]
        elif target.startswith(PERSON_PREFIX):
            phone = target[len(PERSON_PREFIX) :]
            person = session.scalar(select(Person).where(Person.phone == phone))
            found.append(Recipient(person, phone))
        else:
            found += [Recipient(p, p.phone) for p in covering(session, intern, target)]
    unique: dict[str, Recipient] = {}
    for r in found:
        if r.phone != intern.phone and (r.person is None or r.person.active):
            unique.setdefault(r.phone, r)
    return list(unique.values())


def channels_for(recipient: Recipient, channels: tuple[str, ...]) -> list[str]:
    """A step's channels for one person: "sms" means her own text channel (SMS or WhatsApp)."""
    text_channel = recipient.person.channel if recipient.person else SMS
    mapped = [text_channel if c == SMS else c for c in channels]
    return list(dict.fromkeys(mapped))


# --- what ---------------------------------------------------------------------------------------


def alert_facts(incident: Incident, intern: Person) -> dict[str, Any]:
    unit = intern.unit
    since = incident.opened_at.astimezone(ZoneInfo(intern.timezone)).strftime("%H:%M")
    return {
        **(incident.detail or {}),
        "intern": intern.name,
        "phone": intern.phone,
        "unit": unit.name if unit else "sin unidad",
        "municipality": (unit.municipality if unit else None) or "sin municipio",
        "since": since,
        "code": incident.code,
        "code_spoken": ", ".join(incident.code),
    }


def alert_body(
    incident: Incident,
    intern: Person,
    language: str,
    channel: str = SMS,
    *,
    again: bool = False,
    others: str | None = None,
) -> str:
    """The alert text, or for a call the words spoken (same facts, the code digit by digit)."""
    facts = alert_facts(incident, intern)
    mark = mark_of(incident, channel)
    if channel == VOICE:
        return render(KINDS[incident.kind].voice_template, language, mark=mark, **facts)
    template = KINDS[incident.kind].alert_template
    return render(template, language, mark=mark, again=again, others=others, **facts)


def mark_of(incident: Incident, channel: str = SMS) -> str | None:
    """What opens every message about a drill (`render`'s mark): SIMULACRO in a text, and a
    call that says "Simulacro" before anything else. None for a real incident."""
    if not incident.drill:
        return None
    return VOICE_DRILL_MARK if channel == VOICE else DRILL_MARK


# A stage's first alert leads: it leaves before the other alerts of every stage of its class,
# so that when many cases open at once (the worst night: 200 SOS in a quarter of a minute)
# each reaches a first human before any is told to everyone on its list.
LEAD = 1


def priority_of(incident: Incident) -> int:
    return PRIORITY_CRITICAL if incident.severity == CRITICAL else PRIORITY_HIGH


# --- when ---------------------------------------------------------------------------------------


def stage_step(policy: list[Step], step: int) -> Step:
    """Step `step` (1-based) of the policy; past the last, the final call to everyone."""
    if step <= len(policy):
        return policy[step - 1]
    targets = [t for s in policy for t in s.targets] + [ADMINS]
    last = policy[-1]
    return Step(0, tuple(dict.fromkeys(targets)), (SMS, VOICE), last.repeat_every_minutes, 0)


def following(policy: list[Step], step: int, repeats: int) -> tuple[int, int, int, bool]:
    """The stage after (step, repeats): (step, repeats, minutes after this one, is a repeat)."""
    n, last = len(policy), policy[-1]
    if step < n:
        return step + 1, 0, policy[step].after_minutes, False
    if step == n and repeats < last.repeat_count:
        return n, repeats + 1, last.repeat_every_minutes, True
    if step == n:
        return n + 1, 0, last.repeat_every_minutes, False
    return n + 1, repeats + 1, last.repeat_every_minutes, True


def next_due(policy: list[Step], step: int, repeats: int, due: datetime, now: datetime) -> datetime:
    """When the stage after (step, repeats), taken as of `due`, is due.

    A distinct step missed while the scheduler was down is still taken (at once); repeats of
    the same people missed meanwhile collapse into one, not a burst of calls."""
    *_, minutes, is_repeat = following(policy, step, repeats)
    at = due + timedelta(minutes=minutes)
    return now + timedelta(minutes=minutes) if is_repeat and at <= now else at


def policy_for(session: Session, incident: Incident) -> list[Step]:
    return load_policy(session, incident.intern.university_id, incident.kind)


# --- alerting -----------------------------------------------------------------------------------


def alert(
    session: Session,
    now: datetime,
    incident: Incident,
    step: Step,
    config: DomainConfig,
    *,
    number: int = 1,
    repeat: int = 0,
    people: list[Recipient] | None = None,
    before: list[Recipient] | None = None,
) -> list[Recipient]:
    """Queue one stage's alerts to `people` (by default whom the step names). Each text says
    who else has been told (`before`: those alerted earlier; looked up when not given), so
    that a responder at 3 a.m. knows whom to call."""
    intern = incident.intern
    if people is None:
        people = recipients(session, intern, step.targets, config.admin_phones)
    now_told = {r.phone for r in people}
    earlier = alerted(session, incident) if before is None else before
    told = [r for r in earlier if r.phone not in now_told]
    for n, r in enumerate(people):
        others = _names([o for o in (*told, *people) if o.phone != r.phone], r.language)
        _queue_alerts(session, now, incident, r, step.channels, again=number > 1 or repeat > 0,
                      others=others, lead=n == 0)  # fmt: skip
    record(session, now, "alerted", person=intern, incident=incident, step=number,
           repeat=repeat, to=[r.person.id if r.person else r.phone for r in people],
           channels=list(step.channels))  # fmt: skip
    return people


def _queue_alerts(session, now, incident, r: Recipient, channels, *, again, others, lead) -> None:
    for n, channel in enumerate(channels_for(r, channels)):
        body = alert_body(incident, incident.intern, r.language, channel, again=again,
                          others=others)  # fmt: skip
        priority = priority_of(incident) + (LEAD if lead and n == 0 else 0)
        queue(session, now, kind=ALERT, body=body, person=r.person, phone=r.phone,
              channel=channel, incident=incident, priority=priority)  # fmt: skip


def alerted_people(session: Session, incident: Incident) -> list[Person]:
    """Everyone on the roster an alert for `incident` was queued to."""
    ids = select(OutboundMessage.person_id).where(
        OutboundMessage.incident_id == incident.id, OutboundMessage.kind == ALERT
    )
    return list(session.scalars(select(Person).where(Person.id.in_(ids)).order_by(Person.id)))


def alerted(session: Session, incident: Incident) -> list[Recipient]:
    """Everyone alerted, the administrators' phones (no roster row) included, once each."""
    people = {p.phone: Recipient(p, p.phone) for p in alerted_people(session, incident)}
    phones = session.scalars(
        select(OutboundMessage.to_phone)
        .where(
            OutboundMessage.incident_id == incident.id,
            OutboundMessage.kind == ALERT,
            OutboundMessage.person_id.is_(None),
        )
        .distinct()
    )
    for phone in phones:
        people.setdefault(phone, Recipient(None, phone))
    return list(people.values())


def _names(people: list[Recipient], language: str) -> str | None:
    """First names for "also alerted: …"; the administrators' phones are one "Faro" name."""
    names = [r.person.first_name if r.person else render("admin_name", language) for r in people]
    return ", ".join(dict.fromkeys(names)) or None


def take_stage(
    session: Session,
    now: datetime,
    incident: Incident,
    policy: list[Step],
    config: DomainConfig,
    *,
    new: bool = False,
) -> list[Recipient]:
    """Alert the incident's current stage (`incident.step`, `.repeats`, already claimed).

    A stage whose targets resolve to nobody (no buddy, a unit without a nurse …) never waits
    out its timer: it is written on the timeline and the next step with someone is taken at
    once, ending with the final stage (everyone and the administrators). Returns who was
    queued; empty only when nobody at all could be named, which is logged as an error. `new`:
    the incident was opened in this transaction, so nobody was alerted before."""
    step, repeats, passed = incident.step, incident.repeats, False
    while True:
        if incident.drill and step > len(policy):  # nobody left on the policy to practise
            end_drill(session, now, incident, after_step=step - 1)
            return []
        stage = stage_step(policy, step)
        people = recipients(session, incident.intern, stage.targets, config.admin_phones)
        if people or step > len(policy):
            break
        record(session, now, "step_nobody", person=incident.intern, incident=incident,
               step=step, targets=list(stage.targets))  # fmt: skip
        step, repeats, passed = step + 1, 0, True
    if passed:  # the timer runs from the step actually taken, now
        incident.step, incident.repeats = step, repeats
        incident.next_step_at = next_due(policy, step, repeats, now, now)
    if not people:
        log.error("incident %s: nobody to alert (no responders, no ADMIN_PHONES)", incident.id)
        record(session, now, "nobody_to_alert", person=incident.intern, incident=incident,
               step=step)  # fmt: skip
        return []
    return alert(session, now, incident, stage, config, number=step, repeat=repeats,
                 people=people, before=[] if new else None)  # fmt: skip


def start(
    session: Session, now: datetime, incident: Incident, config: DomainConfig
) -> list[Recipient]:
    """Take step one of a new incident (in the transaction that opens it) and set the timer.
    Returns who was alerted."""
    policy = policy_for(session, incident)
    incident.step, incident.repeats = 1, 0
    incident.next_step_at = next_due(policy, 1, 0, now, now)
    return take_stage(session, now, incident, policy, config, new=True)


def realert_step_one(
    session: Session, now: datetime, incident: Incident, config: DomainConfig
) -> None:
    """Another SOS: step one's people hear again (or, when it names nobody, the stage the
    incident is at)."""
    policy = policy_for(session, incident)
    people = recipients(session, incident.intern, policy[0].targets, config.admin_phones)
    if people:
        alert(session, now, incident, policy[0], config, number=1, people=people)
        return
    stage = stage_step(policy, incident.step)
    people = recipients(session, incident.intern, stage.targets, config.admin_phones)
    if people:
        alert(session, now, incident, stage, config, number=incident.step, people=people)


def handle_one_due_step(session: Session, now: datetime, config: DomainConfig) -> bool:
    """Take the next escalation step of one incident whose `next_step_at` has come."""
    query = (
        select(Incident)
        .where(
            Incident.next_step_at <= now,
            Incident.acknowledged_at.is_(None),
            Incident.resolved_at.is_(None),
        )
        .order_by(Incident.next_step_at)
        .limit(1)
    )
    incident = session.scalar(skip_locked(query, session))
    if incident is None:
        return False
    if not advance(session, now, incident, config):
        # Claimed elsewhere between our read and our update: the row is no longer ours.
        log.info("escalation step of incident %s taken by another scheduler", incident.id)
    return True


def advance(session: Session, now: datetime, incident: Incident, config: DomainConfig) -> bool:
    """Take the incident's due step, once: claimed by moving `next_step_at` from the value we
    read. A repeat whose following stage is due too is not sent as well (its people would be
    alerted twice at once): that stage is taken instead. Returns whether this call took it."""
    due = incident.next_step_at
    if due is None or due > now:
        return False
    policy = policy_for(session, incident)
    step, repeats, _, is_repeat = following(policy, incident.step, incident.repeats)
    taken_due = due
    if is_repeat:  # taken late: the stage after it (everyone, its people too) may be due as well
        after, after_repeats, minutes, after_is_repeat = following(policy, step, repeats)
        if not after_is_repeat and due + timedelta(minutes=minutes) <= now:
            step, repeats, taken_due = after, after_repeats, due + timedelta(minutes=minutes)
    if incident.drill and step > len(policy):
        return _end_drill_when_due(session, now, incident, due)
    following_due = next_due(policy, step, repeats, taken_due, now)
    if not _claim_step(session, incident, due, step=step, repeats=repeats,
                       next_step_at=following_due):  # fmt: skip
        return False
    take_stage(session, now, incident, policy, config)
    return True


def _claim_step(session: Session, incident: Incident, due: datetime, **values) -> bool:
    """Move `incident` on from the stage due at `due` (conditional UPDATE, rowcount 1), unless
    another process did, or it was acknowledged or resolved meanwhile; `incident` is re-read."""
    claimed = session.execute(
        update(Incident)
        .where(
            Incident.id == incident.id,
            Incident.next_step_at == due,
            Incident.acknowledged_at.is_(None),
            Incident.resolved_at.is_(None),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(incident)
    return claimed == 1


def _end_drill_when_due(session: Session, now: datetime, incident: Incident, due) -> bool:
    """The drill's last step has had its wait: close it, once (claimed like a step)."""
    if not _claim_step(session, incident, due, next_step_at=None):
        return False
    end_drill(session, now, incident, after_step=incident.step)
    return True


def end_drill(session: Session, now: datetime, incident: Incident, *, after_step: int) -> None:
    """Close a drill whose steps are over: the closing event (naming the account that started
    it) and a short "SIMULACRO terminado" to everyone it alerted. The caller holds the claim."""
    session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.resolved_at.is_(None))
        .values(resolved_at=now, resolution=DRILL_ENDED, next_step_at=None, ack_check_at=None)
        .execution_options(synchronize_session=False)
    )
    session.refresh(incident)
    record(session, now, DRILL_ENDED, person=incident.intern, incident=incident,
           how="last_step", after_step=after_step,
           account=drill_account(session, incident))  # fmt: skip
    for r in alerted(session, incident):
        body = render(DRILL_ENDED, r.language, code=incident.code, intern=incident.intern.name)
        queue(session, now, kind=DRILL_ENDED, body=body, person=r.person, phone=r.phone,
              incident=incident)  # fmt: skip


def drill_account(session: Session, incident: Incident) -> str | None:
    """The console account that started the drill (its `drill_started` event says)."""
    data = session.scalar(
        select(Event.data)
        .where(Event.incident_id == incident.id, Event.kind == "drill_started")
        .limit(1)
    )
    return (data or {}).get("account")


# --- acknowledged but not resolved --------------------------------------------------------------


def handle_one_ack_check(session: Session, now: datetime, config: DomainConfig) -> bool:
    """An acknowledgement unresolved for 2 h reminds its holder; 30 min later, re-escalate."""
    query = (
        select(Incident)
        .where(Incident.ack_check_at <= now, Incident.resolved_at.is_(None))
        .order_by(Incident.ack_check_at)
        .limit(1)
    )
    incident = session.scalar(skip_locked(query, session))
    if incident is None:
        return False
    due = incident.ack_check_at
    remind = incident.ack_reminded_at is None and incident.acknowledged_at is not None
    if remind:
        values = {"ack_reminded_at": now, "ack_check_at": now + REESCALATE_AFTER}
    else:  # reminded 30 minutes ago and still open: take it back and resume the steps
        values = {
            "acknowledged_at": None,
            "acknowledged_by_id": None,
            "ack_check_at": None,
            "ack_reminded_at": None,
            "next_step_at": now,
        }
    holder_id = incident.acknowledged_by_id
    claimed = session.execute(
        update(Incident)
        .where(
            Incident.id == incident.id,
            Incident.ack_check_at == due,
            Incident.resolved_at.is_(None),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(incident)
    if claimed == 1 and remind:
        _remind_holder(session, now, incident)
    elif claimed == 1:
        record(session, now, "reescalated", incident=incident, person_id=holder_id)
    return True


def _remind_holder(session: Session, now: datetime, incident: Incident) -> None:
    holder = (
        session.get(Person, incident.acknowledged_by_id) if incident.acknowledged_by_id else None
    )
    phone = holder.phone if holder else last_acknowledgement(session, incident).get("phone")
    if phone is None:
        return
    intern = incident.intern
    zone = ZoneInfo(holder.timezone if holder else intern.timezone)
    body = render(
        "ack_reminder",
        holder.language if holder else "es",
        mark=mark_of(incident),
        code=incident.code,
        intern=intern.name,
        since=incident.acknowledged_at.astimezone(zone).strftime("%H:%M"),
    )
    queue(session, now, kind="ack_reminder", body=body, person=holder, phone=phone,
          incident=incident)  # fmt: skip
    record(session, now, "ack_reminded", person=holder, incident=incident, phone=phone)


def last_acknowledgement(session: Session, incident: Incident) -> dict:
    """What the standing acknowledgement's event says of who took it (`phone`, for an
    administrator's phone with no roster row; `account`, for the console)."""
    data = session.scalar(
        select(Event.data)
        .where(Event.incident_id == incident.id, Event.kind == "acknowledged")
        .order_by(Event.id.desc())
        .limit(1)
    )
    return data or {}


# --- failover -----------------------------------------------------------------------------------


def handle_one_failed_alert(session: Session, now: datetime, config: DomainConfig) -> bool:
    """An alert whose sending failed for good (at dispatch) goes out by the next channel."""
    query = (
        select(OutboundMessage)
        .join(Incident, Incident.id == OutboundMessage.incident_id)
        .where(
            Incident.resolved_at.is_(None),
            Incident.acknowledged_at.is_(None),
            OutboundMessage.kind == ALERT,
            OutboundMessage.failed_at.is_not(None),
            OutboundMessage.failed_at >= now - FAILOVER_WINDOW,
            not_followed_up(),
        )
        .order_by(OutboundMessage.id)
        .limit(1)
    )
    query = skip_locked(query, session, of=OutboundMessage)
    message = session.scalar(query)
    if message is None:
        return False
    fail_over(session, now, message, config)
    return True


def fail_over(
    session: Session, now: datetime, message: OutboundMessage, config: DomainConfig
) -> OutboundMessage | None:
    """Send a failed alert to the same person by her next channel, at once (the step timer is
    untouched). With no channel left, flag her for the administrators. Runs once per message:
    the claim marks it."""
    if message.kind != ALERT or message.incident_id is None:
        return None
    if not claim_follow_up(session, message):
        return None
    incident = session.get(Incident, message.incident_id)
    if incident.resolved_at is not None or incident.acknowledged_at is not None:
        return None
    person = session.get(Person, message.person_id) if message.person_id else None
    batch = _batch(session, message)
    used = {m.channel for m in batch}
    usable = {channel for channel in CHANNELS if config.usable(channel)}
    options = [c for c in after(message.channel, usable) if c not in used]
    if not options:
        if all(_failed(m) or m.id == message.id for m in batch):
            flag_unreachable(session, now, incident, person, message.to_phone, config)
        return None
    return _requeue(session, now, incident, message, person, options[0])


def _requeue(session, now, incident, message, person, channel) -> OutboundMessage:
    language = person.language if person else "es"
    follow = queue(
        session,
        now,
        kind=ALERT,
        body=alert_body(incident, incident.intern, language, channel, again=True),
        person=person,
        phone=message.to_phone,
        channel=channel,
        incident=incident,
        priority=message.priority,
    )
    follow.failover_of_id = message.id
    record(
        session,
        now,
        "failed_over",
        person=person,
        incident=incident,
        message_id=message.id,
        phone=message.to_phone,
        from_channel=message.channel,
        to_channel=channel,
    )
    return follow


def _batch(session: Session, message: OutboundMessage) -> list[OutboundMessage]:
    """The alerts of the same stage to the same phone: the stage's own rows (same instant as
    the chain's first message) and the failovers that followed them."""
    root = message
    while root.failover_of_id is not None:
        root = session.get(OutboundMessage, root.failover_of_id)
    rows = list(
        session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.incident_id == message.incident_id,
                OutboundMessage.kind == ALERT,
                OutboundMessage.to_phone == message.to_phone,
                OutboundMessage.created_at >= root.created_at,
            )
        )
    )
    ids = {m.id for m in rows if m.created_at == root.created_at}
    grew = True
    while grew:  # add the failover chains hanging off the stage's rows
        more = {m.id for m in rows if m.failover_of_id in ids} - ids
        ids |= more
        grew = bool(more)
    return [m for m in rows if m.id in ids]


def _failed(message: OutboundMessage) -> bool:
    return message.failed_at is not None or message.delivery_status in FAILED_STATUSES


UNREACHABLE_NOTICE_EVERY = timedelta(hours=1)


def _told_of_lately(session: Session, now: datetime, phone: str, drill: bool) -> bool:
    """Whether the administrators heard within the hour that `phone` cannot be reached (read
    from the record: the few such events of the hour, by the indexed instant)."""
    told = session.execute(
        select(Event.data, Incident.drill)
        .join(Incident, Incident.id == Event.incident_id)
        .where(Event.kind == "responder_unreachable", Event.at > now - UNREACHABLE_NOTICE_EVERY)
    )
    return any(
        data.get("phone") == phone and data.get("admins_told", True) and was_drill == drill
        for data, was_drill in told
    )


def flag_unreachable(
    session: Session,
    now: datetime,
    incident: Incident,
    person: Person | None,
    phone: str,
    config: DomainConfig,
) -> None:
    """Every channel to this responder failed: mark her and tell the administrators, once an
    hour per responder however many cases meet her (a drill's notice apart from real ones)."""
    if person is not None and person.unreachable_since is None:
        person.unreachable_since = now
    tell = not _told_of_lately(session, now, phone, incident.drill)
    record(session, now, "responder_unreachable", person=person, incident=incident, phone=phone,
           admins_told=tell)  # fmt: skip
    log.error("responder %s unreachable on every channel (incident %s)", phone, incident.id)
    if not tell:
        return
    name = person.name if person else phone
    for admin in config.admin_phones:
        if admin == phone:
            continue
        body = render(
            "responder_unreachable", "es", mark=mark_of(incident), responder=name, phone=phone,
            code=incident.code,
        )  # fmt: skip
        queue(session, now, kind="unreachable_notice", body=body, phone=admin, incident=incident)
