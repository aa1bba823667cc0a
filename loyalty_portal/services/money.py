"""Money, in one place: amounts are integers of the currency's own minor units everywhere (cents
for EUR, none for JPY, fils for KWD and BHD: Babel's currency digits), parsed from what a person
types in their language, and turned into points at the program's rate per whole unit.

A Decimal appears only between typed text and minor units, and for display; never a float.
"""

from decimal import Decimal

from babel.numbers import NumberFormatError, format_decimal, get_currency_precision, parse_decimal
from flask import has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from ..errors import ValidationError

# A single purchase above this many minor units is a typing mistake, not a sale at a café
# (100 000.00 EUR, 10 000 000 JPY, 10 000.000 KWD).
MAX_AMOUNT_MINOR_UNITS = 10_000_000
_SPACES = str.maketrans("", "", " \u00a0\u202f")


def minor_digits(currency: str) -> int:
    """How many digits the currency has after the decimal point (EUR 2, JPY 0, KWD 3)."""
    return get_currency_precision(currency)


def to_major(amount_minor: int, currency: str) -> Decimal:
    """1250 EUR cents -> Decimal("12.50"); 500 JPY -> Decimal("500")."""
    return Decimal(amount_minor).scaleb(-minor_digits(currency))


def _request_locale(locale) -> str:
    if locale is not None:
        return str(locale)
    return str(get_locale()) if has_request_context() else "en"


def amount_example(currency: str, locale=None) -> str:
    """How an amount of this currency is typed in this language: "12.50", "12,50", "1250"."""
    digits = minor_digits(currency)
    pattern = "0." + "0" * digits if digits else "0"
    return format_decimal(to_major(1250, currency), format=pattern, locale=_request_locale(locale))


def parse_amount(text: str | None, currency: str, locale=None) -> int:
    """What a cashier typed ("9,99" in French, German or Luxembourgish, "9.99" in English;
    grouping as the language writes it) in the currency's minor units. `locale` defaults to the
    request's. Raises ValidationError (field "amount") for text that is not an amount in that
    language, has more decimals than the currency, is negative or is implausibly large."""
    locale = _request_locale(locale)
    refused = ValidationError(
        _l("Enter the amount like %(example)s.", example=amount_example(currency, locale)),
        field="amount",
    )
    cleaned = (text or "").strip()
    # Digits and separators only: Decimal would also take "1e3", "NaN" and "Infinity".
    if not cleaned or len(cleaned) > 20 or any(char.isalpha() for char in cleaned):
        raise refused
    try:
        value = parse_decimal(cleaned, locale=locale, strict=True)
    except (NumberFormatError, ArithmeticError, ValueError):
        # Spaces typed as thousands separators where the language groups with another sign.
        try:
            value = parse_decimal(cleaned.translate(_SPACES), locale=locale, strict=True)
        except (NumberFormatError, ArithmeticError, ValueError):
            raise refused from None
    return to_minor_units(value, currency, refused)


def to_minor_units(value: Decimal, currency: str, refused: ValidationError | None = None) -> int:
    """A decimal amount in the currency's minor units; no rounding: more decimals than the
    currency has is refused, as are negative amounts and amounts above the maximum. Zero is an
    amount: the service that takes it says why it is too small."""
    refused = refused or ValidationError(_l("This is not an amount."), field="amount")
    if not value.is_finite() or value < 0:
        raise refused
    minor = value.scaleb(minor_digits(currency))
    if minor != minor.to_integral_value() or minor > MAX_AMOUNT_MINOR_UNITS:
        raise refused
    return int(minor)


def points_for_amount(amount_minor: int, points_per_currency_unit: int, currency: str) -> int:
    """Points for a purchase: the amount in whole currency units times the rate, rounded down to
    a whole point (integer arithmetic: 19.99 EUR at 1 point per euro is 19 points; 500 JPY at 1
    point per yen is 500)."""
    return amount_minor * points_per_currency_unit // 10 ** minor_digits(currency)
