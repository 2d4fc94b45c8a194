"""What Faro reads in a text: one row per realistic message, then the rules by name.

Each row is (text, context, expected kind, expected fields) and is compared with the whole
`Intent`, so a stray code, value or `negated` flag fails the row too. People: intern Ana
(duress word "tranquila"), buddy Beto (intern and responder), nurse Rosa (responder only).
The self-harm phrases have their own tables in test_self_harm_phrases.py.
"""

from __future__ import annotations

import random
import re
from datetime import date, time
from pathlib import Path

import pytest

from bot.conversation import emergency
from bot.conversation import interpret as i
from bot.conversation import vocabulary as v
from bot.conversation.interpret import (
    Context,
    Intent,
    clashes_with_vocabulary,
    interpret,
    normalize,
)
from bot.conversation.words import squeeze

TODAY = date(2026, 11, 20)
ANA = Context(duress_word="tranquila", today=TODAY)
BETO = Context(intern=True, responder=True, today=TODAY)
ROSA = Context(intern=False, responder=True)
ROSA_IDLE = Context(intern=False, responder=False)
MOOD = Context(question="mood", duress_word="tranquila")
PHQ = Context(question="phq")
YESNO = Context(question="yesno", duress_word="tranquila")  # "¿Quieres que te llamen? SI/NO"


def row(message: str | None, context: Context, kind: str, /, **fields: object):
    return pytest.param(message, context, kind, fields, id=f"{kind}:{message!r}"[:70])


FINE = [
    row("OK", ANA, i.OK),
    row("okkk", ANA, i.OK),
    row("okk", ANA, i.OK),
    row("Sí!!", ANA, i.OK),
    row("siii", ANA, i.OK),
    row("biiien", ANA, i.OK),
    row("BIEN", ANA, i.OK),
    row("estoy bien gracias", ANA, i.OK),
    row("todo bien por aca", ANA, i.OK),
    row("si todo ok", ANA, i.OK),
    row("1", ANA, i.OK),
    row("1.", ANA, i.OK),
    row("hola, 1", ANA, i.OK),
    row("Bien, ¿y tú?", ANA, i.OK),
    row("Todo bien 👍🏽", ANA, i.OK),
    row("o.k.", ANA, i.OK),
    row("goood", ANA, i.OK),
    row("fine", ANA, i.OK),
    row("good, thanks", ANA, i.OK),
    row("yes", ANA, i.OK),
    row("Sin novedad", ANA, i.OK),
    row("no pasa nada, todo bien", ANA, i.OK),
    row("No, todo bien", ANA, i.OK),
    row("no tengo señal pero estoy bien", ANA, i.OK),
    row("he estado bien", ANA, i.OK),
    row("OK 4821", ANA, i.OK),  # Ana has nothing to acknowledge: her own check-in
    row("ok", BETO, i.OK),  # a buddy's plain OK is his own check-in
    row("\ud800ok", ANA, i.OK),
    row("🆗", ANA, i.OK),
]

NOT_FINE = [
    row("MAL", ANA, i.NOT_OK),
    row("me siento mal", ANA, i.NOT_OK),
    row("estoy mal", ANA, i.NOT_OK),
    row("No", ANA, i.NOT_OK),
    row("No.", ANA, i.NOT_OK),
    row("noo", ANA, i.NOT_OK),
    row("nel", ANA, i.NOT_OK),
    row("no estoy bien", ANA, i.NOT_OK),
    row("no me siento bien", ANA, i.NOT_OK),
    row("no muy bien la verdad", ANA, i.NOT_OK),
    row(" 2 ", ANA, i.NOT_OK),
    row("2 por favor", ANA, i.NOT_OK),
    row("necesito APOYO", ANA, i.NOT_OK),
    row("bien pero necesito apoyo", ANA, i.NOT_OK),
    row("si, necesito apoyo", ANA, i.NOT_OK),
    row("not ok", ANA, i.NOT_OK),
    row("bad day", ANA, i.NOT_OK),
    row("I need support", ANA, i.NOT_OK),
    row("estoy bien mal", ANA, i.NOT_OK),
    row("llegue pero me siento mal", ANA, i.NOT_OK),
]

EMERGENCIES = [
    row("SOS", ANA, i.EMERGENCY),
    row("S.O.S", ANA, i.EMERGENCY),
    row("s o s", ANA, i.EMERGENCY),
    row("sossss", ANA, i.EMERGENCY),
    row("🆘", ANA, i.EMERGENCY),
    row("AYUDA", ANA, i.EMERGENCY),
    row("ayudaaa!!!", ANA, i.EMERGENCY),
    row("AYUDA?", ANA, i.EMERGENCY),
    row("ayúdenme por favor", ANA, i.EMERGENCY),
    row("auxilio", ANA, i.EMERGENCY),
    row("Emergencia en la clínica", ANA, i.EMERGENCY),
    row("estoy en peligro", ANA, i.EMERGENCY),
    row("PÁNICO", ANA, i.EMERGENCY),
    row("help", ANA, i.EMERGENCY),
    row("emergency", ANA, i.EMERGENCY),
    row("danger", ANA, i.EMERGENCY),
    row("9", ANA, i.EMERGENCY),
    row("9️⃣", ANA, i.EMERGENCY),
    row("llamen al 911", ANA, i.EMERGENCY),
    row("911", ANA, i.EMERGENCY),
    row("ok pero hay peligro", ANA, i.EMERGENCY),
    row("ATIENDO 4821 ayuda", ROSA, i.EMERGENCY),
    row("no se si es emergencia", ANA, i.EMERGENCY),
    row("no puedo hablar ayuda", ANA, i.EMERGENCY),
    row("No, ayuda!", ANA, i.EMERGENCY),
    row("no necesito ayuda, pero hay peligro", ANA, i.EMERGENCY),
    row("estoy tranquila, ayuda", ANA, i.EMERGENCY),
    row("ayuda", PHQ, i.EMERGENCY),
    row("VIAJE 3h peligro en la carretera", ANA, i.EMERGENCY),
    row("bla " * 300 + "sos" + " bla" * 90, ANA, i.EMERGENCY),
]

