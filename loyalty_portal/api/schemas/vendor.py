"""Schemas of the vendor API (/api/v1/vendor/loyalty): programs, cards and the ledger, staff PINs,
API keys and customers' data."""

from marshmallow import fields, validate

from ...services import (
    export_service,
    pin_service,
    points_service,
    program_service,
    stamp_service,
    transaction_service,
)
from .common import (
    FullMatch,
    PageQuerySchema,
    PageSchema,
    Schema,
    StrictInt,
    _bounded_int,
    _bounded_text,
)

# Programs -----------------------------------------------------------------------------------------


class RewardSchema(Schema):
    id = fields.String(required=True, validate=FullMatch(program_service.REWARD_ID_PATTERN))
    name = fields.String(required=True, validate=validate.Length(1, 200))
    points_cost = StrictInt(required=True, validate=validate.Range(1, 1_000_000))
    active = fields.Boolean(load_default=True)


class ProgramSchema(Schema):
    id = fields.Integer(required=True)
    vendor_id = fields.Integer(required=True)
    program_type = fields.String(required=True, metadata={"enum": ["stamps", "points"]})
    name = fields.String(required=True)
    description = fields.String(required=True)
    stamps_target = fields.Integer(required=True)
    stamps_reward_description = fields.String(required=True)
    points_per_currency_unit = fields.Integer(required=True)
    points_rewards = fields.List(fields.Nested(RewardSchema), required=True)
    require_staff_pin = fields.Boolean(required=True)
    cooldown_minutes = fields.Integer(required=True)
    max_daily_stamps = fields.Integer(required=True)
    pin_max_failed_attempts = fields.Integer(required=True)
    pin_lockout_minutes = fields.Integer(required=True)
    max_stamps_per_purchase = fields.Integer(required=True)
    max_purchase_amount_cents = fields.Integer(required=True)
    max_daily_points = fields.Integer(required=True, allow_none=True)
    confirm_purchase_above_cents = fields.Integer(required=True, allow_none=True)
    counter_undo_minutes = fields.Integer(required=True)
    card_background_color = fields.String(required=True)
    card_text_color = fields.String(required=True)
    logo_url = fields.String(required=True, allow_none=True)
    shop_latitude = fields.Float(required=True, allow_none=True)
    shop_longitude = fields.Float(required=True, allow_none=True)
    apple_wallet_enabled = fields.Boolean(required=True)
    google_wallet_enabled = fields.Boolean(required=True)
    is_active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


_COLOUR = FullMatch(program_service.COLOUR_PATTERN)


class ProgramUpdateSchema(Schema):
    """Only the fields sent change."""

    name = _bounded_text("name")
    description = _bounded_text("description")
    stamps_reward_description = _bounded_text("stamps_reward_description")
    stamps_target = _bounded_int("stamps_target")
    points_per_currency_unit = _bounded_int("points_per_currency_unit")
    cooldown_minutes = _bounded_int("cooldown_minutes")
    max_daily_stamps = _bounded_int("max_daily_stamps")
    pin_max_failed_attempts = _bounded_int("pin_max_failed_attempts")
    pin_lockout_minutes = _bounded_int("pin_lockout_minutes")
    max_stamps_per_purchase = _bounded_int("max_stamps_per_purchase")
    max_purchase_amount_cents = _bounded_int("max_purchase_amount_cents")
    max_daily_points = _bounded_int(
        "max_daily_points",
        allow_none=True,
        metadata={"description": "Points a card may earn per day; null: no cap."},
    )
    confirm_purchase_above_cents = _bounded_int(
        "confirm_purchase_above_cents",
        allow_none=True,
        metadata={
            "description": "Earning points for a larger amount needs large_amount_confirmed;"
            " null: never."
        },
    )
    counter_undo_minutes = _bounded_int(
        "counter_undo_minutes",
        metadata={"description": "How long a cashier may undo their own last action; 0: never."},
    )
    require_staff_pin = fields.Boolean()
    apple_wallet_enabled = fields.Boolean()
    google_wallet_enabled = fields.Boolean()
    is_active = fields.Boolean(
        metadata={"description": "false pauses the program: no enrolments, stamps or points."}
    )
    card_background_color = fields.String(validate=_COLOUR)
    card_text_color = fields.String(validate=_COLOUR)
    logo_url = fields.String(allow_none=True, validate=validate.Length(max=500))
    shop_latitude = fields.Float(
        allow_none=True,
        validate=validate.Range(-90, 90),
        metadata={"description": "The shop's position: the Apple pass shows on the lock screen"
                  " nearby. Set both, or null both."},
    )
    shop_longitude = fields.Float(allow_none=True, validate=validate.Range(-180, 180))
    points_rewards = fields.List(fields.Nested(RewardSchema), validate=validate.Length(max=50))


