"""Programs: creating and configuring a vendor's program, and its statistics."""

import contextlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, case, cast, func, select

from ..clock import utcnow
from ..errors import (
    LoyaltyProgramAlreadyExists,
    LoyaltyProgramInactive,
    LoyaltyProgramNotFound,
    ValidationError,
    VendorNotFound,
)
from ..extensions import db
from ..models import (
    LoyaltyCard,
    LoyaltyProgram,
    LoyaltyTransaction,
    ProgramType,
    TransactionType,
    Vendor,
)

COLOUR_PATTERN = re.compile(r"^#[0-9A-Fa-f]{6}$")
REWARD_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

# Settings an owner may change, with the check each must pass.
_INT_RANGES = {
    "stamps_target": (1, 100),
    "points_per_currency_unit": (0, 1000),
    "cooldown_minutes": (0, 24 * 60),
    "max_daily_stamps": (1, 100),
    "pin_max_failed_attempts": (1, 20),
    "pin_lockout_minutes": (1, 24 * 60),
}
_TEXT_LIMITS = {"name": (1, 120), "description": (0, 2000), "stamps_reward_description": (0, 200)}
# is_active pauses the program: no enrolments or counter operations; owners' corrections still work.
_BOOLEANS = ("require_staff_pin", "apple_wallet_enabled", "google_wallet_enabled", "is_active")
_COLOURS = ("card_background_color", "card_text_color")
EDITABLE_SETTINGS = (
    *_INT_RANGES,
    *_TEXT_LIMITS,
    *_BOOLEANS,
    *_COLOURS,
    "logo_url",
    "points_rewards",
    "program_type",
)


