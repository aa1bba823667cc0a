"""/api/v1/loyalty: what customers reach without an account — a program's public page,
enrolment, and their card by its secret token. (The Apple pass web service shares this prefix.)"""

from flask import request
from flask_smorest import Blueprint

from ..services import card_service, program_service
from .schemas import common
from .schemas import public as s

blp = Blueprint(
    "public_loyalty",
    __name__,
    url_prefix="/api/v1/loyalty",
    description="Public program information, enrolment and cards by token.",
)


@blp.route("/programs/<vendor_slug>", methods=["GET"])
@blp.response(200, s.PublicProgramSchema)
@common.error_responses(blp, 404, 409)
def get_program(vendor_slug):
    """A vendor's program as its join page shows it."""
    return program_service.get_public_program(vendor_slug)


@blp.route("/programs/<vendor_slug>/enrol", methods=["POST"])
@blp.arguments(s.EnrolSchema)
@blp.response(201, s.PublicCardSchema)
@common.error_responses(blp, 400, 404, 409, 429)
def enrol(body, vendor_slug):
    """Join the program: records the customer's consent and its time, and creates their card.
    An e-mail or phone already enrolled gets 409 LOYALTY_CARD_ALREADY_EXISTS."""
    return card_service.enrol_by_vendor_slug(
        vendor_slug, client_address=request.remote_addr, **body
    ).card


@blp.route("/cards/<public_token>", methods=["GET"])
@blp.response(200, s.PublicCardSchema)
@common.error_responses(blp, 404)
def get_card(public_token):
    """A card by the secret token of its link or QR code."""
    return card_service.get_card_by_public_token(public_token)


@blp.route("/cards/<public_token>/wallet", methods=["GET"])
@blp.response(200, s.WalletLinksSchema)
@common.error_responses(blp, 404)
def wallet_links(public_token):
    """Where the customer finds the card: its web page, and the wallet links the program offers."""
    return card_service.wallet_links(public_token)
