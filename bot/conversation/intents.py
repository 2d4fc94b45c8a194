"""What interpreting a text gives and takes: the intent kinds, `Intent`, and `Context`.

The bottom of the interpretation modules: every reader returns an `Intent` and most look at
the `Context`, so both live here, below the vocabulary. Callers import them from
`bot.conversation.interpret`, which re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

# Intent kinds.
OK = "ok"
NOT_OK = "not_ok"
EMERGENCY = "emergency"
DURESS = "duress"
ACK = "ack"
RESOLVE = "resolve"
ANSWER = "answer"
SELF_HARM = "self_harm"
TRIP_START = "trip_start"
TRIP_EXTEND = "trip_extend"
TRIP_END = "trip_end"
PAUSE = "pause"
RESUME = "resume"
SET_TIME = "set_time"
MENU = "menu"
STATUS = "status"
SET_DURESS = "set_duress"
OPT_OUT = "opt_out"
OPT_IN = "opt_in"
UNKNOWN = "unknown"

QUESTION_RANGES = {"mood": range(1, 6), "phq": range(0, 4)}  # answered with one digit
YESNO = "yesno"  # answered SI/NO (or 1/2); 9 stays the emergency key


@dataclass(frozen=True)
class Context:
    """What the sender has pending; all optional."""

    intern: bool = True  # own check-in vocabulary applies
    responder: bool = False  # has incidents alerted to them (peer buddies are both)
    duress_word: str | None = None  # this intern's secret word, stored as typed
    # What the last question asked, while its answer is pending: "mood" (a digit 1-5), "phq"
    # (a digit 0-3) or "yesno" (SI/NO; the digits 1/2); see QUESTION_RANGES and YESNO.
    question: str | None = None
    today: date | None = None  # sender's local date, to complete dates like "24/12"


@dataclass(frozen=True)
class Intent:
    kind: str
    code: str | None = None  # incident code for ACK/RESOLVE, None when not given
    value: int | None = None  # ANSWER digit (yes/no: 1 yes, 0 no); PAUSE days; TRIP minutes
    until: date | None = None  # PAUSE: the first local day check-ins resume (exclusive end)
    at: time | None = None  # SET_TIME
    text: str | None = None  # trip destination / new duress word, as typed
    negated: bool = False  # an emergency word was seen but negated or thanked for


NO_CONTEXT = Context()
