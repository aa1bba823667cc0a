"""Signing in and out, the start page of each role, and the language choice."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ..errors import RateLimited
from ..i18n import normalise_locale
from ..models import Role
from ..services import vendor_service
from .errors import screen_message

bp = Blueprint("auth", __name__)

# Each role's start page (the owner and admin screens live in their own blueprints).
ROLE_HOME = {Role.ADMIN: "/admin", Role.OWNER: "/vendor", Role.STAFF: "/cashier/"}


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Remember this terminal (keeps you signed in on this device)"))


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def _role_home() -> str:
    return ROLE_HOME.get(current_user.role, "/")


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(_role_home())


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next")) or _role_home())
    form = LoginForm()
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        # A refusal is shown on the form, so the e-mail typed stays there.
        try:
            user = vendor_service.authenticate(
                form.email.data, form.password.data, request.remote_addr
            )
        except RateLimited as error:
            form.password.errors.append(screen_message(error))
            return render_template("auth/login.html", form=form), error.status, {
                "Retry-After": str(error.retry_after_seconds)
            }
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")) or _role_home(), 303)
        form.password.errors.append(_l("This e-mail address and password do not match."))
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    locale = session.get("locale")
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale
    return redirect(url_for("auth.login"), 303)


@bp.get("/language/<code>")
def set_language(code: str):
    """Remember the chosen language for this browser (`lu` is accepted for Luxembourgish)."""
    locale = normalise_locale(code)
    if locale is None:
        abort(404)
    session["locale"] = locale
    return redirect(safe_next(request.args.get("next")) or url_for("auth.home"))