DURESS = [
    row("estoy tranquila", ANA, i.DURESS),
    row("Tranquila 🙂", ANA, i.DURESS),
    row("todo bien, TRANQUILAAA", ANA, i.DURESS),
    row("1 tranquila", ANA, i.DURESS),
    row("3 tranquila", MOOD, i.DURESS),
    row("cielo azul, todo ok", Context(duress_word="Cielo  Azul"), i.DURESS),
]

ANSWERS = [
    row("3", PHQ, i.ANSWER, value=3),
    row("0", PHQ, i.ANSWER, value=0),
    row("1", MOOD, i.ANSWER, value=1),
    row("5", MOOD, i.ANSWER, value=5),
    row("2 😔", MOOD, i.ANSWER, value=2),
    row("4", PHQ, i.UNKNOWN),
    row("0", MOOD, i.UNKNOWN),
    row("6", MOOD, i.UNKNOWN),
]

YES_NO = [
    row("si", YESNO, i.ANSWER, value=1),
    row("Sí!!", YESNO, i.ANSWER, value=1),
    row("siii", YESNO, i.ANSWER, value=1),
    row("ok", YESNO, i.ANSWER, value=1),
    row("1", YESNO, i.ANSWER, value=1),
    row("claro", YESNO, i.ANSWER, value=1),
    row("claro que sí", YESNO, i.ANSWER, value=1),
    row("por favor", YESNO, i.ANSWER, value=1),
    row("si por favor, en la tarde", YESNO, i.ANSWER, value=1),
    row("yes please", YESNO, i.ANSWER, value=1),
    row("sale, llámame", YESNO, i.ANSWER, value=1),
    row("si no es molestia", YESNO, i.ANSWER, value=1),
    row("sí, estoy mal", YESNO, i.ANSWER, value=1),
    row("no", YESNO, i.ANSWER, value=0),
    row("No.", YESNO, i.ANSWER, value=0),
    row("noo", YESNO, i.ANSWER, value=0),
    row("nel", YESNO, i.ANSWER, value=0),
    row("2", YESNO, i.ANSWER, value=0),
    row("no gracias", YESNO, i.ANSWER, value=0),
    row("No, gracias!", YESNO, i.ANSWER, value=0),
    row("ahorita no", YESNO, i.ANSWER, value=0),
    row("mejor no, gracias", YESNO, i.ANSWER, value=0),
    row("no por ahora", YESNO, i.ANSWER, value=0),
    row("no te preocupes", YESNO, i.ANSWER, value=0),
    row("claro que no", YESNO, i.ANSWER, value=0),
    row("no, estoy bien", YESNO, i.ANSWER, value=0),
    row("ok, no gracias", YESNO, i.ANSWER, value=0),  # "ok" is only a weak yes
    row("no, si necesito algo te aviso", YESNO, i.ANSWER, value=0),  # the first word decides
    row("no thanks", YESNO, i.ANSWER, value=0),
    row("no necesito ayuda", YESNO, i.ANSWER, value=0, negated=True),
    # Neither yes nor no: read as usual, never as a refusal of the call.
    row("no estoy bien", YESNO, i.NOT_OK),
    row("mal", YESNO, i.NOT_OK),
    row("no tengo a nadie", YESNO, i.UNKNOWN),
    row("no se", YESNO, i.UNKNOWN),
    row("no sé si quiero", YESNO, i.UNKNOWN),
    row("quizás mañana", YESNO, i.UNKNOWN),
    row("4", YESNO, i.UNKNOWN),
    row("0", YESNO, i.UNKNOWN),
    row("VIAJE 3h Linares", YESNO, i.TRIP_START, value=180, text="Linares"),
    row("ok 4821", Context(question="yesno", intern=False, responder=True), i.ACK, code="4821"),
    row("si tranquila", YESNO, i.DURESS),
]

RESPONDERS = [
    row("ATIENDO 4821", ROSA, i.ACK, code="4821"),
    row("atiendo caso 4821", ROSA, i.ACK, code="4821"),
    row("OK 4821", ROSA, i.ACK, code="4821"),
    row("ok #4821", BETO, i.ACK, code="4821"),
    row("ok 4821", ROSA_IDLE, i.ACK, code="4821"),
    row("Atiendo 4821 voy en camino", ANA, i.ACK, code="4821"),
    row("ATIENDO", ROSA, i.ACK),
    row("atiendo", BETO, i.ACK),
    row("OK", ROSA, i.ACK),
    row("Ok, voy para allá", ROSA, i.ACK),
    row("ATIENDO 4821, esta mal el paciente", ROSA, i.ACK, code="4821"),
    row("LISTO 4821", ROSA, i.RESOLVE, code="4821"),
    row("listo #4821 todo en orden", BETO, i.RESOLVE, code="4821"),
    row("LISTO", ROSA, i.RESOLVE),
    row("listo", BETO, i.RESOLVE),
]

