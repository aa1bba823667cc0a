"""Statistics of programs: lifetime totals from the cards' counters and per-day series from the
ledger, each in a fixed number of aggregate queries whatever a program's size."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, case, cast, func, select

from ..clock import utcnow
from ..extensions import db
from ..models import LoyaltyCard, LoyaltyProgram, LoyaltyTransaction, TransactionType, Vendor
from .program_service import get_program


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
