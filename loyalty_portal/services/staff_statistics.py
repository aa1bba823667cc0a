"""Who did what at the counter over a period, and how often customers come back.

Two aggregate queries over the ledger of the period (days in the vendor's time zone), whatever its
size: one row per staff member (stamps, points, rewards, corrections by the owner), and the cards
seen on two or more different days (repeat visits)."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select

from ..extensions import db
from ..models import LoyaltyProgram, LoyaltyTransaction, StaffPin, TransactionType
from . import vendor_service
from .export_service import check_date_range, local_range_bounds
from .local_days import local_date_sql

T = LoyaltyTransaction
_REWARDS = (TransactionType.STAMP_REWARD_REDEEMED, TransactionType.POINTS_REWARD_REDEEMED)


@dataclass(frozen=True)
class StaffActivity:
    staff_pin_id: int | None  # None: the owner's corrections and PIN-less operations
    name: str | None
    stamps_issued: int
    points_issued: int
    rewards_redeemed: int
    operations: int
    cards: int


@dataclass(frozen=True)
class PeriodReport:
    date_from: date
    date_to: date
    staff: list[StaffActivity]
    cards_seen: int
    repeat_cards: int  # cards seen on two or more different days of the period

    @property
    def repeat_share(self) -> float:
        return self.repeat_cards / self.cards_seen if self.cards_seen else 0.0


def period_report(vendor_id: int, date_from: date, date_to: date) -> PeriodReport:
    """Activity per staff member and repeat visits from `date_from` to `date_to` inclusive.
    Raises ValidationError for dates out of range, reversed or more than a year apart."""
    check_date_range(date_from, date_to)
    vendor = vendor_service.get_vendor(vendor_id)
    start, end = local_range_bounds(vendor, date_from, date_to)
    in_period = (LoyaltyProgram.vendor_id == vendor_id, T.created_at >= start, T.created_at < end)
    rows = db.session.execute(
        select(
            T.staff_pin_id, StaffPin.name,
            func.coalesce(func.sum(case((T.stamps_delta > 0, T.stamps_delta), else_=0)), 0),
            func.coalesce(func.sum(case((T.points_delta > 0, T.points_delta), else_=0)), 0),
            func.count(case((T.transaction_type.in_(_REWARDS), T.id))),
            func.count(T.id),
            func.count(func.distinct(T.card_id)),
        )
        .join(LoyaltyProgram, LoyaltyProgram.id == T.program_id)
        .outerjoin(StaffPin, StaffPin.id == T.staff_pin_id)
        .where(*in_period)
        .group_by(T.staff_pin_id, StaffPin.name)
        .order_by(func.count(T.id).desc(), StaffPin.name)
    ).all()
    days_per_card = (
        select(T.card_id, func.count(func.distinct(local_date_sql(T.created_at, vendor.timezone)))
               .label("days"))
        .join(LoyaltyProgram, LoyaltyProgram.id == T.program_id)
        .where(*in_period, T.transaction_type.in_((TransactionType.STAMP_EARNED,
                                                   TransactionType.POINTS_EARNED, *_REWARDS)))
        .group_by(T.card_id)
        .subquery()
    )
    seen, repeat = db.session.execute(
        select(func.count(), func.count(case((days_per_card.c.days >= 2, 1))))
        .select_from(days_per_card)
    ).one()
    db.session.commit()
    return PeriodReport(date_from, date_to,
                        [StaffActivity(*(int(v) if i > 1 else v for i, v in enumerate(row)))
                         for row in rows],
                        int(seen), int(repeat))
