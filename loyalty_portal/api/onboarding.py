"""Shops and people over JSON, through the same services as the screens and `flask loyalty`:

- /api/v1/admin/loyalty/vendors: the admin creates a vendor and invites its owner, invites more
  owners, suspends and resumes a vendor;
- /api/v1/vendor/loyalty: the owner creates the program when there is none, invites owners,
  creates counter-terminal logins, switches logins off, and re-issues a card's link.
"""

from flask import current_app

from ..services import account_service, card_link_service, program_service, vendor_service
from .auth import Access, principal, requires
from .blueprint import Blueprint
from .schemas import common
from .schemas import onboarding as s
from .schemas import vendor as vendor_schemas

admin_blp = Blueprint(
    "admin_vendors_api", __name__, url_prefix="/api/v1/admin/loyalty",
    description="Vendors and their owners (admins).",
)
vendor_blp = Blueprint(
    "vendor_setup_api", __name__, url_prefix="/api/v1/vendor/loyalty",
    description="A vendor's first program, its logins and card re-issue (owners).",
)


# Admin ------------------------------------------------------------------------------------------


@admin_blp.route("/vendors", methods=["GET"])
@requires(Access.ADMIN)
@admin_blp.response(200, s.VendorListSchema)
def list_vendors():
    """Every vendor, by name."""
    return {"items": [vendor for vendor, _program, _logins in vendor_service.list_vendors()]}


@admin_blp.route("/vendors", methods=["POST"])
@requires(Access.ADMIN)
@admin_blp.arguments(s.VendorCreateSchema)
@admin_blp.response(201, s.VendorCreatedSchema)
@common.error_responses(admin_blp, 409, 422)
def create_vendor(body):
    """Create a vendor and invite its owner by e-mail (a signed link, single use, that expires);
    a refused owner address creates nothing."""
    vendor, owner = vendor_service.open_shop(
        body["slug"], body["name"], body["timezone"], body["currency"], body["default_locale"],
        body["owner_email"], body["owner_name"],
    )
    return {"vendor": vendor, "owner": owner}


@admin_blp.route("/vendors/<id:vendor_id>", methods=["GET"])
@requires(Access.ADMIN)
@admin_blp.response(200, s.VendorSchema)
@common.error_responses(admin_blp, 404)
def get_vendor(vendor_id):
    return vendor_service.get_vendor(vendor_id)


@admin_blp.route("/vendors/<id:vendor_id>", methods=["PATCH"])
@requires(Access.ADMIN)
@admin_blp.arguments(s.VendorUpdateSchema)
@admin_blp.response(200, s.VendorSchema)
@common.error_responses(admin_blp, 404)
def update_vendor(body, vendor_id):
    """Suspend a vendor (`{"suspended": true}`) or lift the suspension."""
    return vendor_service.set_vendor_suspended(vendor_id, body["suspended"])


@admin_blp.route("/vendors/<id:vendor_id>/logins", methods=["GET"])
@requires(Access.ADMIN)
@admin_blp.response(200, s.VendorLoginListSchema)
@common.error_responses(admin_blp, 404)
def vendor_logins(vendor_id):
    return {"items": account_service.list_logins(vendor_service.get_vendor(vendor_id).id)}


@admin_blp.route("/vendors/<id:vendor_id>/owners", methods=["POST"])
@requires(Access.ADMIN)
@admin_blp.arguments(s.OwnerInviteSchema)
@admin_blp.response(201, s.VendorLoginSchema)
@common.error_responses(admin_blp, 404, 409, 422)
def invite_owner_as_admin(body, vendor_id):
    """Invite an owner by e-mail (again: a fresh link while the invitation is open)."""
    return account_service.invite_owner(vendor_id, body["email"], body["name"],
                                        body.get("locale"))


# Vendor -----------------------------------------------------------------------------------------


def _vendor_id() -> int:
    return principal().vendor_id


@vendor_blp.route("/program", methods=["POST"])
@requires(Access.MANAGE)
@vendor_blp.arguments(s.ProgramCreateSchema)
@vendor_blp.response(201, vendor_schemas.ProgramSchema)
@common.error_responses(vendor_blp, 409, 422)
def create_program(body):
    """Create the vendor's program with the default settings (409
    LOYALTY_PROGRAM_ALREADY_EXISTS when it has one); change them with PATCH /program."""
    return program_service.create_program(_vendor_id(), body["program_type"], body["name"])


@vendor_blp.route("/logins", methods=["GET"])
@requires(Access.MANAGE)
@vendor_blp.response(200, s.VendorLoginListSchema)
def list_logins():
    """The vendor's owners and counter terminals."""
    return {"items": account_service.list_logins(_vendor_id())}


@vendor_blp.route("/owners", methods=["POST"])
@requires(Access.MANAGE)
@vendor_blp.arguments(s.OwnerInviteSchema)
@vendor_blp.response(201, s.VendorLoginSchema)
@common.error_responses(vendor_blp, 409, 422)
def invite_owner(body):
    """Invite another owner by e-mail."""
    return account_service.invite_owner(_vendor_id(), body["email"], body["name"],
                                        body.get("locale"))


@vendor_blp.route("/terminals", methods=["POST"])
@requires(Access.MANAGE)
@vendor_blp.arguments(s.TerminalCreateSchema)
@vendor_blp.response(201, s.VendorLoginSchema)
@common.error_responses(vendor_blp, 409, 422)
def create_terminal(body):
    """A counter terminal's login: it stamps and redeems, never changes settings."""
    return account_service.create_terminal_login(_vendor_id(), body["email"], body["name"],
                                                 body["password"])


@vendor_blp.route("/logins/<id:user_id>", methods=["PATCH"])
@requires(Access.MANAGE)
@vendor_blp.arguments(s.VendorLoginUpdateSchema)
@vendor_blp.response(200, s.VendorLoginSchema)
@common.error_responses(vendor_blp, 404, 422)
def update_login(body, user_id):
    """Switch a login off (signed out at its next request) or on again; not your own."""
    return account_service.set_login_active(_vendor_id(), user_id, body["is_active"],
                                            principal().user_id)


@vendor_blp.route("/cards/<id:card_id>/reissue", methods=["POST"])
@requires(Access.MANAGE)
@vendor_blp.response(200, s.ReissuedCardSchema)
@common.error_responses(vendor_blp, 404)
def reissue_card(card_id):
    """A new secret link and QR code for the card; the old ones stop working at once (404);
    balance, history and card number stay."""
    card = card_link_service.reissue_card(_vendor_id(), card_id)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return {"id": card.id, "card_number": card.card_number, "public_token": card.public_token,
            "card_url": f"{base}/card/{card.public_token}"}
