"""Console accounts, managed by administrators: who may sign in, with which role and scope.

The same domain function as `flask --app app create-admin` creates them (escalation.accounts),
and every change is an Event naming the administrator who made it.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired

from bot.runtime import faro
from escalation.accounts import AccountError, create_account, set_active
from escalation.base.db import utcnow
from escalation.base.models import ACCOUNT_ROLES, ADMIN, Account, University

bp = Blueprint("accounts", __name__, url_prefix="/admin/accounts")


class AccountForm(FlaskForm):
    email = EmailField("email", validators=[DataRequired()])
    password = PasswordField("password", validators=[DataRequired()])
    role = SelectField("role", choices=list(ACCOUNT_ROLES), default=ADMIN)
    university = StringField("university")
    municipality = StringField("municipality")


class ToggleForm(FlaskForm):
    pass


@bp.before_request
@login_required
def _administrators_only():
    if current_user.role != ADMIN:
        abort(404)


@bp.route("/", methods=["GET", "POST"])
def accounts():
    form, problem = AccountForm(), None
    if form.validate_on_submit():
        try:
            with faro().transaction() as db:
                create_account(db, utcnow(), form.email.data, form.password.data,
                               role=form.role.data, university=form.university.data or None,
                               municipality=form.municipality.data or None,
                               by=current_user.email)  # fmt: skip
            return redirect(url_for("accounts.accounts"))
        except AccountError as exc:
            problem = str(exc)
    with faro().sessions() as db:
        rows = db.scalars(select(Account).order_by(Account.email)).all()
        universities = db.scalars(select(University.name).order_by(University.name)).all()
        return render_template("console/accounts.html", accounts=rows, form=form,
                               problem=problem, universities=universities,
                               toggle=ToggleForm())  # fmt: skip


@bp.post("/<int:account_id>/<any(enable, disable):action>")
def toggle(account_id: int, action: str):
    if not ToggleForm().validate_on_submit():
        abort(400)
    if account_id == current_user.id:
        abort(400)  # one cannot lock oneself out
    with faro().transaction() as db:
        account = db.get(Account, account_id)
        if account is None:
            abort(404)
        set_active(db, utcnow(), account, action == "enable", by=current_user.email)
    return redirect(url_for("accounts.accounts"))
