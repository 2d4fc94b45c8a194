"""Every template renders, in every language, to GSM-7 text of at most two segments."""

from __future__ import annotations

import pytest

from bot.messages import (
    CATALOG,
    LANGUAGES,
    MAX_SEGMENTS,
    is_gsm7,
    render,
    segments,
    template_names,
    to_gsm7,
)

# The longest values a template can meet in practice.
LONGEST = {
    "name": "Maria Guadalupe",
    "intern": "Maria Guadalupe Hernandez Villarreal",
    "responder": "Maria Guadalupe Hernandez Villarreal",
    "unit": "Centro de Salud Rural San Jose de las Flores",
    "municipality": "General Zaragoza de los Altos",
    "since": "23:59",
    "code": "9999",
    "codes": "1234, 5678, 9012, 3456",
    "example": "1234",
    "left": "23:59",
    "destination": "Matehuala, San Luis Potosi",
    "again": True,
    "code_spoken": "9, 9, 9, 9",
    "phone": "+524881000003",
    # Daily check-ins, trips, pauses, heartbeat (issue 3)
    "time": "23:59",
    "deadline": "23:59",
    "eta": "31/12 23:59",
    "until": "31/12/2026",
    "next": "31/12 23:59",
    "grace": 120,
    "minutes": 14400,
    "at": "31/12 23:59",
    "was_paused": True,
}


def test_both_languages_have_the_same_templates():
    assert template_names("es") == template_names("en")
    assert len(template_names("es")) >= 10


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", template_names("es"))
def test_template_fits_gsm7_and_two_segments(language, name):
    source = (CATALOG / language / f"{name}.txt").read_text("utf-8")
    assert is_gsm7(" ".join(source.split())), f"{language}/{name} has characters outside GSM-7"
    text = render(name, language, **LONGEST)
    assert text.strip()
    assert segments(text) <= MAX_SEGMENTS, f"{language}/{name}: {len(text)} chars"


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
