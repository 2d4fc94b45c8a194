"""Every template renders, in every language, to GSM-7 text of at most two segments: with
typical values as they are, and with the longest values the data allows once `render` has
shortened the free-text fields.

The context is one table keyed by variable name (`MAXIMAL`, plus `TYPICAL`). A new template
only needs its variables in it; a variable the table does not know fails with its name.
"""

from __future__ import annotations

import itertools
import re

import pytest

from bot.conversation.interpret import MAX_DESTINATION
from escalation.base.messages import (
    CATALOG,
    ELLIPSIS,
    FLOOR,
    FREE_TEXT,
    LANGUAGES,
    MAX_SEGMENTS,
    is_gsm7,
    render,
    segments,
    template_names,
    to_gsm7,
    variables,
)
from escalation.base.models import Incident, Person, Trip, Unit
from escalation.policy import KINDS, MAX_STEPS


def column(model: type, name: str) -> int:
    return model.__table__.c[name].type.length


def longest(length: int, words: str) -> str:
    """`words` repeated up to `length` characters: text as long as its column allows."""
    return (words * (length // len(words) + 1))[:length].strip()


PERSON_NAME = column(Person, "name")
UNIT_NAME = column(Unit, "name")
MUNICIPALITY = column(Unit, "municipality")
# The parser keeps MAX_DESTINATION characters of what she types; the column holds more.
DESTINATION = max(MAX_DESTINATION, column(Trip, "destination"))
SMS_BODY = 1600  # the longest text Twilio delivers: what a stranger wrote is quoted to admins
CODE = "9" * column(Incident, "code")
# A sender's address can be "whatsapp:" and E.164; as wide, in digits.
PHONE = "+" + "9" * len("whatsapp:999999999999999")
DAY_AND_TIME = "31/12 23:59"

# Accents and the extension table (two septets each) are in on purpose: lengths are counted
# after cleaning, in septets.
A_NAME = longest(PERSON_NAME, "María Guadalupe de los Ángeles Hernández Villarreal ")

# Each variable's values to try, keyed by variable name: free text at its column's length,
# codes, numbers and times at their widest, flags both ways, optional values also absent (a
# template may print a longer default; where one prints "None" instead, only the length
# matters here). Every combination of a template's variables is rendered.
MAXIMAL: dict[str, tuple[object, ...]] = {
    # free text (escalation.base.messages.FREE_TEXT): shortened by render when it would not fit
    "intern": (A_NAME,),
    "name": (longest(PERSON_NAME, "Mariaguadalupe"), None),  # a first name is one word
    "responder": (A_NAME,),
    "holder": (A_NAME, None),
    "others": (", ".join([A_NAME] * 6), None),  # everyone else alerted, however many
    "unit": (longest(UNIT_NAME, "Centro de Salud Rural [CSR-12] {anexo} San José ~ "),),
    "municipality": (longest(MUNICIPALITY, "General Zaragoza de los Altos | "),),
    "destination": (longest(DESTINATION, "Matehuala, San Luis Potosí, por Cedral "), None),
    "words": (longest(SMS_BODY, "ayuda me siguen 😱 no se donde estoy… "),),
    # never cut: codes, numbers, phone numbers, times and dates
    "code": (CODE,),
    "example": (CODE,),
    "code_spoken": (", ".join(CODE),),
    # A dozen open cases at once; the list is never cut (see test_message_shortening).
    "codes": (", ".join([CODE] * 12),),
    "phone": (PHONE,),
    "since": ("23:59", DAY_AND_TIME),
    "left": ("23:59",),
    "time": ("23:59", None),
    "deadline": ("23:59",),
    "acked": ("23:59", None),
    "eta": (DAY_AND_TIME, None),
    "next": (DAY_AND_TIME, None),
    "at": (DAY_AND_TIME,),
    "until": ("31/12/2026", None),
    "grace": (1440,),
    "minutes": (999_999,),
    "step": (MAX_STEPS,),
    "late": (99_999,),  # check-ins that went out late after an outage
    "waiting": (999_999,),  # messages due at once when the sender works again
    # flags
    "again": (True, False),
    "was_paused": (True, False),
    "was_out": (True, False),
    "admins": (True, False),
    "cleared": (True, False),  # her answer by missed call also gave the all-clear
}
# Variables whose value is one of a few words the code chooses, never typed by anyone.
CHOICES: dict[str, tuple[str, ...]] = {
    "kind": KINDS,
    "via": ("text", "carrier"),  # escalation.optout BY_TEXT, BY_CARRIER
    "kind_name": ("viaje sin llegada", "missed check-in"),  # the longest kind_<kind> texts
}
MAXIMAL |= CHOICES

TYPICAL: dict[str, object] = {
    "intern": "Ana Lopez Garcia",
    "name": "Ana",
    "responder": "Rosa Martinez",
    "holder": "Rosa Martinez",
    "others": "Beto Ramos, Luis Salas",
    "unit": "Centro de Salud Rural San Jose",
    "municipality": "Galeana",
    "destination": "Linares",
    "words": "ayuda me siguen",
    "code": "4821",
    "example": "4821",
    "code_spoken": "4, 8, 2, 1",
    "codes": "4821, 5932",
    "phone": "+528112345678",
    "since": "02:14",
    "left": "18:30",
    "time": "08:00",
    "deadline": "10:00",
    "acked": "02:20",
    "eta": "24/11 21:30",
    "next": "25/11 08:00",
    "at": "24/11 09:20",
    "until": "28/11/2026",
    "grace": 20,
    "minutes": 95,
    "step": 2,
    "late": 3,
    "waiting": 240,
    "again": True,
    "was_paused": True,
    "was_out": True,
    "admins": True,
    "cleared": True,
    "kind": "emergency",
    "via": "text",
    "kind_name": "emergencia",
}

TEMPLATES = [(language, name) for language in LANGUAGES for name in template_names("es")]


def needs(language: str, name: str) -> frozenset[str]:
    """The template's variables, failing with their names if the table does not know one."""
    used = variables(name, language)
    unknown = sorted(used - MAXIMAL.keys())
    assert not unknown, (
        f"{language}/{name} uses {', '.join(unknown)}: add to MAXIMAL and TYPICAL in "
        f"{__name__} (and to escalation.base.messages.FREE_TEXT if it is a name, place or other "
        "free text)"
    )
    return used


def maximal_contexts(used: frozenset[str]) -> list[dict[str, object]]:
    """Every combination of the variants of the variables a template uses."""
    names = sorted(used)
    combinations = itertools.product(*(MAXIMAL[n] for n in names))
    return [dict(zip(names, values, strict=True)) for values in combinations]


def was_cut(text: str, value: str) -> bool:
    return any(value[:n] + ELLIPSIS in text for n in range(1, len(value)))


def test_both_languages_have_the_same_templates():
    assert template_names("es") == template_names("en")
    assert len(template_names("es")) >= 10


def test_the_tables_know_the_same_variables():
    assert MAXIMAL.keys() == TYPICAL.keys()
    assert not FREE_TEXT - MAXIMAL.keys(), "every free-text field has its longest value"


def test_every_value_with_letters_in_it_is_free_text_that_render_may_shorten():
    """What a person typed (a name, a place) can be as long as its column: if it were not in
    FREE_TEXT, render would not shorten it and a long one would break the two segments. The
    other variables hold codes, numbers, times and dates, which are never cut, or one of a
    few words the code chooses (CHOICES)."""
    for name, values in MAXIMAL.items():
        if name in CHOICES:
            continue
        texts = [v for v in values if isinstance(v, str) and re.search(r"[^\W\d_]", v)]
        assert not texts or name in FREE_TEXT, f"{name} holds free text but is not in FREE_TEXT"


@pytest.mark.parametrize(("language", "name"), TEMPLATES)
def test_template_source_is_gsm7(language, name):
    source = (CATALOG / language / f"{name}.txt").read_text("utf-8")
    assert is_gsm7(" ".join(source.split())), f"{language}/{name} has characters outside GSM-7"


@pytest.mark.parametrize(("language", "name"), TEMPLATES)
def test_template_fits_two_segments_with_typical_values_untouched(language, name):
    used = needs(language, name)
    text = render(name, language, **TYPICAL)
    assert text.strip() and is_gsm7(text)
    assert segments(text) <= MAX_SEGMENTS, f"{language}/{name}: {len(text)} chars"
    for field in sorted(used & FREE_TEXT):
        assert not was_cut(text, TYPICAL[field]), f"{language}/{name} shortened a typical {field}"


@pytest.mark.parametrize(("language", "name"), TEMPLATES)
def test_template_fits_two_segments_with_the_longest_values(language, name, caplog):
    for context in maximal_contexts(needs(language, name)):
        text = render(name, language, **context)
        assert text.strip() and is_gsm7(text)
        assert segments(text) <= MAX_SEGMENTS, f"{language}/{name} {context}: {text!r}"
    errors = [r for r in caplog.records if r.name == "escalation.base.messages"]
    assert not errors, f"{language}/{name} did not fit: {caplog.text}"


@pytest.mark.parametrize(("language", "name"), TEMPLATES)
def test_template_fits_with_every_free_text_field_at_the_floor(language, name, caplog):
    """The most the rule can take off: every name and place down to FLOOR septets. If a
    template did not fit even so, render would send it long and log an error."""
    at_floor = "X" * (FLOOR - len(ELLIPSIS)) + ELLIPSIS
    for context in maximal_contexts(needs(language, name)):
        floored = {k: at_floor if k in FREE_TEXT and v else v for k, v in context.items()}
        text = render(name, language, **floored)
        assert segments(text) <= MAX_SEGMENTS, f"{language}/{name} {floored}: {text!r}"
    assert not [r for r in caplog.records if r.name == "escalation.base.messages"], caplog.text


def test_cleaning_removes_what_would_force_ucs2():
    assert to_gsm7("¿Cómo estás? “bien” – sí…") == '¿Como estas? "bien" - si...'
    assert to_gsm7("ñ é ¡") == "ñ é ¡"
    assert to_gsm7("😀 ok") == " ok"


def test_segments_count_gsm7_septets():
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("a" * 306) == 2
    assert segments("a" * 307) == 3
    assert segments("€" * 80) == 1
    assert segments("€" * 81) == 2


def test_an_extension_character_is_never_split_from_its_escape():
    # 306 septets, but the € would straddle the first two parts, so it opens the second.
    assert segments("a" * 152 + "€" + "a" * 152) == 3
    assert segments("a" * 151 + "€" + "a" * 153) == 2
