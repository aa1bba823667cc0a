from datetime import date

from sqlalchemy import Date, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

# Concurrent balance changes in one program upsert different rows of a day (slot = card id modulo
# this), so stamps on different cards of a busy program do not queue on one summary row's lock.
ACTIVITY_SLOTS = 16


class ProgramDailyActivity(db.Model):
    """What one program's ledger rows of one day added up to: the statistics' per-day series,
    kept by the ledger write itself (same statement on PostgreSQL, same transaction everywhere),
    so a chart of 30 days reads a few hundred rows instead of a month of ledger.

    A row is keyed by the vendor's calendar day *and* the UTC day of the ledger rows it sums: a
    program's statistics group by the first, the platform's (UTC days) by the second. The sums
    follow lifetime_totals.ledger_sum (voids and adjustments count nothing: what happened at the
    counter). `flask loyalty verify-ledger` recomputes them from the ledger.
    """

    __tablename__ = "program_daily_activity"
    __table_args__ = (Index("ix_program_daily_activity_utc_day", "utc_day"),)

    program_id: Mapped[int] = mapped_column(
        ForeignKey("loyalty_programs.id"), primary_key=True, autoincrement=False
    )
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    utc_day: Mapped[date] = mapped_column(Date, primary_key=True)
    slot: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    total_stamps_earned: Mapped[int] = mapped_column(default=0)
    total_stamps_redeemed: Mapped[int] = mapped_column(default=0)
    total_points_earned: Mapped[int] = mapped_column(default=0)
    total_points_redeemed: Mapped[int] = mapped_column(default=0)
    total_rewards_redeemed: Mapped[int] = mapped_column(default=0)
