"""A text as words: normalisation (`normalize`), the `Words` every reader works on, and the
spellings words are compared by (`squeeze`: no repeated letters; `sound`: as it sounds in
Spanish). See vocabulary.md, "Normalisation".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache

from bot.conversation.vocabulary import CODE, EMOJI_WORDS, LEAD_FILLER, VOCABULARY

_BREAK = "\n"  # marks a clause boundary between tokens; negation never crosses one
_DOTTED = re.compile(r"(?<![a-z0-9])[a-z](?:[.\-_*][a-z])+(?![a-z0-9])")
_TOKEN = re.compile(r"\n|[.,;:!?¡¿()\[\]{}\"]|(?:\+(?=\d))?[a-z0-9]+(?:(?<=\d)[:/.,\-]\d+)*")
_CLAUSE_MARKS = frozenset('.,;:!?¡¿()[]{}"\n')


def normalize(text: str) -> str:
    """Lower case, no accents/emoji/control characters, punctuation to spaces, `s.o.s` → `sos`,
    runs of 3+ equal letters to one. Keeps `:/.,-` between digits and `+` before a digit, so
    that times, dates and trip extensions survive."""
    return " ".join(Words.of(text).raw)


def _fold(text: str) -> str:
    """Lower case, accents off, digits to ASCII; emoji become clause breaks, controls vanish."""
    out = []
    for char in unicodedata.normalize("NFKD", text.lower()):
        category = unicodedata.category(char)
        if char in EMOJI_WORDS:
            out.append(f" {EMOJI_WORDS[char]} ")
        elif char in "\n\r\u2028\u2029":
            out.append(_BREAK)
        elif char.isspace():
            out.append(" ")
        elif category in ("Mn", "Me", "Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        elif category in ("So", "Sk"):
            out.append(_BREAK)  # an emoji usually ends a thought: "no 😱 ayuda"
        elif category == "Nd":
            out.append(str(unicodedata.digit(char)))
        else:
            out.append(char)
    folded = _DOTTED.sub(lambda m: re.sub(r"[^a-z]", "", m.group(0)), "".join(out))
    # "+ 1h" is "+1h"; never across a clause break, where "+" and "911" are two thoughts.
    return re.sub(r"\+ +(?=\d)", "+", folded)


@lru_cache(maxsize=8192)  # pure and called per token and word: the same words come back all day
def squeeze(token: str) -> str:
    """All runs of a repeated letter to one: only for comparing with the vocabulary."""
    return re.sub(r"([a-z])\1+", r"\1", token)


@lru_cache(maxsize=8192)
def sound(token: str) -> str:
    """A token as it sounds in Spanish, so that common misspellings compare equal:
    ll→y, h silent, qu/q/c(a,o,u)→k, c(e,i)/z→s, v→b, no repeated letters."""
    t = token.replace("ll", "y").replace("h", "")
    t = re.sub(r"qu|q", "k", squeeze(t))
    t = re.sub(r"c(?=[ei])", "s", t).replace("c", "k").replace("z", "s").replace("v", "b")
    return squeeze(t)


SQUEEZED_VOCABULARY = {squeeze(w): w for w in VOCABULARY}  # "sos" → "sos", "socoro" → "socorro"


def _canonical(token: str) -> str:
    """The vocabulary word a token spells with extra repeated letters ("okk", "noo"); never
    with fewer letters than the word ("god" is not "good")."""
    if token in VOCABULARY:
        return token
    word = SQUEEZED_VOCABULARY.get(squeeze(token))
    return word if word is not None and len(token) >= len(word) else token


@dataclass(frozen=True)
class Words:
    """A text as tokens: `raw` (normalised), `words` (vocabulary spelling), `clause` numbers."""

    raw: tuple[str, ...]
    words: tuple[str, ...]
    clause: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> Words:
        """`text` as words; remembered, as `Words` never change: the 09:00 burst's texts are
        mostly the same few (`ok`, `bien`), and a text is read more than once."""
        return _words_of(text)

    @cached_property
    def keys(self) -> tuple[str, ...]:
        """Each token as it sounds in Spanish (`sound`), for the phrase patterns."""
        return tuple(sound(t) for t in self.raw)

    @cached_property
    def squeezed(self) -> tuple[str, ...]:
        """Each token without repeated letters, for whole-message and yes/no words."""
        return tuple(squeeze(t) for t in self.raw)

    @cached_property
    def first(self) -> int:
        """Index of the first word that is not a greeting or similar filler."""
        i = 0
        while i < len(self.words) and self.words[i] in LEAD_FILLER:
            i += 1
        return i

    @cached_property
    def incident_code(self) -> str | None:
        """The first token that could be an incident code."""
        return next((t for t in self.raw if CODE.fullmatch(t)), None)

    def same_clause(self, i: int, j: int) -> bool:
        return 0 <= j < len(self.raw) and self.clause[i] == self.clause[j]

    def find(self, vocabulary: frozenset[str]) -> list[int]:
        return [i for i, w in enumerate(self.words) if w in vocabulary]

    def has_phrase(self, phrase: tuple[str, ...]) -> bool:
        n = len(phrase)
        return any(self.words[i : i + n] == phrase for i in range(len(self.words) - n + 1))


_SPELLED_MAX = max(len(w) for w in VOCABULARY)  # bounds the work on long runs of letters


@lru_cache(maxsize=2048)
def _words_of(text: str) -> Words:
    tokens: list[str] = []
    clause: list[int] = []
    number = 0
    for token in _TOKEN.findall(_fold(text)):
        if token in _CLAUSE_MARKS:
            number += 1
        else:
            tokens.append(token)
            clause.append(number)
    tokens, clause = _join_spelled(tokens, clause)
    # The vocabulary is matched before runs are cut, so "goood" still has its "oo".
    raw = tuple(re.sub(r"([a-z])\1{2,}", r"\1", t) for t in tokens)
    return Words(raw, tuple(_canonical(t) for t in tokens), tuple(clause))


def _join_spelled(raw: list[str], clause: list[int]) -> tuple[list[str], list[int]]:
    """'s o s' and 'o k' spelled out letter by letter, joined when they spell a vocabulary word."""
    out, out_clause, i = [], [], 0
    while i < len(raw):
        j = i
        while (
            j < min(len(raw), i + _SPELLED_MAX)
            and _spelled_letter(raw[j])
            and clause[j] == clause[i]
        ):
            j += 1
        # The longest run that spells a word: "s o s y ya" is "sos" and the word "y".
        end = next((k for k in range(j, i + 1, -1) if _spells_word(raw[i:k])), i + 1)
        out.append("".join(raw[i:end]))
        out_clause.append(clause[i])
        i = end
    return out, out_clause


def _spells_word(letters: list[str]) -> bool:
    return len(letters) >= 2 and _canonical("".join(letters)) in VOCABULARY


def _spelled_letter(token: str) -> bool:
    return len(token) == 1 and token.isalpha()


_NOT_TYPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "So", "Sk"})


def typed(text: str) -> str:
    """The text as typed, minus controls, emoji and lone surrogates; for arguments shown to
    people (destinations, duress words)."""
    kept = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) not in _NOT_TYPED)
    return " ".join(kept.split())
