"""Importing the roster CSV: who gets created, what a re-import changes, how a bad file is
refused as a whole with every bad line named, who is deactivated and reactivated, and which
interns no nurse and no coordinator covers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from escalation.base.db import Base, make_engine, make_sessionmaker, transaction
from escalation.base.models import (
    CRITICAL,
    EMERGENCY,
    HIGH,
    MISSED_CHECKIN,
    CheckIn,
    Event,
    Incident,
    Person,
    Unit,
    University,
)
from escalation.roster import ImportReport, RowError, Uncovered, import_roster, parse_roster
from tests import stories
from tests.conftest import at

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
HEADER = (
    "role,name,phone,channel,language,timezone,checkin_time,university,unit,municipality,"
    "unit_type,buddies"
)

ANA = "+528112345678"
BETO = "+528187654321"
ROSA = "+528111112222"
LUIS = "+528133334444"
MARTA = "+524881000005"
SOFIA = "+528155556666"
CARLA = "+528122220001"
DIANA = "+528122220002"


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """A migrated database on each engine (conftest's `database_url`)."""
    factory = make_sessionmaker(make_engine(database_url))
    yield factory
    factory.kw["bind"].dispose()


def database(path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    return make_sessionmaker(engine)


def run_import(
    sessions: sessionmaker[Session], text: str, *, now: datetime = NOW, **options
) -> ImportReport:
    with transaction(sessions) as session:
        return import_roster(session, text, now=now, **options)


def good_roster() -> str:
    return (DATA / "roster_good.csv").read_text("utf-8")


def person(session: Session, phone: str) -> Person:
    return session.scalars(select(Person).where(Person.phone == phone)).one()


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_good_roster_creates_everyone_with_e164_phones(sessions):
    report = run_import(sessions, good_roster())

    assert report == ImportReport(created=6, updated=0, unchanged=0, errors=[])
    with sessions() as session:
        ana = person(session, ANA)  # written `81 1234 5678`
        assert (ana.role, ana.name, ana.channel, ana.language) == (
            "intern",
            "Ana Lopez",
            "sms",
            "es",
        )
        assert (ana.timezone, ana.checkin_time) == ("America/Monterrey", "08:00")
        assert ana.university.name == "UANL"
        assert (ana.unit.name, ana.unit.municipality, ana.unit.unit_type) == (
            "CS Doctor Arroyo",
            "Doctor Arroyo",
            "A",
        )
        assert ana.municipality is None  # hers is her unit's
        assert [buddy.name for buddy in ana.buddies] == ["Beto Garza"]
        beto = person(session, BETO)  # written `+52 1 81 8765 4321`
        assert (beto.checkin_time, beto.unit.name, beto.unit.unit_type) == (
            "07:30",
            "CS Mier y Noriega",
            "B",
        )
        assert beto.buddies == []
        rosa = person(session, ROSA)  # written `whatsapp:+5218111112222`, channel left blank
        assert (rosa.role, rosa.channel, rosa.unit_id) == ("nurse", "whatsapp", ana.unit_id)
        assert rosa.checkin_time is None and rosa.university is None
        luis = person(session, LUIS)
        assert (luis.language, luis.timezone, luis.university_id) == (
            "en",
            "America/Matamoros",
            ana.university_id,
        )
        marta = person(session, MARTA)
        assert (marta.role, marta.municipality, marta.unit) == ("supervisor", "Doctor Arroyo", None)
        assert person(session, SOFIA).university.name == "UANL"
        assert (count(session, University), count(session, Unit)) == (1, 2)


def test_the_import_is_recorded_on_the_timeline(sessions):
    run_import(sessions, good_roster())

    with sessions() as session:
        events = session.scalars(select(Event).order_by(Event.id)).all()
        assert [e.kind for e in events] == ["person_created"] * 6 + ["roster_imported"]
        assert events[0].person_id == person(session, ANA).id
        assert events[0].at == NOW
        assert events[-1].data == {
            "created": 6,
            "updated": 0,
            "unchanged": 0,
            "deactivated": 0,
            "reactivated": 0,
        }


def test_importing_the_same_file_twice_changes_nothing(sessions):
    run_import(sessions, good_roster())

    report = run_import(sessions, good_roster())

    assert report == ImportReport(created=0, updated=0, unchanged=6, errors=[])
    with sessions() as session:
        assert (count(session, Person), count(session, University), count(session, Unit)) == (
            6,
            1,
            2,
        )
        assert [buddy.phone for buddy in person(session, ANA).buddies] == [BETO]


def test_a_new_checkin_time_updates_only_ana(sessions):
    run_import(sessions, good_roster())

    later = NOW + timedelta(days=30)
    report = run_import(sessions, good_roster().replace(",8:00,", ",9:15,"), now=later)

    assert report == ImportReport(created=0, updated=1, unchanged=5, errors=[])
    with sessions() as session:
        ana = person(session, ANA)
        assert ana.checkin_time == "09:15"
        assert (ana.created_at, ana.updated_at) == (NOW, later)
        assert person(session, BETO).checkin_time == "07:30"
        update = session.scalars(select(Event).where(Event.kind == "person_updated")).one()
        assert (update.person_id, update.data) == (
            ana.id,
            {"source": "roster", "fields": ["checkin_time"]},
        )


def test_a_file_without_some_columns_leaves_those_fields_alone(sessions):
    run_import(sessions, good_roster())
    short = "Role,Name,Phone,University\ncoordinator,Luis Herrera,+52 81 3333 4444,UANL\n"

    report = run_import(sessions, short)

    assert report == ImportReport(created=0, updated=0, unchanged=1, errors=[])
    with sessions() as session:
        luis = person(session, LUIS)
        assert (luis.language, luis.timezone) == ("en", "America/Matamoros")
        assert [b.phone for b in person(session, ANA).buddies] == [BETO]  # Ana is not in it


def test_bom_semicolons_and_excel_headers(sessions):
    text = (DATA / "roster_semicolon_bom.csv").read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")

    report = run_import(sessions, text)

    assert (report.created, report.errors) == (4, [])
    with sessions() as session:
        ana = person(session, ANA)
        assert (ana.name, ana.checkin_time, ana.unit.municipality) == (
            "Ana López",
            "08:00",
            "Doctor Arroyo",
        )
        # `|`, `/` and plain spaces all separate buddies in a `;` file.
        assert [b.phone for b in ana.buddies] == [BETO, CARLA]
        assert {b.phone for b in person(session, BETO).buddies} == {ANA, CARLA}
        assert [b.phone for b in person(session, DIANA).buddies] == [BETO, CARLA]
        assert person(session, CARLA).role == "peer"


def test_extra_columns_are_ignored(sessions):
    text = (
        "email,role,name,notes,phone,checkin_time,university,unit\n"
        'ana@uanl.mx,intern,Ana Lopez,"likes mornings, hates roads",81 1234 5678,06:45,UANL,'
        "CS Doctor Arroyo\n"
    )

    report = run_import(sessions, text)

    assert report.errors == [] and report.created == 1
    with sessions() as session:
        ana = person(session, ANA)
        assert (ana.name, ana.checkin_time, ana.unit.name, ana.channel) == (
            "Ana Lopez",
            "06:45",
            "CS Doctor Arroyo",
            "sms",
        )


def test_a_file_with_bad_rows_names_each_line_and_imports_nothing(sessions):
    report = run_import(sessions, (DATA / "roster_bad.csv").read_text("utf-8"))

    assert (report.created, report.updated, report.unchanged) == (0, 0, 0)
    assert report.errors == [
        RowError(3, "phone '12345' is not a valid phone number"),
        # line 4 is blank: line numbers are the file's own, for the person fixing it
        RowError(
            5,
            "role 'doctor' is not one of intern, peer, nurse, coordinator, supervisor, "
            "mental_health",
        ),
        RowError(6, "checkin_time '25:00' is not a time between 00:00 and 23:59 (HH:MM)"),
        RowError(7, "timezone 'Mars/Olympus' is not an IANA time zone (e.g. America/Monterrey)"),
        RowError(8, "buddy +528199990000 is not an intern or peer in this file or the database"),
        RowError(9, "phone +528112345678 is already on line 2"),
    ]
    with sessions() as session:
        assert [count(session, m) for m in (Person, Unit, University, Event)] == [0, 0, 0, 0]


def test_every_problem_of_one_row_is_reported(sessions):
    text = f"{HEADER}\nintern,,81 1234 5678,fax,fr,,7am,,,,D,81 9999 0000\n"

    report = run_import(sessions, text)

    assert report.errors == [
        RowError(2, "name is empty"),
        RowError(2, "channel 'fax' is not sms or whatsapp"),
        RowError(2, "language 'fr' is not es or en"),
        RowError(2, "unit_type 'D' is not one of A, B, C, CC"),
        RowError(2, "university is required for an intern"),
        RowError(2, "unit is required for an intern"),
        RowError(2, "checkin_time '7am' is not a time between 00:00 and 23:59 (HH:MM)"),
        RowError(2, "buddy +528199990000 is not an intern or peer in this file or the database"),
    ]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            "intern,Ana Lopez,81 1234 5678,,,,,UANL,CS Doctor Arroyo,,,",
            "checkin_time is required for an intern",
        ),
        ("nurse,Rosa Martinez,8111112222,,,,,UANL,,,,", "unit is required for a nurse"),
        (
            "coordinator,Luis Herrera,8133334444,,,,,,,,,",
            "university is required for a coordinator",
        ),
        (
            "mental_health,Sofia Reyes,8155556666,,,,,,,,,",
            "university is required for a mental-health contact",
        ),
        (
            "supervisor,Marta Cantu,4881000005,,,,,UANL,,,,",
            "municipality is required for a supervisor",
        ),
        (
            "nurse,Rosa Martinez,8111112222,,,,,,CS Doctor Arroyo,,,8112345678",
            "buddies are for interns only, and this row is a nurse",
        ),
        (
            "intern,Ana Lopez,8112345678,,,,8:00,UANL,CS Doctor Arroyo,,,81 1234 5678",
            "buddies: +528112345678 is the intern's own phone",
        ),
    ],
)
def test_each_role_needs_its_place(row, reason):
    rows, errors = parse_roster(f"{HEADER}\n{row}\n")

    assert (rows, errors) == ([], [RowError(2, reason)])


