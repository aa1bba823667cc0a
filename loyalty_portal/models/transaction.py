import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .types import UTCDateTime


class TransactionType(enum.StrEnum):
    STAMP_EARNED = "stamp_earned"
    STAMP_REWARD_REDEEMED = "stamp_reward_redeemed"
    POINTS_EARNED = "points_earned"
    POINTS_REWARD_REDEEMED = "points_reward_redeemed"
    VOID = "void"
    ADJUSTMENT = "adjustment"


class LoyaltyTransaction(db.Model):
    """One immutable line of a card's ledger; every balance change writes exactly one.

    A correction is a new row (a void naming the row it cancels, or an adjustment), never an edit:
    the ORM refuses updates and deletes below, and database triggers refuse them too.
    """

    __tablename__ = "loyalty_transactions"
    __table_args__ = (
        Index("ix_loyalty_transactions_card_created", "card_id", "created_at"),
        Index("ix_loyalty_transactions_program_created", "program_id", "created_at"),
        Index(
            "uq_loyalty_transactions_program_idempotency_key",
            "program_id",
            "idempotency_key",
            unique=True,
        ),
        CheckConstraint(
            "stamps_balance_after >= 0 AND points_balance_after >= 0",
            name="balances_after_not_negative",
        ),
        CheckConstraint("purchase_amount_cents IS NULL OR purchase_amount_cents >= 0",
                        name="purchase_amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("loyalty_programs.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("loyalty_cards.id"))
    transaction_type: Mapped[TransactionType] = mapped_column(
        Enum(
            TransactionType,
            native_enum=False,
            length=32,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    stamps_delta: Mapped[int] = mapped_column(default=0)
    points_delta: Mapped[int] = mapped_column(default=0)
    stamps_balance_after: Mapped[int]
    points_balance_after: Mapped[int]

    staff_pin_id: Mapped[int | None] = mapped_column(ForeignKey("staff_pins.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    purchase_amount_cents: Mapped[int | None]
    reward_id: Mapped[str | None] = mapped_column(String(64))
    reward_name: Mapped[str | None] = mapped_column(String(200))
    voids_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("loyalty_transactions.id"), unique=True
    )
    reason: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    client_ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff_pin = relationship("StaffPin")
    voided_by = relationship(
        "LoyaltyTransaction",
        primaryjoin="LoyaltyTransaction.id == foreign(LoyaltyTransaction.voids_transaction_id)",
        uselist=False,
        viewonly=True,
    )


class LedgerIsImmutable(Exception):
    """Raised when code tries to change or delete a ledger row."""


@event.listens_for(Session, "before_flush")
def _refuse_ledger_edits(session: Session, flush_context, instances) -> None:
    for obj in session.deleted:
        if isinstance(obj, LoyaltyTransaction):
            raise LedgerIsImmutable("loyalty_transactions rows cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, LoyaltyTransaction) and session.is_modified(obj):
            raise LedgerIsImmutable("loyalty_transactions rows cannot be updated")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_ledger_edits(orm_execute_state) -> None:
    if orm_execute_state.is_update or orm_execute_state.is_delete:
        mapper = orm_execute_state.bind_mapper
        if mapper is not None and mapper.class_ is LoyaltyTransaction:
            raise LedgerIsImmutable("loyalty_transactions rows cannot be updated or deleted")
