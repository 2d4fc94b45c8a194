"""Commands typed by an intern or a responder: VIAJE, LLEGUE, PAUSA, REGRESO, HORA, MENU,
ESTADO, CLAVE, and the whole-message STOP/START words. Each reader returns its `Intent` or
None when the text is not that command; `interpret` decides in which order they are asked.
See vocabulary.md, "Vocabulary" and "Opt-out".
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.conversation.dates import complete_date, date_parts, parse_time
from bot.conversation.intents import (
    MENU,
    OPT_IN,
    OPT_OUT,
    PAUSE,
    RESUME,
    SET_DURESS,
    SET_TIME,
    STATUS,
    TRIP_END,
    TRIP_EXTEND,
    TRIP_START,
    Context,
    Intent,
)
from bot.conversation.negation import directly_negated
from bot.conversation.vocabulary import (
    ARG_FILLER,
    ARRIVAL_BLOCKERS,
    ARRIVAL_WORDS,
    DURESS_SET_WORDS,
    MAX_DESTINATION,
    MAX_PAUSE_DAYS,
    MAX_TRIP_MINUTES,
    MENU_WORDS,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    PAUSE_WORDS,
    RESUME_WORDS,
    STATUS_WORDS,
    TIME_WORDS,
    TRIP_WORDS,
)
from bot.conversation.words import Words, squeeze, typed

# Each opt-out or opt-in word without repeated letters, and the kind it asks for.
OPT = {squeeze(w): OPT_OUT for w in OPT_OUT_WORDS} | {squeeze(w): OPT_IN for w in OPT_IN_WORDS}


def command(words: Words, context: Context, text: str) -> Intent | None:
    """Intern commands. Most count only as the first word (with a valid argument where one
    is needed): 'a que hora es la guardia' must not move the check-in time."""
    intent = _trip(words, text) or _arrival(words)
    if intent is not None:
        return intent
    if words.find(MENU_WORDS):
        return Intent(MENU)
    i = words.first
    if i >= len(words.words):
        return None
    head, rest = words.words[i], _argument(words, i + 1)
    if head in PAUSE_WORDS:
        return _pause(rest, context)
    if head in RESUME_WORDS:
        return Intent(RESUME)
    if head in TIME_WORDS:
        at = parse_time(rest)
        return Intent(SET_TIME, at=at) if at else None
    if head in STATUS_WORDS:  # ESTADO: her own schedule; ESTADO 4821: a responder's case
        return Intent(STATUS, code=words.incident_code)
    return None


def set_duress(words: Words, text: str) -> Intent | None:
    """CLAVE <word>: the new duress word, as typed. The caller asks this before looking for
    the duress word itself: confirming one's word must not raise an alarm."""
    i = words.first
    if i >= len(words.words) or words.words[i] not in DURESS_SET_WORDS:
        return None
    match = re.match(r"^.*?\bclave\b[\s:=\-]*(.*)$", typed(text), re.IGNORECASE)
    new = match.group(1).strip(" \"'.,;:!¡?¿") if match else ""
    return Intent(SET_DURESS, text=new) if Words.of(new).raw else None


def opt(words: Words) -> Intent | None:
    """OPT_OUT / OPT_IN when the whole message is one of their words (`STOP`, `baja!!`)."""
    kind = OPT.get(" ".join(words.squeezed))
    return Intent(kind) if kind else None


def _argument(words: Words, start: int) -> str:
    """The normalised words after a command word, without leading filler."""
    while start < len(words.raw) and words.raw[start] in ARG_FILLER:
        start += 1
    return " ".join(words.raw[start:])