def test_a_buddy_must_be_an_intern_or_a_peer(sessions):
    text = (
        f"{HEADER}\n"
        "intern,Ana Lopez,8112345678,,,,8:00,UANL,CS Doctor Arroyo,,,8111112222\n"
        "nurse,Rosa Martinez,8111112222,,,,,,CS Doctor Arroyo,,,\n"
    )

    report = run_import(sessions, text)

    assert report.errors == [
        RowError(2, "buddy +528111112222 is a nurse (line 3), not an intern or peer")
    ]


def test_a_buddy_already_in_the_database_can_be_named(sessions):
    run_import(sessions, f"{HEADER}\npeer,Beto Garza,+52 81 8765 4321,,,,,UANL,,,,\n")
    ana_alone = (
        f"{HEADER}\nintern,Ana Lopez,8112345678,,,,8:00,UANL,CS Doctor Arroyo,,,818 765 4321\n"
    )

    report = run_import(sessions, ana_alone)

    assert (report.created, report.updated, report.unchanged, report.errors) == (1, 0, 0, [])
    with sessions() as session:
        assert [b.name for b in person(session, ANA).buddies] == ["Beto Garza"]
        beto = person(session, BETO)  # absent from the second file: left as he was
        assert (beto.role, beto.active) == ("peer", True)


