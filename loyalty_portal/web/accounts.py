"""Accepting an invitation, and resetting a forgotten password (from the sign-in page).

Both links are signed, expire and work once (services/account_service.py); a bad link is a
LoyaltyError (404 LINK_INVALID, 410 LINK_EXPIRED or LINK_ALREADY_USED) shown on the error page.
Asking for a reset gives the same answer whether or not the address has a login, and is limited
per client address and per e-mail address (account_service.request_password_reset).
"""

from flask import Blueprint, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from ..errors import ValidationError
from ..i18n import current_language
from ..models import Role
from ..services import account_service
from .auth import ROLE_HOME

bp = Blueprint("accounts", __name__)


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password (at least 8 characters)"),
        validators=[DataRequired(), Length(min=8, max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("The same password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autocapitalize": "none"})


def _set_password(form: NewPasswordForm, service_call, token: str):
    """Run the service when the form is valid; its ValidationError shows under the password."""
    if not form.validate_on_submit():
        return None
    try:
        return service_call(token, form.password.data)
    except ValidationError as error:
        form.password.errors = [*form.password.errors, error.message]
        return None


def _signed_in(user, message: str):
    logout_user()
    login_user(user)
    flash(message, "success")
    return redirect(ROLE_HOME.get(user.role, "/"), 303)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    user = account_service.invitation(token)
    form = NewPasswordForm()
    accepted = _set_password(form, account_service.accept_invitation, token)
    if accepted is not None:
        welcome = (_("Welcome, %(name)s. Set up your loyalty program to start.", name=accepted.name)
                   if accepted.role == Role.OWNER else _("Welcome, %(name)s.", name=accepted.name))
        return _signed_in(accepted, welcome)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/invitation.html", form=form, user=user), status


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        account_service.request_password_reset(form.email.data, current_language(),
                                               client_address=request.remote_addr)
        return render_template("auth/reset_sent.html", email=form.email.data.strip())
    status = 422 if form.is_submitted() else 200
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    account_service.check_reset_link(token)
    form = NewPasswordForm()
    user = _set_password(form, account_service.reset_password, token)
    if user is not None:
        return _signed_in(user, _("Your new password is saved."))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/reset_password.html", form=form), status
