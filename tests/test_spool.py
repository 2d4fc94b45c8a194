"""A signed text the database cannot take is spooled, answered, and replayed in order once the
database is back: Twilio does not retry a messaging webhook, so nothing else would keep it."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

from sqlalchemy import select

from bot.spool import replay
from escalation.base.models import (
    EMERGENCY,
    CheckIn,
    InboundMessage,
    Incident,
    OutboundMessage,
)
from tests.conftest import at

PING = at("2026-11-24T08:00:00-06:00")
_sids = itertools.count(1)


def spool_text(faro, phone: str, body: str, arrived, sid: str | None = None):
    form = [("MessageSid", sid or f"SM{next(_sids):032d}"), ("From", phone), ("Body", body)]
    return faro.spool.write(arrived, form, "c2lnbmVk")


def inbound(faro) -> list[InboundMessage]:
    with faro.sessions() as session:
        return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


# --- The spool itself, on both engines -------------------------------------------------------


def test_one_file_per_text_named_in_arrival_order_holding_the_signed_form(faro, people):
    first = spool_text(faro, people["ana"], "ok", PING + timedelta(minutes=5))
    second = spool_text(faro, people["ana"], "sos", PING + timedelta(minutes=6))

    assert faro.spool.pending() == [first, second]
    record = json.loads(first.read_text("utf-8"))
    assert record["form"][1:] == [["From", people["ana"]], ["Body", "ok"]]
    assert record["signature"] == "c2lnbmVk"
    assert record["arrived"] == (PING + timedelta(minutes=5)).isoformat()


def test_replay_stores_and_acts_on_them_in_order_as_of_when_they_arrived(faro, people):
    faro.run_pass(PING)
    spool_text(faro, people["ana"], "ok", PING + timedelta(minutes=5))
    spool_text(faro, people["beto"], "sos", PING + timedelta(minutes=6))

    assert replay(faro.spool, faro.sessions, faro.settings.domain) == 2

    assert faro.spool.pending() == []
    texts = inbound(faro)
    assert [(m.body, m.received_at) for m in texts] == [
        ("ok", PING + timedelta(minutes=5)),
        ("sos", PING + timedelta(minutes=6)),
    ]
    assert all(m.processed_at is not None for m in texts)
    with faro.sessions() as session:
        ana_checkin = session.scalars(
            select(CheckIn).where(CheckIn.intern_id == texts[0].person_id)
        ).one()
        assert ana_checkin.answered_at == PING + timedelta(minutes=5)  # on time, as she was
        emergency = session.scalars(select(Incident)).one()
        assert (emergency.kind, emergency.opened_at) == (EMERGENCY, PING + timedelta(minutes=6))
        replies = session.scalars(
            select(OutboundMessage.to_phone).where(OutboundMessage.kind == "reply")
        ).all()
    assert sorted(replies) == sorted([people["ana"], people["beto"]])  # her real answers


def test_a_text_spooled_twice_is_one_message(faro, people):
    spool_text(faro, people["ana"], "ok", PING, sid="SM" + "1" * 32)
    spool_text(faro, people["ana"], "ok", PING, sid="SM" + "1" * 32)

    assert replay(faro.spool, faro.sessions, faro.settings.domain) == 2
    assert len(inbound(faro)) == 1


def test_an_unreadable_file_is_set_aside_and_the_others_replayed(faro, people):
    broken = faro.spool.write(PING, [("MessageSid", "SMx")], "sig")
    broken.write_text("{not json", "utf-8")
    spool_text(faro, people["ana"], "ok", PING + timedelta(minutes=1))

    assert replay(faro.spool, faro.sessions, faro.settings.domain) == 1
    assert faro.spool.pending() == []
    assert broken.with_suffix(".unreadable").exists()


def test_each_database_has_its_own_spool(tmp_path):
    from bot.spool import directory_for

    one = directory_for(tmp_path, "sqlite:///a.db")
    assert one == directory_for(tmp_path, "sqlite:///a.db")
    assert one != directory_for(tmp_path, "sqlite:///b.db")
