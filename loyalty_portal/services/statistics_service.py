"""Statistics, in one place: a program's (owner and admin) and the whole platform's (admin).

Lifetime totals come from the cards' counters (no ledger scan); per-day series come from the
daily summary that every ledger write updates in its own transaction (models/daily_activity.py),
summed by the rule of lifetime_totals and counted in days of the vendor's time zone (local_days).
Each answer is a fixed number of aggregate queries, whatever the number of cards or ledger rows;
docs/performance.md has their times at 100 000 cards and 1 000 000 ledger rows.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case, delete, func, literal, select, text

from ..clock import utcnow
from ..errors import LoyaltyProgramNotFound
from ..extensions import db
from ..models import LoyaltyCard, LoyaltyProgram, ProgramDailyActivity, Vendor
from .lifetime_totals import COLUMNS as TOTAL_COLUMNS
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
    the days counted in `timezone`: the programs' vendor's zone, or UTC. Voids count against
    nothing here: the series shows what happened at the counter.

    Read from the daily summary the ledger write keeps (program_daily_activity: a few rows per
    program and day, not the day's ledger), new cards from the cards' creation index."""
    now = now or utcnow()
    first_day = local_date(now, timezone) - timedelta(days=days - 1)
    since = day_bounds(first_day, timezone)[0]
    summary = ProgramDailyActivity
    # A program's rows carry its vendor's day; the platform's series is in UTC days.
    day = summary.local_day if program_ids is not None else summary.utc_day
    if program_ids is None and timezone != "UTC":
        raise ValueError("the platform's series is counted in UTC days")
    ledger_query = (
        select(day, *(func.sum(getattr(summary, column)) for column in TOTAL_COLUMNS))
        .where(day >= first_day)
        .group_by(day)
    )
    card_day = local_date_sql(LoyaltyCard.created_at, timezone).label("day")
    cards_query = (
        select(card_day, func.count(LoyaltyCard.id))
        .where(LoyaltyCard.created_at >= since)
        .group_by(card_day)
    )
    if program_ids is not None:
        ledger_query = ledger_query.where(summary.program_id.in_(program_ids))
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


COMPACTION_LOCK = 0x5D41_7A11  # pg advisory lock key: one compaction at a time


def compact_daily_activity(now: datetime | None = None) -> int:
    """Fold the slots of finished days into slot 0; return how many slot rows were folded.

    Slots exist so concurrent balance changes in one program do not queue on one summary row;
    a day two UTC days back gets no more writes (a change counts on the day it was made; voids
    and adjustments count nothing), so its slots can become one row again and the month a
    chart reads stays a few rows per program and day. Run by the outbox worker now and then;
    the sums are unchanged, so it is safe at any time and on every database."""
    if db.session.get_bind().dialect.name == "postgresql" and not db.session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": COMPACTION_LOCK}
    ):
        # Another worker is folding: two at once would both add the same slots to slot 0.
        # (SQLite runs one writer at a time.)
        db.session.commit()
        return 0
    summary = ProgramDailyActivity
    before = (now or utcnow()).astimezone(UTC).date() - timedelta(days=1)
    old = (summary.slot != 0) & (summary.utc_day < before)
    keys = (summary.program_id, summary.local_day, summary.utc_day)
    folded = (
        select(*keys, literal(0), *(func.sum(getattr(summary, c)) for c in TOTAL_COLUMNS))
        .where(old)
        .group_by(*keys)
    )
    insert = dialect_insert(db.session.get_bind().dialect.name)
    statement = insert(summary).from_select(["program_id", "local_day", "utc_day", "slot",
                                             *TOTAL_COLUMNS], folded)
    statement = statement.on_conflict_do_update(
        index_elements=["program_id", "local_day", "utc_day", "slot"],
        set_={c: getattr(summary, c) + getattr(statement.excluded, c) for c in TOTAL_COLUMNS},
    )
    db.session.execute(statement)
    removed = db.session.execute(delete(summary).where(old)).rowcount
    db.session.commit()
    return removed


def dialect_insert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert
