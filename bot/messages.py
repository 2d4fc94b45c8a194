"""Message catalog: wording lives in `templates/sms/<lang>/<name>.txt`, never in Python.

Every text to a phone must fit the GSM-7 alphabet (one stray `á` turns a 160-character SMS
into a 70-character UCS-2 one and doubles the cost and the split) and at most two segments.
`render` cleans what slipped through and the catalog test checks every template.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

CATALOG = Path(__file__).resolve().parent.parent / "templates" / "sms"
LANGUAGES = ("es", "en")
MAX_SEGMENTS = 2

# GSM 03.38 basic character set and its extension table (the latter costs two septets).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€")
_SUBSTITUTES = {"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "...", "\t": " "}


def to_gsm7(text: str) -> str:
    """Replace characters outside GSM-7 with their closest GSM-7 form (á → a, “ → ")."""
    out = []
    for char in text:
        if char in GSM7_BASIC or char in GSM7_EXTENSION:
            out.append(char)
            continue
        char = _SUBSTITUTES.get(char, char)
        if char in GSM7_BASIC:
            out.append(char)
            continue
        stripped = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
        out.append("".join(c for c in stripped if c in GSM7_BASIC))
    return "".join(out)


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def segments(text: str) -> int:
    """How many SMS segments a GSM-7 text takes (160 alone, 153 each when concatenated)."""
    septets = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
    return 1 if septets <= 160 else -(-septets // 153)


@cache
def _environment(language: str) -> Environment:
    return Environment(
        loader=FileSystemLoader(CATALOG / language),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
    )


def render(template: str, language: str = "es", /, **context: object) -> str:
    """The text of `template` in `language` (falling back to Spanish), cleaned to GSM-7."""
    language = language if language in LANGUAGES else "es"
    text = _environment(language).get_template(f"{template}.txt").render(**context)
    return to_gsm7(" ".join(text.split()))


def template_names(language: str = "es") -> list[str]:
    return sorted(p.stem for p in (CATALOG / language).glob("*.txt"))
