"""Phone numbers: everything we store is E.164, whatever Twilio or a spreadsheet hands us."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from escalation.base.channels import of_address


class BadPhone(ValueError):
    """Not a phone number we could text."""


# Parsing is the costly part of every webhook's sender lookup, and the same few thousand
# numbers write every day: remembered (a bad one raises again, it is not remembered).
@lru_cache(maxsize=16_384)
def normalize_phone(raw: str, region: str = "MX") -> str:
    """E.164 for `raw` (`81 1234 5678`, `+52 1 81…`, `whatsapp:+521…`); raise BadPhone if invalid.

    Mexico dropped the mobile `1` after +52 in 2019, but WhatsApp and old spreadsheets still
    send `+521…`; phonenumbers keeps it, so we remove it to get one identity per phone.
    """
    _channel, text = of_address(raw)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise BadPhone(f"{raw!r} is not a phone number") from exc
    national = str(number.national_number)
    if number.country_code == 52 and len(national) == 11 and national.startswith("1"):
        number = phonenumbers.parse(f"+52{national[1:]}", region)
    if not phonenumbers.is_valid_number(number):
        raise BadPhone(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def split_address(address: str) -> tuple[str, str]:
    """(channel, E.164) for a Twilio address such as `whatsapp:+5218112345678` or `+52811…`."""
    channel, _rest = of_address(address)
    return channel, normalize_phone(address)
