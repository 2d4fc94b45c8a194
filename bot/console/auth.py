"""Signing in and out of the console, and who the signed-in user is.

The user is a small frozen copy of her account (`ConsoleUser`), loaded from the database on
each request, so a disabled account is signed out at its next click.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Blueprint, Flask, abort, redirect, render_template, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from bot.runtime import faro
from escalation.accounts import check_password, normalize_email
from escalation.base.db import transaction, utcnow
from escalation.base.models import Account
from escalation.base.timeline import record

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__, url_prefix="/admin")
login_manager = LoginManager()
limiter = Limiter(get_remote_address, storage_uri="memory://", default_limits=[])


@limiter.request_filter
def _outside_the_console() -> bool:
    """Only the console's forms are limited (the sign-in): Twilio's signed webhooks, the
    simulator and the health checks skip the limiter's bookkeeping, which every text of the
    09:00 burst would otherwise pay for."""
    return not request.path.startswith("/admin")


@dataclass(frozen=True)
class ConsoleUser(UserMixin):
    id: int
    email: str
    role: str
    university_id: int | None
    municipality: str | None
    language: str

    @classmethod
    def of(cls, account: Account) -> ConsoleUser:
        return cls(account.id, account.email, account.role, account.university_id,
                   account.municipality, account.language)  # fmt: skip


class LoginForm(FlaskForm):
    email = EmailField("email", validators=[DataRequired()])
    password = PasswordField("password", validators=[DataRequired()])


class LogoutForm(FlaskForm):
    pass


@login_manager.user_loader
def load_user(user_id: str) -> ConsoleUser | None:
    with faro().sessions() as db:
        account = db.get(Account, int(user_id)) if user_id.isdigit() else None
        return ConsoleUser.of(account) if account is not None and account.active else None


def _account_key() -> str:
    return "account:" + normalize_email(request.form.get("email", ""))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])  # per address
@limiter.limit("5 per minute", methods=["POST"], key_func=_account_key)  # per account
def login():
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        user = _authenticate(form.email.data, form.password.data)
        if user is not None:
            session.permanent = True  # expires after IDLE_TIMEOUT without a request
            login_user(user)
            return redirect(_safe_next() or url_for("console.board"))
        failed = True
    return render_template("console/login.html", form=form, failed=failed), 401 if failed else 200


def _authenticate(email: str, password: str) -> ConsoleUser | None:
    address = normalize_email(email)
    now = utcnow()
    with transaction(faro().sessions) as db:
        account = db.scalar(select(Account).where(Account.email == address))
        if account is None or not account.active or not check_password(db, account, password):
            log.warning("console sign-in refused for %r from %s", address, request.remote_addr)
            return None
        account.last_login_at = now
        record(db, now, "signed_in", account_id=account.id, email=address,
               address=request.remote_addr)  # fmt: skip
        return ConsoleUser.of(account)


def _safe_next() -> str | None:
    target = request.args.get("next", "")
    return target if target.startswith("/admin") and not target.startswith("//") else None


@bp.post("/logout")
@login_required
def logout():
    if not LogoutForm().validate_on_submit():
        abort(400)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@login_manager.unauthorized_handler
def _sign_in_first():
    """To the sign-in page; an htmx poll (the board's) whose session expired sends the whole
    page there, rather than swapping the sign-in form into the board's table."""
    target = url_for("auth.login", next=request.full_path.rstrip("?"))
    if request.headers.get("HX-Request"):
        return "", 200, {"HX-Redirect": url_for("auth.login")}
    return redirect(target)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_message = None
    limiter.init_app(app)
    app.register_blueprint(bp)

    @app.errorhandler(404)
    def _not_found(error):
        if request.path.startswith("/admin"):
            return render_template("console/404.html"), 404
        return error

    @app.errorhandler(413)
    def _too_large(error):
        log.warning("refused a request of %s bytes to %s (MAX_CONTENT_LENGTH)",
                    request.content_length, request.path)  # fmt: skip
        if request.path.startswith("/admin"):
            return render_template("console/413.html"), 413
        return error

    @app.context_processor
    def _logout_form():
        # Rendered, never read from this request (formdata=None): a page refusing a body too
        # large to read must not read it.
        signed_in = current_user.is_authenticated
        return {"logout_form": LogoutForm(formdata=None) if signed_in else None}
