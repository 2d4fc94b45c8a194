"""`flask --app app import-roster` against any file: never a traceback, and never half an
import. Either the whole file is imported (and importing it again changes nothing), or not one
row of the database changed and every bad row is named by its line.

Most rosters generated here are a coordinator's spreadsheet (BOM or not, `,` or `;`, columns in
any order, optional ones left out, extra ones added, names with quoted line breaks, phones
written every way) with now and then a few cells spoiled in ways the importer must catch; the
test checks that both outcomes were reached. Every example starts from the same database
(the `people` fixture's Ana, Beto, Rosa …), put back row by row (`tests.hostile.Rows`).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st
from sqlalchemy import select

from escalation.base.models import ROLES, Person
from escalation.roster import COLUMNS
from tests.conftest import ANA, BETO, LUIS, MARTA, ROSA, SOFIA
from tests.hostile import Rows, any_text, examples, mostly

PEOPLE_TABLES = ("person", "unit", "university", "buddy")
UNITS = {  # unit -> (municipality, unit_type): every row of a unit agrees
    "CS Doctor Arroyo": ("Doctor Arroyo", "A"),
    "CS Mier y Noriega": ("Mier y Noriega", "A"),
    "CS Galeana": ("Galeana", "B"),
    "Hospital Linares": ("Linares", "CC"),
}
UNIVERSITIES = ["UANL", "uanl", "  UANL ", "UDEM", "Universidad de Monterrey"]
ZONES = ["", "America/Monterrey", "America/Matamoros", "America/Mexico_City", "UTC"]
OPTIONAL = ("channel", "language", "timezone", "municipality", "unit_type", "buddies", "active")
# Stored people a file may update (never buddies: those are Ana and Beto, left as interns).
STORED = [ROSA, LUIS, MARTA, SOFIA]


def written(number: int, style: int) -> str:
    """Mexican mobile number `number` (81 2222 0000 + n) as spreadsheets hold it."""
    digits = f"812222{number:04d}"
    return [
        f"{digits[:2]} {digits[2:6]} {digits[6:]}",
        f"+52{digits}",
        f"({digits[:2]}) {digits[2:6]}-{digits[6:]}",
        f"+52 1 {digits}",
        f"whatsapp:+521{digits}",
    ][style % 5]


def e164(number: int) -> str:
    return f"+52812222{number:04d}"


# --- A roster, and what spoils it -------------------------------------------------------------


@dataclass
class Roster:
    """A generated roster: the header as written, each person's cells (by column), her phone
    as the importer will store it, her buddies' phones, and which rows were spoiled how."""

    header: list[str]
    rows: list[dict[str, str]]
    phones: list[str | None]  # None: spoiled
    buddies: list[list[str]]
    spoiled: dict[int, str] = field(default_factory=dict)  # row -> how
    gone: set[str] = field(default_factory=set)  # phones the spoiling took off their rows
    delimiter: str = ","
    bom: bool = False
    newline: str = "\n"
    blank_before: frozenset[int] = frozenset()

    def text(self) -> tuple[str, list[int]]:
        """The file, and the physical line each row starts on (the header is line 1)."""
        out = io.StringIO()
        writer = csv.writer(out, delimiter=self.delimiter, lineterminator=self.newline)
        writer.writerow(self.header)
        lines = []
        for n, row in enumerate(self.rows):
            if n in self.blank_before:
                out.write(self.newline)
            lines.append(1 + len(re.findall(r"\r\n|\r|\n", out.getvalue())))
            writer.writerow([row.get(column_of(cell), "") for cell in self.header] + row.get(
                BEYOND, []))  # fmt: skip
        return ("\ufeff" if self.bom else "") + out.getvalue(), lines

    def bad_lines(self, lines: list[int]) -> set[int]:
        """The spoiled rows, and those listing a buddy whose phone the spoiling took away."""
        gone = self.gone - set(self.phones)
        orphans = {n for n, buddies in enumerate(self.buddies) if set(buddies) & gone}
        return {lines[n] for n in set(self.spoiled) | orphans}


BEYOND = "cells beyond the header"


def column_of(header_cell: str) -> str:
    """The column a header cell names, as the importer reads it ("Checkin Time", " role ")."""
    key = re.sub(r"[\s_\-]+", "", header_cell.lower())
    return next((c for c in COLUMNS if c.replace("_", "") == key), header_cell)


NAMES = st.sampled_from(
    ["Ana Lopez", "Beto Garza", "María José Núñez", "O'Brien, Carla", 'Diana "la doc" Treviño',
     "Eva\nsegunda línea", "  Fer   Ruiz  "]
)  # fmt: skip
# Any name a cell can hold; a lone "\r" left out, as Python's csv writer does not quote one when
# lines end in "\n" (the file would then really have a broken row).
names = mostly(
    NAMES, any_text.filter(lambda name: name.strip() and not {"\x00", "\r"} & set(name)), 8
)
SPOILS = {  # what spoils a cell, and what it becomes
    "role": ("role", "doctor"),
    "name": ("name", ""),
    "phone": ("phone", "12345"),
    "time": ("checkin_time", "25:00"),
    "zone": ("timezone", "Mars/Olympus"),
    "channel": ("channel", "fax"),
    "language": ("language", "fr"),
    "unit_type": ("unit_type", "Z"),
    "active": ("active", "maybe"),
    "required": ("unit", ""),
    "nul": ("name", "Ana\x00 Lopez"),  # PostgreSQL cannot store it
}


