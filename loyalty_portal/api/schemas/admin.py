"""Schemas of the platform admin API (/api/v1/admin/loyalty)."""

from marshmallow import fields, validate

from .common import (
    DailyActivitySchema,
    PageQuerySchema,
    PageSchema,
    Schema,
)

# Admin --------------------------------------------------------------------------------------------


class AdminProgramQuerySchema(PageQuerySchema):
    q = fields.String(load_default="", validate=validate.Length(max=200))
    program_type = fields.String(validate=validate.OneOf(["stamps", "points"]))
    is_active = fields.Boolean()
    sort = fields.String(
        load_default="name",
        validate=validate.OneOf(
            [
                f"{d}{k}"
                for k in ("name", "vendor", "created_at", "total_cards", "last_activity_at")
                for d in ("", "-")
            ]
        ),
    )


class ProgramSummarySchema(Schema):
    id = fields.Integer(required=True)
    vendor_id = fields.Integer(required=True)
    vendor_slug = fields.String(required=True)
    vendor_name = fields.String(required=True)
    program_type = fields.String(required=True)
    name = fields.String(required=True)
    is_active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    total_cards = fields.Integer(required=True)
    active_cards_30_days = fields.Integer(required=True)
    stamps_issued = fields.Integer(required=True)
    points_issued = fields.Integer(required=True)
    rewards_redeemed = fields.Integer(required=True)
    last_activity_at = fields.DateTime(required=True, allow_none=True)


class ProgramSummaryPageSchema(PageSchema):
    items = fields.List(fields.Nested(ProgramSummarySchema), required=True)


class PlatformStatisticsSchema(Schema):
    vendors = fields.Integer(required=True)
    programs = fields.Integer(required=True)
    active_programs = fields.Integer(required=True)
    cards = fields.Integer(required=True)
    active_cards_30_days = fields.Integer(required=True)
    stamps_issued = fields.Integer(required=True)
    stamps_redeemed = fields.Integer(required=True)
    points_issued = fields.Integer(required=True)
    points_redeemed = fields.Integer(required=True)
    rewards_redeemed = fields.Integer(required=True)
    daily = fields.List(fields.Nested(DailyActivitySchema), required=True)


# Outbox -------------------------------------------------------------------------------------------


class OutboxQuerySchema(PageQuerySchema):
    status = fields.String(
        load_default="failing",
        validate=validate.OneOf(["failing", "dead", "pending"]),
        metadata={"description": "failing: pending and tried at least once; dead; pending: all"},
    )


class OutboxCountsSchema(Schema):
    pending = fields.Integer(required=True)
    failing = fields.Integer(required=True)
    dead = fields.Integer(required=True)
    delivered = fields.Integer(required=True)


class OutboxMessageSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    reason = fields.String(required=True)
    card_id = fields.Integer(allow_none=True, required=True)
    program_id = fields.Integer(allow_none=True, required=True)
    customer_id = fields.Integer(allow_none=True, required=True)
    status = fields.String(required=True, metadata={"enum": ["pending", "delivered", "dead"]})
    changes = fields.Integer(required=True, metadata={"description": "changes folded into it"})
    attempts = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    last_change_at = fields.DateTime(required=True)
    due_at = fields.DateTime(required=True, metadata={"description": "next attempt"})
    being_delivered = fields.Function(
        lambda message: message.claimed_by is not None, required=True
    )
    retried_at = fields.DateTime(allow_none=True, required=True)
    delivered_at = fields.DateTime(allow_none=True, required=True)
    last_error = fields.String(allow_none=True, required=True)


class OutboxMessagePageSchema(PageSchema):
    counts = fields.Nested(OutboxCountsSchema, required=True)
    items = fields.List(fields.Nested(OutboxMessageSchema), required=True)
