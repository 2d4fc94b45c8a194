"""What an inbound text means: a pure function from (text, context) to one `Intent`.

No I/O, no database, no clock: the caller passes what the sender has pending (`Context`) and
acts on the answer. This module holds the public API and the precedence: an emergency first,
then opt-out, self-harm, CLAVE, the duress word, a pending question, an acknowledgement, not
fine, a command, and the plain check-in answers last (vocabulary.md, "Precedence", says why).
The readers it asks live beside it, each with its concern:

    intents      the intent kinds, `Intent`, `Context`
    vocabulary   the word lists and phrase patterns (data; vocabulary.md explains them)
    words        normalisation and `Words`, the tokens every reader works on
    negation     whether a word is negated
    phrases      the slot-pattern matcher for the self-harm and threat phrases
    emergency    emergency words with typos and phone-key slips, phrases of threat
    self_harm    words and phrases of self-harm
    answers      menu digits and answers to a pending question
    dates        dates and times as typed
    commands     VIAJE, LLEGUE, PAUSA, HORA, ESTADO, CLAVE, STOP/START …

The guiding choice everywhere: when unsure, alert rather than mark fine.
"""

from __future__ import annotations

from dataclasses import replace

from bot.conversation.answers import answer, menu_choice
from bot.conversation.commands import OPT, command, opt, set_duress
from bot.conversation.emergency import is_emergency_word, threats
from bot.conversation.intents import (
    ACK,
    ANSWER,
    DURESS,
    EMERGENCY,
    MENU,
    NO_CONTEXT,
    NOT_OK,
    OK,
    OPT_IN,
    OPT_OUT,
    PAUSE,
    QUESTION_RANGES,
    RESOLVE,
    RESUME,
    SELF_HARM,
    SET_DURESS,
    SET_TIME,
    STATUS,
    TRIP_END,
    TRIP_EXTEND,
    TRIP_START,
    UNKNOWN,
    YESNO,
    Context,
    Intent,
)
from bot.conversation.negation import directly_negated, fine_negated
from bot.conversation.self_harm import PHRASE, WORD, self_harm_in
from bot.conversation.vocabulary import (
    ACK_WORDS,
    CODE,
    FINE_PHRASES,
    FINE_WORDS,
    MAX_DESTINATION,
    NEGATABLE_FINE,
    NO_WORDS,
    NOT_FINE_WORDS,
    RESOLVE_WORDS,
    VOCABULARY,
)
from bot.conversation.words import Words, normalize, squeeze

__all__ = [
    # the API
    "interpret", "normalize", "may_answer_a_case", "clashes_with_vocabulary",
    "Intent", "Context", "NO_CONTEXT", "QUESTION_RANGES", "YESNO",
    # the intent kinds
    "OK", "NOT_OK", "EMERGENCY", "DURESS", "ACK", "RESOLVE", "ANSWER", "SELF_HARM",
    "TRIP_START", "TRIP_EXTEND", "TRIP_END", "PAUSE", "RESUME", "SET_TIME", "MENU", "STATUS",
    "SET_DURESS", "OPT_OUT", "OPT_IN", "UNKNOWN",
    # the longest destination kept, which the trip messages are sized for
    "MAX_DESTINATION",
]  # fmt: skip

_ALERT, _THREAT = "alert", "threat"


def interpret(text: str | None, context: Context = NO_CONTEXT) -> Intent:
    """The one intent of an inbound text. Never raises on odd input; see vocabulary.md."""
    words = Words.of(text or "")
    if not words.raw:
        return Intent(UNKNOWN)
    alert, negated = _emergency(words, context)
    if alert == _THREAT and not context.intern:  # a nurse's "ATIENDO 4821, hubo balacera"
        intent = _acknowledgement(words, context)
        if intent is not None:
            return intent
    if alert:
        return Intent(EMERGENCY)
    intent = opt(words) or _classify(words, context, text or "")
    return replace(intent, negated=True) if negated else intent


def may_answer_a_case(text: str | None) -> bool:
    """Whether a text could be a responder's answer (an ack or close word, or a number that
    could be an incident code): only then does it matter if the sender has alerts open."""
    words = set(normalize(text or "").split())
    return bool(words & (ACK_WORDS | RESOLVE_WORDS)) or any(CODE.fullmatch(w) for w in words)


