"""Message catalog: wording lives in `templates/sms/<lang>/<name>.txt`, never in Python.

Every text to a phone must fit the GSM-7 alphabet (one stray `á` turns a 160-character SMS
into a 70-character UCS-2 one and doubles the cost and the split) and at most two segments.
`render` cleans what slipped through, shortens long names and places when a text would not
fit (one rule here, so no caller trims its own fields), and the catalog test checks every
template with the longest values the data allows.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, meta

log = logging.getLogger(__name__)

CATALOG = Path(__file__).resolve().parents[2] / "templates" / "sms"
LANGUAGES = ("es", "en")
MAX_SEGMENTS = 2
SINGLE_SEPTETS = 160  # one SMS alone
PART_SEPTETS = 153  # each part of a concatenated SMS (7 septets go to the part header)

# GSM 03.38 basic character set and its extension table (the latter costs two septets).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€")
_GSM7 = frozenset(GSM7_BASIC | GSM7_EXTENSION)
_SUBSTITUTES = {"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "...", "\t": " "}

# The free-text fields: names, places and words as someone typed them, as long as their
# columns allow. Only these are ever shortened; codes, phone numbers, times, dates and counts
# are what a responder acts on and are never cut. The catalog test fails for a template
# variable with letters in its values that is missing here, so a new field cannot escape.
FREE_TEXT = frozenset({
    "intern", "name", "responder", "holder", "others",  # people
    "unit", "municipality", "destination",  # places
    "words",  # what a stranger wrote, quoted to the administrators
})  # fmt: skip
FLOOR = 12  # a shortened field keeps at least this many septets, ellipsis included
ELLIPSIS = "..."  # "…" is not GSM-7


def to_gsm7(text: str) -> str:
    """Replace characters outside GSM-7 with their closest GSM-7 form (á → a, “ → ")."""
    if _GSM7.issuperset(text):  # most texts: no per-character work
        return text
    return "".join(map(_gsm7_form, text))


@lru_cache(maxsize=4096)  # names bring the same few accented letters again and again
def _gsm7_form(char: str) -> str:
    if char in _GSM7:
        return char
    char = _SUBSTITUTES.get(char, char)
    if char in GSM7_BASIC:
        return char
    stripped = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    return "".join(c for c in stripped if c in GSM7_BASIC)


def is_gsm7(text: str) -> bool:
    return _GSM7.issuperset(text)


def _extended(text: str) -> int:
    return sum(map(GSM7_EXTENSION.__contains__, text))


def septets(text: str) -> int:
    """A GSM-7 text's length on the air: an extension character is an escape plus itself."""
    return len(text) + _extended(text)


def segments(text: str) -> int:
    """How many SMS segments a GSM-7 text takes: 160 septets alone, 153 each when concatenated.

    An extension character is never split from its escape, so a part that has one septet left
    when one comes is closed and the character opens the next part.
    """
    extended = _extended(text)
    if len(text) + extended <= SINGLE_SEPTETS:
        return 1
    if not extended:
        return -(-len(text) // PART_SEPTETS)
    parts, room = 1, PART_SEPTETS
    for char in text:
        size = 2 if char in GSM7_EXTENSION else 1
        if size > room:
            parts, room = parts + 1, PART_SEPTETS
        room -= size
    return parts


def fits(text: str) -> bool:
    return segments(text) <= MAX_SEGMENTS


@cache
def _environment(language: str) -> Environment:
    return Environment(
        loader=FileSystemLoader(CATALOG / language),
        auto_reload=False,  # the catalog ships with the code: no stat of its file per text
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
    )


def render(
    template: str, language: str = "es", /, *, mark: str | None = None, **context: object
) -> str:
    """The text of `template` in `language` (falling back to Spanish), cleaned to GSM-7 and,
    when the fields as given would not fit in MAX_SEGMENTS, with its longest free-text
    fields shortened until it does.

    `mark` names a template (without variables) whose text opens the message, such as a
    drill's SIMULACRO: it is counted in the two segments like the rest, so the free-text
    fields make room for it rather than the text growing a third segment."""
    language = language if language in LANGUAGES else "es"
    text = _marked(_render(template, language, context), language, mark)
    if fits(text):  # the common case: one render, one count
        return text
    return _shortened(template, language, context, text, mark)


def _render(template: str, language: str, context: Mapping[str, object]) -> str:
    text = _environment(language).get_template(f"{template}.txt").render(**context)
    return to_gsm7(" ".join(text.split()))


def _marked(text: str, language: str, mark: str | None) -> str:
    return text if mark is None else f"{_render(mark, language, {})} {text}"


def _shortened(
    template: str,
    language: str,
    context: Mapping[str, object],
    text: str,
    mark: str | None = None,
) -> str:
    """Cut the free-text fields, the longest first, never below FLOOR, until the text fits.

    A round cuts the text's excess in septets off the fields it shows, so one round is the
    rule. Another follows only when the floor stopped a cut short (it then finds nothing left
    to cut and logs) or an extension character would straddle two parts. Each round cuts at
    least one character, so the loop ends.
    """
    fields = _free_text_fields(template, language, context)
    while not fits(text):
        cuts = _cuts(fields, text)
        if not cuts:
            _log_too_long(template, language, text, fields)
            return text  # a long alert is better than no alert
        fields.update(cuts)
        text = _marked(_render(template, language, {**context, **fields}), language, mark)
    return text


def _log_too_long(template: str, language: str, text: str, fields: Mapping[str, str]) -> None:
    shortened = ", ".join(sorted(fields)) or "none"
    log.error(
        "%s/%s takes %d SMS segments even with its free-text fields (%s) cut to %d septets",
        language,
        template,
        segments(text),
        shortened,
        FLOOR,
    )


def _free_text_fields(
    template: str, language: str, context: Mapping[str, object]
) -> dict[str, str]:
    """The template's free-text fields, cleaned as the text will be so lengths compare."""
    names = FREE_TEXT & variables(template, language)
    return {
        name: to_gsm7(" ".join(value.split()))
        for name, value in context.items()
        if name in names and isinstance(value, str)
    }


def _cuts(fields: Mapping[str, str], text: str) -> dict[str, str]:
    """The shortened values that take the text's excess off its longest visible fields."""
    sizes = {name: septets(v) for name, v in fields.items() if v in text}
    sizes = {name: size for name, size in sizes.items() if size > FLOOR}
    if not sizes:
        return {}
    level = _level(list(sizes.values()), septets(text) - MAX_SEGMENTS * PART_SEPTETS)
    return {name: _cut(fields[name], level) for name, size in sizes.items() if size > level}


def _level(sizes: list[int], excess: int) -> int:
    """The highest length (not below FLOOR) that, with every longer field cut to it, saves
    `excess` septets: the longest fields shrink first, towards each other.

    With the k longest fields cut to L the saving is their total minus k * L; the first k
    whose best L still leaves the next field uncut is the answer.
    """
    ordered = sorted(sizes, reverse=True)
    total = 0
    for k, size in enumerate(ordered, start=1):
        total += size
        level = (total - max(1, excess)) // k
        if level >= (ordered[k] if k < len(ordered) else 0):
            return max(FLOOR, level)
    return FLOOR


def _cut(value: str, length: int) -> str:
    """`value` in at most `length` septets, ending in an ellipsis (no space before it)."""
    room, kept = length - len(ELLIPSIS), 0
    for char in value:
        room -= 2 if char in GSM7_EXTENSION else 1
        if room < 0:
            break
        kept += 1
    return value[:kept].rstrip(" ,;:-") + ELLIPSIS


@cache
def variables(template: str, language: str = "es") -> frozenset[str]:
    """The names a template reads from its context (parsed once per template)."""
    environment = _environment(language)
    source, _path, _uptodate = environment.loader.get_source(environment, f"{template}.txt")
    return frozenset(meta.find_undeclared_variables(environment.parse(source)))


def template_names(language: str = "es") -> list[str]:
    return sorted(p.stem for p in (CATALOG / language).glob("*.txt"))
