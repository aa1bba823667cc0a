"""Customers' e-mail addresses and phone numbers, normalised by the libraries made for them, so
one customer is one contact however it was typed.

- Phone numbers become E.164 (`+352621123456`) with `phonenumbers`. A number typed without its
  country code is read in the vendor's country, taken from the vendor's time zone (Babel's
  zone-to-territory table), else from PHONE_DEFAULT_REGION; `+352 621 123 456`, `00352 621123456`
  and `621 123 456` at a Luxembourg shop are the same customer.
- E-mail addresses are checked and normalised with `email-validator` (syntax only, no DNS
  lookups), then lower-cased as a whole: `Zoe@Example.com` and `zoe@example.com` are one customer.
"""

import phonenumbers
from babel.core import get_global
from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from ..errors import ValidationError

MAX_PHONE_INPUT = 40


def phone_region(timezone: str | None) -> str | None:
    """The two-letter country whose numbers need no country code at a vendor in `timezone`."""
    region = get_global("zone_territories").get(timezone or "")
    if region in (None, "001", "ZZ") and has_app_context():
        region = current_app.config.get("PHONE_DEFAULT_REGION") or None
    return region


def normalise_phone(value: str | None, region: str | None) -> str | None:
    """The number in E.164, or None when nothing was typed. Raises ValidationError (field
    "phone") for something that is not a valid number (in `region` when it has no country)."""
    value = (value or "").strip()
    if not value:
        return None
    if value.startswith("00"):
        value = "+" + value[2:]
    refused = ValidationError(_l("Enter a valid phone number."), field="phone")
    if len(value) > MAX_PHONE_INPUT:
        raise refused
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise refused from None
    if not phonenumbers.is_valid_number(number):
        raise refused
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str | None) -> str | None:
    """The address as stored and looked up, or None when nothing was typed. Raises
    ValidationError (field "email") for an address that is not valid."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        # test_environment lets the reserved `.test` domain through (demo and test logins use
        # it); it never reaches a real mailbox, so accepting it harms no one.
        checked = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        raise ValidationError(_l("Enter a valid e-mail address."), field="email") from None
    return checked.normalized.lower()


def email_lookup_key(value: str | None) -> str:
    """The address as stored, for looking someone up by what was typed: normalised when it is a
    valid address, otherwise simply trimmed and lower-cased (it then matches nobody). Never
    raises, so a sign-in or reset request answers the same for every input."""
    try:
        return normalise_email(value) or ""
    except ValidationError:
        return (value or "").strip().lower()[:254]