def _validated(changes: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in EDITABLE_SETTINGS:
            raise ValidationError(_l("Unknown setting."), field=key)
        if key in _INT_RANGES:
            low, high = _INT_RANGES[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValidationError(
                    _l("Must be a whole number from %(low)s to %(high)s.", low=low, high=high),
                    field=key,
                )
        elif key in _TEXT_LIMITS:
            low, high = _TEXT_LIMITS[key]
            value = (value or "").strip()
            if not low <= len(value) <= high:
                raise ValidationError(
                    _l("Must be %(low)s to %(high)s characters.", low=low, high=high), field=key
                )
        elif key in _BOOLEANS:
            if not isinstance(value, bool):
                raise ValidationError(_l("Must be true or false."), field=key)
        elif key in _COLOURS:
            if not isinstance(value, str) or not COLOUR_PATTERN.match(value):
                raise ValidationError(_l("Must be a colour like #1F3A5F."), field=key)
            value = value.upper()
        elif key == "logo_url":
            value = (value or "").strip() or None
            if value is not None and (len(value) > 500 or not value.startswith(("https://", "/"))):
                raise ValidationError(_l("Must be an https:// address."), field=key)
        elif key == "points_rewards":
            value = validate_rewards_catalogue(value)
        elif key == "program_type":
            try:
                value = ProgramType(value)
            except ValueError:
                raise ValidationError(_l("Must be stamps or points."), field=key) from None
        clean[key] = value
    return clean


def validate_rewards_catalogue(rewards: Any) -> list[dict[str, Any]]:
    """A list of `{"id", "name", "points_cost", "active"}` with unique ids and positive costs."""
    if not isinstance(rewards, list) or len(rewards) > 50:
        raise ValidationError(
            _l("The rewards catalogue must be a list of at most 50 rewards."),
            field="points_rewards",
        )
    clean, seen = [], set()
    for index, reward in enumerate(rewards):
        field = f"points_rewards[{index}]"
        if not isinstance(reward, dict):
            raise ValidationError(
                _l("Each reward needs an id, a name and a points cost."), field=field
            )
        reward_id = str(reward.get("id", "")).strip().lower()
        name = str(reward.get("name", "")).strip()
        cost = reward.get("points_cost")
        active = reward.get("active", True)
        if not REWARD_ID_PATTERN.match(reward_id) or reward_id in seen:
            raise ValidationError(
                _l("Each reward needs its own short id (a-z, 0-9, - and _)."), field=f"{field}.id"
            )
        if not 1 <= len(name) <= 200:
            raise ValidationError(_l("Each reward needs a name."), field=f"{field}.name")
        if isinstance(cost, bool) or not isinstance(cost, int) or not 1 <= cost <= 1_000_000:
            raise ValidationError(
                _l("A reward costs at least 1 point."), field=f"{field}.points_cost"
            )
        seen.add(reward_id)
        clean.append({"id": reward_id, "name": name, "points_cost": cost, "active": bool(active)})
    return clean


def get_program(vendor_id: int) -> LoyaltyProgram:
    program = db.session.scalar(select(LoyaltyProgram).where(LoyaltyProgram.vendor_id == vendor_id))
    if program is None:
        raise LoyaltyProgramNotFound(vendor_id)
    return program


def get_program_by_id(program_id: int) -> LoyaltyProgram:
    program = db.session.get(LoyaltyProgram, program_id)
    if program is None:
        raise LoyaltyProgramNotFound(program_id)
    return program


def get_public_program(vendor_slug: str) -> LoyaltyProgram:
    """The program behind a vendor's QR code; refuses an inactive one so nobody enrols in it."""
    program = db.session.scalar(
        select(LoyaltyProgram)
        .join(Vendor, Vendor.id == LoyaltyProgram.vendor_id)
        .where(Vendor.slug == vendor_slug)
    )
    if program is None:
        raise LoyaltyProgramNotFound(vendor_slug)
    if not program.is_active:
        raise LoyaltyProgramInactive(program.id)
    return program


def create_program(vendor_id: int, program_type: str, name: str, **settings: Any) -> LoyaltyProgram:
    """Create the vendor's one program (active). Unset settings take the defaults of the
    design note: PIN required, 15 minutes cooldown, 5 stamps a day, lock after 5 wrong PINs
    for 30 minutes. Raises VendorNotFound, LoyaltyProgramAlreadyExists, ValidationError."""
    if db.session.get(Vendor, vendor_id) is None:
        raise VendorNotFound(vendor_id)
    clean = _validated({"program_type": program_type, "name": name, **settings})
    if db.session.scalar(select(LoyaltyProgram.id).where(LoyaltyProgram.vendor_id == vendor_id)):
        raise LoyaltyProgramAlreadyExists(vendor_id)
    program = LoyaltyProgram(vendor_id=vendor_id, **clean)
    db.session.add(program)
    db.session.commit()
    return program


def update_program(vendor_id: int, **changes: Any) -> LoyaltyProgram:
    """Change settings of the vendor's program. The type can change only while no card has a
    balance of the old kind. Raises LoyaltyProgramNotFound, ValidationError."""
    program = get_program(vendor_id)
    clean = _validated(changes)
    new_type = clean.get("program_type")
    if new_type is not None and new_type != program.program_type:
        balance = LoyaltyCard.stamp_count if program.is_stamps else LoyaltyCard.points_balance
        if db.session.scalar(
            select(LoyaltyCard.id).where(LoyaltyCard.program_id == program.id, balance > 0).limit(1)
        ):
            raise ValidationError(
                _l("The program type cannot change while cards hold a balance."),
                field="program_type",
            )
    for key, value in clean.items():
        setattr(program, key, value)
    db.session.commit()
    return program


def set_program_active(vendor_id: int, active: bool) -> LoyaltyProgram:
    """Activate or deactivate; an inactive program refuses enrolments and balance changes."""
    program = get_program(vendor_id)
    program.is_active = active
    db.session.commit()
    return program


def activate_program(vendor_id: int) -> LoyaltyProgram:
    return set_program_active(vendor_id, True)


def deactivate_program(vendor_id: int) -> LoyaltyProgram:
    return set_program_active(vendor_id, False)


# Statistics ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyActivity:
    day: date
    stamps_issued: int
    stamps_redeemed: int
    points_issued: int
    points_redeemed: int
    rewards_redeemed: int
    new_cards: int


@dataclass(frozen=True)
class ProgramStatistics:
    program_id: int
    total_cards: int
    active_cards_30_days: int
    stamps_issued: int
    stamps_redeemed: int
    points_issued: int
    points_redeemed: int
    rewards_redeemed: int
    last_activity_at: datetime | None
    daily: list[DailyActivity]


def _local_day(column, zone: ZoneInfo, now: datetime):
    """Calendar day of a timestamp column in a time zone. PostgreSQL knows the zone's rules;
    SQLite (the embedded development database) shifts by the zone's offset at `now`."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(zone.key, column), Date)
    offset_minutes = int(now.astimezone(zone).utcoffset().total_seconds() // 60)
    return func.date(column, f"{offset_minutes:+d} minutes")


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def card_totals(active_since: datetime) -> tuple:
    """Aggregates over cards, in this order: cards, cards active since `active_since`, stamps
    issued and redeemed, points issued and redeemed, rewards redeemed (lifetime counters)."""
    card = LoyaltyCard
    return (
        func.count(card.id),
        func.count(case((card.last_activity_at >= active_since, card.id))),
        func.coalesce(func.sum(card.total_stamps_earned), 0),
        func.coalesce(func.sum(card.total_stamps_redeemed), 0),
        func.coalesce(func.sum(card.total_points_earned), 0),
        func.coalesce(func.sum(card.total_points_redeemed), 0),
        func.coalesce(func.sum(card.total_rewards_redeemed), 0),
    )


def program_statistics(program_id: int, days: int = 30) -> ProgramStatistics:
    """Totals from the cards' lifetime counters (no ledger scan) and a per-day series of the
    last `days` days from the ledger, in three aggregate queries whatever the program's size."""
    now = utcnow()
    since = now - timedelta(days=30)
    totals = db.session.execute(
        select(*card_totals(since), func.max(LoyaltyCard.last_activity_at)).where(
            LoyaltyCard.program_id == program_id
        )
    ).one()
    last_activity = totals[7]
    if isinstance(last_activity, str):  # SQLite returns aggregates of timestamps as text
        last_activity = datetime.fromisoformat(last_activity).replace(tzinfo=now.tzinfo)
    return ProgramStatistics(
        program_id=program_id,
        total_cards=totals[0],
        active_cards_30_days=totals[1],
        stamps_issued=totals[2],
        stamps_redeemed=totals[3],
        points_issued=totals[4],
        points_redeemed=totals[5],
        rewards_redeemed=totals[6],
        last_activity_at=last_activity,
        daily=daily_activity([program_id], days, now, timezone=_program_timezone(program_id)),
    )


def vendor_statistics(vendor_id: int, days: int = 30) -> ProgramStatistics:
    """Statistics of the vendor's own program. Raises LoyaltyProgramNotFound."""
    return program_statistics(get_program(vendor_id).id, days)


def _program_timezone(program_id: int) -> str:
    return (
        db.session.scalar(
            select(Vendor.timezone)
            .join(LoyaltyProgram, LoyaltyProgram.vendor_id == Vendor.id)
            .where(LoyaltyProgram.id == program_id)
        )
        or "UTC"
    )


def daily_activity(
    program_ids: list[int] | None,
    days: int,
    now: datetime | None = None,
    timezone: str = "UTC",
) -> list[DailyActivity]:
    """Per-day activity over the last `days` days for some programs (None: the whole platform),
    the days counted in `timezone` (a vendor's own; UTC across vendors).
    Voids count against nothing here: the series shows what happened at the counter."""
    now = now or utcnow()
    zone = ZoneInfo(timezone)
    first_day = now.astimezone(zone).date() - timedelta(days=days - 1)
    since = datetime.combine(first_day, time.min, tzinfo=zone)
    tx = LoyaltyTransaction
    day = _local_day(tx.created_at, zone, now).label("day")
    ledger_query = (
        select(
            day,
            func.sum(
                case(
                    (tx.transaction_type == TransactionType.STAMP_EARNED, tx.stamps_delta), else_=0
                )
            ),
            func.sum(
                case(
                    (
                        tx.transaction_type == TransactionType.STAMP_REWARD_REDEEMED,
                        -tx.stamps_delta,
                    ),
                    else_=0,
                )
            ),
            func.sum(
                case(
                    (tx.transaction_type == TransactionType.POINTS_EARNED, tx.points_delta), else_=0
                )
            ),
            func.sum(
                case(
                    (
                        tx.transaction_type == TransactionType.POINTS_REWARD_REDEEMED,
                        -tx.points_delta,
                    ),
                    else_=0,
                )
            ),
            func.count(
                case(
                    (
                        tx.transaction_type.in_(
                            [
                                TransactionType.STAMP_REWARD_REDEEMED,
                                TransactionType.POINTS_REWARD_REDEEMED,
                            ]
                        ),
                        tx.id,
                    )
                )
            ),
        )
        .where(tx.created_at >= since)
        .group_by(day)
    )
    card_day = _local_day(LoyaltyCard.created_at, zone, now).label("day")
    cards_query = (
        select(card_day, func.count(LoyaltyCard.id))
        .where(LoyaltyCard.created_at >= since)
        .group_by(card_day)
    )
    if program_ids is not None:
        ledger_query = ledger_query.where(tx.program_id.in_(program_ids))
        cards_query = cards_query.where(LoyaltyCard.program_id.in_(program_ids))
    by_day = {_as_date(row[0]): row[1:] for row in db.session.execute(ledger_query)}
    new_cards = {_as_date(row[0]): row[1] for row in db.session.execute(cards_query)}
    series = []
    for offset in range(days):
        current = first_day + timedelta(days=offset)
        values = by_day.get(current, (0, 0, 0, 0, 0))
        series.append(
            DailyActivity(current, *(int(v or 0) for v in values), new_cards.get(current, 0))
        )
    return series


# Owner screens ------------------------------------------------------------------------------------

_LOOK_SETTINGS = (
    "program_type",
    "name",
    "stamps_target",
    "stamps_reward_description",
    "points_per_currency_unit",
    "card_background_color",
    "card_text_color",
    "logo_url",
)
MIN_TEXT_CONTRAST = 4.5  # WCAG AA for normal text


@dataclass(frozen=True)
class CardLook:
    """How a program's card would look with some unsaved settings (the setup screen's preview)."""

    vendor_name: str
    program_type: ProgramType
    name: str
    stamps_target: int
    stamps_reward_description: str
    points_per_currency_unit: int
    card_background_color: str
    card_text_color: str
    logo_url: str | None
    contrast_ratio: float

    @property
    def is_stamps(self) -> bool:
        return self.program_type == ProgramType.STAMPS

    @property
    def readable(self) -> bool:
        return self.contrast_ratio >= MIN_TEXT_CONTRAST


def _relative_luminance(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two #RRGGBB colours, from 1 to 21."""
    lighter, darker = sorted(
        (_relative_luminance(foreground), _relative_luminance(background)), reverse=True
    )
    return round((lighter + 0.05) / (darker + 0.05), 2)


def preview_card_look(vendor_id: int, **changes: Any) -> CardLook:
    """The vendor's card look with `changes` applied where they are valid; an invalid value
    (a half-typed colour) keeps the saved one. Nothing is saved. Raises LoyaltyProgramNotFound."""
    program = get_program(vendor_id)
    look = {key: getattr(program, key) for key in _LOOK_SETTINGS}
    for key, value in changes.items():
        if key not in _LOOK_SETTINGS:
            continue
        with contextlib.suppress(ValidationError):
            look.update(_validated({key: value}))
    return CardLook(
        vendor_name=program.vendor.name,
        contrast_ratio=contrast_ratio(look["card_text_color"], look["card_background_color"]),
        **look,
    )


@dataclass(frozen=True)
class WeeklyCount:
    week_start: date
    count: int


def new_cards_per_week(daily: list[DailyActivity]) -> list[WeeklyCount]:
    """New cards in consecutive 7-day blocks ending with the series' last day (a leading
    partial block is left out, so every bar covers a whole week)."""
    whole = daily[len(daily) % 7 :]
    return [
        WeeklyCount(whole[i].day, sum(day.new_cards for day in whole[i : i + 7]))
        for i in range(0, len(whole), 7)
    ]
