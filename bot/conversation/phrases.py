"""The slot-pattern matcher that the self-harm phrases and the phrases of threat share.

A pattern is a sequence of slots separated by spaces; a slot lists its spellings separated by
"|"; `word*` matches any word starting so, `*word` any word ending so, and a slot ending in
"?" may be missing. Both sides are compared as they sound (`words.sound`). The patterns
themselves are data in `vocabulary.py`; vocabulary.md, "Words of self-harm", has examples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from bot.conversation.words import Words, sound


@dataclass(frozen=True)
class Slot:
    """One slot of a pattern: `a|b*|*c` (exact, prefix, suffix), optional when it ends in `?`."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]
    optional: bool

    @classmethod
    def of(cls, spec: str) -> Slot:
        spellings = spec.removesuffix("?").split("|")
        return cls(
            frozenset(sound(s) for s in spellings if "*" not in s),
            tuple(sound(s[:-1]) for s in spellings if s.endswith("*")),
            tuple(sound(s[1:]) for s in spellings if s.startswith("*")),
            spec.endswith("?"),
        )

    def matches(self, key: str) -> bool:
        return key in self.exact or key.startswith(self.prefixes) or key.endswith(self.suffixes)

    def matches_any(self, keys: frozenset[str]) -> bool:
        if not self.exact.isdisjoint(keys):
            return True
        return bool(self.prefixes or self.suffixes) and any(self.matches(k) for k in keys)


Pattern = tuple[Slot, ...]


class Patterns(tuple[Pattern, ...]):
    """Compiled patterns, indexed by the words they need: a pattern with a slot that must be
    one of a few exact words (its anchor) is only looked at when the text has one of them."""

    def __new__(cls, patterns: Iterable[Pattern]) -> Patterns:
        self = super().__new__(cls, patterns)
        self.anchored: dict[str, list[int]] = {}
        self.unanchored: list[int] = []
        for n, slots in enumerate(self):
            exact = [s for s in slots if not (s.optional or s.prefixes or s.suffixes)]
            if not exact:
                self.unanchored.append(n)
                continue
            for key in min(exact, key=lambda s: len(s.exact)).exact:
                self.anchored.setdefault(key, []).append(n)
        return self

    def possible(self, keys: frozenset[str]) -> list[Pattern]:
        """The patterns a text with these words may match, in their order."""
        found = set(self.unanchored)
        for key in keys:
            found.update(self.anchored.get(key, ()))
        return [self[n] for n in sorted(found)]


def compile_patterns(specs: Iterable[str]) -> Patterns:
    """The patterns of vocabulary.py, compiled once at import: each spec split into slots."""
    return Patterns(tuple(Slot.of(slot) for slot in spec.split()) for spec in specs)


def matches(words: Words, patterns: Patterns, gap: int) -> Iterator[range]:
    """Each match of each pattern, as the range of word indexes it spans, with up to `gap`
    other words between two slots. A pattern is only walked when every slot it needs has a
    word in the text: the index and a few set lookups rule out most patterns for most texts,
    which keeps a 1,600-character text cheap."""
    keys = words.keys
    present = frozenset(keys)
    for slots in patterns.possible(present):
        if not all(slot.optional or slot.matches_any(present) for slot in slots):
            continue
        for start, key in enumerate(keys):
            if slots[0].matches(key):
                for end in _ends(keys, words, slots, 1, start + 1, gap):
                    yield range(start, end + 1)


def _ends(
    keys: tuple[str, ...], words: Words, slots: Pattern, k: int, at: int, gap: int
) -> Iterator[int]:
    """The index of the last word of each way slots[k:] match, slot k at `at` (k == 0) or up
    to `gap` words after it. A zero gap also keeps the match inside one clause."""
    if k == len(slots):
        yield at - 1
        return
    slot = slots[k]
    stop = at + 1 if k == 0 else min(len(keys), at + gap + 1)
    for j in range(at, stop):
        if k and not gap and not words.same_clause(at - 1, j):
            break
        if slot.matches(keys[j]):
            yield from _ends(keys, words, slots, k + 1, j + 1, gap)
    if slot.optional and k:
        yield from _ends(keys, words, slots, k + 1, at, gap)


def unexplained(
    words: Words,
    patterns: Patterns,
    gap: int,
    idioms: Patterns,
    explains: Callable[[range, range], bool],
) -> Iterator[range]:
    """Each match of `patterns` that no match of `idioms` (figures of speech, look-alikes;
    matched word after word within one clause) `explains`."""
    found: list[range] | None = None
    for match in matches(words, patterns, gap):
        if found is None:  # most texts match nothing: look for idioms only when needed
            found = list(matches(words, idioms, 0))
        if not any(explains(idiom, match) for idiom in found):
            yield match
