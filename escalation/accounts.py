"""Console accounts: creating them, checking a password, disabling them.

Passwords are hashed with Argon2id (argon2-cffi's defaults); a hash made with older parameters
is upgraded at the next successful sign-in. Every change is an Event (`account_created`,
`account_disabled`, `account_enabled`), naming who made it (`by`: an account's email, or
`cli`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import Session

from escalation.base.models import (
    ACCOUNT_ROLES,
    ADMIN,
    COORDINATOR,
    MENTAL_HEALTH,
    SELF_HARM,
    SUPERVISOR,
    SUPPORT,
    Account,
    Incident,
    Person,
    Unit,
    University,
)
from escalation.base.timeline import record

MIN_PASSWORD = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()


class AccountError(ValueError):
    """An account that cannot be made as asked; the message says what to do."""


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def create_account(
    session: Session,
    now: datetime,
    email: str,
    password: str,
    *,
    role: str = ADMIN,
    university: str | None = None,
    municipality: str | None = None,
    language: str = "es",
    by: str = "cli",
) -> Account:
    address = normalize_email(email)
    if not _EMAIL.match(address):
        raise AccountError(f"{email!r} is not an email address")
    if role not in ACCOUNT_ROLES:
        raise AccountError(f"role {role!r} is not one of {', '.join(ACCOUNT_ROLES)}")
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    if session.scalar(select(Account.id).where(Account.email == address)) is not None:
        raise AccountError(f"an account for {address} exists already")
    place = _place(session, role, university, municipality)
    account = Account(email=address, password_hash=_hasher.hash(password), role=role,
                      language=language, created_at=now, **place)  # fmt: skip
    session.add(account)
    session.flush()
    record(session, now, "account_created", account_id=account.id, email=address, role=role,
           by=by, university=university, municipality=municipality)  # fmt: skip
    return account


def _place(session: Session, role: str, university: str | None, municipality: str | None):
    """Where a role's scope is: a university (coordinator, mental health) or a municipality."""
    if role in (COORDINATOR, MENTAL_HEALTH):
        if not university:
            raise AccountError(f"a {role} account needs --university NAME")
        found = session.scalar(
            select(University).where(func.lower(University.name) == university.strip().lower())
        )
        if found is None:
            raise AccountError(f"no university named {university!r} on the roster")
        return {"university_id": found.id}
    if role == SUPERVISOR:
        if not municipality:
            raise AccountError("a supervisor account needs --municipality NAME")
        return {"municipality": municipality.strip()}
    return {}


def check_password(session: Session, account: Account, password: str) -> bool:
    """Whether `password` is hers; a hash with outdated parameters is upgraded on success."""
    try:
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    return True


def set_active(session: Session, now: datetime, account: Account, active: bool, *, by: str):
    if account.active == active:
        return
    account.active = active
    record(session, now, "account_enabled" if active else "account_disabled",
           account_id=account.id, email=account.email, by=by)  # fmt: skip


# --- who sees what --------------------------------------------------------------------------

MENTAL_HEALTH_KINDS = (SELF_HARM, SUPPORT)


@dataclass(frozen=True)
class Scope:
    """What a console account may see: everything (administrators), her university's interns
    and cases (coordinators; mental-health contacts: only the mental-health cases), or her
    municipality's (supervisors). Pages outside it answer 404, as if they did not exist."""

    role: str
    university_id: int | None = None
    municipality: str | None = None

    @property
    def sees_scores(self) -> bool:
        return self.role in (ADMIN, MENTAL_HEALTH)

    def people(self):
        """A WHERE clause on Person: the interns (and responders) she may see."""
        if self.role == ADMIN:
            return true()
        if self.role == SUPERVISOR:
            units = select(Unit.id).where(Unit.municipality == self.municipality)
            return or_(Person.unit_id.in_(units), Person.municipality == self.municipality)
        return Person.university_id == self.university_id

    def incidents(self):
        """A WHERE clause on Incident: the cases she may see and act on."""
        if self.role == ADMIN:
            return true()
        interns = select(Person.id).where(self.people())
        visible = Incident.intern_id.in_(interns)
        if self.role == MENTAL_HEALTH:
            return and_(visible, Incident.kind.in_(MENTAL_HEALTH_KINDS))
        if self.role == SUPERVISOR:  # not on the mental-health path
            return and_(visible, Incident.kind.not_in(MENTAL_HEALTH_KINDS))
        return visible

    @property
    def reads_her_words(self) -> bool:
        """Whether she may read what an intern wrote on the mental-health path (her texts in
        a self-harm or support case): only administrators and mental-health contacts."""
        return self.role in (ADMIN, MENTAL_HEALTH)
