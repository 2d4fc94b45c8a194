"""Roster CSV import: create or update people, units and universities from one spreadsheet.

The file is the coordinators' spreadsheet, so the parser forgives what spreadsheets do (a BOM,
`;` as delimiter in Spanish-locale Excel, header case, padding cells, blank lines) and is strict
about what matters for safety: every row is checked, every problem is reported with its physical
line number (header = line 1), and a file with any bad row imports nothing. A half-imported
roster would leave some interns without the responders the file promised them.

Rules worth knowing:
- People are matched by E.164 phone; importing the same file twice changes nothing.
- A blank cell means the default (channel `sms`, or `whatsapp` when the phone is written
  `whatsapp:+52…`; the configured language and time zone; no unit or university). A column the
  header lacks leaves that field of an existing person as it is (new people get the defaults);
  likewise `buddies` are replaced only when the header has a `buddies` column.
- `buddies` are separated by `;` in a `,` file; `|`, `/` and spaces work in any file (in a `;`
  file they are the only way). Each must be an intern or a peer, in this file or already stored.
- Units and universities are matched by name ignoring case and repeated spaces, so "UANL" and
  "uanl" stay one university; a unit's municipality and type are set by the first row giving them.
- `active` (`yes`/`no`, also `si`/`sí`, `1`/`0`, `true`/`false`; blank = `yes`): `no` deactivates
  the person (no pings, never alerted; a ping already sent is no longer waited for) and keeps
  her history; her open incidents stay with their responders. People missing from the file
  are left alone (never deactivated), and a header without `active` leaves everyone's as is.
- The timeline gets `person_created` / `person_updated` (with the fields that changed) per
  person, `person_deactivated` / `person_reactivated` when `active` changes, and one
  `roster_imported` with the counts.
- The report names every active intern whom no active nurse (her unit) and no active
  coordinator (her university) covers, across the whole roster after the import: her alarms
  would reach only buddies, a supervisor or the administrators. A warning, not an error.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased, selectinload

from escalation.base.channels import TEXT_CHANNELS
from escalation.base.models import (
    COORDINATOR,
    INTERN,
    MENTAL_HEALTH,
    NURSE,
    PEER,
    ROLES,
    SMS,
    SUPERVISOR,
    UNIT_TYPES,
    WHATSAPP,
    Person,
    Unit,
    University,
)
from escalation.base.phones import BadPhone, normalize_phone
from escalation.base.schedule import SCHEDULE_FIELDS
from escalation.base.timeline import event_row, record, record_many
from escalation.deadlines import stop_waiting
from escalation.pings import schedule_changed

COLUMNS = (
    "role",
    "name",
    "phone",
    "channel",
    "language",
    "timezone",
    "checkin_time",
    "university",
    "unit",
    "municipality",
    "unit_type",
    "buddies",
    "active",
)
REQUIRED_COLUMNS = ("role", "name", "phone")
LANGUAGES = ("es", "en")
DEFAULT_TIMEZONE = "America/Monterrey"
DEFAULT_LANGUAGE = "es"
BUDDY_ROLES = (INTERN, PEER)
# What each role cannot do without: coverage follows from these places (see models.py).
REQUIRED_BY_ROLE = {
    INTERN: ("checkin_time", "university", "unit"),
    NURSE: ("unit",),
    COORDINATOR: ("university",),
    MENTAL_HEALTH: ("university",),
    SUPERVISOR: ("municipality",),
}
ROLE_LABELS = {
    INTERN: "an intern",
    PEER: "a peer",
    NURSE: "a nurse",
    COORDINATOR: "a coordinator",
    SUPERVISOR: "a supervisor",
    MENTAL_HEALTH: "a mental-health contact",
}
# Fields an update leaves alone when the header has no column for them.
OPTIONAL_COLUMNS = ("channel", "language", "timezone", "university", "unit", "active")
# How spreadsheets say yes and no in the `active` column (compared without case or accents).
_YES = frozenset({"yes", "si", "1", "true"})
_NO = frozenset({"no", "0", "false"})
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_BUDDY_SEPARATORS = re.compile(r"[|/;]")

Progress = Callable[[int], object]


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass(frozen=True)
class Uncovered:
    """An active intern whom no active nurse and no active coordinator covers."""

    name: str
    phone: str
    unit: str | None
    university: str | None


@dataclass
class ImportReport:
    created: int
    updated: int  # people whose stored row changed, activation changes included
    unchanged: int
    errors: list[RowError] = field(default_factory=list)
    deactivated: int = 0  # of the updated
    reactivated: int = 0  # of the updated
    # The whole roster's interns after the import, not only this file's (empty on errors).
    uncovered: list[Uncovered] = field(default_factory=list)


@dataclass(frozen=True)
class RosterRow:
    """One valid roster line, normalised: E.164 phones, `HH:MM`, defaults applied."""

    line: int
    role: str
    name: str
    phone: str
    channel: str
    language: str
    timezone: str
    checkin_time: str | None
    university: str | None
    unit: str | None
    municipality: str | None
    unit_type: str | None
    buddies: tuple[str, ...]
    active: bool
    columns: frozenset[str]  # the header's known columns: absent ones are not updated


@dataclass
class _Parsed:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # phone -> (line, role or None) for every row whose phone parsed, valid or not, so a buddy
    # on a bad row is not reported a second time as unknown.
    phones: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    # (line, buddies) of every row whose buddies parsed, valid or not, so an unknown buddy is
    # reported in the same pass as the row's other problems.
    buddies: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)


@dataclass(frozen=True)
class _Context:
    columns: dict[str, int]  # known column -> index in the header
    width: int  # cells in the header, known or not
    default_timezone: str
    default_language: str
    # raw phone -> E.164 or None (invalid): buddies repeat the phones of other rows, and
    # parsing phones is most of the parsing time.
    phones: dict[str, str | None] = field(default_factory=dict)

    def phone(self, raw: str) -> str:
        if raw not in self.phones:
            try:
                self.phones[raw] = normalize_phone(raw)
            except BadPhone:
                self.phones[raw] = None
        phone = self.phones[raw]
        if phone is None:
            raise BadPhone(raw)
        return phone


class _CsvProblem(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line


class _Invalid(ValueError):
    """One cell's problem, worded for the person who fixes the spreadsheet."""


