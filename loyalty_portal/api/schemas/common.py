"""What every blueprint's schemas share: the strict base, the error envelope, paging,
idempotency and the statistics shapes (the vendor and admin APIs both serve statistics).

Integers in JSON bodies are strict (1.5 and "1" are refused); bodies refuse unknown fields.
Ranges repeat nothing: they come from the services' own constants.
"""

import marshmallow as ma
from marshmallow import fields, validate

from ...services import program_service
from ...services.ledger import MAX_IDEMPOTENCY_KEY_LENGTH

_INT_RANGES = program_service._INT_RANGES | program_service._OPTIONAL_INT_RANGES
_TEXT_LIMITS = program_service._TEXT_LIMITS


def StrictInt(**kwargs):  # noqa: N802 (reads like a field class)
    return fields.Integer(strict=True, **kwargs)


def _bounded_int(setting: str, **kwargs):
    low, high = _INT_RANGES[setting]
    return StrictInt(validate=validate.Range(low, high), **kwargs)


def _bounded_text(setting: str):
    low, high = _TEXT_LIMITS[setting]
    return fields.String(validate=validate.Length(low, high))


class Schema(ma.Schema):
    pass


class FullMatch(validate.Regexp):
    """validate.Regexp, but the whole value must match: `re.match` lets "#FFFFFF\n" through a
    pattern ending in `$`. The OpenAPI document shows the pattern as written (`^...$`), which
    JSON Schema's regular expressions already read as the whole string."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


class ComputedList(fields.List):
    """A list read from a method of the object (e.g. `program.active_rewards()`)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(value() if callable(value) else value, attr, obj, **kwargs)


# Errors and paging --------------------------------------------------------------------------------


class ErrorSchema(Schema):
    error_code = fields.String(required=True, metadata={"example": "STAMP_COOLDOWN"})
    message = fields.String(required=True)
    details = fields.Dict(required=True)


def error_responses(blp, *statuses: int):
    """Declare the error statuses a route can answer with, all in the error envelope."""

    def decorator(view):
        for status in statuses:
            view = blp.alt_response(status, schema=ErrorSchema, description="Error")(view)
        return view

    return decorator


class PageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class PageSchema(Schema):
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class IdempotencyHeaderSchema(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=validate.Length(1, MAX_IDEMPOTENCY_KEY_LENGTH),
        metadata={"description": "Retrying with the same key returns the first result unchanged."},
    )


# Statistics ---------------------------------------------------------------------------------------


class DailyActivitySchema(Schema):
    day = fields.Date(required=True)
    stamps_issued = fields.Integer(required=True)
    stamps_redeemed = fields.Integer(required=True)
    points_issued = fields.Integer(required=True)
    points_redeemed = fields.Integer(required=True)
    rewards_redeemed = fields.Integer(required=True)
    new_cards = fields.Integer(required=True)


class DaysQuerySchema(Schema):
    days = fields.Integer(load_default=30, validate=validate.Range(1, 366))


class ProgramStatisticsSchema(Schema):
    program_id = fields.Integer(required=True)
    total_cards = fields.Integer(required=True)
    active_cards_30_days = fields.Integer(required=True)
    stamps_issued = fields.Integer(required=True)
    stamps_redeemed = fields.Integer(required=True)
    points_issued = fields.Integer(required=True)
    points_redeemed = fields.Integer(required=True)
    rewards_redeemed = fields.Integer(required=True)
    last_activity_at = fields.DateTime(required=True, allow_none=True)
    daily = fields.List(fields.Nested(DailyActivitySchema), required=True)