# Cards and the ledger -----------------------------------------------------------------------------


class CustomerSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True)
    locale = fields.String(required=True, allow_none=True)
    consent_at = fields.DateTime(required=True, allow_none=True)
    consent_text_version = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    erased_at = fields.DateTime(required=True, allow_none=True)


class ExportedCardSchema(Schema):
    id = fields.Integer(required=True)
    program_id = fields.Integer(required=True)
    card_number = fields.String(required=True)
    public_token = fields.String(required=True)
    stamp_count = fields.Integer(required=True)
    points_balance = fields.Integer(required=True)
    total_stamps_earned = fields.Integer(required=True)
    total_stamps_redeemed = fields.Integer(required=True)
    total_points_earned = fields.Integer(required=True)
    total_points_redeemed = fields.Integer(required=True)
    total_rewards_redeemed = fields.Integer(required=True)
    last_stamp_at = fields.DateTime(required=True, allow_none=True)
    last_activity_at = fields.DateTime(required=True, allow_none=True)
    is_active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class CardSchema(ExportedCardSchema):
    customer = fields.Nested(CustomerSchema, required=True)


class TransactionSchema(Schema):
    id = fields.Integer(required=True)
    card_id = fields.Integer(required=True)
    transaction_type = fields.String(required=True)
    stamps_delta = fields.Integer(required=True)
    points_delta = fields.Integer(required=True)
    stamps_balance_after = fields.Integer(required=True)
    points_balance_after = fields.Integer(required=True)
    staff_pin_id = fields.Integer(required=True, allow_none=True)
    purchase_amount_cents = fields.Integer(required=True, allow_none=True)
    reward_id = fields.String(required=True, allow_none=True)
    reward_name = fields.String(required=True, allow_none=True)
    voids_transaction_id = fields.Integer(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class CardPageSchema(PageSchema):
    items = fields.List(fields.Nested(CardSchema), required=True)


class CardSearchQuerySchema(PageQuerySchema):
    q = fields.String(load_default="", validate=validate.Length(max=200))


class LookupQuerySchema(Schema):
    q = fields.String(
        required=True,
        validate=validate.Length(1, 300),
        metadata={"description": "Card number, QR token or card link, e-mail or phone."},
    )


class HistoryQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    before_id = fields.Integer(
        validate=validate.Range(1, 2**31 - 1),
        metadata={"description": "Next page: the last id of this page."},
    )


class CardDetailSchema(Schema):
    card = fields.Nested(CardSchema, required=True)
    transactions = fields.List(fields.Nested(TransactionSchema), required=True)


class CardUpdateSchema(Schema):
    is_active = fields.Boolean(required=True)


class StaffPinFieldsSchema(Schema):
    staff_pin_id = StrictInt(
        validate=validate.Range(1, 2**31 - 1),
        metadata={"description": "Who confirms (their PIN id)."},
    )
    pin = fields.String(validate=validate.Length(1, 8), metadata={"description": "Their PIN."})


class AddStampSchema(StaffPinFieldsSchema):
    stamps = StrictInt(
        load_default=1, validate=validate.Range(1, stamp_service.MAX_STAMPS_PER_OPERATION)
    )


class EarnPointsSchema(StaffPinFieldsSchema):
    purchase_amount_cents = StrictInt(
        required=True, validate=validate.Range(1, points_service.MAX_PURCHASE_AMOUNT_CENTS)
    )
    large_amount_confirmed = fields.Boolean(
        load_default=False,
        metadata={
            "description": "The cashier saw the points of an amount above the program's"
            " confirm_purchase_above_cents and confirmed them."
        },
    )


class RedeemPointsSchema(StaffPinFieldsSchema):
    reward_id = fields.String(required=True, validate=validate.Length(1, 64))


class VoidSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 500))


_ADJUSTMENT_DELTA = validate.Range(
    -transaction_service.MAX_ADJUSTMENT_DELTA, transaction_service.MAX_ADJUSTMENT_DELTA
)


class AdjustBalanceSchema(Schema):
    stamps_delta = StrictInt(load_default=0, validate=_ADJUSTMENT_DELTA)
    points_delta = StrictInt(load_default=0, validate=_ADJUSTMENT_DELTA)
    reason = fields.String(required=True, validate=validate.Length(1, 500))


