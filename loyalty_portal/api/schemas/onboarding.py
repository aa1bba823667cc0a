"""Schemas of shops and people: the admin's vendors (/api/v1/admin/loyalty/vendors) and a vendor's
logins and first program (/api/v1/vendor/loyalty)."""

from marshmallow import fields, validate

from ...i18n import SUPPORTED_LOCALES
from ...services import account_service
from .common import Schema

_EMAIL = fields.String(required=True, validate=validate.Length(1, 254))
_LOCALE = fields.String(validate=validate.OneOf(SUPPORTED_LOCALES))
_PASSWORD = fields.String(required=True, load_only=True, validate=validate.Length(
    account_service.MIN_PASSWORD_LENGTH, account_service.MAX_PASSWORD_LENGTH))


class VendorLoginSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": ["owner", "staff"]})
    is_active_user = fields.Boolean(required=True, data_key="is_active")
    is_invitation_pending = fields.Boolean(required=True)
    invited_at = fields.DateTime(required=True, allow_none=True)
    last_login_at = fields.DateTime(required=True, allow_none=True)


class VendorLoginListSchema(Schema):
    items = fields.List(fields.Nested(VendorLoginSchema), required=True)


class VendorSchema(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    timezone = fields.String(required=True)
    currency = fields.String(required=True)
    default_locale = fields.String(required=True)
    is_suspended = fields.Boolean(required=True)
    suspended_at = fields.DateTime(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class VendorListSchema(Schema):
    items = fields.List(fields.Nested(VendorSchema), required=True)


class VendorCreateSchema(Schema):
    slug = fields.String(required=True, validate=validate.Length(1, 80))
    name = fields.String(required=True, validate=validate.Length(1, 200))
    timezone = fields.String(load_default="Europe/Luxembourg", validate=validate.Length(1, 64))
    currency = fields.String(load_default="EUR", validate=validate.Length(3, 3))
    default_locale = fields.String(load_default="en", validate=validate.OneOf(SUPPORTED_LOCALES))
    owner_email = _EMAIL
    owner_name = fields.String(load_default="", validate=validate.Length(0, 200))


class VendorCreatedSchema(Schema):
    vendor = fields.Nested(VendorSchema, required=True)
    owner = fields.Nested(VendorLoginSchema, required=True)


class VendorUpdateSchema(Schema):
    suspended = fields.Boolean(
        required=True,
        metadata={"description": "true stops the vendor's terminals, API keys, counter and "
                                 "enrolment (nothing is deleted); false lifts it."},
    )


class OwnerInviteSchema(Schema):
    email = _EMAIL
    name = fields.String(load_default="", validate=validate.Length(0, 200))
    locale = _LOCALE


class TerminalCreateSchema(Schema):
    email = _EMAIL
    name = fields.String(required=True, validate=validate.Length(1, 200))
    password = _PASSWORD


class VendorLoginUpdateSchema(Schema):
    is_active = fields.Boolean(required=True)


class ProgramCreateSchema(Schema):
    program_type = fields.String(required=True, validate=validate.OneOf(["stamps", "points"]))
    name = fields.String(required=True, validate=validate.Length(1, 120))


class ReissuedCardSchema(Schema):
    id = fields.Integer(required=True)
    card_number = fields.String(required=True)
    public_token = fields.String(required=True)
    card_url = fields.String(required=True)
