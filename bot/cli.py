"""`flask --app app …` commands: db upgrade, import-roster, seed-demo, tick, scheduler,
create-admin, audit verify, import-policies."""

from __future__ import annotations

import functools
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from bot.checks import database_problem, explain
from bot.runtime import Faro, faro
from escalation.accounts import AccountError, create_account
from escalation.base import audit
from escalation.base.db import transaction, utcnow
from escalation.base.migrate import upgrade
from escalation.base.models import ACCOUNT_ROLES, ADMIN, Person, University
from escalation.crowding import crowded
from escalation.policy import (
    KINDS,
    MAX_REPEATS,
    MAX_STEPS,
    MIN_REPEAT_MINUTES,
    STEP_CHANNELS,
    TARGET_ROLES,
    PolicyError,
    after_the_repeats,
    import_policies,
    load_policy,
    summary,
)
from escalation.roster import ImportReport, Uncovered, import_roster

log = logging.getLogger(__name__)
DEMO_ROSTER = Path(__file__).resolve().parent.parent / "escalation" / "demo_roster.csv"
PROGRESS_FROM = 300  # rows; smaller files finish before a bar would be worth drawing

db = AppGroup("db", help="Database schema (Alembic migrations).")


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    upgrade(faro().engine)
    click.echo("database is up to date")


@click.command("import-roster")
@with_appcontext
@click.argument("path", type=click.Path(path_type=Path))
def import_roster_command(path: Path) -> None:
    """Create or update people from a roster CSV; a file with any bad row imports nothing.

    \b
    The CSV has a header row (UTF-8, with or without BOM; `,` or `;`; extra columns allowed):
      role,name,phone,channel,language,timezone,checkin_time,university,unit,
      municipality,unit_type,buddies[,active]
    role: intern, peer, nurse, coordinator, supervisor or mental_health
    phone: any way a Mexican number is written (stored as E.164)
    channel: sms (default) or whatsapp; language: es (default) or en
    timezone: e.g. America/Monterrey; checkin_time: HH:MM local (interns)
    unit_type: A, B, C or CC; buddies: the interns' buddy phones separated by ;
    active: yes (default) or no (keeps her history; no pings, never alerted)
    """
    if not path.is_file():
        raise click.ClickException(f"{path}: no such file; give the path of the roster CSV")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    report = _import(faro(), text, rows=text.count("\n"))
    if report.errors:
        for error in report.errors:
            click.echo(f"{path}:{error.line}: {error.reason}", err=True)
        rows = len({error.line for error in report.errors})
        problems = f" ({len(report.errors)} problems)" if len(report.errors) > rows else ""
        raise click.ClickException(f"{rows} bad row(s){problems}; nothing was imported")
    click.echo(f"imported {path}: {_counts(report)}")
    _warn_uncovered(report.uncovered)
    _warn_crowded(faro())


def _warn_crowded(app: Faro) -> None:
    """Name each check-in minute the sender cannot ping within its reminder delay (imported
    all the same: nothing is missed, the pings just leave late)."""
    mps = app.settings.sender_mps
    with app.sessions() as session:
        crowds = crowded(session, utcnow(), mps)
    for crowd in crowds:
        click.echo(
            f"warning: {crowd.interns} interns check in at {' / '.join(crowd.times)}: at "
            f"TWILIO_MPS={mps:g} the last of their pings leaves {crowd.minutes} min later, after "
            f"their {crowd.reminder}-min reminder delay; spread their check-in times or raise "
            "TWILIO_MPS (a Messaging Service with more numbers)",
            err=True,
        )


def _counts(report: ImportReport) -> str:
    updated = f"{report.updated} updated"
    activation = [
        f"{n} {label}"
        for n, label in ((report.deactivated, "deactivated"), (report.reactivated, "reactivated"))
        if n
    ]
    if activation:
        updated += f" ({', '.join(activation)})"
    return f"{report.created} created, {updated}, {report.unchanged} unchanged"


