"""An owner's first steps and their people: create the program when there is none, invite more
owners, create counter-terminal logins and switch logins off; and getting a customer's card back
to their phone (the card's QR code and link, re-issuing them).

The owner screens of web/vendor.py send an owner without a program here first
(vendor.owners_only)."""

import segno
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from ..auth import roles_required
from ..errors import ValidationError
from ..models import Role
from ..services import account_service, card_link_service, program_service, program_texts
from .errors import is_htmx
from .navigation import LANGUAGE_NAMES
from .onboarding_forms import (
    InviteOwnerForm,
    NewProgramForm,
    TerminalForm,
    invalid_fields,
    submitted,
)

bp = Blueprint("owner_setup", __name__, url_prefix="/vendor")


@bp.before_request
@roles_required(Role.OWNER)
def owners_only():
    """The owner's screens (a staff terminal gets 403, nobody signed in the login page)."""


def _vendor_id() -> int:
    return current_user.vendor_id


bp.add_app_template_global(invalid_fields)


@bp.app_template_global()
def card_url(public_token: str) -> str:
    """The customer's own page of a card: the link in its QR code's caption and in e-mails."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + f"/card/{public_token}"


@bp.app_template_global()
def card_link_qr(public_token: str) -> Markup:
    """A QR code of the card's link, for the customer to scan it back onto their phone
    (inline SVG without style attributes, which the CSP allows)."""
    qr = segno.make(card_url(public_token), error="m")
    return Markup(qr.svg_inline(scale=4, omitsize=True,
                                title=str(_l("QR code of the card's link"))))


# The program, when there is none yet ------------------------------------------------------------


@bp.route("/program/new", methods=["GET", "POST"])
def new_program():
    if program_service.find_program(_vendor_id()) is not None:
        return redirect(url_for("vendor.program"))
    form = NewProgramForm()
    status = 200
    if request.method == "POST":
        created = submitted(form, program_service.create_program, _vendor_id(),
                            form.program_type.data, form.name.data)
        if created:
            flash(_("Your program is created. Check its settings and add your staff's PINs."),
                  "success")
            return redirect(url_for("vendor.program"), 303)
        status = 422
    return render_template("vendor/new_program.html", form=form), status


# Logins -----------------------------------------------------------------------------------------


def _logins_page(owner_form=None, terminal_form=None, status: int = 200):
    vendor = current_user.vendor
    return render_template(
        "vendor/logins.html",
        logins=account_service.list_logins(vendor.id),
        owner_form=owner_form or InviteOwnerForm(formdata=None, language=vendor.default_locale),
        terminal_form=terminal_form or TerminalForm(formdata=None),
    ), status


@bp.get("/logins")
def logins():
    return _logins_page()


@bp.post("/logins/owners")
def invite_owner():
    form = InviteOwnerForm()
    user = submitted(form, account_service.invite_owner, _vendor_id(), form.email.data,
                     form.name.data, form.language.data)
    if user is None:
        return _logins_page(owner_form=form, status=422)
    flash(_("An invitation is on its way to %(email)s.", email=user.email), "success")
    return redirect(url_for(".logins"), 303)


@bp.post("/logins/terminals")
def create_terminal():
    form = TerminalForm()
    user = submitted(form, account_service.create_terminal_login, _vendor_id(), form.email.data,
                     form.name.data, form.password.data)
    if user is None:
        return _logins_page(terminal_form=form, status=422)
    flash(_("%(name)s can sign in at the counter with %(email)s.", name=user.name,
            email=user.email), "success")
    return redirect(url_for(".logins"), 303)


@bp.post("/logins/<id:user_id>/active")
def login_active(user_id: int):
    """active=0 switches a login off (signed out at once), active=1 on again."""
    active = request.form.get("active") == "1"
    user = submitted(InviteOwnerForm(formdata=None), account_service.set_login_active,
                     _vendor_id(), user_id, active, current_user.id)
    if user is None:
        flash(_("You cannot switch off your own login."), "error")
    elif active:
        flash(_("%(name)s can sign in again.", name=user.name), "success")
    else:
        flash(_("%(name)s can no longer sign in.", name=user.name), "success")
    return redirect(url_for(".logins"), 303)


# A card's link ----------------------------------------------------------------------------------


@bp.post("/cards/<id:card_id>/reissue")
def reissue_card(card_id: int):
    """A new link and QR code for the card; the old ones stop working at once."""
    card_link_service.reissue_card(_vendor_id(), card_id)
    flash(_("The card has a new link and QR code; the old ones no longer work."), "success")
    target = url_for("vendor.card", card_id=card_id)
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, 303)


# The program's texts per language -------------------------------------------------------------


@bp.route("/program/texts", methods=["GET", "POST"], endpoint="program_texts")
def program_texts_screen():
    program = program_service.get_program(_vendor_id())
    status, error = 200, None
    if request.method == "POST":
        try:
            program_texts.update_texts(_vendor_id(), _texts_from(request.form))
        except ValidationError as refused:
            error, status = refused, 422
        else:
            flash(_("The texts are saved."), "success")
            return redirect(url_for(".program_texts"), 303)
    return render_template("vendor/program_texts.html", program=program, languages=LANGUAGES,
                           fields=TEXT_LABELS, form_values=request.form, error=error), status


TEXT_LABELS = {
    "name": _l("Program name"),
    "description": _l("Description for customers"),
    "stamps_reward_description": _l("The reward"),
    "poster_text": _l("A line for the poster"),
}
LANGUAGES = LANGUAGE_NAMES


def _texts_from(form) -> dict:
    """Inputs named `<locale>.<field>` and `<locale>.rewards.<reward id>` as update_texts takes
    them."""
    texts: dict = {}
    for key, value in form.items():
        locale, _, field = key.partition(".")
        if locale not in LANGUAGE_NAMES or not field:
            continue
        if field.startswith("rewards."):
            texts.setdefault(locale, {}).setdefault("rewards", {})[field[8:]] = value
        else:
            texts.setdefault(locale, {})[field] = value
    return texts