COMMANDS = [
    row("VIAJE 3h Monterrey", ANA, i.TRIP_START, value=180, text="Monterrey"),
    row("VIAJE 45m", ANA, i.TRIP_START, value=45),
    row("viaje 1h30", ANA, i.TRIP_START, value=90),
    row(
        "Viaje 2 horas y media a San Pedro Garza García",
        ANA,
        i.TRIP_START,
        value=150,
        text="San Pedro Garza García",
    ),
    row("salgo de viaje 2h a Linares", ANA, i.TRIP_START, value=120, text="Linares"),
    row("VIAJE 3, a Galeana.", ANA, i.TRIP_START, value=180, text="Galeana"),
    row("VIAJE +1h", ANA, i.TRIP_EXTEND, value=60),
    row("+30m", ANA, i.TRIP_EXTEND, value=30),
    row("LLEGUE", ANA, i.TRIP_END),
    row("llegué", ANA, i.TRIP_END),
    row("ya llegue", ANA, i.TRIP_END),
    row("Ya llegué bien, gracias", ANA, i.TRIP_END),
    row("PAUSA 5d", ANA, i.PAUSE, value=5, until=date(2026, 11, 25)),
    row("pausa 2 semanas", ANA, i.PAUSE, value=14, until=date(2026, 12, 4)),
    row("PAUSA 5d", Context(), i.PAUSE, value=5),
    row("VACACIONES 24/12", ANA, i.PAUSE, value=34, until=date(2026, 12, 24)),
    row("VACACIONES 24-12-2026", ANA, i.PAUSE, value=34, until=date(2026, 12, 24)),
    row("VACACIONES 24 dic", ANA, i.PAUSE, value=34, until=date(2026, 12, 24)),
    row("vacaciones 2026-12-24", ANA, i.PAUSE, value=34, until=date(2026, 12, 24)),
    row("Vacaciones hasta el 5 de enero", ANA, i.PAUSE, value=46, until=date(2027, 1, 5)),
    row("vacaciones 24-12-2026", Context(), i.PAUSE, until=date(2026, 12, 24)),
    row("REGRESO", ANA, i.RESUME),
    row("ya regresé", ANA, i.RESUME),
    row("HORA 08:30", ANA, i.SET_TIME, at=time(8, 30)),
    row("hora 7:45", ANA, i.SET_TIME, at=time(7, 45)),
    row("hora 7", ANA, i.SET_TIME, at=time(7, 0)),
    row("Hora 7 pm", ANA, i.SET_TIME, at=time(19, 0)),
    row("hora a las 6.15 a.m.", ANA, i.SET_TIME, at=time(6, 15)),
    row("MENU", ANA, i.MENU),
    row("menú?", ANA, i.MENU),
    row("ESTADO", ANA, i.STATUS),
    row("¿Estado?", ANA, i.STATUS),
    row("CLAVE palabra", ANA, i.SET_DURESS, text="palabra"),
    row("clave:  Cielo Azul ", ANA, i.SET_DURESS, text="Cielo Azul"),
    row("clave tranquila", ANA, i.SET_DURESS, text="tranquila"),
]

UNKNOWNS = [
    row("", ANA, i.UNKNOWN),
    row(None, ANA, i.UNKNOWN),
    row("   \n\t ", ANA, i.UNKNOWN),
    row("😀😀🙏", ANA, i.UNKNOWN),
    row("👍", ANA, i.UNKNOWN),
    row("\x00", ANA, i.UNKNOWN),
    row("\x00\x01\x1b[0m", ANA, i.UNKNOWN),
    row("\ud800\udfff", ANA, i.UNKNOWN),
    row("x" * 1600, ANA, i.UNKNOWN),
    row("4", ANA, i.UNKNOWN),
    row("42", ANA, i.UNKNOWN),
    row("4821", ROSA, i.UNKNOWN),
    row("tengo 33 pacientes hoy", ANA, i.UNKNOWN),
    row("llame al 800-911-2000", ANA, i.UNKNOWN),
    row("a que hora es la guardia", ANA, i.UNKNOWN),
    row("cuando llegue te aviso", ANA, i.UNKNOWN),
    row("todavia no llegue", ANA, i.UNKNOWN),
    row("no estoy mal", ANA, i.UNKNOWN),
    row("VIAJE", ANA, i.UNKNOWN),
    row("viaje 48h", ANA, i.UNKNOWN),
    row("PAUSA", ANA, i.UNKNOWN),
    row("pausa 90d", ANA, i.UNKNOWN),
    row("vacaciones 24/12", Context(), i.UNKNOWN),  # no year and no today: cannot complete
    row("vacaciones 29/02", ANA, i.UNKNOWN),
    row("vacaciones 19/11/2026", ANA, i.UNKNOWN),  # in the past
    row("hora 25", ANA, i.UNKNOWN),
    row("CLAVE", ANA, i.UNKNOWN),
    row("listo", ANA, i.UNKNOWN),  # Ana has no case to resolve
    row("mmm no se", ANA, i.NOT_OK),  # a bare "no" is read as not fine
    row("mal", ROSA, i.NOT_OK),
]