def _warn_uncovered(uncovered: list[Uncovered]) -> None:
    """Name each intern whose alarms would reach no nurse and no coordinator (the file was
    still imported: a roster is often loaded before its responders)."""
    for intern in uncovered:
        where = f"unit {intern.unit or '(none)'}, university {intern.university or '(none)'}"
        click.echo(
            f"warning: no nurse and no coordinator covers {intern.name} {intern.phone} ({where})",
            err=True,
        )
    if uncovered:
        click.echo(
            f"warning: {len(uncovered)} intern(s) covered by no nurse and no coordinator: add a "
            "nurse to their unit or a coordinator to their university and import again",
            err=True,
        )


def _import(app: Faro, text: str, rows: int):
    settings = app.settings
    options = {
        "default_timezone": settings.default_timezone,
        "default_language": settings.default_language,
    }
    with transaction(app.sessions) as session:
        if rows < PROGRESS_FROM:
            report = import_roster(session, text, now=utcnow(), **options)
        else:
            with click.progressbar(length=rows, label="importing", file=sys.stderr) as bar:
                report = import_roster(session, text, now=utcnow(), progress=bar.update, **options)
        if report.errors:
            session.rollback()
    return report


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load the small demo roster (Ana, Beto, Rosa, Luis …) for the phone simulator."""
    app = faro()
    if app.settings.sms_transport != "console":
        raise click.ClickException(
            "the demo roster is for the console transport only: demo people must never be texted"
        )
    report = _import(app, DEMO_ROSTER.read_text("utf-8"), rows=0)
    click.echo(f"demo roster: {report.created} created, {report.updated} updated")


@click.command("tick")
@with_appcontext
@click.option(
    "--at",
    "at",
    default=None,
    help="ISO-8601 instant with an offset, e.g. 2026-11-24T09:00:00-06:00",
)
def tick_command(at: str | None) -> None:
    """One scheduler pass as of now (or --at), then dispatch the outbox."""
    now = _parse_instant(at) if at else None
    done = faro().run_pass(now)
    click.echo(" ".join(f"{k}={v}" for k, v in done.items()))


def _parse_instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO-8601 instant", param_hint="--at"
        ) from None
    if instant.tzinfo is None:
        raise click.BadParameter(
            "give an offset or Z, e.g. 2026-11-24T09:00:00-06:00", param_hint="--at"
        )
    return instant.astimezone(UTC)


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduler loop alone (beside gunicorn); stops cleanly on SIGTERM."""
    from bot.scheduler import run_blocking

    run_blocking(faro())


def prepare_database(app: Faro, *, seed_demo: bool) -> None:
    """Migrate; seed the demo roster only into an empty console-transport database."""
    upgrade(app.engine)
    if not seed_demo or app.settings.sms_transport != "console":
        return
    with app.sessions() as session:
        empty = session.scalar(select(func.count()).select_from(Person)) == 0
    if empty:
        report = _import(app, DEMO_ROSTER.read_text("utf-8"), rows=0)
        log.info("seeded the demo roster (%s people) for the simulator", report.created)


@click.command("create-admin")
@with_appcontext
@click.argument("email")
@click.option("--role", type=click.Choice(ACCOUNT_ROLES), default=ADMIN, show_default=True)
@click.option("--university", help="for a coordinator or a mental-health contact")
@click.option("--municipality", help="for a supervisor")
def create_admin_command(email: str, role: str, university: str | None, municipality: str | None):
    """Create a console account; the password is read from standard input."""
    password = _read_password()
    try:
        with transaction(faro().sessions) as session:
            account = create_account(session, utcnow(), email, password, role=role,
                                     university=university, municipality=municipality)  # fmt: skip
            address = account.email
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {role} account {address}; sign in at /admin/login")