def test_one_unit_cannot_have_two_municipalities(sessions):
    text = (
        f"{HEADER}\n"
        "intern,Ana Lopez,8112345678,,,,8:00,UANL,CS Doctor Arroyo,Doctor Arroyo,A,\n"
        "nurse,Rosa Martinez,8111112222,,,,,,cs doctor arroyo,Galeana,,\n"
    )

    report = run_import(sessions, text)

    assert report.errors == [
        RowError(
            3,
            "unit 'cs doctor arroyo' has municipality 'Galeana' here but 'Doctor Arroyo' on line 2",
        )
    ]


def test_a_header_without_phone_is_one_error_at_line_1(sessions):
    text = "role,name,telefono\nintern,Ana Lopez,81 1234 5678\n"

    report = run_import(sessions, text)

    assert report.errors == [
        RowError(1, "the header has no phone column (it has: role, name, telefono)")
    ]
    with sessions() as session:
        assert count(session, Person) == 0


def test_an_empty_file_is_refused():
    assert parse_roster("\ufeff\n\n") == (
        [],
        [RowError(1, "the file is empty; expected a header row")],
    )


def test_progress_is_reported_row_by_row(sessions):
    steps: list[int] = []

    run_import(sessions, good_roster(), progress=steps.append)

    assert steps == [1] * 6


