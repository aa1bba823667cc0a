"""A customer gets their card back: a one-time link sent to the e-mail address they joined with.

The answer after asking is the same whether or not the address is enrolled (nothing tells who is
a customer), and asking is limited per client address and per e-mail address. The link opens the
card's page once; an expired, used or re-issued link is a LoyaltyError on the error page.
"""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired, Length

from ..errors import ValidationError
from ..i18n import current_language
from ..services import card_link_service, vendor_service

bp = Blueprint("card_links", __name__)


class CardLinkForm(FlaskForm):
    email = EmailField(_l("The e-mail address you joined with"),
                       validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "email", "autocapitalize": "none"})


@bp.route("/join/<vendor_slug>/card-link", methods=["GET", "POST"])
def request_link(vendor_slug: str):
    vendor = vendor_service.get_vendor_by_slug(vendor_slug)
    form = CardLinkForm()
    if form.validate_on_submit():
        try:
            card_link_service.request_card_link(vendor.slug, form.email.data, current_language(),
                                                client_address=request.remote_addr)
        except ValidationError as error:
            form.email.errors = [*form.email.errors, error.message]
        else:
            return render_template("public/card_link_sent.html", vendor=vendor,
                                   email=form.email.data.strip())
    status = 422 if form.is_submitted() else 200
    return render_template("public/card_link.html", vendor=vendor, form=form), status


@bp.get("/card-link/<token>")
def open_link(token: str):
    card = card_link_service.open_card_link(token)
    return redirect(url_for("public.card", public_token=card.public_token), 303)
