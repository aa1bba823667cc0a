"""/api/v1/loyalty: what customers reach without an account — a program's public page,
enrolment, and their card by its secret token. (The Apple pass web service shares this prefix.)"""

from flask import redirect, request

from ..services import apple_wallet_service, card_service, program_service, wallet_service
from .apple_web_service import pkpass_response
from .blueprint import Blueprint
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
    """Where the customer finds the card: its web page, and the wallet links the program offers
    (null for a wallet the program has not switched on or the platform is not configured for)."""
    return wallet_service.wallet_links(public_token)


@blp.route("/cards/<public_token>/wallet/google", methods=["GET"])
@blp.doc(
    responses={
        "303": {
            "description": "To Google's \"Save to Google Wallet\" page: `Location` holds the "
            "signed save link (a JWT naming the card's pass)."
        }
    }
)
@common.error_responses(blp, 404, 409, 502)
def google_wallet(public_token):
    """The target of the "Add to Google Wallet" button: the card's pass is created at Google if
    need be, then the customer is sent on to Google's save page. 409 GOOGLE_WALLET_NOT_CONFIGURED
    when the platform or the program has Google Wallet off; 502 GOOGLE_WALLET_REQUEST_FAILED when
    Google refuses the pass."""
    return redirect(wallet_service.google_save_url(public_token), 303)


@blp.route("/cards/<public_token>/wallet/apple", methods=["GET"])
@blp.response(
    200,
    content_type=apple_wallet_service.CONTENT_TYPE,
    description="The card's signed Apple Wallet pass (.pkpass).",
    headers={"Last-Modified": {"schema": {"type": "string"}}},
)
@common.error_responses(blp, 404, 409)
def apple_pass(public_token):
    """The card as an Apple Wallet pass: opening it on an iPhone offers "Add to Apple Wallet".
    409 APPLE_WALLET_NOT_CONFIGURED when the platform or the program has no Apple pass."""
    return pkpass_response(apple_wallet_service.pass_for_public_token(public_token))
