"""/api/v1/vendor/loyalty: a vendor's own program, cards, ledger, PINs, customers and keys.

Every route works on the caller's vendor (see api/auth.py); an id that belongs to another vendor
is not found (404), exactly like an id that does not exist.
"""

from flask import Response, jsonify

from ..services import (
    api_key_service,
    card_service,
    customer_service,
    export_service,
    pin_service,
    points_service,
    program_service,
    stamp_service,
    statistics_service,
    transaction_service,
)
from .auth import Access, actor, principal, requires
from .blueprint import Blueprint
from .schemas import common
from .schemas import vendor as s

blp = Blueprint(
    "vendor_loyalty",
    __name__,
    url_prefix="/api/v1/vendor/loyalty",
    description="A vendor's own program, cards, ledger, staff PINs and API keys.",
)

ERRORS = (400, 404, 409, 422, 423, 429)


def _errors(*statuses):
    return common.error_responses(blp, *statuses)


def _vendor_id() -> int:
    return principal().vendor_id


def _balance_change(result) -> Response:
    """The BalanceChangeSchema response, serialized by hand (s.balance_change_body)."""
    response = jsonify(s.balance_change_body(result))
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _stacked(*decorators):
    """The decorators applied as if written one above the other, the first on top."""

    def decorator(view):
        for apply in reversed(decorators):
            view = apply(view)
        return view

    return decorator


def _balance_change_route(path: str, body_schema):
    """What every PIN-confirmed balance change shares: POS access, an Idempotency-Key header, the
    BalanceChange response and its error statuses (the PIN's locks and rate limits are
    pin_service's)."""
    return _stacked(
        blp.route(path, methods=["POST"]),
        requires(Access.POS, key_confirmed_by_service=True),
        blp.arguments(body_schema),
        blp.arguments(common.IdempotencyHeaderSchema, location="headers", as_kwargs=True),
        blp.response(200, s.BalanceChangeSchema),
        _errors(*ERRORS),
    )


def _correction_route(path: str, body_schema):
    """What an owner's corrections (void, adjustment) share: owner access, no PIN, an
    Idempotency-Key header, the BalanceChange response and its error statuses."""
    return _stacked(
        blp.route(path, methods=["POST"]),
        requires(Access.MANAGE),
        blp.arguments(body_schema),
        blp.arguments(common.IdempotencyHeaderSchema, location="headers", as_kwargs=True),
        blp.response(200, s.BalanceChangeSchema),
        _errors(400, 404, 409, 422),
    )


def _pin_actor(body: dict):
    return actor(staff_pin_id=body.get("staff_pin_id"), pin=body.get("pin"))


# Program ------------------------------------------------------------------------------------------


@blp.route("/program", methods=["GET"])
@requires(Access.POS)
@blp.response(200, s.ProgramSchema)
@_errors(404)
def get_program():
    """The vendor's program and its anti-fraud settings."""
    return program_service.get_program(_vendor_id())


@blp.route("/program", methods=["PATCH"])
@requires(Access.MANAGE)
@blp.arguments(s.ProgramUpdateSchema)
@blp.response(200, s.ProgramSchema)
@_errors(400, 404)
def update_program(changes):
    """Change settings (owner); only the fields sent change."""
    return program_service.update_program(_vendor_id(), **changes)


@blp.route("/statistics", methods=["GET"])
@requires(Access.READ)
@blp.arguments(common.DaysQuerySchema, location="query")
@blp.response(200, common.ProgramStatisticsSchema)
@_errors(404)
def statistics(query):
    """Totals and per-day activity of the vendor's program."""
    return statistics_service.vendor_statistics(_vendor_id(), query["days"])


# Cards --------------------------------------------------------------------------------------------


@blp.route("/cards", methods=["GET"])
@requires(Access.POS)
@blp.arguments(s.CardSearchQuerySchema, location="query")
@blp.response(200, s.CardPageSchema)
def search_cards(query):
    """Cards whose number, customer name, e-mail or phone contains `q`, newest first."""
    page, per_page = query["page"], query["per_page"]
    cards, total = card_service.search_cards(
        _vendor_id(), query["q"], limit=per_page, offset=(page - 1) * per_page
    )
    return {"items": cards, "total": total, "page": page, "per_page": per_page}


@blp.route("/cards/lookup", methods=["GET"])
@requires(Access.POS)
@blp.arguments(s.LookupQuerySchema, location="query")
@blp.response(200, s.CardSchema)
@_errors(404)
def lookup_card(query):
    """Exactly one card from what was typed or scanned: card number, QR token, e-mail or phone."""
    return card_service.lookup_card(_vendor_id(), query["q"])


