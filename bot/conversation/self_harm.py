"""Words of self-harm: whether a text says the sender wants to die or hurt herself (a phrase,
read of oneself) or names suicide or self-harm at all (a word). The patterns are data in
`vocabulary.py`; vocabulary.md, "Words of self-harm", says why each rule is as it is.
"""

from __future__ import annotations

from bot.conversation.phrases import compile_patterns, unexplained
from bot.conversation.vocabulary import (
    NOT_SELF_HARM,
    SELF_HARM_GAP,
    SELF_HARM_PHRASES,
    SELF_HARM_WORDS,
)
from bot.conversation.words import Words

PHRASE_PATTERNS = compile_patterns(SELF_HARM_PHRASES)
WORD_PATTERNS = compile_patterns(SELF_HARM_WORDS)
FIGURE_PATTERNS = compile_patterns(NOT_SELF_HARM)
PHRASE, WORD = "phrase", "word"


def self_harm_in(words: Words) -> str | None:
    """PHRASE when a SELF_HARM_PHRASES pattern matches, else WORD when a SELF_HARM_WORDS one
    does; a match whose last word lies inside a NOT_SELF_HARM figure of speech is ignored."""
    for kind, patterns in ((PHRASE, PHRASE_PATTERNS), (WORD, WORD_PATTERNS)):
        found = unexplained(words, patterns, SELF_HARM_GAP, FIGURE_PATTERNS, _holds_the_end)
        if next(found, None) is not None:
            return kind
    return None


def _holds_the_end(figure: range, match: range) -> bool:
    return match[-1] in figure