def test_queries_do_not_grow_with_the_roster(tmp_path):
    """Existing people and places are loaded once: a big roster must not cost a query a row."""
    assert statements_to_update(tmp_path, 30) == statements_to_update(tmp_path, 300)


def statements_to_update(tmp_path: Path, size: int) -> int:
    rows = [
        f"intern,Intern {i},+52 81 2000 {i:04d},,,,8:00,UANL,CS {i // 10},Muni {i // 100},A,"
        for i in range(size)
    ]
    text = "\n".join([HEADER, *rows])
    sessions = database(tmp_path / f"{size}.db")
    run_import(sessions, text)
    statements: list[str] = []
    event.listen(sessions.kw["bind"], "before_cursor_execute", lambda *a: statements.append(a[2]))

    report = run_import(sessions, text.replace(",8:00,", ",9:00,"))

    assert (report.updated, report.errors) == (size, [])
    sessions.kw["bind"].dispose()
    return len(statements)


# --- Deactivating and reactivating: the `active` column -------------------------------------


def good_roster_with_active(**values: str) -> str:
    """roster_good.csv with an `active` column: `values[first name]`, blank for the others."""
    header, *rows = good_roster().splitlines()
    cells = [f"{row},{values.get(row.split(',')[1].split()[0], '')}" for row in rows]
    return "\n".join([f"{header},active", *cells]) + "\n"


def events_of(session: Session, kind: str) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def test_active_no_deactivates_ana_and_keeps_her_history(sessions):
    run_import(sessions, good_roster())
    with transaction(sessions) as session:
        ana_id = person(session, ANA).id
        session.add(CheckIn(intern_id=ana_id, local_date=NOW.date(), due_at=NOW, answered_at=NOW))
    later = NOW + timedelta(days=1)

    report = run_import(sessions, good_roster_with_active(Ana="no"), now=later)

    assert (report.updated, report.unchanged, report.deactivated, report.reactivated) == (
        1,
        5,
        1,
        0,
    )
    with sessions() as session:
        ana = person(session, ANA)
        assert (ana.active, ana.updated_at, ana.name, ana.checkin_time) == (
            False,
            later,
            "Ana Lopez",
            "08:00",
        )
        assert [c.intern_id for c in session.scalars(select(CheckIn))] == [ana_id]
        assert [e.person_id for e in events_of(session, "person_created")][0] == ana_id
        [deactivated] = events_of(session, "person_deactivated")
        assert (deactivated.person_id, deactivated.at, deactivated.data) == (
            ana_id,
            later,
            {"source": "roster"},
        )
        assert events_of(session, "person_updated") == []  # nothing else of hers changed
        assert events_of(session, "roster_imported")[-1].data["deactivated"] == 1
        assert all(person(session, phone).active for phone in (BETO, ROSA, LUIS))


def incident_columns(session: Session) -> list[dict]:
    incidents = session.scalars(select(Incident).order_by(Incident.id))
    return [{c.key: getattr(i, c.key) for c in Incident.__table__.columns} for i in incidents]


def test_her_open_incidents_stay_with_their_responders(sessions):
    run_import(sessions, good_roster())
    with transaction(sessions) as session:
        ana, rosa = person(session, ANA), person(session, ROSA)
        session.add_all(
            [
                Incident(code="4821", intern_id=ana.id, kind=EMERGENCY, severity=CRITICAL,
                         opened_at=NOW, acknowledged_at=NOW, acknowledged_by_id=rosa.id, step=1,
                         ack_check_at=NOW + timedelta(hours=2)),
                Incident(code="5932", intern_id=ana.id, kind=MISSED_CHECKIN, severity=HIGH,
                         opened_at=NOW, step=1, next_step_at=NOW + timedelta(minutes=30)),
            ]
        )  # fmt: skip
    with sessions() as session:
        before = incident_columns(session)

    run_import(sessions, good_roster_with_active(Ana="no"), now=NOW + timedelta(minutes=5))

    with sessions() as session:
        assert incident_columns(session) == before  # not resolved, not moved, still Rosa's
        assert session.scalar(select(func.count()).where(Event.incident_id.is_not(None))) == 0