@blp.route("/cards/<id:card_id>", methods=["GET"])
@requires(Access.POS)
@blp.arguments(s.HistoryQuerySchema, location="query")
@blp.response(200, s.CardDetailSchema)
@_errors(404)
def get_card(query, card_id):
    """A card with its ledger, newest first; page with `before_id`."""
    return transaction_service.card_with_history(
        _vendor_id(), card_id, query["limit"], query.get("before_id")
    )


@blp.route("/cards/<id:card_id>", methods=["PATCH"])
@requires(Access.MANAGE)
@blp.arguments(s.CardUpdateSchema)
@blp.response(200, s.CardSchema)
@_errors(404)
def update_card(body, card_id):
    """Block or unblock a card (owner); balances are untouched."""
    return card_service.set_card_active(_vendor_id(), card_id, body["is_active"])


@_balance_change_route("/cards/<id:card_id>/stamps", s.AddStampSchema)
def add_stamp(body, card_id, idempotency_key=None):
    """Add stamps for one purchase, under the program's anti-fraud rules."""
    return _balance_change(
        stamp_service.add_stamp(
            _vendor_id(),
            card_id,
            actor=_pin_actor(body),
            stamps=body["stamps"],
            idempotency_key=idempotency_key,
        )
    )


@_balance_change_route("/cards/<id:card_id>/stamps/redeem", s.StaffPinFieldsSchema)
def redeem_stamp_reward(body, card_id, idempotency_key=None):
    """Redeem the stamp reward: the target number of stamps comes off the card."""
    return _balance_change(
        stamp_service.redeem_reward(
            _vendor_id(), card_id, actor=_pin_actor(body), idempotency_key=idempotency_key
        )
    )


@_balance_change_route("/cards/<id:card_id>/points", s.EarnPointsSchema)
def earn_points(body, card_id, idempotency_key=None):
    """Earn points for a purchase amount (in cents) at the program's rate."""
    return _balance_change(
        points_service.earn_points(
            _vendor_id(),
            card_id,
            body["purchase_amount_cents"],
            actor=_pin_actor(body),
            large_amount_confirmed=body["large_amount_confirmed"],
            idempotency_key=idempotency_key,
        )
    )


@_balance_change_route("/cards/<id:card_id>/points/redeem", s.RedeemPointsSchema)
def redeem_points_reward(body, card_id, idempotency_key=None):
    """Redeem a catalogue reward, paying its points cost."""
    return _balance_change(
        points_service.redeem_reward(
            _vendor_id(),
            card_id,
            body["reward_id"],
            actor=_pin_actor(body),
            idempotency_key=idempotency_key,
        )
    )


@_correction_route("/cards/<id:card_id>/adjust", s.AdjustBalanceSchema)
def adjust_balance(body, card_id, idempotency_key=None):
    """Correct a card's stamps or points by hand (owner), with a reason; no PIN, and it works on
    a blocked card and in a paused program."""
    return _balance_change(
        transaction_service.adjust_balance(
            _vendor_id(),
            card_id,
            stamps_delta=body["stamps_delta"],
            points_delta=body["points_delta"],
            reason=body["reason"],
            actor=actor(),
            idempotency_key=idempotency_key,
        )
    )


# Ledger -------------------------------------------------------------------------------------------


@_correction_route("/transactions/<id:transaction_id>/void", s.VoidSchema)
def void_transaction(body, transaction_id, idempotency_key=None):
    """Cancel a ledger row with a new row that reverses it (owner), with a reason."""
    return _balance_change(
        transaction_service.void_transaction(
            _vendor_id(),
            transaction_id,
            body["reason"],
            actor=actor(),
            idempotency_key=idempotency_key,
        )
    )


@blp.route("/transactions/export.csv", methods=["GET"])
@requires(Access.READ)
@blp.arguments(s.ExportQuerySchema, location="query")
@blp.response(200, description="CSV, one ledger row per line.", content_type="text/csv")
@_errors(404)
def export_transactions(query):
    """The ledger from `from` to `to` inclusive, days in the vendor's time zone, as CSV."""
    text = export_service.transactions_csv(_vendor_id(), query["date_from"], query["date_to"])
    filename = f"transactions-{query['date_from']}-{query['date_to']}.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# Staff PINs ---------------------------------------------------------------------------------------


@blp.route("/pins", methods=["GET"])
@requires(Access.POS)
@blp.arguments(s.StaffPinListQuerySchema, location="query")
@blp.response(200, s.StaffPinSchema(many=True))
def list_pins(query):
    """The staff who can confirm operations (terminals show these names to pick from)."""
    return pin_service.list_pins(_vendor_id(), include_inactive=query["include_inactive"])


