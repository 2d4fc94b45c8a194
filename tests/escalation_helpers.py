"""Helpers for the escalation stories: open an incident at a frozen instant, read what was
queued for it, and act as Twilio's voice webhooks (signed) and as the wall clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select

from escalation.base.db import transaction
from escalation.base.models import SMS, VOICE, Event, Incident, OutboundMessage, Person
from escalation.incidents import open_incident
from tests.conftest import PUBLIC_URL, signature


def person(session, phone: str) -> Person:
    return session.scalar(select(Person).where(Person.phone == phone))


def open_for(
    faro, phone: str, kind: str, now: datetime, *, admin_phones: tuple[str, ...] = (), **kwargs
) -> Incident:
    """Open an incident for the intern with `phone` at `now`, as the check-in deadline would
    (with these administrators' phones at the end of its chain)."""
    config = replace(faro.settings.domain, admin_phones=admin_phones)
    with transaction(faro.sessions) as session:
        intern = person(session, phone)
        incident, opened = open_incident(session, now, intern, kind, config=config, **kwargs)
        assert opened
        return incident


def incident(faro, incident_id: int | None = None) -> Incident:
    with faro.sessions() as session:
        query = select(Incident).order_by(Incident.id)
        if incident_id is not None:
            query = query.where(Incident.id == incident_id)
        return session.scalars(query).first()


def outbox(faro, *, kind: str | None = None, to: str | None = None, channel: str | None = None):
    """Outbox rows about incidents (alerts, notices, all-clears), oldest first."""
    with faro.sessions() as session:
        query = select(OutboundMessage).where(OutboundMessage.incident_id.is_not(None))
        if kind:
            query = query.where(OutboundMessage.kind == kind)
        if to:
            query = query.where(OutboundMessage.to_phone == to)
        if channel:
            query = query.where(OutboundMessage.channel == channel)
        return list(session.scalars(query.order_by(OutboundMessage.id)))


def alerts(faro, to: str | None = None, channel: str | None = None) -> list[OutboundMessage]:
    return outbox(faro, kind="alert", to=to, channel=channel)


def texts(faro, to: str) -> list[OutboundMessage]:
    return alerts(faro, to, SMS)


def calls(faro, to: str) -> list[OutboundMessage]:
    return alerts(faro, to, VOICE)


def events(faro, kind: str | None = None, incident_id: int | None = None) -> list[Event]:
    with faro.sessions() as session:
        query = select(Event)
        if kind:
            query = query.where(Event.kind == kind)
        if incident_id:
            query = query.where(Event.incident_id == incident_id)
        return list(session.scalars(query.order_by(Event.id)))


def twilio_post(client, path: str, params: dict[str, str]):
    headers = {"X-Twilio-Signature": signature(PUBLIC_URL + path, params)}
    return client.post(path, data=params, headers=headers)


def call_params(message: OutboundMessage, **extra: str) -> dict[str, str]:
    return {
        "CallSid": f"CA{message.id:032d}",
        "AccountSid": "AC" + "0" * 32,
        "From": "+15005550006",
        "To": message.to_phone,
        "Direction": "outbound-api",
        **extra,
    }


def answer_call(client, message: OutboundMessage):
    """Twilio fetching the TwiML of a call that was picked up."""
    return twilio_post(
        client, f"/twilio/voice/{message.id}", call_params(message, CallStatus="in-progress")
    )


def press(client, message: OutboundMessage, digits: str):
    """The <Gather> callback: the key the responder pressed."""
    params = call_params(message, CallStatus="in-progress", Digits=digits)
    return twilio_post(client, f"/twilio/voice/{message.id}/gather", params)


def call_ended(client, message: OutboundMessage, status: str, duration: str = "0"):
    """The call's status callback with its final CallStatus."""
    params = call_params(message, CallStatus=status, CallDuration=duration)
    return twilio_post(client, f"/twilio/voice/{message.id}/status", params)


def freeze(monkeypatch):
    """Freeze the webhooks' wall clock, and the dispatcher thread's with it (so what a webhook
    queued is not a day old to it); returns it: `clock.set(at(...))`."""

    class Clock:
        now: datetime | None = None

        def set(self, instant: datetime) -> None:
            self.now = instant

    frozen = Clock()

    def now() -> datetime:
        assert frozen.now is not None, "set the clock first"
        return frozen.now

    monkeypatch.setattr("bot.webhook.utcnow", now)
    monkeypatch.setattr("bot.voice.utcnow", now)
    monkeypatch.setattr("bot.calls.utcnow", now)
    monkeypatch.setattr("bot.runtime.utcnow", now)
    return frozen
