"""Digits and SI/NO: what the menu digits choose while nothing is pending, and how a text
answers a pending question (a mood or PHQ digit, SI/NO to "shall someone call you?").
See vocabulary.md, "Pending questions".
"""

from __future__ import annotations

from bot.conversation.intents import (
    ANSWER,
    EMERGENCY,
    QUESTION_RANGES,
    UNKNOWN,
    YESNO,
    Context,
    Intent,
)
from bot.conversation.vocabulary import (
    EMERGENCY_DIGIT,
    MENU_DIGITS,
    NO_ANSWER_TAILS,
    NO_ANSWER_WORDS,
    YES_STRONG,
    YES_WEAK,
)
from bot.conversation.words import Words, squeeze

_YES_STRONG = frozenset(squeeze(w) for w in YES_STRONG)
_YES_WEAK = frozenset(squeeze(w) for w in YES_WEAK)
_NO_ANSWER = frozenset(squeeze(w) for w in NO_ANSWER_WORDS)


def menu_digit(words: Words) -> str | None:
    """A single digit as the message's first word: '9 pacientes' is a menu answer but
    'tengo 9 pacientes' is not."""
    i = words.first
    if i < len(words.raw) and len(words.raw[i]) == 1 and words.raw[i].isdigit():
        return words.raw[i]
    return None


def menu_choice(words: Words, context: Context) -> str | None:
    """The kind a menu digit chooses. The emergency key always: no question's scale has it.
    Other digits only with no question open: a mood or PHQ digit answers its question, and
    a yes/no question takes 1 and 2 as yes and no."""
    digit = menu_digit(words)
    if digit == EMERGENCY_DIGIT:
        return EMERGENCY
    if context.question in QUESTION_RANGES or context.question == YESNO:
        return None
    return MENU_DIGITS.get(digit or "")


def answer(words: Words, context: Context) -> Intent | None:
    """ANSWER to the pending question, UNKNOWN for a digit off its scale, None otherwise."""
    if context.question == YESNO:
        return _yes_no(words)
    valid = QUESTION_RANGES.get(context.question or "")
    digit = menu_digit(words)
    if valid is None or digit is None:
        return None
    return Intent(ANSWER, value=int(digit)) if int(digit) in valid else Intent(UNKNOWN)


def _yes_no(words: Words) -> Intent | None:
    """SI/NO to a pending question: ANSWER 1 or 0, UNKNOWN for another digit, None when the
    text says neither (it is then read as usual: a command, `mal`, an acknowledgement …)."""
    if words.incident_code is not None:
        return None  # "OK 4821" acknowledges a case
    digit = menu_digit(words)  # "9" never gets here: it is the emergency key
    if digit is not None:
        return Intent(ANSWER, value=int(digit == "1")) if digit in "12" else Intent(UNKNOWN)
    said = words.squeezed
    weak = False
    for n, word in enumerate(said):
        after = said[n + 1] if words.same_clause(n, n + 1) else None
        if word in _YES_STRONG and after != "que" and said[n - 1 : n] != ("se",):
            return Intent(ANSWER, value=1)  # not "claro que no", not "no se si …"
        if word in _NO_ANSWER and _refuses(words, n):
            return Intent(ANSWER, value=0)
        weak = weak or word in _YES_WEAK
    return Intent(ANSWER, value=1) if weak else None


def _refuses(words: Words, n: int) -> bool:
    """Whether the "no" at n answers the question rather than negating what follows."""
    if not words.same_clause(n, n + 1):
        return True
    said = words.squeezed
    return any(
        said[n + 1 : n + 1 + len(tail)] == tail and words.same_clause(n, n + len(tail))
        for tail in NO_ANSWER_TAILS
    )