# The digits menu: 1 fine, 2 support, 9 emergency. No question's scale has a 9, so it wins
# whatever is open; 3 is an ordinary digit (it was the emergency key before issue 8).
MENU_KEYS = [
    row("9.", ANA, i.EMERGENCY),
    row("9!!", ANA, i.EMERGENCY),
    row(" 9 ", ANA, i.EMERGENCY),
    row("hola, 9", ANA, i.EMERGENCY),
    row("opcion 9", ANA, i.EMERGENCY),
    row("9 por favor", ANA, i.EMERGENCY),
    row("9 pacientes", ANA, i.EMERGENCY),  # a leading 9 is the key, whatever follows
    row("9", MOOD, i.EMERGENCY),
    row("9", PHQ, i.EMERGENCY),
    row("9", YESNO, i.EMERGENCY),
    row("9️⃣", MOOD, i.EMERGENCY),
    row("9 tranquila", ANA, i.EMERGENCY),  # over the duress word
    row("9 me quiero morir", ANA, i.EMERGENCY),  # over self-harm
    row("9", ROSA, i.EMERGENCY),
    row("911", MOOD, i.EMERGENCY),
    row("911", YESNO, i.EMERGENCY),
    row("3", ANA, i.UNKNOWN),
    row("3.", ANA, i.UNKNOWN),
    row("hola, 3", ANA, i.UNKNOWN),
    row("3️⃣", ANA, i.UNKNOWN),
    row("3 pacientes", ANA, i.UNKNOWN),
    row("3", YESNO, i.UNKNOWN),
    row("3", MOOD, i.ANSWER, value=3),
    row("3", PHQ, i.ANSWER, value=3),
    row("3 tranquila", ANA, i.DURESS),
    row("tengo 9 pacientes", ANA, i.UNKNOWN),
    row("99", ANA, i.UNKNOWN),
    row("19", ANA, i.UNKNOWN),
    row("hora 9", ANA, i.SET_TIME, at=time(9, 0)),
    row("VIAJE 9h", ANA, i.TRIP_START, value=540),
    row("pausa 9d", ANA, i.PAUSE, value=9, until=date(2026, 11, 29)),
]

# Emergency words of five letters or more with one typo, as typed or as it sounds, or typed
# on the same phone keys (multi-tap slips). See vocabulary.md, "Typos under stress".
TYPOS = [
    row("auxlio", ANA, i.EMERGENCY),
    row("auxiloi", ANA, i.EMERGENCY),
    row("axuilio", ANA, i.EMERGENCY),
    row("ausilio", ANA, i.EMERGENCY),
    row("auxili", ANA, i.EMERGENCY),
    row("emergensia", ANA, i.EMERGENCY),
    row("emerjencia", ANA, i.EMERGENCY),
    row("emregencia", ANA, i.EMERGENCY),
    row("emergecia", ANA, i.EMERGENCY),
    row("EMERGENCIAA", ANA, i.EMERGENCY),
    row("ayudaa", ANA, i.EMERGENCY),
    row("ayida", ANA, i.EMERGENCY),
    row("auyda", ANA, i.EMERGENCY),
    row("ayufa", ANA, i.EMERGENCY),
    row("ayda", ANA, i.EMERGENCY),
    row("alluda", ANA, i.EMERGENCY),
    row("ayudnme", ANA, i.EMERGENCY),
    row("aiudame", ANA, i.EMERGENCY),
    row("ayudenmee", ANA, i.EMERGENCY),
    row("socoro", ANA, i.EMERGENCY),
    row("sokorro", ANA, i.EMERGENCY),
    row("peligr0", ANA, i.EMERGENCY),
    row("pelgro", ANA, i.EMERGENCY),
    row("peligor", ANA, i.EMERGENCY),
    row("panicp", ANA, i.EMERGENCY),
    row("emergncy", ANA, i.EMERGENCY),
    row("dagner", ANA, i.EMERGENCY),
    row("hay pelgro en la carretera", ANA, i.EMERGENCY),
    row("necesito ayida urgente", ANA, i.EMERGENCY),
    row("auxlio me siguen", ANA, i.EMERGENCY),
    row("ayida", MOOD, i.EMERGENCY),
    row("los peligros del camino", ANA, i.EMERGENCY),  # a real word, but close enough: alert
    # T9 slips: a letter of the same key, once or more (ayuda is 2-9-8-3-2)
    row("axuda", ANA, i.EMERGENCY),
    row("axufa", ANA, i.EMERGENCY),
    row("bzuda", ANA, i.EMERGENCY),
    row("cwtfc", ANA, i.EMERGENCY),
    row("rekigro", ANA, i.EMERGENCY),
    row("auwikio", ANA, i.EMERGENCY),
    row("emerhemcia", ANA, i.EMERGENCY),
    # negated like the word itself
    row("no necesito ayida", ANA, i.UNKNOWN, negated=True),
]

# Real words one typo (or the same keys) away from an emergency word: never an alarm.
NOT_TYPOS = [
    pytest.param(text, id=text[:60])
    for text in (
        "le ayudo a la enfermera",
        "me ayudó mucho la enfermera",
        "voy a ayudar en la campaña de vacunación",
        "¿me ayudas con el censo?",
        "me ayudan los promotores",
        "hoy ayudé en un parto",
        "ayúdale a la señora",
        "ayúdele con la bolsa",
        "¿puedes ayudarme con la receta?",
        "apendicitis aguda",
        "la paciente viene ayuna",
        "la señora está en ayunas",
        "que acuda a su centro de salud",
        "curso de primeros auxilios",
        "la enfermera la auxilia",
        "se socorrió a la paciente",
        "el camino está rocoso",
        "voy a Pánuco",
        "Pancho ya llegó",
        "un panito con café",
        "el ayudante de la farmacia",
        "the ranger came by",
        "anger issues",
        "emergence of symptoms",
        "por favor",  # typed on the same keys as sos: short words are never fuzzy
        "pos si",
        "hel",
    )
]