def spoil(draw, roster: Roster, n: int) -> None:
    """Spoil row `n` one way the importer must report (a kind whose column the header lacks,
    or that the row's role ignores, spoils the role instead)."""
    kind = draw(st.sampled_from([*SPOILS, "twice", "beyond"]))
    row, columns = roster.rows[n], {column_of(cell) for cell in roster.header}
    role = row["role"].lower().replace(" ", "_")
    if kind == "twice" and n > 0:  # her phone is an earlier row's: reported on her line
        other = draw(st.integers(0, n - 1))
        roster.gone.add(roster.phones[n])
        row["phone"], roster.phones[n] = roster.rows[other]["phone"], roster.phones[other]
        roster.spoiled.setdefault(n, kind)
        return
    if kind == "beyond":
        row[BEYOND] = ["", "desplazada"]
        roster.spoiled.setdefault(n, kind)
        return
    column, value = SPOILS.get(kind, SPOILS["role"])
    ignored = (kind == "time" and role != "intern") or (
        kind == "required" and role not in ("intern", "nurse"))  # fmt: skip
    if column not in columns or ignored:
        column, value = SPOILS["role"]
    row[column] = value
    if column == "phone":
        kind = "phone"
        roster.gone.add(roster.phones[n])
        roster.phones[n] = None
    roster.spoiled.setdefault(n, kind)


@st.composite
def rosters(draw) -> Roster:
    """Up to eight people, new ones and stored ones updated, interns with buddies in the file
    or stored; columns shuffled, some optional ones left out, an extra one; four files in ten
    with one to three rows spoiled."""
    n = draw(st.integers(1, 8), label="people")
    numbers = draw(st.lists(st.integers(1, 9999), min_size=n, max_size=n, unique=True))
    dropped = set(draw(st.lists(st.sampled_from(OPTIONAL), unique=True, max_size=3)))
    roles = [draw(st.sampled_from(ROLES)) for _ in range(n)]
    if "municipality" in dropped:  # a supervisor needs hers
        roles = ["peer" if role == "supervisor" else role for role in roles]
    stored = iter(STORED)
    phones = [
        next(stored, e164(number)) if draw(st.integers(0, 9)) == 0 else e164(number)
        for number in numbers
    ]
    delimiter = draw(st.sampled_from([",", ";"]))
    separator = draw(st.sampled_from(["|", " / ", "|" if delimiter == ";" else ";"]))
    mates = [p for p, role in zip(phones, roles, strict=True) if role in ("intern", "peer")]
    rows, buddies = [], []
    for number, phone, role in zip(numbers, phones, roles, strict=True):
        unit = draw(st.sampled_from(sorted(UNITS)))
        chosen = []
        if role == "intern" and "buddies" not in dropped:
            chosen = draw(st.lists(st.sampled_from([*mates, ANA, BETO]), max_size=2, unique=True))
            chosen = [p for p in chosen if p != phone]
        rows.append({
            "role": draw(st.sampled_from([role, role.upper(), role.replace("_", " ")])),
            "name": draw(names),
            "phone": phone if phone in STORED else written(number, draw(st.integers(0, 4))),
            "channel": draw(st.sampled_from(["", "sms", "whatsapp", "SMS"])),
            "language": draw(st.sampled_from(["", "es", "en", "ES"])),
            "timezone": draw(st.sampled_from(ZONES)),
            "checkin_time": draw(st.sampled_from(["08:00", "7:05", "23:59", "00:00"])),
            "university": draw(st.sampled_from(UNIVERSITIES)),
            "unit": unit,
            "municipality": UNITS[unit][0],
            "unit_type": draw(st.sampled_from([UNITS[unit][1], UNITS[unit][1].lower()])),
            "active": draw(st.sampled_from(["", "yes", "no", "sí", "1", "false"])),
            "buddies": separator.join(chosen),
        })  # fmt: skip
        buddies.append(chosen)
    columns = [c for c in COLUMNS if c not in dropped]
    columns = draw(st.permutations(columns)) + draw(st.sampled_from([[], ["notes"]]))
    header = [draw(st.sampled_from([c, c.upper(), f" {c} ", c.replace("_", " ")])) for c in columns]
    roster = Roster(
        header, rows, phones, buddies, delimiter=delimiter, bom=draw(st.booleans()),
        newline=draw(st.sampled_from(["\n", "\r\n"])),
        blank_before=frozenset(draw(st.lists(st.integers(0, n - 1), max_size=2))),
    )  # fmt: skip
    if draw(st.integers(0, 9)) < 4:
        for _ in range(draw(st.integers(1, 3), label="spoiled")):
            spoil(draw, roster, draw(st.integers(0, n - 1)))
    return roster


