"""What the domain needs to know of the settings, typed and built once (`Settings.domain`).

The domain never sees the edge's Settings (credentials, URLs, ports): only who the on-call
administrators are, which channels have a sender and how fast it sends, the WhatsApp
check-in template, and the defaults for people who have none of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from escalation.base.channels import CHANNELS


@dataclass(frozen=True)
class DomainConfig:
    admin_phones: tuple[str, ...] = ()  # the end of every chain; responders on every case
    # Channels that need a sender of their own (WhatsApp) and have one configured.
    senders: frozenset[str] = frozenset()
    # WhatsApp's approved template for a check-in outside the 24-hour session ("" = none).
    whatsapp_checkin_template: str = ""
    default_timezone: str = "America/Monterrey"
    default_language: str = "es"
    # Messages per second the sender delivers (TWILIO_MPS); None: no limit (console).
    sender_mps: float | None = None

    def usable(self, channel: str) -> bool:
        """Whether Faro can send on `channel` (one that needs a sender only once it has one)."""
        entry = CHANNELS.get(channel)
        return entry is not None and (not entry.needs_sender or channel in self.senders)


NO_CONFIG = DomainConfig()  # no administrators, no WhatsApp: what a bare call gets