# --- Parsing -------------------------------------------------------------------------------


def parse_roster(
    text: str,
    *,
    default_timezone: str = DEFAULT_TIMEZONE,
    default_language: str = DEFAULT_LANGUAGE,
) -> tuple[list[RosterRow], list[RowError]]:
    """The valid rows of `text` and every error, by line. Needs no database, so a buddy that is
    neither in the file nor checked against the database here: `import_roster` does that."""
    parsed = _parse(text, default_timezone, default_language)
    return parsed.rows, sorted(parsed.errors, key=lambda e: e.line)


def _parse(text: str, default_timezone: str, default_language: str) -> _Parsed:
    parsed = _Parsed()
    records = _records(text)
    try:
        line, cells = next(records, (1, []))
        columns, parsed.errors = _header(line, cells)
        if parsed.errors:
            return parsed
        context = _Context(columns, len(cells), default_timezone, default_language)
        for line, cells in records:
            _parse_record(parsed, line, cells, context)
    except _CsvProblem as exc:
        parsed.errors.append(RowError(exc.line, f"the CSV cannot be read here: {exc}"))
    parsed.errors += _file_buddy_errors(parsed) + _unit_conflicts(parsed.rows)
    return parsed


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, stripped cells) of each non-blank record, header first."""
    text = text.removeprefix("\ufeff")
    first = next((line for line in text.splitlines() if line.strip()), "")
    # Spanish-locale Excel writes `;`; a header with more `;` than `,` tells us which.
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    try:
        for cells in reader:
            stripped = [cell.strip() for cell in cells]
            if any(stripped):
                yield line, stripped
            line = reader.line_num + 1
    except csv.Error as exc:
        raise _CsvProblem(line, str(exc)) from None


def _header_key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.lower())


_COLUMN_KEYS = {_header_key(column): column for column in COLUMNS}


def _header(line: int, cells: list[str]) -> tuple[dict[str, int], list[RowError]]:
    """Column name -> index for the known columns; unknown ones are ignored."""
    if not cells:
        return {}, [RowError(line, "the file is empty; expected a header row")]
    columns: dict[str, int] = {}
    errors = []
    for index, cell in enumerate(cells):
        column = _COLUMN_KEYS.get(_header_key(cell))
        if column in columns:
            errors.append(RowError(line, f"the header names the column {column} twice"))
        elif column is not None:
            columns[column] = index
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        found = ", ".join(cell for cell in cells if cell)
        reason = f"the header has no {' or '.join(missing)} column (it has: {found})"
        errors.append(RowError(line, reason))
    return columns, errors


def _parse_record(parsed: _Parsed, line: int, cells: list[str], context: _Context) -> None:
    values = {column: cells[i] if i < len(cells) else "" for column, i in context.columns.items()}
    fields, problems = _row_fields(values, context)
    if any(cells[context.width :]):
        # Cells beyond the header are fine when empty (spreadsheets pad rows); filled ones
        # usually mean an unquoted comma shifted every cell after it.
        problems.append(
            f"the row has {len(cells)} cells but the header only {context.width} "
            "(a comma or semicolon inside a cell needs quotes)"
        )
    phone = fields.get("phone")
    if phone in parsed.phones:
        problems.append(f"phone {phone} is already on line {parsed.phones[phone][0]}")
    elif phone:
        parsed.phones[phone] = (line, fields.get("role"))
    if fields.get("buddies"):
        parsed.buddies.append((line, fields["buddies"]))
    parsed.errors += [RowError(line, reason) for reason in problems]
    if not problems:
        parsed.rows.append(RosterRow(line=line, columns=frozenset(context.columns), **fields))


# --- Cells ----------------------------------------------------------------------------------


def _row_fields(values: dict[str, str], context: _Context) -> tuple[dict, list[str]]:
    """The row's normalised fields, and every problem found in its cells."""
    fields: dict = {}
    problems: list[str] = []
    for column, parse in _CELL_PARSERS:
        raw = values.get(column, "")
        if "\x00" in raw:  # PostgreSQL cannot store it: the whole import would fail on it
            problems.append(f"{column} holds a NUL character; remove it")
            continue
        try:
            fields[column] = parse(raw, values, context)
        except _Invalid as exc:
            problems.append(str(exc))
    role = fields.get("role")
    if role is not None:
        problems += _role_problems(role, values, fields, context)
    return fields, problems