def _read_password() -> str:
    """Twice at a terminal (so a typo is caught), once from a pipe."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")


audit_group = AppGroup("audit", help="The events' hash chain.")


@audit_group.command("verify")
@click.option(
    "--head",
    "expected",
    metavar="SEQ:HASH",
    help="a chain head an export carried: check it is still part of the record",
)
def audit_verify(expected: str | None) -> None:
    """Walk the chain; name the first event altered, deleted or inserted (exit 1)."""
    try:
        kept = audit.Head.parse(expected) if expected else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--head") from None
    with transaction(faro().sessions) as session:
        finding = audit.verify(session, expected=kept)
    if not finding.ok:
        raise click.ClickException(f"the record was changed: {finding.problem}")
    checked = f"; it includes {kept}" if kept else ""
    click.echo(f"{finding.events} events, chain intact, head {finding.head}{checked}")


POLICY_FILE_HELP = f"""Escalation policies from a JSON file, checked as the console checks them;
a file with any error saves nothing (exit 1).

\b
The file (one university, or null for the default of every university without its own):
  {{"university": "UANL",
   "policies": {{"missed_checkin": [
     {{"after_minutes": 0, "targets": ["buddies", "nurse"], "channels": ["sms"]}},
     {{"after_minutes": 30, "targets": ["coordinator"], "channels": ["sms", "voice"],
      "repeat_every_minutes": 30, "repeat_count": 3}}]}}}}

\b
kinds:    {", ".join(KINDS)}
          (only the kinds in the file change)
steps:    1 to {MAX_STEPS}; after_minutes counts from the step before (the first: 0, at once)
targets:  {", ".join(TARGET_ROLES)},
          or person:+52... (a phone)
channels: {", ".join(STEP_CHANNELS)}
the last step only: repeat_every_minutes ({MIN_REPEAT_MINUTES} or more) and repeat_count
  (0 to {MAX_REPEATS}); after the repeats everyone on the policy and the administrators are
  called until someone answers
"""


@click.command("import-policies", help=POLICY_FILE_HELP)
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_policies_command(path: Path) -> None:
    document = _policy_file(path)
    try:
        with transaction(faro().sessions) as session:
            saved = import_policies(session, document, now=utcnow(), account="cli")
            lines = [_saved_line(session, row) for row in saved]
    except PolicyError as exc:
        raise click.ClickException(f"{path}: {exc}; nothing was saved") from None
    for line in lines:
        click.echo(line)


def _policy_file(path: Path):
    try:
        return json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise click.ClickException(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); nothing was saved"
        ) from None
    except json.JSONDecodeError as exc:
        raise click.ClickException(
            f"{path}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg}); nothing was saved"
        ) from None


def _saved_line(session, row) -> str:
    university = session.get(University, row.university_id) if row.university_id else None
    where = university.name if university else "the default policy"
    steps = load_policy(session, row.university_id, row.kind)
    return f"saved {where}, {row.kind}: {summary(steps, 'en')}; {after_the_repeats(steps, 'en')}"


def init_app(app: Flask) -> None:
    commands = (db, import_roster_command, seed_demo_command, tick_command, scheduler_command,
                create_admin_command, audit_group, import_policies_command)  # fmt: skip
    for command in commands:
        app.cli.add_command(_guarded(command))


def _guarded(command: click.Command) -> click.Command:
    """An operator's mistake as one line: a command that needs the database first checks it
    can reach it and that it is migrated (`db upgrade` only that it can reach it), and a
    database error met on the way is explained, not dumped."""
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            command.commands[name] = _guarded_callback(sub, schema=name != "upgrade")
        return command
    return _guarded_callback(command, schema=True)


def _guarded_callback(command: click.Command, *, schema: bool) -> click.Command:
    if getattr(command, "faro_guarded", False):  # the commands are module-level: one wrap
        return command
    callback = command.callback

    @functools.wraps(callback)
    def guarded(*args, **kwargs):
        engine = faro().engine
        problem = database_problem(engine) if schema else None
        if problem:
            raise click.ClickException(problem)
        try:
            return callback(*args, **kwargs)
        except SQLAlchemyError as exc:
            raise click.ClickException(explain(engine, exc)) from None

    command.callback = with_appcontext(guarded)
    command.faro_guarded = True
    return command