# Opt-out and opt-in: only when the whole message is the word.
OPT_WORDS = [
    row("STOP", ANA, i.OPT_OUT),
    row("stop", ANA, i.OPT_OUT),
    row("Stop.", ANA, i.OPT_OUT),
    row("STOP!!!", ANA, i.OPT_OUT),
    row("stopp", ANA, i.OPT_OUT),
    row("BAJA", ANA, i.OPT_OUT),
    row("Baja!", ANA, i.OPT_OUT),
    row("CANCELAR", ANA, i.OPT_OUT),
    row("ALTO", ANA, i.OPT_OUT),
    row("¡Alto!", ANA, i.OPT_OUT),
    row("UNSUBSCRIBE", ANA, i.OPT_OUT),
    row("STOPALL", ANA, i.OPT_OUT),
    row("stop all", ANA, i.OPT_OUT),
    row("END", ANA, i.OPT_OUT),
    row("QUIT", ANA, i.OPT_OUT),
    row("CANCEL", ANA, i.OPT_OUT),
    row("OPTOUT", ANA, i.OPT_OUT),
    row("opt-out", ANA, i.OPT_OUT),
    row("REVOKE", ANA, i.OPT_OUT),
    row("STOP", MOOD, i.OPT_OUT),  # over a pending question
    row("baja", YESNO, i.OPT_OUT),
    row("STOP", ROSA, i.OPT_OUT),
    row("STOP", BETO, i.OPT_OUT),
    row("START", ANA, i.OPT_IN),
    row("start", ANA, i.OPT_IN),
    row("ALTA", ANA, i.OPT_IN),
    row("alta!", ANA, i.OPT_IN),
    row("UNSTOP", ANA, i.OPT_IN),
    row("alta", MOOD, i.OPT_IN),
    # Not the whole message: read as usual
    row("hay un retén, alto total", ANA, i.UNKNOWN),
    row("cancelar el viaje", ANA, i.UNKNOWN),
    row("stop please", ANA, i.UNKNOWN),
    row("dar de baja al paciente", ANA, i.UNKNOWN),
    row("la presión está alta", ANA, i.UNKNOWN),
    row("le dieron de alta, todo bien", ANA, i.OK),
    row("alto alto", ANA, i.UNKNOWN),
    row("baja tranquila", ANA, i.DURESS),
    row("YES", ANA, i.OK),  # Twilio's third opt-in word is a check-in answer here
    row("yes", YESNO, i.ANSWER, value=1),
    row("alto, ayuda", ANA, i.EMERGENCY),  # an emergency word wins
    row("STOP auxilio", ANA, i.EMERGENCY),
]

NEGATED = [
    row("no necesito ayuda, estoy bien", ANA, i.OK, negated=True),
    row("No hay peligro, todo bien", ANA, i.OK, negated=True),
    row("i don't need help, I'm fine", ANA, i.OK, negated=True),
    row("no necesito ayuda", ANA, i.UNKNOWN, negated=True),
    row("ya no hay peligro", ANA, i.UNKNOWN, negated=True),
    row("sin peligro", ANA, i.UNKNOWN, negated=True),
    row("no es una emergencia", ANA, i.UNKNOWN, negated=True),
    row("not an emergency", ANA, i.UNKNOWN, negated=True),
    row("gracias por tu ayuda", ANA, i.UNKNOWN, negated=True),
    row("no hay emergencia pero necesito apoyo", ANA, i.NOT_OK, negated=True),
    row("LISTO 4821, ya no hay peligro", ROSA, i.RESOLVE, code="4821", negated=True),
]

ALL_ROWS = FINE + NOT_FINE + EMERGENCIES + DURESS + ANSWERS + YES_NO + RESPONDERS + COMMANDS
ALL_ROWS += UNKNOWNS + NEGATED + MENU_KEYS + TYPOS + OPT_WORDS


@pytest.mark.parametrize(("text", "context", "kind", "fields"), ALL_ROWS)
def test_it_reads_each_message(text, context, kind, fields):
    assert interpret(text, context) == Intent(kind, **fields)


# --- Precedence --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("ok pero hay peligro", ANA),  # over a fine answer
        ("estoy tranquila pero ayuda", ANA),  # over the duress word
        ("3 auxilio", PHQ),  # over a pending questionnaire
        ("9", PHQ),  # the emergency key too
        ("si, ayuda", YESNO),  # over a pending yes/no question
        ("LISTO 4821 peligro", ROSA),  # over a responder's action
        ("VIAJE 2h ayuda", ANA),  # over a trip
        ("HORA 8:00 SOS", ANA),  # over a command
        ("mal, help", ANA),  # over not fine
        ("me quiero morir, ayuda", ANA),  # over self-harm: the caller runs the emergency path
    ],
)
def test_an_emergency_word_wins_over_everything(text, context):
    assert interpret(text, context).kind == i.EMERGENCY


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("ok pero ya no quiero vivir", ANA),  # over a fine answer
        ("Todo bien. Bueno no, me quiero morir", ANA),
        ("estoy tranquila, me quiero morir", ANA),  # over the duress word
        ("2 ya no quiero vivir", MOOD),  # over a pending answer
        ("0, pero a veces pienso en suicidarme", PHQ),
        ("si, me quiero morir", YESNO),
        ("no gracias, quiero morirme", YESNO),
        ("ATIENDO 4821 ya no quiero vivir", BETO),  # over a responder's action
        ("VIAJE 3h, ya no quiero vivir", ANA),  # over a trip
        ("PAUSA 5d quiero suicidarme", ANA),  # over a command
        ("LLEGUE. me quiero morir", ANA),
        ("mal, me quiero morir", ANA),  # over not fine
        ("no, ya no quiero vivir", ANA),  # over a bare no
    ],
)
def test_self_harm_wins_over_everything_but_an_emergency(text, context):
    assert interpret(text, context) == Intent(i.SELF_HARM)