# --- The properties -------------------------------------------------------------------------


class Importer:
    """`flask --app app import-roster FILE`, from the `people` database put back each time."""

    def __init__(self, faro, runner, path) -> None:
        self.runner, self.path = runner, path
        self.rows = Rows(faro.engine)
        self.seeded = self.rows.read()

    def fresh(self) -> None:
        self.rows.restore(self.seeded)

    def run(self, content: bytes):
        self.path.write_bytes(content)
        result = self.runner.invoke(args=["import-roster", str(self.path)])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            "a traceback",
            result.exception,
        )
        assert result.exit_code in (0, 1) and "Traceback" not in result.output, result.output
        return result

    def reported(self, result) -> set[int]:
        """The lines named as bad: `FILE:LINE: reason`."""
        found = re.findall(rf"^{re.escape(str(self.path))}:(\d+): ", result.output, re.M)
        return {int(line) for line in found}

    def people(self) -> dict[str, list[tuple]]:
        state = self.rows.read()
        return {table: state[table] for table in PEOPLE_TABLES}

    def check_all_or_nothing(self, content: bytes, result) -> str:
        """Imported: importing the same file again changes no one. Refused: not one row of
        any table changed, and it said so."""
        if result.exit_code == 0:
            assert not self.reported(result) and "imported" in result.output, result.output
            before = self.people()
            again = self.run(content)
            assert again.exit_code == 0 and " 0 created, 0 updated," in f" {again.output}", (
                again.output
            )
            assert self.people() == before, "a second import of the same file changed people"
            return "imported"
        assert "nothing was imported" in result.output or "not UTF-8" in result.output, (
            result.output
        )
        assert self.rows.read() == self.seeded, "a refused file changed the database"
        return "refused"


@pytest.fixture
def importer(faro, runner, people, tmp_path) -> Importer:
    return Importer(faro, runner, tmp_path / "roster.csv")


def test_a_roster_is_imported_whole_or_not_at_all_and_every_bad_line_is_named(importer):
    """Unspoiled, everyone is there as written; spoiled, exactly the bad lines are named."""
    outcomes = Counter()

    @examples(60)
    @given(roster=rosters())
    def check(roster: Roster) -> None:
        importer.fresh()
        text, lines = roster.text()
        result = importer.run(text.encode())
        outcome = importer.check_all_or_nothing(text.encode(), result)
        outcomes[outcome] += 1
        event(outcome)
        if roster.spoiled:
            assert outcome == "refused", (text, result.output)
            assert importer.reported(result) == roster.bad_lines(lines), (text, result.output)
        else:
            assert outcome == "imported", (text, result.output)
            check_everyone_is_there(importer, roster)

    check()
    assert outcomes["imported"] and outcomes["refused"], outcomes


def check_everyone_is_there(importer: Importer, roster: Roster) -> None:
    with importer.runner.app.extensions["faro"].sessions() as session:
        stored = {p.phone: p for p in session.scalars(select(Person))}
        for row, phone in zip(roster.rows, roster.phones, strict=True):
            person = stored[phone]
            assert person.name == " ".join(row["name"].split())
            assert person.role == row["role"].lower().replace(" ", "_")


header_cells = st.lists(st.sampled_from([*COLUMNS, "notes", ""]), min_size=1, max_size=14)
cells = st.one_of(any_text, st.sampled_from(['"', '""', ";", ",", "\n", "intern", "81 2222 0001"]))


@st.composite
def anything(draw) -> bytes:
    """Bytes, text, or the real header over random cells (`,` or `;`, BOM or not)."""
    kind = draw(st.sampled_from(["bytes", "text", "cells"]))
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    if kind == "text":
        return draw(st.text(max_size=400)).encode("utf-8", "surrogatepass")
    delimiter = draw(st.sampled_from([",", ";"]))
    lines = [delimiter.join(draw(header_cells))]
    lines += [
        delimiter.join(draw(st.lists(cells, max_size=14))) for _ in range(draw(st.integers(0, 6)))
    ]
    bom = "\ufeff" if draw(st.booleans()) else ""
    return (bom + "\n".join(lines)).encode("utf-8", "surrogatepass")


def test_any_file_is_imported_whole_or_not_at_all_and_never_a_traceback(importer):
    outcomes = Counter()

    @examples(60)
    @given(content=anything())
    @example(content=b"\xff\xfe r o l e")
    @example(content=b"role,name,phone\nintern,Ana\x00,81 2222 0001\n")
    def check(content: bytes) -> None:
        importer.fresh()
        outcome = importer.check_all_or_nothing(content, importer.run(content))
        outcomes[outcome] += 1
        event(outcome)

    check()
    assert outcomes["refused"], outcomes
