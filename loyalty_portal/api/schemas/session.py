"""Schemas of the session API (/api/v1/auth/session)."""

from marshmallow import fields, validate

from .common import (
    Schema,
)

# Session ------------------------------------------------------------------------------------------


class LoginSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(1, 254))
    password = fields.String(required=True, validate=validate.Length(1, 200))


class SessionSchema(Schema):
    user_id = fields.Integer(required=True, attribute="id")
    email = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    vendor_id = fields.Integer(required=True, allow_none=True)
    csrf_token = fields.String(
        required=True,
        metadata={
            "description": "Send as X-CSRFToken with POST, PUT, PATCH and DELETE on this session."
        },
    )