def test_the_duress_word_wins_over_ok_so_the_caller_can_answer_it_like_ok():
    assert interpret("estoy bien", ANA).kind == i.OK
    assert interpret("estoy tranquila", ANA).kind == i.DURESS
    assert interpret("estoy tranquila", Context()).kind == i.UNKNOWN


def test_confirming_the_duress_word_with_clave_raises_no_alarm():
    assert interpret("CLAVE tranquila", ANA) == Intent(i.SET_DURESS, text="tranquila")


def test_a_digit_answers_the_pending_questionnaire_instead_of_the_menu():
    assert interpret("3", PHQ) == Intent(i.ANSWER, value=3)
    assert interpret("3", ANA).kind == i.UNKNOWN
    assert interpret("2", MOOD) == Intent(i.ANSWER, value=2)
    assert interpret("2", ANA).kind == i.NOT_OK


def test_emergency_words_still_win_while_a_question_is_pending():
    assert interpret("sos", MOOD).kind == i.EMERGENCY
    assert interpret("4 pero ayuda", PHQ).kind == i.EMERGENCY
    assert interpret("no, ayuda", YESNO).kind == i.EMERGENCY


@pytest.mark.parametrize(
    ("text", "context", "expected"),
    [
        # A digit answers the pending questionnaire, whatever it means in the menu …
        ("3", PHQ, Intent(i.ANSWER, value=3)),
        ("3", MOOD, Intent(i.ANSWER, value=3)),
        ("2", PHQ, Intent(i.ANSWER, value=2)),
        ("2", MOOD, Intent(i.ANSWER, value=2)),
        ("1", PHQ, Intent(i.ANSWER, value=1)),
        ("1", MOOD, Intent(i.ANSWER, value=1)),
        ("0", PHQ, Intent(i.ANSWER, value=0)),
        ("0", MOOD, Intent(i.UNKNOWN)),
        ("4", PHQ, Intent(i.UNKNOWN)),
        ("4", MOOD, Intent(i.ANSWER, value=4)),
        # … a yes/no question takes 1 (yes) and 2 (no); 3 is no answer to it.
        ("1", YESNO, Intent(i.ANSWER, value=1)),
        ("2", YESNO, Intent(i.ANSWER, value=0)),
        ("3", YESNO, Intent(i.UNKNOWN)),
        ("3️⃣", YESNO, Intent(i.UNKNOWN)),
        ("4", YESNO, Intent(i.UNKNOWN)),
        # … with nothing pending, the menu: 1 fine, 2 support, 9 emergency, 3 nothing.
        ("1", ANA, Intent(i.OK)),
        ("2", ANA, Intent(i.NOT_OK)),
        ("3", ANA, Intent(i.UNKNOWN)),
        ("9", ANA, Intent(i.EMERGENCY)),
        # The emergency key wins whatever is open: no scale has a 9.
        ("9", PHQ, Intent(i.EMERGENCY)),
        ("9", MOOD, Intent(i.EMERGENCY)),
        ("9", YESNO, Intent(i.EMERGENCY)),
        # Words beat digits: an emergency word always, a self-harm phrase over an answer.
        ("3 auxilio", PHQ, Intent(i.EMERGENCY)),
        ("3 me quiero morir", PHQ, Intent(i.SELF_HARM)),
        ("3 me quiero morir", MOOD, Intent(i.SELF_HARM)),
        ("1 me quiero morir", YESNO, Intent(i.SELF_HARM)),
        ("3 me quiero morir", YESNO, Intent(i.SELF_HARM)),
        ("3 me quiero morir", ANA, Intent(i.SELF_HARM)),
        ("9 me quiero morir", MOOD, Intent(i.EMERGENCY)),
        ("3 pacientes", PHQ, Intent(i.ANSWER, value=3)),
        ("tengo 3 pacientes", PHQ, Intent(i.UNKNOWN)),
    ],
)
def test_every_digit_collision(text, context, expected):
    assert interpret(text, context) == expected


def test_a_yes_no_question_reads_si_and_no_and_leaves_other_texts_to_the_usual_rules():
    assert interpret("si", YESNO) == Intent(i.ANSWER, value=1)
    assert interpret("no", YESNO) == Intent(i.ANSWER, value=0)
    assert interpret("quizás", YESNO) == Intent(i.UNKNOWN)
    assert interpret("LLEGUE", YESNO) == Intent(i.TRIP_END)  # a trip is never swallowed


