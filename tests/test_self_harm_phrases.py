"""Words of self-harm: realistic texts that must start the self-harm path, and texts that must not.

Same style as test_interpret.py: one row per message, compared with the whole `Intent`. The
patterns themselves are module-level data in bot/conversation/vocabulary.py (SELF_HARM_PHRASES,
SELF_HARM_WORDS, NOT_SELF_HARM); the tests below also check that every pattern is exercised
by a row here, and that the counts in bot/conversation/vocabulary.md are the real ones.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.conversation import interpret as i
from bot.conversation import vocabulary as v
from bot.conversation.emergency import LOOK_ALIKE_PATTERNS, THREAT_PATTERNS
from bot.conversation.interpret import Context, Intent, interpret
from bot.conversation.phrases import Patterns, matches
from bot.conversation.self_harm import FIGURE_PATTERNS, PHRASE_PATTERNS, WORD_PATTERNS
from bot.conversation.words import Words, sound
from tests.test_interpret import ALL_ROWS

ANA = Context(duress_word="tranquila")
MOOD = Context(question="mood", duress_word="tranquila")
PHQ = Context(question="phq")
YESNO = Context(question="yesno")
ROSA = Context(intern=False, responder=True)


def row(message: str, context: Context = ANA, /):
    return pytest.param(message, context, id=repr(message)[:60])


SELF_HARM = [
    # Spanish, wanting to die
    row("me quiero morir"),
    row("Me quiero morir."),
    row("ME QUIERO MORIR!!!"),
    row("me kiero morir"),
    row("me quiero morirrrr"),
    row("me quiero... morir"),
    row("me quiero ya morir"),
    row("la neta ya me quiero morir"),
    row("ya no aguanto, me quiero morir 😔"),
    row("me quiero morir de tristeza"),  # a cause that is no figure of speech
    row("me quiero morir de verdad"),
    row("quiero morirme"),
    row("kiero morirme ya"),
    row("a veces quisiera morirme"),
    row("tengo ganas de morirme"),
    row("quisiera estar muerta"),
    row("quisiera estar muerto"),
    row("mejor muerta"),
    row("estaría mejor muerta"),
    row("mejor me muero, ya no puedo"),
    row("ojalá me muera"),
    # Spanish, not wanting to live
    row("ya no quiero vivir"),
    row("Ya no quiero vivir así"),
    row("ya no kiero bibir"),
    row("buenas noches. no sé, ya no quiero vivir"),
    row("no quiero seguir viviendo"),
    row("estoy cansada de todo y ya no quiero seguir viviendo así"),
    row("no quiero seguir viva"),
    row("no tengo ganas de vivir"),
    row("perdí las ganas de vivir"),
    row("quisiera no haber nacido"),
    row("ojalá no hubiera nacido"),
    row("quiero dejar de existir"),
    row("no vale la pena vivir"),
    row("la vida no vale la pena"),
    row("mi vida no tiene sentido"),
    row("no tengo ninguna razón para vivir"),
    row("no tengo nada por qué vivir"),
    row("todos estarían mejor sin mí"),
    row("quisiera dormir y no despertar"),
    row("no quiero volver a despertar"),
    row("ojalá no despertar mañana"),
    row("quiero desaparecer"),
    row("quiero desaparecer de este mundo"),
    row("desaparecer para siempre"),
    row("ya me quiero ir de este mundo"),
    row("pienso en la muerte todo el tiempo"),
    # Spanish, ending one's life
    row("me voy a matar"),
    row("me boy a matar"),
    row("me quiero matar"),
    row("quiero matarme"),
    row("pienso en matarme"),
    row("quitarme la vida"),
    row("he pensado en quitarme la vida"),
    row("me voy a quitar la vida"),
    row("me voy a quitar la bida"),
    row("quiero acabar con mi vida"),
    row("quiero acabar con todo"),
    row("suicidarme"),
    row("pienso en suicidarme"),
    row("me quiero suicidar"),
    row("sucidarme"),
    row("suicidio"),
    row("he pensado en el suicidio"),
    row("suisidio"),
    row("tengo pensamientos suicidas"),
    # Spanish, hurting oneself
    row("hacerme daño"),
    row("me quiero hacer daño"),
    row("tengo ganas de haserme dano"),
    row("cortarme"),
    row("volví a cortarme"),
    row("me quiero cortar"),
    row("me autolesiono otra vez"),
    row("he tenido auto lesiones"),
    # English
    row("kill myself"),
    row("I want to kill myself"),
    row("i'm going to kill my self"),
    row("i want to die"),
    row("I just wanna die"),
    row("i wish i was dead"),
    row("end my life"),
    row("I want to end my life"),
    row("want to end it all"),
    row("suicide"),
    row("i feel suicidal"),
    row("hurt myself"),
    row("i want to hurt myself"),
    row("self harm"),
    row("selfharm again"),
    row("I don't want to live anymore"),
    row("everyone would be better off without me"),
    row("better off dead"),
    row("no reason to live"),
    row("i have nothing to live for"),
    # Denied, still offered help: safe messaging favours asking.
    row("no me quiero morir"),
    row("no quiero suicidarme"),
    row("no me voy a matar, no se preocupen"),
    row("I don't want to die"),
    # Over everything but an emergency word.
    row("ok pero ya no quiero vivir"),
    row("estoy tranquila, me quiero morir"),
    row("2 ya no quiero vivir", MOOD),
    row("0 pero pienso en suicidarme", PHQ),
    row("si, me quiero morir", YESNO),
    row("VIAJE 3h, ya no quiero vivir"),
    row("la paciente quiere suicidarse"),  # a word naming suicide alerts, whoever it is about
    row("vivir aquí no tiene sentido sin internet"),  # over-alerts on purpose: unsure, alert
]

NOT_SELF_HARM = [
    # The figures of speech the issue names, and their relatives
    row("me muero de risa"),
    row("jajaja me muero de risa"),
    row("me muero de hambre"),
    row("me muero de sueño"),
    row("me muero de ganas de verte"),
    row("me muero de frío"),
    row("me muero de pena"),
    row("me muero por un taco"),
    row("me mata el calor"),
    row("me están matando los mosquitos"),
    row("estoy muerta de cansancio"),
    row("muerta de cansancio"),
    row("estoy muerta"),
    row("quiero dormir, estoy muerta"),
    row("me mato estudiando"),
    row("voy a morir de aburrimiento"),
    row("killing it"),
    row("dying to see you"),
    row("this heat is killing me"),
    row("I'm dying of laughter"),
    # Figures of speech that contain a self-harm phrase (NOT_SELF_HARM in interpret.py)
    row("me quiero morir de la vergüenza"),
    row("me quiero morir de risa jajaja"),
    row("i want to die of embarrassment"),
    row("me voy a matar estudiando para el ENARM"),
    row("me voy a matar de tanto estudiar"),
    row("killing myself studying lol"),
    row("mi mamá va a matarme"),
    row("quieren matarme"),  # someone else: not self-harm (see vocabulary.md)
    row("me voy a cortar el pelo"),
    row("tengo que cortarme las uñas"),
    row("ya no quiero vivir aquí"),
    row("no quiero vivir en este pueblo"),
    row("ya no quiero vivir más aquí"),
    row("I don't want to live here"),
    row("no quiero despertar temprano mañana"),
    row("quiero desaparecer un rato del hospital"),
    row("quiero acabar con todo el papeleo hoy"),
    # Third person, about a patient or anyone else: clinical talk, not the intern
    row("el paciente se quiere morir"),
    row("el paciente se quiso quitar la vida"),
    row("la señora murió"),
    row("la señora murio a las 3"),
    row("se murió mi perro"),
    row("me van a matar en la guardia"),
    row("ojalá se muera el calor"),
    row("ATIENDO 4821, dice que se quiere morir", ROSA),
    row("ATIENDO 4821, riesgo suicida", ROSA),  # the mental-health contact names her case
    # Look-alikes
    row("me corté con el bisturí"),
    row("me lastimé el tobillo"),
    row("maté un alacrán"),
    row("quiero ir a dormir"),
    row("me encanta mi vida"),
    row("ya cobré el subsidio"),
    row("3", PHQ),
]


@pytest.mark.parametrize(("text", "context"), SELF_HARM)
def test_it_starts_the_self_harm_path(text, context):
    assert interpret(text, context) == Intent(i.SELF_HARM)


@pytest.mark.parametrize(("text", "context"), NOT_SELF_HARM)
def test_it_does_not_start_the_self_harm_path(text, context):
    assert interpret(text, context).kind != i.SELF_HARM


def test_an_emergency_word_still_wins_and_the_caller_runs_the_emergency_path():
    assert interpret("me quiero morir ayuda", ANA) == Intent(i.EMERGENCY)
    assert interpret("auxilio, me voy a matar", ANA) == Intent(i.EMERGENCY)


def test_the_tables_are_as_large_as_the_issue_asks():
    assert len(SELF_HARM) >= 40
    assert len(NOT_SELF_HARM) >= 25


# --- Every pattern is exercised ----------------------------------------------------------


def _patterns_matching(text: str, patterns, gap: int) -> set[int]:
    words = Words.of(text)
    return {n for n, slots in enumerate(patterns) if any(matches(words, Patterns((slots,)), gap))}


def _unused(specs, patterns, rows, gap: int) -> list[str]:
    used = set().union(*(_patterns_matching(p.values[0], patterns, gap) for p in rows))
    return [spec for n, spec in enumerate(specs) if n not in used]


def test_every_self_harm_pattern_has_a_row():
    assert _unused(v.SELF_HARM_PHRASES, PHRASE_PATTERNS, SELF_HARM, v.SELF_HARM_GAP) == []
    assert _unused(v.SELF_HARM_WORDS, WORD_PATTERNS, SELF_HARM, v.SELF_HARM_GAP) == []


def test_every_figure_of_speech_saves_a_row():
    assert _unused(v.NOT_SELF_HARM, FIGURE_PATTERNS, NOT_SELF_HARM, 0) == []


@pytest.mark.parametrize(
    ("typed", "sounds"),
    [
        ("quiero", "kiero"),
        ("qiero", "kiero"),
        ("bida", "bida"),
        ("vida", "bida"),
        ("hacerme", "aserme"),
        ("haserme", "aserme"),
        ("suicidio", "suisidio"),
        ("llamame", "yamame"),
        ("morrir", "morir"),
    ],
)
def test_sound(typed, sounds):
    assert sound(typed) == sounds


# --- The counts in bot/conversation/vocabulary.md ----------------------------------------

VOCABULARY_MD = Path(__file__).resolve().parents[1] / "bot" / "conversation" / "vocabulary.md"


def counts() -> dict[str, int]:
    """What the count table in vocabulary.md must say."""
    table = {
        "SELF_HARM_PHRASES": len(v.SELF_HARM_PHRASES),
        "SELF_HARM_WORDS": len(v.SELF_HARM_WORDS),
        "NOT_SELF_HARM": len(v.NOT_SELF_HARM),
        "self-harm rows": len(SELF_HARM),
        "not-self-harm rows": len(NOT_SELF_HARM),
    }
    kinds = Counter(p.values[2] for p in ALL_ROWS)
    table.update({f"`{kind}` rows": n for kind, n in sorted(kinds.items())})
    return table


def test_the_count_table_in_vocabulary_md_is_up_to_date():
    section = VOCABULARY_MD.read_text().split("\n## Counts\n")[1].split("\n## ")[0]
    written = dict(re.findall(r"^\| (.+?) \| (\d+) \|", section, re.M))
    assert {name: int(n) for name, n in written.items()} == counts()


# --- The index never rules out a pattern that matches --------------------------------------


def _spellings(patterns) -> list[str]:
    """Words that fill the patterns' slots: exact spellings, and words with their prefixes
    and suffixes (as they sound: the matcher compares sounds)."""
    found = set()
    for slots in patterns:
        for slot in slots:
            found |= slot.exact
            found |= {prefix + "ndo" for prefix in slot.prefixes}
            found |= {"me" + suffix for suffix in slot.suffixes}
    return sorted(found)


PATTERN_SETS = {
    "self-harm phrases": PHRASE_PATTERNS,
    "self-harm words": WORD_PATTERNS,
    "figures of speech": FIGURE_PATTERNS,
    "threats": THREAT_PATTERNS,
    "look-alikes of threats": LOOK_ALIKE_PATTERNS,
}
FILLERS = ["ok", "bien", "no", "me", "que", "ya", "un", "hombre", ",", "."]


@pytest.mark.parametrize("name", PATTERN_SETS)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_index_keeps_every_pattern_a_text_may_match(name, data):
    """A pattern may match when each slot it needs has a word of the text: the index looks
    at every such pattern (it only spares the matcher the others)."""
    patterns = PATTERN_SETS[name]
    pool = _spellings(patterns) + FILLERS
    text = " ".join(data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=9)))
    present = frozenset(Words.of(text).keys)
    may_match = [
        slots
        for slots in patterns
        if all(slot.optional or slot.matches_any(present) for slot in slots)
    ]
    kept = patterns.possible(present)
    assert [slots for slots in may_match if slots not in kept] == []