def _role(raw: str, _values: dict, _context: _Context) -> str:
    role = re.sub(r"[\s\-]+", "_", raw.lower())
    if role not in ROLES:
        raise _Invalid(f"role {raw!r} is not one of {', '.join(ROLES)}" if raw else "role is empty")
    return role


def _name(raw: str, _values: dict, _context: _Context) -> str:
    if not raw:
        raise _Invalid("name is empty")
    return _text(raw)


def _phone(raw: str, _values: dict, context: _Context) -> str:
    if not raw:
        raise _Invalid("phone is empty")
    try:
        return context.phone(raw)
    except BadPhone:
        raise _Invalid(f"phone {raw!r} is not a valid phone number") from None


def _channel(raw: str, values: dict, _context: _Context) -> str:
    if not raw:
        # Whoever wrote `whatsapp:+52…` in the phone cell told us the channel.
        written = values.get("phone", "").lower()
        return WHATSAPP if written.startswith("whatsapp:") else SMS
    if raw.lower() not in TEXT_CHANNELS:
        raise _Invalid(f"channel {raw!r} is not sms or whatsapp")
    return raw.lower()


def _language(raw: str, _values: dict, context: _Context) -> str:
    if raw and raw.lower() not in LANGUAGES:
        raise _Invalid(f"language {raw!r} is not es or en")
    return raw.lower() or context.default_language


def _timezone(raw: str, _values: dict, context: _Context) -> str:
    if not raw:
        return context.default_timezone  # checked once by the configuration, not per row
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise _Invalid(
            f"timezone {raw!r} is not an IANA time zone (e.g. America/Monterrey)"
        ) from None
    return raw


def _unit_type(raw: str, _values: dict, _context: _Context) -> str | None:
    if raw and raw.upper() not in UNIT_TYPES:
        raise _Invalid(f"unit_type {raw!r} is not one of {', '.join(UNIT_TYPES)}")
    return raw.upper() or None


def _active(raw: str, _values: dict, _context: _Context) -> bool:
    decomposed = unicodedata.normalize("NFKD", raw.casefold())
    word = "".join(c for c in decomposed if not unicodedata.combining(c))  # sí -> si
    if not word or word in _YES:
        return True
    if word in _NO:
        return False
    raise _Invalid(f"active {raw!r} is not yes or no")


def _place(raw: str, _values: dict, _context: _Context) -> str | None:
    return _text(raw) or None


def _text(raw: str) -> str:
    return " ".join(raw.split())


