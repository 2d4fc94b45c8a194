"""The one rule that keeps every text within two segments: when a text would not fit, render
shortens its free-text fields (names, places), the longest first, with an ellipsis and never
below FLOOR septets; codes, phone numbers and times are never cut. A text that fits costs one
render."""

from __future__ import annotations

import logging

import pytest

from escalation.base import messages
from escalation.base.messages import (
    ELLIPSIS,
    FLOOR,
    MAX_SEGMENTS,
    is_gsm7,
    render,
    segments,
    septets,
)
from tests.test_message_catalog import TYPICAL

LETTERS = "Mariaguadalupe" * 20  # no spaces or commas: a cut keeps exactly what fits


@pytest.fixture
def renders(monkeypatch) -> list[str]:
    """The templates rendered, one entry per pass through Jinja."""
    calls: list[str] = []
    real = messages._render

    def counting(template, language, context):
        calls.append(template)
        return real(template, language, context)

    monkeypatch.setattr(messages, "_render", counting)
    return calls


def alert(**fields: object) -> dict[str, object]:
    return {**TYPICAL, "others": None, **fields}


def shown(text: str, value: str) -> str:
    """How `value` appears in `text`: whole, or its longest prefix followed by the ellipsis."""
    if value in text:
        return value
    prefixes = (value[:n] + ELLIPSIS for n in range(len(value), 0, -1))
    return next((p for p in prefixes if p in text), "")


def test_a_text_that_fits_is_rendered_once_with_its_fields_whole(renders):
    text = render("alert_emergency", "es", **alert())
    assert renders == ["alert_emergency"]
    assert TYPICAL["intern"] in text and TYPICAL["unit"] in text
    assert ELLIPSIS not in text


def test_long_places_are_shortened_with_an_ellipsis_in_one_more_render(renders):
    unit, municipality = "Centro de Salud Rural " + LETTERS, "General Zaragoza " + LETTERS
    text = render("alert_emergency", "es", **alert(unit=unit, municipality=municipality))
    assert segments(text) <= MAX_SEGMENTS and is_gsm7(text)
    assert renders == ["alert_emergency", "alert_emergency"]
    for value in (unit, municipality):
        assert shown(text, value).endswith(ELLIPSIS) and shown(text, value).startswith(value[:20])
    assert shown(text, TYPICAL["intern"]) == TYPICAL["intern"]  # short: untouched


def test_the_longest_fields_shrink_first_to_the_same_length():
    unit, municipality = "U" + LETTERS[:199], "M" + LETTERS[:119]
    text = render("alert_emergency", "es", **alert(unit=unit, municipality=municipality))
    assert segments(text) <= MAX_SEGMENTS
    cut_unit, cut_municipality = shown(text, unit), shown(text, municipality)
    assert cut_unit.endswith(ELLIPSIS) and cut_municipality.endswith(ELLIPSIS)
    assert len(cut_unit) == len(cut_municipality)
    # Only as much is cut as the text needs: one character more would not fit.
    assert septets(text) > MAX_SEGMENTS * messages.PART_SEPTETS - 2


def test_codes_times_and_phone_numbers_are_never_cut():
    name = LETTERS
    text = render("responder_unreachable", "es", responder=name, phone="+528112345678", code="4821")
    assert segments(text) <= MAX_SEGMENTS
    assert "+528112345678" in text and "4821" in text
    assert shown(text, name).endswith(ELLIPSIS)

    text = render("alert_emergency", "es", **alert(intern=LETTERS, unit=LETTERS, since="23:59"))
    assert "23:59" in text and text.count(TYPICAL["code"]) == 2


def test_no_field_goes_below_the_floor_and_a_text_that_cannot_fit_is_still_sent(caplog):
    phone = "+52" + "1" * 400  # absurd, but never cut: nothing else can make room
    text = render("responder_unreachable", "es", responder=LETTERS, phone=phone, code="4821")
    assert shown(text, LETTERS) == LETTERS[: FLOOR - len(ELLIPSIS)] + ELLIPSIS
    assert phone in text and segments(text) > MAX_SEGMENTS  # a long text beats no text
    logged = [r.levelno for r in caplog.records if r.name == "escalation.base.messages"]
    assert logged == [logging.ERROR]
    assert "es/responder_unreachable" in caplog.text and "responder" in caplog.text


def test_a_list_of_codes_is_never_cut_even_when_it_does_not_fit(caplog):
    """case_which lists every open case: from 37 four-digit codes on, it cannot fit (the
    caller should list fewer); the codes still all go out, and the error is logged."""
    codes = ", ".join(str(1000 + n) for n in range(60))
    text = render("case_which", "es", codes=codes, example="1000", name="Ana")
    assert codes in text and segments(text) > MAX_SEGMENTS
    assert "es/case_which" in caplog.text


def test_lengths_are_counted_as_sent_after_cleaning():
    # Each € costs two septets; each … becomes three dots; accents become plain letters.
    for unit in ("€" * 200, "…" * 200, "Á" * 200, "[Centro] {de} ~Salud~ " * 10):
        text = render("alert_emergency", "es", **alert(unit=unit, municipality=LETTERS))
        assert is_gsm7(text) and segments(text) <= MAX_SEGMENTS, unit
        assert "..." in text


def test_a_field_the_template_does_not_show_is_left_alone(renders):
    text = render("alert_emergency", "es", **alert(destination=LETTERS * 10))
    assert renders == ["alert_emergency"] and ELLIPSIS not in text