def clashes_with_vocabulary(word: str) -> bool:
    """Whether a proposed duress word contains a vocabulary word or a number; such a word
    would be read as something else (emergency wins; "bien" would make every check-in a
    duress; a self-harm word would start the self-harm path). For the caller to refuse it."""
    words = Words.of(word)
    clash = any(
        w in VOCABULARY or w.isdigit() or is_emergency_word(w) or squeeze(w) in OPT
        for w in words.words
    )
    return clash or self_harm_in(words) is not None or bool(threats(words))


def _emergency(words: Words, context: Context) -> tuple[str | None, bool]:
    """(alert, negated). alert: _ALERT for the emergency key or an emergency word (typos
    included), _THREAT for a phrase of threat alone, None when neither is there or every one
    seen is directly negated; negated: one was seen and negated."""
    if menu_choice(words, context) == EMERGENCY:
        return _ALERT, False
    hits = [n for n, word in enumerate(words.words) if is_emergency_word(word)]
    if any(not directly_negated(words, n) for n in hits):
        return _ALERT, False
    starts = threats(words)
    if any(not directly_negated(words, n) for n in starts):
        return _THREAT, False
    return None, bool(hits or starts)


def _classify(words: Words, context: Context, text: str) -> Intent:
    """Everything below an emergency, in precedence order (vocabulary.md says why)."""
    harm = self_harm_in(words)
    if harm == PHRASE:
        return Intent(SELF_HARM)
    if harm == WORD:  # "ATIENDO 4821, riesgo suicida" is the responder's acknowledgement
        return _acknowledgement(words, context) or Intent(SELF_HARM)
    intent = (
        set_duress(words, text)
        or _duress(words, context)
        or answer(words, context)
        or _acknowledgement(words, context)
    )
    if intent is not None:
        return intent
    if _strongly_not_fine(words, context):
        return Intent(NOT_OK)
    return command(words, context, text) or _check_in(words, context)


def _duress(words: Words, context: Context) -> Intent | None:
    """The intern's secret word(s), matched as whole words anywhere in the text."""
    secret = Words.of(context.duress_word or "").squeezed
    if not secret:
        return None
    said = words.squeezed
    n = len(secret)
    if any(said[i : i + n] == secret for i in range(len(said) - n + 1)):
        return Intent(DURESS)
    return None


def _acknowledgement(words: Words, context: Context) -> Intent | None:
    """ATIENDO/LISTO [code]; OK <code> from someone alerted (or not an intern)."""
    code = words.incident_code
    if words.find(ACK_WORDS):
        kind = ACK  # with both words, ACK: it never closes an incident by mistake
    elif words.find(RESOLVE_WORDS):
        kind = RESOLVE
    elif code and (context.responder or not context.intern) and words.find(FINE_WORDS):
        kind = ACK
    else:
        return None
    if code is None and context.intern and not context.responder:
        return None  # an intern with nothing to acknowledge: "listo" is not a case
    return Intent(kind, code=code)


def _strongly_not_fine(words: Words, context: Context) -> bool:
    """A not-fine word (not directly negated), a negated fine word, or the menu digit 2."""
    if menu_choice(words, context) == NOT_OK:
        return True
    bad = any(not directly_negated(words, i) for i in words.find(NOT_FINE_WORDS))
    return bad or any(fine_negated(words, i) for i in words.find(NEGATABLE_FINE))


def _check_in(words: Words, context: Context) -> Intent:
    """The plain answers, once no command matched: weak not-fine, fine, or unknown."""
    fine_at = [i for i in words.find(FINE_WORDS) if not fine_negated(words, i)]
    fine = bool(fine_at) or any(words.has_phrase(p) for p in FINE_PHRASES)
    fine = fine or menu_choice(words, context) == OK
    if not context.intern:
        return Intent(ACK) if fine else Intent(UNKNOWN)
    others = [
        w for w in words.words if (w in VOCABULARY or is_emergency_word(w)) and w not in NO_WORDS
    ]
    if words.find(NO_WORDS) and not others and not fine and context.question != YESNO:
        return Intent(NOT_OK)  # a bare "no" is an answer only when nothing else is
    return Intent(OK) if fine else Intent(UNKNOWN)
