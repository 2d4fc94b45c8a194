"""The interpreter against any text: it never raises and always gives a well-formed Intent; an
emergency word wins wherever it stands and whatever question is open; the fine words read as
fine however they are typed (case, accents, repeated letters, spelled out, punctuation).

Properties over generated texts (hypothesis), beside the table tests of test_interpret.py,
which say what each realistic message means. vocabulary.md holds the rules checked here.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from bot.conversation import intents
from bot.conversation.interpret import Context, Intent, interpret
from bot.conversation.vocabulary import (
    CODE,
    EMERGENCY_WORDS,
    FINE_WORDS,
    MAX_DESTINATION,
    MAX_PAUSE_DAYS,
    MAX_TRIP_MINUTES,
    NOT_FINE_WORDS,
    VOCABULARY,
    YES_STRONG,
    YES_WEAK,
)
from tests.hostile import TROUBLE, examples

KINDS = frozenset(
    value
    for name, value in vars(intents).items()
    if name.isupper() and isinstance(value, str) and name != "YESNO"
)
QUESTIONS = (None, *intents.QUESTION_RANGES, intents.YESNO)
CODE_KINDS = {intents.ACK, intents.RESOLVE, intents.STATUS}

# Any text, lone surrogates included: the interpreter is handed whatever a caller has.
raw_text = st.text(st.one_of(st.characters(), st.sampled_from(TROUBLE)), max_size=80)
# Texts made of Faro's own words, digits, codes and punctuation: where the rules meet.
tokens = st.sampled_from(
    sorted(VOCABULARY)
    + ["9", "3", "1", "2", "0", "4821", "+1h", "3h", "08:30", "24/12", "5d", "me", "siguen"]
    + [".", ",", "!", "¿", "\n", "no", "sin", "gracias por", "quiero morir", "clave", "STOP"]
)
vocabulary_text = st.lists(tokens, max_size=8).map(" ".join)
texts = st.one_of(raw_text, vocabulary_text, st.none())
contexts = st.builds(
    Context,
    intern=st.booleans(),
    responder=st.booleans(),
    duress_word=st.one_of(st.none(), st.sampled_from(["tranquila", "girasol"]), raw_text),
    question=st.sampled_from(QUESTIONS),
    today=st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2099, 12, 31))),
)


def check_well_formed(intent: Intent, context: Context) -> None:
    """What every caller relies on, whatever the text: vocabulary.md, "Fields"."""
    assert isinstance(intent, Intent)
    assert intent.kind in KINDS
    assert isinstance(intent.negated, bool)
    if intent.code is not None:
        assert intent.kind in CODE_KINDS
        assert CODE.fullmatch(intent.code)
    if intent.kind == intents.ANSWER:
        assert context.question is not None
        scale = intents.QUESTION_RANGES.get(context.question, range(0, 2))
        assert intent.value in scale
    if intent.kind in (intents.TRIP_START, intents.TRIP_EXTEND):
        assert 0 < intent.value <= MAX_TRIP_MINUTES
    if intent.kind == intents.TRIP_START and intent.text is not None:
        assert 0 < len(intent.text) <= MAX_DESTINATION
    if intent.kind == intents.PAUSE:
        assert intent.value is not None or intent.until is not None
        if intent.value is not None:
            assert 0 <= intent.value <= MAX_PAUSE_DAYS
        if intent.until is not None and context.today is not None:
            assert intent.until - context.today == timedelta(days=intent.value)
    if intent.kind == intents.SET_TIME:
        assert isinstance(intent.at, time)
    if intent.kind == intents.SET_DURESS:
        assert intent.text and intent.text.strip() == intent.text


@examples(400)
@given(text=texts, context=contexts)
def test_any_text_in_any_context_gives_one_well_formed_intent(text, context):
    check_well_formed(interpret(text, context), context)


# --- Emergency words win ---------------------------------------------------------------------

ACCENTED = {"a": "áàâä", "e": "éèêë", "i": "íìîï", "o": "óòôö", "u": "úùûü", "n": "ñ"}
FULLWIDTH = {chr(c): chr(c - ord("a") + 0xFF41) for c in range(ord("a"), ord("z") + 1)}
FULLWIDTH |= {str(d): chr(0xFF10 + d) for d in range(10)}


@st.composite
def typed_as(draw, word: str) -> str:
    """`word` as a hurried phone user may type it: each letter in either case, with an accent,
    fullwidth, or repeated (digits fullwidth at most); or spelled out with dots or spaces
    (`S.O.S`, `o k`), then without repeated letters."""
    joiner = draw(st.sampled_from(["", "", "", ".", " "])) if word.isalpha() else ""
    forms = ["plain", "upper", "accent", "combining", "wide"] + ([] if joiner else ["repeat"])
    letters = []
    for char in word:
        form = draw(st.sampled_from(forms))
        if form == "upper":
            char = char.upper()
        elif form == "accent" and char in ACCENTED:
            char = draw(st.sampled_from(ACCENTED[char]))
        elif form == "combining" and char.isalpha():
            char += "\u0301"
        elif form == "wide" and char in FULLWIDTH:
            char = FULLWIDTH[char]
        elif form == "repeat" and char.isalpha():  # a repeated digit is another number
            char *= draw(st.integers(2, 5))
        letters.append(char)
    return joiner.join(letters)


emergency_words = st.sampled_from(sorted(w for w in EMERGENCY_WORDS)).flatmap(typed_as)
clause_breaks = st.sampled_from([". ", "! ", "\n", ", ", "? ", "¡", " (", "; "])
# What ends the word: a space or a line at least, so that digits after it are not its own.
after_word = st.sampled_from([" ", "! ", "!!! ", ". ", "\n", ", ", "? ", "!\n"])


@examples(300)
@given(
    # A text that ends in something that joins what follows ("+" before a digit, a letter).
    before=st.one_of(raw_text, vocabulary_text, raw_text.map(lambda text: text + "+")),
    brk=clause_breaks,
    word=st.one_of(emergency_words, st.just("\U0001f198")),
    after=after_word,
    rest=st.one_of(raw_text, vocabulary_text),
    context=contexts,
)
@example(before="llamen +", brk="\n", word="911", after=" ", rest="", context=Context())
@example(before="", brk=". ", word="s o s", after=" ", rest="y ya", context=Context())
def test_an_emergency_word_after_a_clause_break_is_an_emergency_whatever_is_open(
    before, brk, word, after, rest, context
):
    """Negation never crosses a clause break, and an emergency word beats every other rule
    (vocabulary.md, "Precedence" 1), for interns and responders alike."""
    text = f"{before}{brk}{word}{after}{rest}"
    intent = interpret(text, context)
    assert intent.kind == intents.EMERGENCY, (text, intent)
    check_well_formed(intent, context)


@examples(150)
@given(word=emergency_words, after=after_word, rest=raw_text, context=contexts)
def test_an_emergency_word_first_is_an_emergency(word, after, rest, context):
    text = f"{word}{after}{rest}"
    assert interpret(text, context).kind == intents.EMERGENCY, text


@examples(100)
@given(key=st.sampled_from(["9", "９", "9\ufe0f\u20e3", "hola 9", "opcion 9"]), after=after_word,
       rest=raw_text, context=contexts)  # fmt: skip
def test_the_emergency_key_first_is_an_emergency_whatever_question_is_open(
    key, after, rest, context
):
    text = f"{key}{after}{rest}"
    assert interpret(text, context).kind == intents.EMERGENCY, text


# --- Fine words read as fine -----------------------------------------------------------------

fine_words = st.sampled_from(sorted(FINE_WORDS))
YES_WORDS = YES_STRONG | YES_WEAK
around = st.sampled_from(["", " ", "¡", "¿", "  ", "\t"])
trailing = st.sampled_from(["", "!", "!!", ".", "...", " ", " \U0001f44d", "\u200b"])
intern_contexts = st.builds(
    Context,
    intern=st.just(True),
    responder=st.booleans(),
    duress_word=st.sampled_from([None, "tranquila"]),
    question=st.sampled_from(QUESTIONS),
    today=st.none(),
)


@examples(300)
@given(data=st.data(), word=fine_words, lead=around, tail=trailing, context=intern_contexts)
def test_a_fine_word_however_typed_is_her_check_in(data, word, lead, tail, context):
    """`OK`, `Sí!!`, `okkk`, `o.k.`, `ＢＩＥＮ` …: fine, or with a yes/no question open, yes."""
    text = f"{lead}{data.draw(typed_as(word), label='typed')}{tail}"
    intent = interpret(text, context)
    if context.question == intents.YESNO and word in YES_WORDS:
        assert (intent.kind, intent.value) == (intents.ANSWER, 1), (text, intent)
    else:
        assert intent.kind == intents.OK, (text, intent)
    assert not intent.negated


@examples(200)
@given(data=st.data(), word=st.sampled_from(sorted(NOT_FINE_WORDS)), lead=around,
       tail=trailing, context=intern_contexts)  # fmt: skip
def test_a_not_fine_word_however_typed_asks_for_a_call(data, word, lead, tail, context):
    text = f"{lead}{data.draw(typed_as(word), label='typed')}{tail}"
    assert interpret(text, context).kind == intents.NOT_OK, text