def test_without_a_yes_no_question_si_and_no_are_check_in_answers_as_before():
    assert interpret("no", ANA) == Intent(i.NOT_OK)
    assert interpret("no gracias", ANA) == Intent(i.NOT_OK)
    assert interpret("si", ANA) == Intent(i.OK)
    assert interpret("no", MOOD) == Intent(i.NOT_OK)


def test_a_no_that_negates_what_follows_is_not_a_refusal_of_the_call():
    assert interpret("no, estoy bien", YESNO) == Intent(i.ANSWER, value=0)
    assert interpret("no estoy bien", YESNO) == Intent(i.NOT_OK)
    assert interpret("no me siento bien", YESNO) == Intent(i.NOT_OK)
    assert interpret("no puedo más", YESNO) == Intent(i.UNKNOWN)


def test_not_fine_wins_over_fine_and_over_intern_commands():
    assert interpret("bien pero necesito apoyo", ANA).kind == i.NOT_OK
    assert interpret("PAUSA 3d estoy mal", ANA).kind == i.NOT_OK
    assert interpret("llegue pero me siento mal", ANA).kind == i.NOT_OK


def test_a_plain_ok_is_the_interns_own_check_in_but_a_nurses_acknowledgement():
    assert interpret("OK", BETO) == Intent(i.OK)
    assert interpret("OK", ROSA) == Intent(i.ACK)
    assert interpret("OK 4821", BETO) == Intent(i.ACK, code="4821")
    assert interpret("ATIENDO", BETO) == Intent(i.ACK)


# --- Negation ----------------------------------------------------------------------------


def test_a_negated_emergency_with_a_fine_word_is_ok_and_flagged():
    assert interpret("no necesito ayuda, estoy bien", ANA) == Intent(i.OK, negated=True)


def test_a_negated_emergency_alone_is_unknown_so_nothing_is_marked_fine_on_a_guess():
    assert interpret("no necesito ayuda", ANA) == Intent(i.UNKNOWN, negated=True)
    assert interpret("ya no hay peligro", ANA) == Intent(i.UNKNOWN, negated=True)


def test_an_uncertain_negation_alerts():
    assert interpret("no se si es emergencia", ANA).kind == i.EMERGENCY
    assert interpret("no puedo hablar ayuda", ANA).kind == i.EMERGENCY
    assert interpret("no me ayuda nadie", ANA).kind == i.EMERGENCY


def test_negation_does_not_cross_a_clause_break():
    assert interpret("no ayuda", ANA) == Intent(i.UNKNOWN, negated=True)
    assert interpret("No, ayuda", ANA).kind == i.EMERGENCY
    assert interpret("no 😱 ayuda", ANA).kind == i.EMERGENCY


def test_a_negated_self_harm_phrase_is_still_self_harm():
    # Someone who writes about it, even to deny it, is offered help: safe messaging asks.
    assert interpret("no me quiero morir", ANA) == Intent(i.SELF_HARM)
    assert interpret("no quiero suicidarme", ANA) == Intent(i.SELF_HARM)
    assert interpret("I don't want to die", ANA) == Intent(i.SELF_HARM)
    # `negated` keeps its one meaning: an emergency word was seen but negated.
    assert interpret("no necesito ayuda, solo quiero morirme", ANA) == Intent(
        i.SELF_HARM, negated=True
    )


def test_a_word_naming_suicide_yields_only_to_a_responders_acknowledgement():
    assert interpret("ATIENDO 4821, riesgo suicida", ROSA) == Intent(i.ACK, code="4821")
    assert interpret("LISTO 4821 ya no hay riesgo de suicidio", ROSA) == Intent(
        i.RESOLVE, code="4821"
    )
    assert interpret("pienso en el suicidio", BETO) == Intent(i.SELF_HARM)
    assert interpret("atiendo, pienso en el suicidio", ANA) == Intent(i.SELF_HARM)
    # A phrase said in the first person wins even there.
    assert interpret("ATIENDO 4821 me quiero morir", ROSA) == Intent(i.SELF_HARM)


def test_a_negated_fine_word_is_not_fine():
    assert interpret("no estoy bien", ANA).kind == i.NOT_OK
    assert interpret("not good", ANA).kind == i.NOT_OK


# --- Numbers, noise, dates ---------------------------------------------------------------


def test_numbers_inside_other_text_are_not_menu_digits():
    assert interpret("tengo 33 pacientes", ANA).kind == i.UNKNOWN
    assert interpret("tengo 3 pacientes", ANA).kind == i.UNKNOWN
    assert interpret("vi 13 pacientes, todo bien", ANA).kind == i.OK
    assert interpret("OK 4821", ROSA) == Intent(i.ACK, code="4821")


def test_it_never_raises_on_noise():
    rng = random.Random(20261120)
    alphabet = "abeiklmnopsuy0123456789 .,:/-+#!?¿¡\n\t\x00\x1b\u200d\ufe0f😀🆘áñ\ud800\udfff"
    contexts = (ANA, BETO, ROSA, MOOD, PHQ, YESNO, Context())
    for n in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        intent = interpret(text, contexts[n % len(contexts)])
        assert intent.kind in KINDS
        assert isinstance(normalize(text), str)


KINDS = {
    i.OK, i.NOT_OK, i.EMERGENCY, i.DURESS, i.ACK, i.RESOLVE, i.ANSWER, i.TRIP_START,
    i.TRIP_EXTEND, i.TRIP_END, i.PAUSE, i.RESUME, i.SET_TIME, i.MENU, i.STATUS,
    i.SET_DURESS, i.SELF_HARM, i.OPT_OUT, i.OPT_IN, i.UNKNOWN,
}  # fmt: skip


