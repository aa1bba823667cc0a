"""Customer pages, no account needed: join a program, see one's card, recover a lost link.

They work without JavaScript: plain forms and links only. With it, the card page updates itself:
htmx polls /card/<token>/live, a conditional GET that answers 304 while the card's change tag
(card_service.card_change_tag) is the same, so an open card page costs two small reads a poll.
"""

import segno
from flask import (
    Blueprint,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, EmailField, SelectChoice, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Length, Optional

from ..errors import LoyaltyCardAlreadyExists, RateLimited, ValidationError
from ..i18n import SUPPORTED_LOCALES, current_language
from ..services import (
    card_service,
    program_service,
    program_texts,
    transaction_service,
    wallet_service,
)
from .errors import screen_message
from .navigation import LANGUAGE_NAMES

bp = Blueprint("public", __name__)

HISTORY_ROWS = 30


class JoinForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)],
                       render_kw={"autocomplete": "name"})
    email = EmailField(_l("E-mail address"), validators=[Optional(), Length(max=254)],
                       render_kw={"autocomplete": "email", "autocapitalize": "none"})
    phone = TelField(_l("Phone number"), validators=[Optional(), Length(max=32)],
                     render_kw={"autocomplete": "tel"})
    # Each language named in itself (and marked as such for screen readers).
    locale = SelectField(_l("Language"), choices=[
        SelectChoice(code, LANGUAGE_NAMES[code], render_kw={"lang": code})
        for code in SUPPORTED_LOCALES
    ])
    consent = BooleanField(_l("I accept the privacy notice"))


@bp.route("/join/<vendor_slug>", methods=["GET", "POST"])
def join(vendor_slug: str):
    program = program_texts.localized(program_service.get_public_program(vendor_slug),
                                      current_language())
    form = JoinForm()
    if not form.is_submitted():
        form.locale.data = current_language()
    if form.validate_on_submit():
        # The service owns the rules; its refusals are shown on the form, beside the field they
        # concern, so nothing the customer typed is lost (the one place a view catches errors).
        try:
            enrolment = card_service.enrol_by_vendor_slug(
                vendor_slug, client_address=request.remote_addr, name=form.name.data,
                email=form.email.data, phone=form.phone.data,
                locale=form.locale.data, consent=form.consent.data,
            )
        except LoyaltyCardAlreadyExists:
            return render_template("public/already_enrolled.html", program=program), 409
        except RateLimited as error:
            return render_template("public/join.html", form=form, program=program,
                                   refusal=screen_message(error)), error.status, {
                "Retry-After": str(error.retry_after_seconds)}
        except ValidationError as error:
            field = getattr(form, error.details.get("field", ""), None) or form.name
            field.errors = [*field.errors, error.message]
        else:
            session["locale"] = form.locale.data
            return redirect(url_for("public.card", public_token=enrolment.card.public_token), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("public/join.html", form=form, program=program), status


# How often an open card page asks whether the card changed (seconds).
LIVE_CARD_POLL_SECONDS = 5


def _card_context(found) -> dict:
    return dict(
        card=found,
        program=program_texts.localized(found.program, current_language()),
        qr_code=_qr_svg(found.public_token),
        wallet=wallet_service.links_for(found),
        history=transaction_service.card_history(found.id, limit=HISTORY_ROWS),
        poll_seconds=LIVE_CARD_POLL_SECONDS,
    )


def _etag(found) -> str:
    # The page's language is part of what it shows.
    return f"{card_service.card_change_tag(found)}-{get_locale()}"


@bp.get("/card/<public_token>")
def card(public_token: str):
    found = card_service.get_card_by_public_token(public_token)
    return render_template("public/card.html", etag=_etag(found), **_card_context(found))


@bp.get("/card/<public_token>/live")
def card_live(public_token: str):
    """The live part of the card page, or 304 Not Modified while its ETag still matches."""
    found = card_service.get_card_by_public_token(public_token)
    etag = _etag(found)
    headers = {"ETag": f'"{etag}"', "Cache-Control": "private, no-cache", "Vary": "Cookie"}
    if request.if_none_match.contains(etag):
        return "", 304, headers
    body = render_template("public/_card_live.html", etag=etag, **_card_context(found))
    response = make_response(body, 200, headers)
    return response


def _qr_svg(public_token: str) -> Markup:
    """The card's QR code as inline SVG (no style attribute, so the CSP allows it)."""
    qr = segno.make(public_token, error="m")
    return Markup(qr.svg_inline(scale=4, omitsize=True, title=str(_l("QR code of your card"))))


@bp.get("/lost-card")
def lost_card():
    return render_template("public/lost_card.html")


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html")


@bp.get("/theme/<id:program_id>.css")
def theme(program_id: int):
    """A program's card colours as a stylesheet (the CSP allows no inline style)."""
    program = program_service.get_program_by_id(program_id)
    css = render_template("public/theme.css", program=program)
    return css, 200, {"Content-Type": "text/css; charset=utf-8", "Cache-Control": "max-age=300"}
