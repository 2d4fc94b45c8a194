"""Whether a word is negated: directly (`no hay peligro`, `gracias por tu ayuda`) for emergency
words, threats, not-fine words and arrivals; loosely (`no me siento bien`) for fine words.
See vocabulary.md, "Negation".
"""

from __future__ import annotations

from bot.conversation.vocabulary import LOOSE_NEGATORS, NEGATION_GAP, NEGATORS
from bot.conversation.words import Words


def directly_negated(words: Words, i: int) -> bool:
    """A NEGATORS phrase ends right before word i, or one NEGATION_GAP word before it."""
    for end in (i - 1, i - 2):
        if end == i - 2 and words.words[i - 1] not in NEGATION_GAP:
            break
        for phrase in NEGATORS:
            start = end - len(phrase) + 1
            if words.same_clause(i, start) and words.words[start : end + 1] == phrase:
                return True
    return False


def fine_negated(words: Words, i: int) -> bool:
    """A loose negator up to three words before fine word i, or a direct negation: a missed
    negation here would mark someone fine, so this side errs towards "not fine"."""
    loose = any(
        words.same_clause(i, j) and words.words[j] in LOOSE_NEGATORS for j in range(i - 3, i)
    )
    return loose or directly_negated(words, i)