@pytest.mark.parametrize("value", ["yes", "", "Sí"])
def test_yes_again_reactivates_her(sessions, value):
    run_import(sessions, good_roster_with_active(Ana="no"))
    later = NOW + timedelta(days=3)

    report = run_import(sessions, good_roster_with_active(Ana=value), now=later)

    assert (report.updated, report.deactivated, report.reactivated) == (1, 0, 1)
    with sessions() as session:
        assert person(session, ANA).active is True
        [reactivated] = events_of(session, "person_reactivated")
        assert (reactivated.person_id, reactivated.at) == (person(session, ANA).id, later)


def test_a_person_can_be_created_inactive(sessions):
    report = run_import(sessions, good_roster_with_active(Rosa="no"))

    assert (report.created, report.deactivated) == (6, 0)  # created inactive: not a change
    with sessions() as session:
        assert person(session, ROSA).active is False
        assert person(session, ANA).active is True


def test_without_an_active_column_or_a_row_her_active_is_left_alone(sessions):
    run_import(sessions, good_roster_with_active(Ana="no"))

    no_column = run_import(sessions, good_roster())
    not_in_file = run_import(sessions, f"{HEADER},active\n{good_roster().splitlines()[2]},yes\n")

    assert (no_column.unchanged, no_column.reactivated) == (6, 0)
    assert (not_in_file.unchanged, not_in_file.reactivated) == (1, 0)  # Beto's row only
    with sessions() as session:
        assert person(session, ANA).active is False


@pytest.mark.parametrize(
    ("raw", "active"),
    [
        ("yes", True),
        ("YES", True),
        ("si", True),
        ("Sí", True),
        ("SÍ", True),
        ("1", True),
        ("true", True),
        ("True", True),
        ("", True),
        ("no", False),
        ("No", False),
        ("NO", False),
        ("0", False),
        ("false", False),
        ("FALSE", False),
    ],
)
def test_active_is_read_forgivingly(raw, active):
    rows, errors = parse_roster(
        f"role,name,phone,university,active\ncoordinator,Luis Herrera,8133334444,UANL,{raw}\n"
    )

    assert errors == [] and rows[0].active is active


def test_a_bad_active_value_names_its_line_and_imports_nothing(sessions):
    run_import(sessions, good_roster())
    with sessions() as session:
        events = count(session, Event)

    report = run_import(sessions, good_roster_with_active(Ana="no", Beto="maybe", Rosa="inactivo"))

    assert report.errors == [
        RowError(3, "active 'maybe' is not yes or no"),
        RowError(4, "active 'inactivo' is not yes or no"),
    ]
    assert (report.updated, report.deactivated, report.uncovered) == (0, 0, [])
    with sessions() as session:
        assert person(session, ANA).active is True  # her valid row was not applied either
        assert count(session, Event) == events


def test_a_deactivated_intern_is_not_pinged_and_a_reactivated_one_is_again(faro, transport):
    """Her schedule follows `active`: deactivating cancels tomorrow's ping, reactivating
    brings her next one back (the import marks it for the tick when `active` changes)."""

    def pings(phone: str) -> int:
        return len([body for body in stories.sms_to(transport, phone) if body.startswith("Hola")])

    def import_at(roster: str, when: str) -> None:
        with transaction(faro.sessions) as session:
            assert import_roster(session, roster, now=at(when)).errors == []

    import_at(good_roster(), "2026-11-23T12:00:00-06:00")
    stories.tick(faro, "2026-11-23T12:00:15-06:00")  # schedules Ana (08:00) and Beto (07:30)
    stories.tick(faro, "2026-11-24T08:00:00-06:00")
    stories.text(faro, ANA, "ok", "2026-11-24T08:05:00-06:00")
    stories.tick(faro, "2026-11-24T09:00:00-06:00")  # her mood question leaves
    assert (pings(ANA), pings(BETO)) == (1, 1)

    import_at(good_roster_with_active(Ana="no"), "2026-11-24T12:00:00-06:00")
    texts_to_ana = len(stories.sms_to(transport, ANA))
    stories.tick(faro, "2026-11-25T08:00:00-06:00")
    stories.tick(
        faro, "2026-11-25T10:01:00-06:00"
    )  # past her reminder and deadline, had she a ping
    assert len(stories.sms_to(transport, ANA)) == texts_to_ana  # no ping, hence no reminder
    assert pings(BETO) == 2

    import_at(good_roster_with_active(Ana="yes"), "2026-11-25T12:00:00-06:00")
    stories.tick(faro, "2026-11-26T07:59:00-06:00")
    assert pings(ANA) == 1
    stories.tick(faro, "2026-11-26T08:00:00-06:00")
    assert (pings(ANA), pings(BETO)) == (2, 3)