_CELL_PARSERS: tuple[tuple[str, Callable[[str, dict, _Context], object]], ...] = (
    ("role", _role),
    ("name", _name),
    ("phone", _phone),
    ("channel", _channel),
    ("language", _language),
    ("timezone", _timezone),
    ("university", _place),
    ("unit", _place),
    ("municipality", _place),
    ("unit_type", _unit_type),
    ("active", _active),
)


def _role_problems(role: str, values: dict[str, str], fields: dict, context: _Context) -> list[str]:
    """What the role is missing, and its role-dependent fields: only interns have a check-in
    time (ignored for everyone else) and buddies."""
    label = ROLE_LABELS[role]
    required = REQUIRED_BY_ROLE.get(role, ())
    problems = [
        f"{column} is required for {label}" for column in required if not values.get(column)
    ]
    fields["checkin_time"] = None
    try:
        if role == INTERN and values.get("checkin_time"):
            fields["checkin_time"] = _checkin_time(values["checkin_time"])
    except _Invalid as exc:
        problems.append(str(exc))
    try:
        fields["buddies"] = _buddies(values.get("buddies", ""), role, fields.get("phone"), context)
    except _Invalid as exc:
        problems.append(str(exc))
    return problems


def _checkin_time(raw: str) -> str:
    match = _TIME.fullmatch(raw)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise _Invalid(f"checkin_time {raw!r} is not a time between 00:00 and 23:59 (HH:MM)")
    return f"{int(match[1]):02d}:{match[2]}"


def _buddies(raw: str, role: str, own_phone: str | None, context: _Context) -> tuple[str, ...]:
    if not raw:
        return ()
    if role != INTERN:
        raise _Invalid(f"buddies are for interns only, and this row is {ROLE_LABELS[role]}")
    phones: list[str] = []
    for piece in filter(None, (p.strip() for p in _BUDDY_SEPARATORS.split(raw))):
        phones += _buddy_phones(piece, context)
    if own_phone in phones:
        raise _Invalid(f"buddies: {own_phone} is the intern's own phone")
    return tuple(dict.fromkeys(phones))  # a buddy listed twice is still one buddy


def _buddy_phones(piece: str, context: _Context) -> list[str]:
    """One phone (`81 1234 5678`) or several separated by spaces (`8112345678 8187654321`):
    spaces are inside numbers too, so take the shortest run of words that is a valid phone."""
    try:
        return [context.phone(piece)]
    except BadPhone:
        pass
    phones, words = [], []
    for word in piece.split():
        words.append(word)
        try:
            phones.append(context.phone(" ".join(words)))
            words = []
        except BadPhone:
            continue
    if words or not phones:
        raise _Invalid(f"buddies: {piece!r} is not a valid phone number")
    return phones


# --- Checks across rows ---------------------------------------------------------------------


def _file_buddy_errors(parsed: _Parsed) -> list[RowError]:
    """Buddies listed in this same file must be interns or peers there."""
    errors = []
    for line, buddies in parsed.buddies:
        for phone in buddies:
            their_line, role = parsed.phones.get(phone, (0, None))
            if role is not None and role not in BUDDY_ROLES:
                label = ROLE_LABELS[role]
                reason = f"buddy {phone} is {label} (line {their_line}), not an intern or peer"
                errors.append(RowError(line, reason))
    return errors


def _unit_conflicts(rows: list[RosterRow]) -> list[RowError]:
    """Two rows must not give one unit two municipalities or two types."""
    first: dict[tuple[str, str], tuple[int, str]] = {}
    errors = []
    for row in rows:
        if row.unit is None:
            continue
        for column in ("municipality", "unit_type"):
            value = getattr(row, column)
            if value is None:
                continue
            key = (row.unit.casefold(), column)
            line, seen = first.setdefault(key, (row.line, value))
            if seen.casefold() != value.casefold():
                reason = (
                    f"unit {row.unit!r} has {column} {value!r} here but {seen!r} on line {line}"
                )
                errors.append(RowError(row.line, reason))
    return errors


def _stored_buddy_errors(parsed: _Parsed, people: dict[str, Person]) -> list[RowError]:
    """Buddies not in the file must already be stored as interns or peers."""
    errors = []
    for line, buddies in parsed.buddies:
        for phone in buddies:
            if phone in parsed.phones:
                continue
            person = people.get(phone)
            if person is None:
                reason = f"buddy {phone} is not an intern or peer in this file or the database"
            elif person.role not in BUDDY_ROLES:
                role = ROLE_LABELS.get(person.role, person.role)
                reason = f"buddy {phone} ({person.name}) is {role}, not an intern or peer"
            else:
                continue
            errors.append(RowError(line, reason))
    return errors


