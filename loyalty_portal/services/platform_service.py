"""The platform admin's view: every vendor's program in one list, and platform-wide statistics.

Each answer is a fixed number of aggregate queries, whatever the number of vendors or cards.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select

from ..clock import utcnow
from ..extensions import db
from ..models import LoyaltyCard, LoyaltyProgram, ProgramType, Vendor
from . import program_service, statistics_service
from .statistics_service import DailyActivity, ProgramStatistics, daily_activity

ACTIVE_CARD_DAYS = 30


@dataclass(frozen=True)
class ProgramSummary:
    id: int
    vendor_id: int
    vendor_slug: str
    vendor_name: str
    program_type: str
    name: str
    is_active: bool
    created_at: datetime
    total_cards: int
    active_cards_30_days: int
    stamps_issued: int
    points_issued: int
    rewards_redeemed: int
    last_activity_at: datetime | None


def _card_totals(since: datetime):
    card = LoyaltyCard
    return (
        select(
            card.program_id.label("program_id"),
            func.count(card.id).label("total_cards"),
            func.count(case((card.last_activity_at >= since, card.id))).label("active_cards"),
            func.sum(card.total_stamps_earned).label("stamps_issued"),
            func.sum(card.total_points_earned).label("points_issued"),
            func.sum(card.total_rewards_redeemed).label("rewards_redeemed"),
            func.max(card.last_activity_at).label("last_activity_at"),
        )
        .group_by(card.program_id)
        .subquery("card_totals")
    )


SORT_KEYS = ("name", "vendor", "created_at", "total_cards", "last_activity_at")


def list_programs(
    *,
    text: str = "",
    program_type: str | None = None,
    is_active: bool | None = None,
    sort: str = "name",
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[ProgramSummary], int]:
    """Programs across vendors with their card totals, filtered by `text` (program or vendor name
    or slug), type and active flag, sorted by one of SORT_KEYS (a leading "-" for descending),
    one page at a time; returns the page and the total count."""
    now = utcnow()
    totals = _card_totals(now - timedelta(days=ACTIVE_CARD_DAYS))
    query = (
        select(
            LoyaltyProgram,
            Vendor.slug,
            Vendor.name,
            func.coalesce(totals.c.total_cards, 0),
            func.coalesce(totals.c.active_cards, 0),
            func.coalesce(totals.c.stamps_issued, 0),
            func.coalesce(totals.c.points_issued, 0),
            func.coalesce(totals.c.rewards_redeemed, 0),
            totals.c.last_activity_at,
        )
        .join(Vendor, Vendor.id == LoyaltyProgram.vendor_id)
        .outerjoin(totals, totals.c.program_id == LoyaltyProgram.id)
    )
    text = (text or "").strip().lower()
    if text:
        pattern = f"%{text}%"
        query = query.where(
            or_(
                func.lower(LoyaltyProgram.name).like(pattern),
                func.lower(Vendor.name).like(pattern),
                Vendor.slug.like(pattern),
            )
        )
    if program_type is not None:
        query = query.where(LoyaltyProgram.program_type == ProgramType(program_type))
    if is_active is not None:
        query = query.where(LoyaltyProgram.is_active.is_(is_active))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))

    descending = sort.startswith("-")
    column = {
        "name": LoyaltyProgram.name,
        "vendor": Vendor.name,
        "created_at": LoyaltyProgram.created_at,
        "total_cards": func.coalesce(totals.c.total_cards, 0),
        "last_activity_at": totals.c.last_activity_at,
    }[sort.lstrip("-")]
    order = column.desc().nulls_last() if descending else column.asc().nulls_first()
    rows = db.session.execute(
        query.order_by(order, LoyaltyProgram.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    summaries = [
        ProgramSummary(
            id=program.id,
            vendor_id=program.vendor_id,
            vendor_slug=slug,
            vendor_name=vendor_name,
            program_type=str(program.program_type),
            name=program.name,
            is_active=program.is_active,
            created_at=program.created_at,
            total_cards=cards,
            active_cards_30_days=active,
            stamps_issued=stamps,
            points_issued=points,
            rewards_redeemed=rewards,
            last_activity_at=_as_utc(last_active),
        )
        for program, slug, vendor_name, cards, active, stamps, points, rewards, last_active in rows
    ]
    db.session.commit()
    return summaries, total


def _as_utc(value) -> datetime | None:
    """Aggregates over timestamps come back as text on SQLite."""
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=utcnow().tzinfo)


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


def platform_statistics(days: int = 30) -> PlatformStatistics:
    """Platform totals (from the cards' lifetime counters) and the last `days` days of activity."""
    now = utcnow()
    since = now - timedelta(days=ACTIVE_CARD_DAYS)
    cards = db.session.execute(select(*statistics_service.card_totals(since))).one()
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


def program_statistics(program_id: int, days: int = 30) -> ProgramStatistics:
    """One program's statistics for the admin. Raises LoyaltyProgramNotFound."""
    return statistics_service.program_statistics(
        program_service.get_program_by_id(program_id).id, days
    )
