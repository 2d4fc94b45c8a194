"""The registry of channels: how Faro reaches a phone, one entry per channel.

A channel's entry holds all that the rest of Faro needs to know of it: whether it carries
texts (a person's own `channel` may be one of those) or calls, how the provider writes its
addresses (`whatsapp:+52…`), whether it needs a sender of its own configured before it can
be used, and its place in the failover order (the registry's order: an alert that fails goes
to the same person by the next channel). Its transport lives at the edge (`bot.transports`),
keyed by the same name; a test checks every channel has one. Adding a channel is one entry
here plus its transport.
"""

from __future__ import annotations

from dataclasses import dataclass

from escalation.base.models import SMS, VOICE, WHATSAPP


@dataclass(frozen=True)
class Channel:
    name: str
    text: bool  # carries texts (pings, alerts, replies); otherwise calls
    prefix: str = ""  # the provider's address is prefix + E.164
    needs_sender: bool = False  # usable only once its own sender is configured

    def address(self, phone: str) -> str:
        return f"{self.prefix}{phone}"


# In failover order: SMS, then WhatsApp (where configured), then a call.
CHANNELS: dict[str, Channel] = {
    channel.name: channel
    for channel in (
        Channel(SMS, text=True),
        Channel(WHATSAPP, text=True, prefix="whatsapp:", needs_sender=True),
        Channel(VOICE, text=False),
    )
}
FAILOVER = tuple(CHANNELS)
TEXT_CHANNELS = tuple(name for name, channel in CHANNELS.items() if channel.text)


def of_address(address: str) -> tuple[str, str]:
    """(channel name, the rest) of a provider address: `whatsapp:+52…` → (whatsapp, +52…)."""
    text = (address or "").strip()
    for channel in CHANNELS.values():
        if channel.prefix and text.lower().startswith(channel.prefix):
            return channel.name, text[len(channel.prefix) :].strip()
    return SMS, text


def after(channel: str, usable: set[str]) -> tuple[str, ...]:
    """The channels after `channel` in failover order that `usable` allows."""
    if channel not in CHANNELS:
        return ()
    later = FAILOVER[FAILOVER.index(channel) + 1 :]
    return tuple(c for c in later if c in usable)
