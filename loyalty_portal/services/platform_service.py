"""The platform admin's list of every vendor's program with its card totals (the statistics
themselves, per program and platform-wide, live in statistics_service). One query for the page
and one for the count, whatever the number of vendors or cards."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from ..clock import utcnow
from ..extensions import db
from ..models import LoyaltyCard, LoyaltyProgram, ProgramType, Vendor
from . import statistics_service


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


def _card_totals_by_program(since: datetime):
    return (
        select(LoyaltyCard.program_id.label("program_id"), *statistics_service.card_totals(since))
        .group_by(LoyaltyCard.program_id)
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
    totals = _card_totals_by_program(statistics_service.active_since(now))
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
            last_activity_at=statistics_service.as_utc(last_active),
        )
        for program, slug, vendor_name, cards, active, stamps, points, rewards, last_active in rows
    ]
    db.session.commit()
    return summaries, total
