"""What raises an emergency besides the emergency key: an emergency word (with its typos and
phone-key slips, vocabulary.md "Typos under stress") and a phrase of threat (being followed,
armed men, shots …, vocabulary.md "Phrases of threat"). The words and patterns are data in
`vocabulary.py`; whether one is negated is the caller's question (`negation`).
"""

from __future__ import annotations

from functools import lru_cache

from bot.conversation.phrases import compile_patterns, unexplained
from bot.conversation.vocabulary import (
    EMERGENCY_WORDS,
    NOT_EMERGENCY_TYPOS,
    NOT_THREAT,
    T9_KEYS,
    THREAT_GAP,
    THREAT_PHRASES,
    TYPO_MIN_LENGTH,
)
from bot.conversation.words import SQUEEZED_VOCABULARY, Words, sound, squeeze

_T9 = str.maketrans({c: str(key) for key, cs in enumerate(T9_KEYS, start=2) for c in cs})
# Each emergency word long enough for the typo rule: as typed, as it sounds, as phone keys.
_TYPO_TARGETS = tuple(
    (squeeze(w), sound(w), squeeze(w).translate(_T9))
    for w in sorted(EMERGENCY_WORDS)
    if len(w) >= TYPO_MIN_LENGTH and w.isalpha()
)
_NOT_TYPOS = frozenset(squeeze(w) for w in NOT_EMERGENCY_TYPOS)
THREAT_PATTERNS = compile_patterns(THREAT_PHRASES)
LOOK_ALIKE_PATTERNS = compile_patterns(NOT_THREAT)


@lru_cache(maxsize=4096)  # the same few hundred words arrive all day
def is_emergency_word(token: str) -> bool:
    """An emergency word; for one of TYPO_MIN_LENGTH letters or more, also one typo away (as
    typed or as it sounds) or typed on the same phone keys, unless it is a real word."""
    if token in EMERGENCY_WORDS:
        return True
    squeezed = squeeze(token)
    if squeezed in SQUEEZED_VOCABULARY:  # a vocabulary word, or an emergency word short of a
        return SQUEEZED_VOCABULARY[squeezed] in EMERGENCY_WORDS  # double letter ("socoro")
    if token.isdigit() or squeezed in _NOT_TYPOS:
        return False
    sounds, keys = sound(token), squeezed.translate(_T9)
    return any(
        one_edit(squeezed, word) or one_edit(sounds, heard) or keys == typed
        for word, heard, typed in _TYPO_TARGETS
    )


def one_edit(a: str, b: str) -> bool:
    """Whether a and b are at most one edit apart: a letter added, dropped or changed, or two
    neighbours swapped (optimal string alignment distance <= 1). Linear: no table needed."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    if len(a) != len(b):
        longer, shorter = (a, b) if len(a) > len(b) else (b, a)
        return longer[n + 1 :] == shorter[n:]
    swapped = a[n : n + 2] == b[n : n + 2][::-1] and a[n + 2 :] == b[n + 2 :]
    return swapped or a[n + 1 :] == b[n + 1 :]


def threats(words: Words) -> list[int]:
    """Where each phrase of threat starts, leaving out those a NOT_THREAT look-alike explains."""
    found = unexplained(words, THREAT_PATTERNS, THREAT_GAP, LOOK_ALIKE_PATTERNS, _explains)
    return [match.start for match in found]


def _explains(idiom: range, match: range) -> bool:
    """Whether a look-alike explains a threat: it holds the threat's last word and begins at
    that word ("me sigue doliendo") or where the threat begins or before ("la presion se le
    disparo"). One that begins inside the threat explains only part of it: "siguen acosando"
    leaves "me siguen acosando" a threat."""
    return match[-1] in idiom and (idiom.start <= match.start or idiom.start == match[-1])
