"""CSV export of a vendor's ledger for a date range (for bookkeeping and spreadsheets)."""

import csv
import io
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..errors import ValidationError
from ..extensions import db
from ..models import LoyaltyCard, LoyaltyProgram, LoyaltyTransaction, StaffPin, Vendor
from . import vendor_service
from .local_days import day_bounds

MAX_EXPORT_DAYS = 366
# Far outside any vendor's history, and far from the calendar's ends where a time zone overflows.
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2999, 12, 31)
COLUMNS = (
    "transaction_id",
    "created_at_utc",
    "created_at_local",
    "card_number",
    "transaction_type",
    "stamps_delta",
    "points_delta",
    "stamps_balance_after",
    "points_balance_after",
    "purchase_amount_cents",
    "reward_id",
    "reward_name",
    "staff_name",
    "voids_transaction_id",
    "reason",
)
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(value: str | None) -> str:
    value = value or ""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


# Local dates as a spreadsheet in Luxembourg reads them: day first (en-GB style for English),
# dots in German and Luxembourgish, slashes in French and English.
EXCEL_DATE_PATTERNS = {"en": "%d/%m/%Y %H:%M", "fr": "%d/%m/%Y %H:%M", "de": "%d.%m.%Y %H:%M",
                       "lb": "%d.%m.%Y %H:%M"}


def preset_ranges(vendor: Vendor, today: date) -> dict[str, tuple[date, date]]:
    """Ranges an owner asks for most, as days in the vendor's zone: this week (from Monday), last
    week, this month, last month, this year."""
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    return {
        "this_week": (monday, today),
        "last_week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "this_month": (first_of_month, today),
        "last_month": (last_month_end.replace(day=1), last_month_end),
        "this_year": (today.replace(month=1, day=1), today),
    }


def local_range_bounds(vendor: Vendor, date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """UTC start of `date_from` and end of `date_to` (inclusive) as days in the vendor's zone."""
    return day_bounds(date_from, vendor.timezone)[0], day_bounds(date_to, vendor.timezone)[1]


def check_date_range(date_from: date, date_to: date) -> None:
    """One rule for every report over days (export, statistics per period): both dates in range,
    in order, at most MAX_EXPORT_DAYS apart. Raises ValidationError (field "from" or "to")."""
    for field, value in (("from", date_from), ("to", date_to)):
        if not EARLIEST_DATE <= value <= LATEST_DATE:
            raise ValidationError(_l("Choose a date from 2000 on."), field=field)
    if date_to < date_from:
        raise ValidationError(_l("The end date is before the start date."), field="to")
    if (date_to - date_from).days >= MAX_EXPORT_DAYS:
        raise ValidationError(
            _l("Export at most %(days)s days at a time.", days=MAX_EXPORT_DAYS), field="to"
        )


PLAIN, EXCEL = "plain", "excel"


def transactions_csv(vendor_id: int, date_from: date, date_to: date, flavour: str = PLAIN,
                     locale: str = "en") -> str:
    """The vendor's ledger rows from `date_from` to `date_to` inclusive, days counted in the
    vendor's time zone, oldest first, as CSV with a header row. No customer data is included
    (cards appear by number). Raises ValidationError for a reversed or too long range.

    `flavour` EXCEL is what a European spreadsheet opens as it is: a byte-order mark (so Excel
    reads UTF-8), `;` between cells, and the local time written the way `locale` writes dates."""
    check_date_range(date_from, date_to)
    vendor = vendor_service.get_vendor(vendor_id)
    start, end = local_range_bounds(vendor, date_from, date_to)
    tx = LoyaltyTransaction
    rows = db.session.execute(
        select(tx, LoyaltyCard.card_number, StaffPin.name)
        .join(LoyaltyProgram, LoyaltyProgram.id == tx.program_id)
        .join(LoyaltyCard, LoyaltyCard.id == tx.card_id)
        .outerjoin(StaffPin, StaffPin.id == tx.staff_pin_id)
        .where(LoyaltyProgram.vendor_id == vendor_id, tx.created_at >= start, tx.created_at < end)
        .order_by(tx.created_at, tx.id)
    )
    out = io.StringIO()
    excel = flavour == EXCEL
    if excel:
        out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n", delimiter=";" if excel else ",")

    def local_time(moment: datetime) -> str:
        local = moment.astimezone(vendor.zone)
        if excel:
            return local.strftime(EXCEL_DATE_PATTERNS.get(locale, EXCEL_DATE_PATTERNS["en"]))
        return local.isoformat()

    writer.writerow(COLUMNS)
    for row, card_number, staff_name in rows:
        writer.writerow(
            [
                row.id,
                row.created_at.isoformat(),
                local_time(row.created_at),
                card_number,
                str(row.transaction_type),
                row.stamps_delta,
                row.points_delta,
                row.stamps_balance_after,
                row.points_balance_after,
                "" if row.purchase_amount_cents is None else row.purchase_amount_cents,
                _text_cell(row.reward_id),
                _text_cell(row.reward_name),
                _text_cell(staff_name),
                row.voids_transaction_id or "",
                _text_cell(row.reason),
            ]
        )
    db.session.commit()
    return out.getvalue()
