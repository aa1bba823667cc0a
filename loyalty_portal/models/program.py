import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Enum, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .types import UTCDateTime
from .vendor import Vendor


def active_rewards(catalogue: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The rewards of a catalogue that customers can redeem now."""
    return [reward for reward in catalogue or [] if reward.get("active", True)]


def find_active_reward(
    catalogue: list[dict[str, Any]] | None, reward_id: str
) -> dict[str, Any] | None:
    """The active reward with this id, or None (the one lookup: screens, API and ledger)."""
    return next((r for r in active_rewards(catalogue) if r.get("id") == reward_id), None)


class ProgramType(enum.StrEnum):
    STAMPS = "stamps"
    POINTS = "points"


class LoyaltyProgram(db.Model):
    """A vendor's one loyalty program: its rules, anti-fraud settings, card look and wallets.

    `points_rewards` is the rewards catalogue of a points program, a list of
    `{"id": str, "name": str, "points_cost": int, "active": bool}`; ids are stable so ledger rows
    can name the reward they paid for.
    """

    __tablename__ = "loyalty_programs"
    __table_args__ = (
        CheckConstraint("stamps_target >= 1", name="stamps_target_positive"),
        CheckConstraint("points_per_currency_unit >= 0", name="points_rate_not_negative"),
        CheckConstraint("cooldown_minutes >= 0", name="cooldown_not_negative"),
        CheckConstraint("max_daily_stamps >= 1", name="daily_limit_positive"),
        CheckConstraint("pin_max_failed_attempts >= 1", name="pin_attempts_positive"),
        CheckConstraint("pin_lockout_minutes >= 1", name="pin_lockout_positive"),
        CheckConstraint("max_stamps_per_purchase >= 1", name="stamps_per_purchase_positive"),
        CheckConstraint("max_purchase_amount_cents >= 1", name="max_purchase_amount_positive"),
        CheckConstraint("counter_undo_minutes >= 0", name="counter_undo_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), unique=True)
    program_type: Mapped[ProgramType] = mapped_column(
        Enum(
            ProgramType,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")

    stamps_target: Mapped[int] = mapped_column(default=10)
    stamps_reward_description: Mapped[str] = mapped_column(String(200), default="")
    points_per_currency_unit: Mapped[int] = mapped_column(default=1)
    points_rewards: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    require_staff_pin: Mapped[bool] = mapped_column(default=True)
    cooldown_minutes: Mapped[int] = mapped_column(default=15)
    max_daily_stamps: Mapped[int] = mapped_column(default=5)
    pin_max_failed_attempts: Mapped[int] = mapped_column(default=5)
    pin_lockout_minutes: Mapped[int] = mapped_column(default=30)
    # The counter's limits (issue 15): stamps one purchase may earn; the largest amount a cashier
    # may enter, an optional cap on points a card earns per day, and the amount above which the
    # cashier confirms the points a second time (None: no cap, no second confirmation).
    max_stamps_per_purchase: Mapped[int] = mapped_column(default=5)
    max_purchase_amount_cents: Mapped[int] = mapped_column(default=100_000)
    max_daily_points: Mapped[int | None]
    confirm_purchase_above_cents: Mapped[int | None]
    # How long a cashier may undo their own last action on a card (0: only the owner voids).
    counter_undo_minutes: Mapped[int] = mapped_column(default=5)

    card_background_color: Mapped[str] = mapped_column(String(7), default="#1F3A5F")
    card_text_color: Mapped[str] = mapped_column(String(7), default="#FFFFFF")
    logo_url: Mapped[str | None] = mapped_column(String(500))
    # Where the shop is: the Apple pass surfaces on the lock screen near it (both or neither).
    shop_latitude: Mapped[float | None] = mapped_column(Float)
    shop_longitude: Mapped[float | None] = mapped_column(Float)

    apple_wallet_enabled: Mapped[bool] = mapped_column(default=False)
    google_wallet_enabled: Mapped[bool] = mapped_column(default=False)
    google_class_id: Mapped[str | None] = mapped_column(String(200), unique=True)

    # Texts per language, {"fr": {"name", "description", "stamps_reward_description",
    # "poster_text", "rewards": {reward_id: name}}}; missing ones fall back to the vendor's
    # language, then to the columns above (services/program_texts.py).
    translations: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    vendor: Mapped[Vendor] = relationship()

    @property
    def is_stamps(self) -> bool:
        return self.program_type == ProgramType.STAMPS

    @property
    def is_points(self) -> bool:
        return self.program_type == ProgramType.POINTS

    def active_rewards(self) -> list[dict[str, Any]]:
        return active_rewards(self.points_rewards)

    def find_reward(self, reward_id: str) -> dict[str, Any] | None:
        return find_active_reward(self.points_rewards, reward_id)