def test_a_date_without_year_is_the_next_one_on_or_after_today():
    after_christmas = Context(today=date(2026, 12, 26))
    assert interpret("vacaciones 5/1", after_christmas).until == date(2027, 1, 5)
    assert interpret("vacaciones 20/11", ANA) == Intent(i.PAUSE, value=0, until=TODAY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sí!!", "si"),
        ("  OKKK  ", "ok"),
        ("S.O.S", "sos"),
        ("Llegué al arroyo", "llegue al arroyo"),
        ("¡AYÚDAME! 😱", "ayudame"),
        ("HORA 08:30", "hora 08:30"),
        ("VIAJE +1h", "viaje +1h"),
        ("vacaciones 24/12/2026", "vacaciones 24/12/2026"),
        ("ok #4821", "ok 4821"),
        ("a\x00b\u200dc", "abc"),
        ("Peña", "pena"),
        ("１２", "12"),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_vocabulary_words_stay_distinct_when_repeated_letters_are_squeezed():
    squeezed = [squeeze(w) for w in v.VOCABULARY]
    assert len(squeezed) == len(set(squeezed))


def test_a_duress_word_made_of_vocabulary_is_flagged_for_the_caller():
    assert clashes_with_vocabulary("Bien")
    assert clashes_with_vocabulary("ayuda mami")
    assert clashes_with_vocabulary("1234")
    assert clashes_with_vocabulary("suicidio")
    assert clashes_with_vocabulary("auxlio")  # a typo of an emergency word alerts openly
    assert clashes_with_vocabulary("tengo miedo")  # so does a phrase of threat
    assert clashes_with_vocabulary("Alto")  # and the opt-out words mean leaving
    assert not clashes_with_vocabulary("Tranquila")
    assert not clashes_with_vocabulary("Cielo azul")


# --- The digits menu, typos, opt-out -------------------------------------------------------


def test_no_question_scale_uses_the_emergency_key():
    assert v.MENU_DIGITS[v.EMERGENCY_DIGIT] == i.EMERGENCY
    assert all(int(v.EMERGENCY_DIGIT) not in scale for scale in i.QUESTION_RANGES.values())
    assert "3" not in v.MENU_DIGITS


TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "sms"
MENU_TEXTS = ("menu", "checkin_ping", "checkin_ping_late", "checkin_reminder", "not_understood")


TEACHES_9 = re.compile(r"\b9 (o SOS en|or SOS in|si es|if it is) (an )?emergenc")
TEACHES_3 = re.compile(r"\b3\b[^.]{0,12}(emergen|SOS)")


@pytest.mark.parametrize("language", ["es", "en"])
def test_every_text_that_teaches_the_menu_teaches_9_for_an_emergency(language):
    for name in MENU_TEXTS:
        assert TEACHES_9.search((TEMPLATES / language / f"{name}.txt").read_text()), name
    for path in TEMPLATES.glob("*/*.txt"):
        assert not TEACHES_3.search(path.read_text()), path.name


@pytest.mark.parametrize("text", NOT_TYPOS)
def test_a_real_word_near_an_emergency_word_raises_no_alarm(text):
    assert interpret(text, ANA).kind != i.EMERGENCY


def test_every_real_word_kept_from_the_typo_rule_is_a_near_miss():
    # Each entry of NOT_EMERGENCY_TYPOS would alert without it: one typo, as typed or as it
    # sounds, or the same keys, from an emergency word of five letters or more.
    near = emergency.is_emergency_word.__wrapped__
    kept = emergency._NOT_TYPOS
    try:
        emergency._NOT_TYPOS = frozenset()
        far = [w for w in v.NOT_EMERGENCY_TYPOS if not near(w)]
    finally:
        emergency._NOT_TYPOS = kept
    assert far == []
    assert not any(w in v.EMERGENCY_WORDS for w in v.NOT_EMERGENCY_TYPOS)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("auxilio", "auxilio", True),
        ("auxlio", "auxilio", True),  # a letter dropped
        ("auxiliio", "auxilio", True),  # added
        ("auxilo", "auxilio", True),
        ("auxilia", "auxilio", True),  # changed
        ("axuilio", "auxilio", True),  # two neighbours swapped
        ("axuiloi", "auxilio", False),  # two swaps
        ("auxi", "auxilio", False),
        ("", "a", True),
        ("ab", "ba", True),
        ("abc", "cba", False),
    ],
)
def test_one_edit(a, b, expected):
    assert emergency.one_edit(a, b) is expected
    assert emergency.one_edit(b, a) is expected


def test_opt_out_words_count_only_as_the_whole_message():
    assert interpret("ALTO", ANA) == Intent(i.OPT_OUT)
    assert interpret("hay un retén, alto total", ANA).kind != i.OPT_OUT
    assert interpret("alto, ayuda", ANA) == Intent(i.EMERGENCY)
    assert interpret("si", ANA) == Intent(i.OK)  # never an opt-in


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ok", False),
        ("estoy bien", False),
        ("OK 4821", True),
        ("atiendo", True),
        ("LISTO #4821", True),
        ("tengo 2 pacientes", False),
        ("", False),
        (None, False),
    ],
)
def test_may_answer_a_case(text, expected):
    assert i.may_answer_a_case(text) is expected