class BalanceChangeSchema(Schema):
    """Built from the ledger row, so a replayed request returns exactly this body again."""

    transaction_id = fields.Integer(required=True)
    card_id = fields.Integer(required=True)
    program_id = fields.Integer(required=True)
    transaction_type = fields.String(required=True)
    stamps_delta = fields.Integer(required=True)
    points_delta = fields.Integer(required=True)
    stamp_count = fields.Integer(required=True)
    points_balance = fields.Integer(required=True)
    stamps_target = fields.Integer(required=True)
    reward_available = fields.Boolean(required=True)
    purchase_amount_cents = fields.Integer(required=True, allow_none=True)
    reward_id = fields.String(required=True, allow_none=True)
    reward_name = fields.String(required=True, allow_none=True)
    voids_transaction_id = fields.Integer(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


def balance_change_body(result) -> dict:
    """BalanceChangeSchema's dump of a ledger.BalanceChange, written out: the balance changes are
    the hot path, and a schema dump costs more than the rest of the response. The schema stays
    the documented shape; tests/api/test_balance_changes.py checks both agree."""
    return {
        "transaction_id": result.transaction_id,
        "card_id": result.card_id,
        "program_id": result.program_id,
        "transaction_type": str(result.transaction_type),
        "stamps_delta": result.stamps_delta,
        "points_delta": result.points_delta,
        "stamp_count": result.stamp_count,
        "points_balance": result.points_balance,
        "stamps_target": result.stamps_target,
        "reward_available": result.reward_available,
        "purchase_amount_cents": result.purchase_amount_cents,
        "reward_id": result.reward_id,
        "reward_name": result.reward_name,
        "voids_transaction_id": result.voids_transaction_id,
        "created_at": result.created_at.isoformat(),
    }


# Staff PINs and API keys --------------------------------------------------------------------------

_PIN = fields.String(
    required=True,
    validate=FullMatch(pin_service.PIN_PATTERN),
    metadata={
        "description": "4 to 8 digits; repeated digits, sequences and the most common PINs are "
        "refused (422 STAFF_PIN_TOO_SIMPLE)."
    },
)
_NAME = fields.String(required=True, validate=validate.Length(1, 100))


class StaffPinSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    is_active = fields.Boolean(required=True)
    failed_attempts = fields.Integer(required=True)
    locked_until = fields.DateTime(required=True, allow_none=True)
    last_used_at = fields.DateTime(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class LockoutSchema(Schema):
    scope = fields.String(
        required=True,
        metadata={"description": "pin (this PIN at every terminal), pin_at_terminal (this PIN at "
                  "one terminal) or terminal (every PIN at one terminal)."},
    )
    throttle_id = fields.Integer(
        required=True, allow_none=True,
        metadata={"description": "For POST /lockouts/{id}/unlock; null for a PIN's lock "
                  "everywhere (POST /pins/{id}/unlock lifts that)."},
    )
    staff_pin_id = fields.Integer(required=True, allow_none=True)
    staff_name = fields.String(required=True, allow_none=True)
    terminal = fields.String(
        required=True, allow_none=True,
        metadata={"description": "user:<id> (a login) or key:<id> (an API key)."},
    )
    terminal_name = fields.String(required=True, allow_none=True)
    locked_until = fields.DateTime(required=True)
    lock_level = fields.Integer(
        required=True, metadata={"description": "Locks in a row at this counter (escalation)."}
    )


class StaffPinListQuerySchema(Schema):
    include_inactive = fields.Boolean(load_default=False)


class StaffPinCreateSchema(Schema):
    name = _NAME
    pin = _PIN


class StaffPinRenameSchema(Schema):
    name = _NAME


class StaffPinChangeSchema(Schema):
    pin = _PIN


class ApiKeySchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    key_prefix = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    last_used_at = fields.DateTime(required=True, allow_none=True)
    revoked_at = fields.DateTime(required=True, allow_none=True)


class ApiKeyCreateSchema(Schema):
    name = _NAME


class ApiKeyCreatedSchema(Schema):
    api_key = fields.Nested(ApiKeySchema, required=True)
    key = fields.String(
        required=True, attribute="secret", metadata={"description": "Shown once; store it safely."}
    )


# Customers' data ----------------------------------------------------------------------------------


class AppleDeviceSchema(Schema):
    device_library_identifier = fields.String(required=True)
    pass_type_identifier = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class CardRecordSchema(Schema):
    card = fields.Nested(ExportedCardSchema, required=True)
    transactions = fields.List(fields.Nested(TransactionSchema), required=True)
    apple_devices = fields.List(fields.Nested(AppleDeviceSchema), required=True)


class CustomerExportSchema(Schema):
    customer = fields.Nested(CustomerSchema, required=True)
    cards = fields.List(fields.Nested(CardRecordSchema), required=True)


_EXPORT_DATES = validate.Range(export_service.EARLIEST_DATE, export_service.LATEST_DATE)


class ExportQuerySchema(Schema):
    date_from = fields.Date(
        required=True, data_key="from", validate=_EXPORT_DATES, metadata={"example": "2026-11-01"}
    )
    date_to = fields.Date(
        required=True, data_key="to", validate=_EXPORT_DATES, metadata={"example": "2026-11-30"}
    )
