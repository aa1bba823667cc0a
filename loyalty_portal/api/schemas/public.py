"""Schemas of the public API (/api/v1/loyalty): programs by slug, enrolment, cards by token."""

from marshmallow import fields, validate

from .common import (
    ComputedList,
    Schema,
)

# Public -------------------------------------------------------------------------------------------


class PublicRewardSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    points_cost = fields.Integer(required=True)


class PublicProgramSchema(Schema):
    vendor_slug = fields.String(required=True, attribute="vendor.slug")
    vendor_name = fields.String(required=True, attribute="vendor.name")
    currency = fields.String(required=True, attribute="vendor.currency")
    program_type = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    stamps_target = fields.Integer(required=True)
    stamps_reward_description = fields.String(required=True)
    points_per_currency_unit = fields.Integer(required=True)
    rewards = ComputedList(
        fields.Nested(PublicRewardSchema), required=True, attribute="active_rewards"
    )
    card_background_color = fields.String(required=True)
    card_text_color = fields.String(required=True)
    logo_url = fields.String(required=True, allow_none=True)


class EnrolSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    email = fields.String(validate=validate.Length(max=254))
    phone = fields.String(validate=validate.Length(max=32))
    locale = fields.String(validate=validate.Length(max=10))
    consent = fields.Boolean(required=True, metadata={"description": "Accepts the privacy notice."})


class WalletLinksSchema(Schema):
    card_url = fields.String(required=True)
    apple_wallet_url = fields.String(required=True, allow_none=True)
    google_wallet_url = fields.String(required=True, allow_none=True)


class PublicCardSchema(Schema):
    card_number = fields.String(required=True)
    public_token = fields.String(required=True)
    customer_name = fields.String(required=True, attribute="customer.name")
    program = fields.Nested(PublicProgramSchema, required=True)
    stamp_count = fields.Integer(required=True)
    points_balance = fields.Integer(required=True)
    is_active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