# --- Import ---------------------------------------------------------------------------------


def import_roster(
    session: Session,
    text: str,
    *,
    now: datetime,
    default_timezone: str = DEFAULT_TIMEZONE,
    default_language: str = DEFAULT_LANGUAGE,
    progress: Progress | None = None,
) -> ImportReport:
    """Create or update everyone in `text` inside the caller's transaction, or, if any row is
    bad, write nothing and return every error. `progress(1)` is called after each row written
    (an increment, as click's progress bar expects)."""
    parsed = _parse(text, default_timezone, default_language)
    stored = _Stored.load(session)
    errors = parsed.errors + _stored_buddy_errors(parsed, stored.people)
    if errors:
        return ImportReport(0, 0, 0, sorted(errors, key=lambda e: e.line))
    with session.no_autoflush:  # nothing here queries; keep it from flushing row by row
        report, changes = _write(session, parsed.rows, stored, now, progress)
    session.flush()  # new people need ids for their events
    _record_changes(session, now, changes)
    deactivated = [person for person, kind, _ in changes if kind == "person_deactivated"]
    stop_waiting(session, [person.id for person in deactivated if person.is_intern])
    counts = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
    counts |= {"deactivated": report.deactivated, "reactivated": report.reactivated}
    record(session, now, "roster_imported", **counts)
    session.flush()
    report.uncovered = uncovered_interns(session)
    return report


def uncovered_interns(session: Session) -> list[Uncovered]:
    """Every active intern whom no active nurse of her unit and no active coordinator of her
    university covers (what `engine.covering` would find for her), in one query."""
    nurse, coordinator = aliased(Person), aliased(Person)
    has_nurse = exists().where(
        nurse.role == NURSE, nurse.active.is_(True), nurse.unit_id == Person.unit_id
    )
    has_coordinator = exists().where(
        coordinator.role == COORDINATOR,
        coordinator.active.is_(True),
        coordinator.university_id == Person.university_id,
    )
    query = (
        select(Person.name, Person.phone, Unit.name, University.name)
        .outerjoin(Unit, Unit.id == Person.unit_id)
        .outerjoin(University, University.id == Person.university_id)
        .where(Person.role == INTERN, Person.active.is_(True), ~has_nurse, ~has_coordinator)
        .order_by(Person.name, Person.phone)
    )
    return [Uncovered(*row) for row in session.execute(query)]


# (person, event kind, event data beyond its source)
_Change = tuple[Person, str, dict[str, object]]


def _record_changes(session: Session, now: datetime, changes: list[_Change]) -> None:
    """One timeline event per change, as `timeline.record` would write them, but in one
    multi-row INSERT (`record_many`): the ORM inserts rows one by one when it fetches their
    ids, and that was a quarter of a 10,000-row import."""
    if not changes:
        return
    rows = [
        event_row(now, kind, person_id=person.id, source="roster", **data)
        for person, kind, data in changes
    ]
    record_many(session, rows)


@dataclass
class _Stored:
    """Everyone and every place already stored, loaded once: 10,000 rows must not mean
    10,000 queries."""

    people: dict[str, Person]
    universities: dict[str, University]
    units: dict[str, Unit]
    by_id: dict[tuple[type, int], University | Unit]

    @classmethod
    def load(cls, session: Session) -> _Stored:
        people = session.scalars(select(Person).options(selectinload(Person.buddies))).all()
        universities = session.scalars(select(University)).all()
        units = session.scalars(select(Unit)).all()
        return cls(
            people={person.phone: person for person in people},
            universities={_place_key(u.name): u for u in universities},
            units={_place_key(u.name): u for u in units},
            by_id={(type(p), p.id): p for p in [*universities, *units]},
        )


def _place_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _write(
    session: Session,
    rows: list[RosterRow],
    stored: _Stored,
    now: datetime,
    progress: Progress | None,
) -> tuple[ImportReport, list[_Change]]:
    places = _Places(session, stored, now)
    new = _new_people(session, rows, stored.people, now)
    report = ImportReport(0, 0, 0)
    changes: list[_Change] = []
    for row in rows:
        person = stored.people[row.phone]
        fields = _apply(person, row, places, stored, every_field=person in new)
        fields += _apply_buddies(person, row, stored.people)
        _schedule_if_changed(person, fields, created=person in new)
        if person in new:
            report.created += 1
            changes.append((person, "person_created", {"fields": fields}))
        elif fields:
            person.updated_at = now
            report.updated += 1
            changes += _updates(person, fields, report)
        else:
            report.unchanged += 1
        if progress is not None:
            progress(1)
    return report, changes


