from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .customer import Customer
from .program import LoyaltyProgram
from .types import UTCDateTime


class LoyaltyCard(db.Model):
    """A customer's card in one program. Balances here are a cache of the ledger's sums.

    Only the services change balances, always together with a ledger row;
    `flask loyalty verify-ledger` proves the two agree.
    """

    __tablename__ = "loyalty_cards"
    __table_args__ = (
        UniqueConstraint("customer_id", "program_id"),
        # The statistics: new cards per day (a program's, the platform's), a program's active
        # cards and last activity are index range scans (the first also serves every lookup by
        # program id).
        Index("ix_loyalty_cards_program_created", "program_id", "created_at"),
        Index("ix_loyalty_cards_program_activity", "program_id", "last_activity_at"),
        Index("ix_loyalty_cards_created", "created_at"),  # the platform's new cards per day
        CheckConstraint("stamp_count >= 0", name="stamp_count_not_negative"),
        CheckConstraint("points_balance >= 0", name="points_balance_not_negative"),
        CheckConstraint(
            "total_stamps_earned >= 0 AND total_stamps_redeemed >= 0 AND total_points_earned >= 0"
            " AND total_points_redeemed >= 0 AND total_rewards_redeemed >= 0",
            name="totals_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("loyalty_programs.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # Printed on the card and typed by cashiers: digits only, the last one a Luhn check digit.
    card_number: Mapped[str] = mapped_column(String(20), unique=True)
    # Unguessable secret in the QR code and in the customer's card link.
    public_token: Mapped[str] = mapped_column(String(64), unique=True)

    stamp_count: Mapped[int] = mapped_column(default=0)
    points_balance: Mapped[int] = mapped_column(default=0)
    total_stamps_earned: Mapped[int] = mapped_column(default=0)
    total_stamps_redeemed: Mapped[int] = mapped_column(default=0)
    total_points_earned: Mapped[int] = mapped_column(default=0)
    total_points_redeemed: Mapped[int] = mapped_column(default=0)
    total_rewards_redeemed: Mapped[int] = mapped_column(default=0)

    last_stamp_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The app clock at the last change: for people. "What changed since" uses change_tag.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped in the same statement as every change to what the card's pass shows (balances,
    # blocking, the program's look and texts, erasure); see services/change_tags.py for why a
    # reader may trust it in commit order.
    change_tag: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", index=True)

    apple_serial_number: Mapped[str] = mapped_column(String(64), unique=True)
    apple_auth_token: Mapped[str] = mapped_column(String(64))
    google_object_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    # When a recovery link was last opened: links sent before then no longer work (single use).
    link_recovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    program: Mapped[LoyaltyProgram] = relationship()
    customer: Mapped[Customer] = relationship()
