"""Statistics, in one place: a program's (owner and admin) and the whole platform's (admin).

Lifetime totals come from the cards' counters (no ledger scan); per-day series come from the
ledger, summed by the rule of lifetime_totals and counted in days of the vendor's time zone
(local_days). Each answer is a fixed number of aggregate queries, whatever the number of cards.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case, func, select

from ..clock import utcnow
from ..errors import LoyaltyProgramNotFound
from ..extensions import db
from ..models import LoyaltyCard, LoyaltyProgram, LoyaltyTransaction, Vendor
from .lifetime_totals import ledger_sum
from .local_days import day_bounds, local_date, local_date_sql
from .program_service import get_program

ACTIVE_CARD_DAYS = 30  # a card used within this many days counts as active


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


@dataclass(frozen=True)
class PlatformStatistics:
    vendors: int
    programs: int
    active_programs: int
    cards: int
    active_cards_30_days: int
    stamps_issued: int
    stamps_redeemed: int
    points_issued: int
    points_redeemed: int
    rewards_redeemed: int
    daily: list[DailyActivity]


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def as_utc(value) -> datetime | None:
    """Aggregates over timestamps (MAX) come back as text on SQLite."""
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC)


def active_since(now: datetime) -> datetime:
    return now - timedelta(days=ACTIVE_CARD_DAYS)


def card_totals(since: datetime) -> tuple:
    """Aggregates over cards, in this order: cards, cards active since `since`, stamps issued
    and redeemed, points issued and redeemed, rewards redeemed (lifetime counters), last
    activity. Group them by program for per-program lists (platform_service.list_programs)."""
    card = LoyaltyCard
    return (
        func.count(card.id).label("total_cards"),
        func.count(case((card.last_activity_at >= since, card.id))).label("active_cards"),
        func.coalesce(func.sum(card.total_stamps_earned), 0).label("stamps_issued"),
        func.coalesce(func.sum(card.total_stamps_redeemed), 0).label("stamps_redeemed"),
        func.coalesce(func.sum(card.total_points_earned), 0).label("points_issued"),
        func.coalesce(func.sum(card.total_points_redeemed), 0).label("points_redeemed"),
        func.coalesce(func.sum(card.total_rewards_redeemed), 0).label("rewards_redeemed"),
        func.max(card.last_activity_at).label("last_activity_at"),
    )


def program_statistics(program_id: int, days: int = 30) -> ProgramStatistics:
    """Totals of one program and its last `days` days, the days in its vendor's time zone.
    Raises LoyaltyProgramNotFound."""
    now = utcnow()
    timezone = db.session.scalar(
        select(Vendor.timezone)
        .join(LoyaltyProgram, LoyaltyProgram.vendor_id == Vendor.id)
        .where(LoyaltyProgram.id == program_id)
    )
    if timezone is None:
        raise LoyaltyProgramNotFound(program_id)
    totals = db.session.execute(
        select(*card_totals(active_since(now))).where(LoyaltyCard.program_id == program_id)
    ).one()
    statistics = ProgramStatistics(
        program_id,
        *(int(value) for value in totals[:7]),
        last_activity_at=as_utc(totals.last_activity_at),
        daily=daily_activity([program_id], days, now, timezone=timezone),
    )
    db.session.commit()
    return statistics


def vendor_statistics(vendor_id: int, days: int = 30) -> ProgramStatistics:
    """Statistics of the vendor's own program. Raises LoyaltyProgramNotFound."""
    return program_statistics(get_program(vendor_id).id, days)


def platform_statistics(days: int = 30) -> PlatformStatistics:
    """Platform totals (from the cards' lifetime counters) and the last `days` days of activity
    (UTC days: vendors live in different zones)."""
    now = utcnow()
    cards = db.session.execute(select(*card_totals(active_since(now))[:7])).one()
    programs = db.session.execute(
        select(
            func.count(LoyaltyProgram.id),
            func.count(case((LoyaltyProgram.is_active.is_(True), LoyaltyProgram.id))),
        )
    ).one()
    vendors = db.session.scalar(select(func.count(Vendor.id)))
    daily = daily_activity(None, days, now)
    db.session.commit()
    return PlatformStatistics(vendors, programs[0], programs[1], *(int(v) for v in cards), daily)


def daily_activity(
    program_ids: list[int] | None,
    days: int,
    now: datetime | None = None,
    timezone: str = "UTC",
) -> list[DailyActivity]:
    """Per-day activity over the last `days` days for some programs (None: the whole platform),
    the days counted in `timezone`. Voids count against nothing here: the series shows what
    happened at the counter."""
    now = now or utcnow()
    first_day = local_date(now, timezone) - timedelta(days=days - 1)
    since = day_bounds(first_day, timezone)[0]
    tx = LoyaltyTransaction
    day = local_date_sql(tx.created_at, timezone).label("day")
    ledger_query = (
        select(
            day,
            ledger_sum("total_stamps_earned"),
            ledger_sum("total_stamps_redeemed"),
            ledger_sum("total_points_earned"),
            ledger_sum("total_points_redeemed"),
            ledger_sum("total_rewards_redeemed"),
        )
        .where(tx.created_at >= since)
        .group_by(day)
    )
    card_day = local_date_sql(LoyaltyCard.created_at, timezone).label("day")
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
