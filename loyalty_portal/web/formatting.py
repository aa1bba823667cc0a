"""Jinja filters that format money, points and moments in the request's language.

Money is an integer of minor units everywhere; it becomes a Decimal only here, for display.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_time as babel_format_time
from flask import Flask
from flask_babel import format_currency, format_decimal, get_locale

from ..services.card_service import format_card_number
from ..services.money import amount_example, to_major


def money(cents: int | None, currency: str = "EUR") -> str:
    """1250, "EUR" → "€12.50" / "12,50 €" depending on the locale."""
    if cents is None:
        return ""
    return format_currency(to_major(cents, currency), currency)


def points(value: int | None) -> str:
    return format_decimal(value or 0)


def local_datetime(moment: datetime | None, timezone: str = "UTC", format: str = "medium") -> str:
    """A UTC moment shown in a vendor's time zone (the customer's page has no signed-in user)."""
    if moment is None:
        return ""
    return babel_format_datetime(moment, format, tzinfo=ZoneInfo(timezone), locale=get_locale())


def local_time(moment: datetime | None, timezone: str = "UTC") -> str:
    """Just the clock time in the vendor's zone ("14:35", "2:35 PM")."""
    if moment is None:
        return ""
    return babel_format_time(moment, "short", tzinfo=ZoneInfo(timezone), locale=get_locale())


def register_formatting(app: Flask) -> None:
    app.add_template_filter(money)
    app.add_template_global(amount_example)
    app.add_template_filter(points)
    app.add_template_filter(local_datetime)
    app.add_template_filter(local_time)
    app.add_template_filter(format_card_number, "card_number")
