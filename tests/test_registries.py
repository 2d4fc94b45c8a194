"""One registry entry per incident kind and per channel holds all its facets; walking them
shows nothing is missing: every kind has its texts in every language and a valid default
policy, every channel has a transport."""

from __future__ import annotations

import pytest

from bot.transports import SENDERS
from escalation.base.channels import CHANNELS, FAILOVER, TEXT_CHANNELS, of_address
from escalation.base.kinds import HER_OK, KINDS, RESPONDER
from escalation.base.messages import LANGUAGES, template_names
from escalation.base.models import CRITICAL, DURESS, EMERGENCY, HIGH, NORMAL, SMS, VOICE, WHATSAPP
from escalation.policy import validate


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_its_texts_in_every_language(kind):
    for language in LANGUAGES:
        names = set(template_names(language))
        assert KINDS[kind].alert_template in names, (language, kind)
        assert KINDS[kind].voice_template in names, (language, kind)
        assert KINDS[kind].name_template in names, (language, kind)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_a_valid_default_policy_and_a_known_severity(kind):
    entry = KINDS[kind]
    assert validate(kind, list(entry.default_policy))
    assert entry.severity in (CRITICAL, HIGH, NORMAL)
    assert entry.closed_by in (RESPONDER, HER_OK)


def test_what_her_own_text_may_not_close_or_be_told():
    for kind in (EMERGENCY, DURESS):  # her text may be coerced
        assert KINDS[kind].closed_by == RESPONDER
    assert not KINDS[DURESS].tells_intern_on_ack  # her phone may be in the wrong hands


def test_every_channel_has_a_transport():
    assert set(SENDERS) == set(CHANNELS)


def test_the_failover_order_and_the_text_channels():
    assert FAILOVER == (SMS, WHATSAPP, VOICE)
    assert TEXT_CHANNELS == (SMS, WHATSAPP)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("whatsapp:+528112345678", (WHATSAPP, "+528112345678")),
        ("+528112345678", (SMS, "+528112345678")),
        ("WhatsApp: +52 81", (WHATSAPP, "+52 81")),
    ],
)
def test_a_provider_address_names_its_channel(address, expected):
    assert of_address(address) == expected
