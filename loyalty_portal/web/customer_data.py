"""A customer's data rights from the owner's card page: download everything held about them
(JSON, the same document as GET /api/v1/vendor/loyalty/customers/<id>), and erase their personal
data after a confirmation. The card, its balances and its ledger stay (and stay verifiable)."""

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..api.schemas.vendor import CustomerExportSchema
from ..auth import roles_required
from ..models import Role
from ..services import customer_service

bp = Blueprint("customer_data", __name__, url_prefix="/vendor/customers")


@bp.before_request
@roles_required(Role.OWNER)
def owners_only():
    """The owner's (a staff terminal gets 403)."""


@bp.get("/<id:customer_id>/export.json")
def export(customer_id: int):
    document = CustomerExportSchema().dump(
        customer_service.export_customer(current_user.vendor_id, customer_id)
    )
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2), mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="customer-{customer_id}.json"',
                 "Cache-Control": "no-store"},
    )


@bp.route("/<id:customer_id>/erase", methods=["GET", "POST"])
def erase(customer_id: int):
    """GET asks for the confirmation; POST with confirm=yes erases."""
    customer = customer_service.get_customer(current_user.vendor_id, customer_id)
    card_id = request.values.get("card_id", type=int)
    back = url_for("vendor.card", card_id=card_id) if card_id else url_for("vendor.cards")
    if request.method == "POST" and request.form.get("confirm") == "yes":
        customer_service.erase_customer(current_user.vendor_id, customer_id)
        flash(_("The customer's personal data is erased; the card and its history stay."),
              "success")
        return redirect(back, 303)
    return render_template("vendor/erase_customer.html", customer=customer, card_id=card_id,
                           back=back)
