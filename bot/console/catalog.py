"""The message catalog page: every template the phones receive, in Spanish and English,
rendered with sample data and checked (GSM-7, septets, segments) by the very functions that
send them (escalation.base.messages); a scratch box counting as one types (static/segments.js,
fed the same GSM-7 tables); and the reply vocabulary, read from the sets the interpreter reads
(bot.conversation.vocabulary), never from a copy that could drift. Read-only, for every
signed-in role.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from bot.console.i18n import t
from bot.conversation.intents import EMERGENCY, NOT_OK, OK, QUESTION_RANGES
from bot.conversation.vocabulary import (
    ACK_WORDS,
    ARRIVAL_WORDS,
    DURESS_SET_WORDS,
    EMERGENCY_DIGIT,
    EMERGENCY_WORDS,
    EMOJI_WORDS,
    FINE_PHRASES,
    FINE_WORDS,
    MENU_DIGITS,
    MENU_WORDS,
    NO_ANSWER_WORDS,
    NO_WORDS,
    NOT_FINE_WORDS,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    PAUSE_WORDS,
    RESOLVE_WORDS,
    RESUME_WORDS,
    SELF_HARM_PHRASES,
    SELF_HARM_WORDS,
    STATUS_WORDS,
    THREAT_PHRASES,
    TIME_WORDS,
    TRIP_WORDS,
    YES_STRONG,
    YES_WEAK,
)
from escalation.base.messages import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    LANGUAGES,
    MAX_SEGMENTS,
    PART_SEPTETS,
    SINGLE_SEPTETS,
    is_gsm7,
    render,
    segments,
    septets,
    template_names,
    variables,
)

bp = Blueprint("catalog", __name__, url_prefix="/admin")
SPOKEN = "voice_"  # templates read aloud in a call, not texted

# Sample values by variable name (as tests/test_message_catalog.py's TYPICAL): a template
# that reads a variable missing here shows which one instead of a preview, and
# tests/test_console_catalog.py fails naming it.
SAMPLES: dict[str, object] = {
    "intern": "Ana Lopez Garcia", "name": "Ana", "responder": "Rosa Martinez",
    "holder": "Rosa Martinez", "others": "Beto Ramos, Luis Salas",
    "unit": "Centro de Salud Rural San Jose", "municipality": "Galeana",
    "destination": "Linares", "words": "ayuda me siguen",
    "code": "4821", "example": "4821", "code_spoken": "4, 8, 2, 1", "codes": "4821, 5932",
    "phone": "+528112345678", "since": "02:14", "left": "18:30", "time": "08:00",
    "deadline": "10:00", "acked": "02:20", "eta": "24/11 21:30", "next": "25/11 08:00",
    "at": "24/11 09:20", "until": "28/11/2026", "grace": 20, "minutes": 95, "step": 2,
    "late": 3, "waiting": 240, "again": False, "was_paused": True, "was_out": True, "admins": True,
    "cleared": False,
    "kind": "emergency", "via": "text", "kind_name": "emergencia",
}  # fmt: skip


@bp.before_request
@login_required
def _signed_in():
    """Every page here needs a session; every role reads it."""


@bp.get("/messages")
def messages():
    rows = [
        {"name": name, "spoken": name.startswith(SPOKEN),
         "previews": {language: preview(name, language) for language in LANGUAGES}}
        for name in template_names("es")
    ]  # fmt: skip
    return render_template(
        "console/messages.html", rows=rows, languages=LANGUAGES,
        gsm7_basic="".join(sorted(GSM7_BASIC)), gsm7_extension="".join(sorted(GSM7_EXTENSION)),
        single=SINGLE_SEPTETS, part=PART_SEPTETS, vocabulary=vocabulary(),
    )  # fmt: skip


def preview(name: str, language: str) -> dict:
    """The template rendered with SAMPLES as `render` sends it, and what it costs on the air."""
    missing = sorted(variables(name, language) - SAMPLES.keys())
    if missing:
        return {"missing": ", ".join(missing)}
    text = render(name, language, **SAMPLES)
    parts = segments(text)
    return {
        "text": text, "gsm7": is_gsm7(text), "septets": septets(text), "segments": parts,
        "room": SINGLE_SEPTETS if parts == 1 else parts * PART_SEPTETS,
        "fits": parts <= MAX_SEGMENTS,
    }  # fmt: skip


# --- the reply vocabulary --------------------------------------------------------------------


def vocabulary() -> dict[str, list[dict]]:
    """What interns and responders can text, by meaning, from the interpreter's own sets."""
    digit = {meaning: d for d, meaning in MENU_DIGITS.items()}
    digit[EMERGENCY] = EMERGENCY_DIGIT
    code = t("catalog.code")
    interns = [
        ("ok", [*_words(FINE_WORDS), *(" ".join(p) for p in FINE_PHRASES), digit[OK],
                *_emoji("ok")]),
        ("not_ok", [*_words(NOT_FINE_WORDS | NO_WORDS), digit[NOT_OK]]),
        ("emergency", [*_words(EMERGENCY_WORDS), digit[EMERGENCY], *_emoji("sos")]),
        ("threat", [t("catalog.patterns", n=len(THREAT_PHRASES))]),
        ("self_harm", [t("catalog.patterns", n=len(SELF_HARM_PHRASES) + len(SELF_HARM_WORDS))]),
        ("answers", [f"{key}: {r.start}–{r.stop - 1}" for key, r in QUESTION_RANGES.items()]),
        ("yes", _words(YES_STRONG | YES_WEAK)),
        ("no", _words(NO_ANSWER_WORDS)),
        ("trip_start", [f"{w} 3h Linares" for w in _words(TRIP_WORDS)]),
        ("trip_end", _words(ARRIVAL_WORDS)),
        ("pause", [f"{w} 5d" for w in _words(PAUSE_WORDS)]),
        ("resume", _words(RESUME_WORDS)),
        ("set_time", [f"{w} 08:30" for w in _words(TIME_WORDS)]),
        ("menu", _words(MENU_WORDS)),
        ("status", _words(STATUS_WORDS)),
        ("set_duress", [f"{w} …" for w in _words(DURESS_SET_WORDS)]),
        ("duress", []),  # each intern's own word
        ("opt_out", _words(OPT_OUT_WORDS)),
        ("opt_in", _words(OPT_IN_WORDS)),
    ]  # fmt: skip
    responders = [
        ("ack", [*(f"{w} <{code}>" for w in _words(ACK_WORDS)),
                 *(f"{w} <{code}>" for w in _words(FINE_WORDS))]),
        ("resolve", [f"{w} <{code}>" for w in _words(RESOLVE_WORDS)]),
        ("case_status", [f"{w} <{code}>" for w in _words(STATUS_WORDS)]),
    ]  # fmt: skip
    return {"interns": _labelled(interns), "responders": _labelled(responders)}


def _words(words) -> list[str]:
    return sorted(words)


def _emoji(word: str) -> list[str]:
    return [emoji for emoji, spelled in EMOJI_WORDS.items() if spelled == word]


def _labelled(rows: list[tuple[str, list[str]]]) -> list[dict]:
    return [{"meaning": m, "label": t(f"catalog.vocab.{m}"), "words": w} for m, w in rows]
