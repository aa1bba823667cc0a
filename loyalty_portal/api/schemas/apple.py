"""Schemas of Apple's pass web service (names and shapes are Apple's: camelCase)."""

from marshmallow import fields, validate

from ...services.apple_wallet_service import MAX_LOG_MESSAGES, PUSH_TOKEN_PATTERN
from .common import FullMatch, Schema


class AppleRegistrationSchema(Schema):
    push_token = fields.String(
        required=True,
        data_key="pushToken",
        validate=FullMatch(PUSH_TOKEN_PATTERN),
        metadata={"description": "The device's APNs token (hexadecimal)."},
    )


class AppleUpdatedSinceQuerySchema(Schema):
    passes_updated_since = fields.String(
        data_key="passesUpdatedSince",
        metadata={
            "description": "The lastUpdated tag of the previous answer, sent back as is; an"
            " unknown or malformed tag means \"from the beginning\"."
        },
    )


class AppleSerialNumbersSchema(Schema):
    serial_numbers = fields.List(fields.String(), required=True, data_key="serialNumbers")
    last_updated = fields.String(required=True, data_key="lastUpdated")


class AppleLogSchema(Schema):
    logs = fields.List(
        fields.String(validate=validate.Length(max=10_000)),
        required=True,
        validate=validate.Length(max=MAX_LOG_MESSAGES),
    )