def test_a_ping_sent_before_she_was_deactivated_is_not_waited_for(faro, transport):
    """Deactivated between her ping and its deadline: no reminder to her, no missed check-in
    to her team; the unanswered check-in stays in her history."""
    with transaction(faro.sessions) as session:
        import_roster(session, good_roster(), now=at("2026-11-23T12:00:00-06:00"))
    stories.tick(faro, "2026-11-23T12:00:15-06:00")
    stories.tick(faro, "2026-11-24T08:00:00-06:00")
    with transaction(faro.sessions) as session:
        import_roster(
            session, good_roster_with_active(Ana="no"), now=at("2026-11-24T08:10:00-06:00")
        )

    stories.tick(faro, "2026-11-24T08:31:00-06:00")
    stories.tick(faro, "2026-11-24T10:01:00-06:00")

    assert len(stories.sms_to(transport, ANA)) == 1  # the ping, no reminder
    with faro.sessions() as session:
        ana = person(session, ANA)
        assert session.scalar(select(func.count()).where(Incident.intern_id == ana.id)) == 0
        [checkin] = session.scalars(select(CheckIn).where(CheckIn.intern_id == ana.id))
        assert (checkin.answered_at, checkin.remind_at, checkin.escalate_at) == (None, None, None)
    assert not [e for e in transport.sent if "Ana Lopez" in e.body]  # nobody alerted about her


# --- Interns no nurse and no coordinator covers ---------------------------------------------

PLACES_HEADER = "role,name,phone,checkin_time,university,unit,municipality,active"


def test_the_report_names_every_intern_no_nurse_and_no_coordinator_covers(sessions):
    text = "\n".join(
        [
            PLACES_HEADER,
            "intern,Ana Lopez,8112345678,08:00,UANL,CS Doctor Arroyo,Doctor Arroyo,",
            "nurse,Rosa Martinez,8111112222,,,CS Doctor Arroyo,,",
            "intern,Beto Garza,8187654321,08:00,UDEM,CS Mier y Noriega,Mier y Noriega,",
            "coordinator,Luis Herrera,8133334444,,UDEM,,,",
            "intern,Carla Ruiz,8122220001,08:00,UAT,CS Galeana,Galeana,",
            "intern,Diana Soto,8122220002,08:00,UAT,CS Galeana,Galeana,no",  # inactive: not named
            "nurse,Elena Vega,8122220003,,,CS Galeana,,no",  # an inactive nurse covers nobody
            "supervisor,Marta Cantu,4881000005,,,,Galeana,",  # supervisors are not asked for
            "mental_health,Sofia Reyes,8155556666,,UAT,,,",
        ]
    )

    report = run_import(sessions, text)

    assert report.errors == []
    assert report.uncovered == [Uncovered("Carla Ruiz", CARLA, "CS Galeana", "UAT")]


def test_coverage_is_about_the_whole_roster_after_the_import(sessions):
    carla = f"{PLACES_HEADER}\nintern,Carla Ruiz,8122220001,08:00,UAT,CS Galeana,Galeana,\n"
    nurse = f"{PLACES_HEADER}\nnurse,Elena Vega,8122220003,,,CS Galeana,,{{active}}\n"

    assert run_import(sessions, carla).uncovered == [
        Uncovered("Carla Ruiz", CARLA, "CS Galeana", "UAT")
    ]
    assert run_import(sessions, nurse.format(active="")).uncovered == []  # Carla: stored
    assert [u.name for u in run_import(sessions, nurse.format(active="no")).uncovered] == [
        "Carla Ruiz"
    ]