def _schedule_if_changed(person: Person, fields: list[str], *, created: bool) -> None:
    """The next tick computes her next ping as of this import (her `updated_at` is its `now`)
    when she arrives as an active intern, or when a field her schedule follows from changed
    (a deactivation too: the tick then unschedules her)."""
    if created:
        changed = person.is_intern and person.active
    else:
        changed = any(name in SCHEDULE_FIELDS for name in fields)
    if changed:
        schedule_changed(person)


def _updates(person: Person, fields: list[str], report: ImportReport) -> list[_Change]:
    """`person_updated` for the changed fields; an activation change is its own event, so the
    timeline says plainly when someone stopped (or started again) being pinged and alerted.
    Her schedule follows from `active` (`_schedule_if_changed`); her open incidents and
    history are left exactly as they are."""
    changes: list[_Change] = []
    others = [name for name in fields if name != "active"]
    if others:
        changes.append((person, "person_updated", {"fields": others}))
    if "active" in fields:
        if person.active:
            report.reactivated += 1
        else:
            report.deactivated += 1
        kind = "person_reactivated" if person.active else "person_deactivated"
        changes.append((person, kind, {}))
    return changes


def _new_people(
    session: Session, rows: list[RosterRow], people: dict[str, Person], now: datetime
) -> set[Person]:
    """An empty Person for each phone not stored yet, so buddies can point at each other
    whatever their order in the file."""
    new = set()
    for row in rows:
        if row.phone not in people:
            person = Person(phone=row.phone, created_at=now, updated_at=now)
            session.add(person)
            people[row.phone] = person
            new.add(person)
    return new


def _apply(
    person: Person, row: RosterRow, places: _Places, stored: _Stored, *, every_field: bool
) -> list[str]:
    """Set the row's values on `person`; the names of the fields that changed."""
    wanted = {
        "role": row.role,
        "name": row.name,
        "channel": row.channel,
        "language": row.language,
        "timezone": row.timezone,
        "checkin_time": row.checkin_time,
        # Only a supervisor covers a municipality; everyone else's is her unit's.
        "municipality": row.municipality if row.role == SUPERVISOR else None,
        "university": places.university(row.university),
        "unit": places.unit(row),
        "active": row.active,
    }
    current = {
        "university": stored.by_id.get((University, person.university_id)),
        "unit": stored.by_id.get((Unit, person.unit_id)),
    }
    changed = []
    for name, value in wanted.items():
        if not every_field and name in OPTIONAL_COLUMNS and name not in row.columns:
            continue
        old = current[name] if name in current else getattr(person, name)
        if old != value:
            setattr(person, name, value)
            changed.append(name)
    return changed


def _apply_buddies(person: Person, row: RosterRow, people: dict[str, Person]) -> list[str]:
    if "buddies" not in row.columns:
        return []
    wanted = [people[phone] for phone in row.buddies]
    if {id(b) for b in person.buddies} == {id(b) for b in wanted}:
        return []
    person.buddies = wanted
    return ["buddies"]


class _Places:
    """Universities and units by name, created on first mention."""

    def __init__(self, session: Session, stored: _Stored, now: datetime) -> None:
        self.session, self.stored, self.now = session, stored, now
        self.described: set[tuple[str, str]] = set()  # (unit, attribute) set by this file

    def university(self, name: str | None) -> University | None:
        if name is None:
            return None
        key = _place_key(name)
        if key not in self.stored.universities:
            university = University(name=name, created_at=self.now)
            self.session.add(university)
            self.stored.universities[key] = university
        return self.stored.universities[key]

    def unit(self, row: RosterRow) -> Unit | None:
        if row.unit is None:
            return None
        key = _place_key(row.unit)
        unit = self.stored.units.get(key)
        if unit is None:
            unit = self.stored.units[key] = Unit(name=row.unit, created_at=self.now)
            self.session.add(unit)
        # The first row giving a value sets it; later rows agree (see _unit_conflicts), up to case.
        for attribute in ("municipality", "unit_type"):
            value = getattr(row, attribute)
            if value is not None and (key, attribute) not in self.described:
                self.described.add((key, attribute))
                setattr(unit, attribute, value)
        return unit