_DURATION = (
    r"(?P<plus>\+)?(?:"
    r"(?P<h>\d{1,2})\s*(?:horas|hora|hrs|hr|h)(?![a-z])\.?\s*"
    r"(?:(?P<half>y\s*media(?![a-z]))|(?P<hm>\d{1,2})\s*(?:minutos|minuto|mins|min|m)?(?![a-z]))?"
    r"|(?P<hh>\d{1,2}):(?P<mm>\d{2})"
    r"|(?P<m>\d{1,4})\s*(?:minutos|minuto|mins|min|m)(?![a-z])\.?"
    r"|(?P<bare>\d{1,2})(?!\d|[:/.,\-]\d)"
    r")(?![a-z0-9])"
)
_DURATION_RE = re.compile(_DURATION)
_TRIP_TYPED = re.compile(r"viaj[eé]\s*" + _DURATION + r"(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_DESTINATION_LEAD = re.compile(r"^(?:(?:rumbo|camino)\s+(?:a|al)|a|al|para|hacia|to)\s+", re.I)


def _minutes(match: re.Match[str]) -> int | None:
    """Trip length in minutes; a bare number is hours ('VIAJE 3 Linares')."""
    g = match.groupdict()
    hours = g["h"] or g["hh"] or g["bare"] or "0"
    minutes = 30 if g["half"] else int(g["hm"] or g["mm"] or g["m"] or 0)
    total = int(hours) * 60 + minutes
    return total if 0 < total <= MAX_TRIP_MINUTES else None


def _trip(words: Words, text: str) -> Intent | None:
    """VIAJE <duration> [destination] anywhere; VIAJE +<duration> or a leading +<duration>."""
    starts = [i + 1 for i in words.find(TRIP_WORDS)]
    if words.raw[0].startswith("+"):
        starts.append(0)
    for start in starts:
        after = " ".join(words.raw[start:])
        match = _DURATION_RE.match(after)
        minutes = _minutes(match) if match else None
        if minutes is None:
            continue
        if match.group("plus"):
            return Intent(TRIP_EXTEND, value=minutes)
        return Intent(TRIP_START, value=minutes, text=_destination(text, after[match.end() :]))
    return None


def _destination(text: str, fallback: str) -> str | None:
    """The words after the duration, as typed when we can find them, else normalised."""
    match = _TRIP_TYPED.search(typed(text))
    rest = match.group("rest") if match else fallback
    rest = _DESTINATION_LEAD.sub("", rest.strip(" ,.;:-!¡?¿"))
    return rest[:MAX_DESTINATION].strip() or None


def _arrival(words: Words) -> Intent | None:
    """LLEGUE, unless negated ("todavia no llegue") or a promise ("cuando llegue te aviso")."""
    for i in words.find(ARRIVAL_WORDS):
        blocked = words.same_clause(i, i - 1) and words.words[i - 1] in ARRIVAL_BLOCKERS
        if not blocked and not directly_negated(words, i):
            return Intent(TRIP_END)
    return None


_PAUSE_DAYS = re.compile(
    r"(\d{1,3})\s*(?:(?P<weeks>semanas|semana|sem|weeks|week|w)|dias|dia|days|day|d)?(?=\s|$)"
)


def _pause(rest: str, context: Context) -> Intent | None:
    """PAUSA/VACACIONES with a number of days (or weeks) or an end date."""
    parts = date_parts(rest)
    if parts is not None:  # a date we cannot complete is not read as a number of days
        until = complete_date(*parts, context.today)
        return _pause_until(until, context.today) if until else None
    match = _PAUSE_DAYS.match(rest)
    if not match:
        return None
    days = int(match.group(1)) * (7 if match.group("weeks") else 1)
    if not 0 < days <= MAX_PAUSE_DAYS:
        return None
    until = context.today + timedelta(days=days) if context.today else None
    return Intent(PAUSE, value=days, until=until)


def _pause_until(until: date, today: date | None) -> Intent | None:
    """PAUSA until a date: at most MAX_PAUSE_DAYS ahead, never in the past."""
    if today is None:
        return Intent(PAUSE, until=until)
    days = (until - today).days
    return Intent(PAUSE, value=days, until=until) if 0 <= days <= MAX_PAUSE_DAYS else None