@blp.route("/pins", methods=["POST"])
@requires(Access.MANAGE)
@blp.arguments(s.StaffPinCreateSchema)
@blp.response(201, s.StaffPinSchema)
@_errors(400, 422)
def create_pin(body):
    """Give a staff member a PIN (owner)."""
    return pin_service.create_pin(_vendor_id(), body["name"], body["pin"])


@blp.route("/pins/<id:staff_pin_id>", methods=["PATCH"])
@requires(Access.MANAGE)
@blp.arguments(s.StaffPinRenameSchema)
@blp.response(200, s.StaffPinSchema)
@_errors(400, 404)
def rename_pin(body, staff_pin_id):
    """Rename a staff member (owner)."""
    return pin_service.rename_pin(_vendor_id(), staff_pin_id, body["name"])


@blp.route("/pins/<id:staff_pin_id>/pin", methods=["PUT"])
@requires(Access.MANAGE)
@blp.arguments(s.StaffPinChangeSchema)
@blp.response(200, s.StaffPinSchema)
@_errors(400, 404, 422)
def change_pin(body, staff_pin_id):
    """Set a new PIN (owner); this also lifts a lock."""
    return pin_service.change_pin(_vendor_id(), staff_pin_id, body["pin"])


@blp.route("/pins/<id:staff_pin_id>/deactivate", methods=["POST"])
@requires(Access.MANAGE)
@blp.response(200, s.StaffPinSchema)
@_errors(400, 404)
def deactivate_pin(staff_pin_id):
    """Stop a PIN from confirming anything (owner)."""
    return pin_service.deactivate_pin(_vendor_id(), staff_pin_id)


@blp.route("/pins/<id:staff_pin_id>/unlock", methods=["POST"])
@requires(Access.MANAGE)
@blp.response(200, s.StaffPinSchema)
@_errors(400, 404)
def unlock_pin(staff_pin_id):
    """Lift a PIN's locks before they expire (owner): everywhere and at every terminal; its
    next lock is again the shortest. The terminals' own locks stay (see /lockouts)."""
    return pin_service.unlock_pin(_vendor_id(), staff_pin_id)


@blp.route("/lockouts", methods=["GET"])
@requires(Access.MANAGE)
@blp.response(200, s.LockoutSchema(many=True))
def list_lockouts():
    """The locks in force after wrong PINs (owner), the longest first: a PIN everywhere, a PIN
    at one terminal, or a whole terminal (docs/security.md)."""
    return pin_service.list_lockouts(_vendor_id())


@blp.route("/lockouts/<id:throttle_id>/unlock", methods=["POST"])
@requires(Access.MANAGE)
@blp.response(204)
@_errors(400, 404)
def unlock_lockout(throttle_id):
    """Lift one lock at one terminal (owner), and forget that counter's wrong PINs."""
    pin_service.unlock_terminal(_vendor_id(), throttle_id)


# Customers' data ----------------------------------------------------------------------------------


@blp.route("/customers/<id:customer_id>", methods=["GET"])
@requires(Access.MANAGE)
@blp.response(200, s.CustomerExportSchema)
@_errors(404)
def export_customer(customer_id):
    """Everything held about a customer (a data subject access request), as JSON (owner)."""
    return customer_service.export_customer(_vendor_id(), customer_id)


@blp.route("/customers/<id:customer_id>", methods=["DELETE"])
@requires(Access.MANAGE)
@blp.response(200, s.CustomerSchema)
@_errors(400, 404)
def erase_customer(customer_id):
    """Erase a customer's personal data (owner); the card, balances and ledger stay."""
    return customer_service.erase_customer(_vendor_id(), customer_id)


# API keys -----------------------------------------------------------------------------------------


@blp.route("/api-keys", methods=["GET"])
@requires(Access.MANAGE)
@blp.response(200, s.ApiKeySchema(many=True))
def list_api_keys():
    """The vendor's API keys, revoked ones included (owner)."""
    return api_key_service.list_keys(_vendor_id())


@blp.route("/api-keys", methods=["POST"])
@requires(Access.MANAGE)
@blp.arguments(s.ApiKeyCreateSchema)
@blp.response(201, s.ApiKeyCreatedSchema)
@_errors(400)
def create_api_key(body):
    """Create a key (owner). The response shows the key once; only its hash is stored."""
    return api_key_service.create_key(_vendor_id(), body["name"], principal().user_id)


@blp.route("/api-keys/<id:api_key_id>", methods=["DELETE"])
@requires(Access.MANAGE)
@blp.response(200, s.ApiKeySchema)
@_errors(400, 404)
def revoke_api_key(api_key_id):
    """Revoke a key at once (owner)."""
    return api_key_service.revoke_key(_vendor_id(), api_key_id)
