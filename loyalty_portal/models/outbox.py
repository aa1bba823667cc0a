import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db
from .types import UTCDateTime


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting, being delivered (claimed_by set) or failing (attempts > 0)
    DELIVERED = "delivered"
    DEAD = "dead"  # still failing after the maximum age; only an admin's retry revives it


_PENDING = text("status = 'pending'")
_DONE = text("status <> 'pending'")


class OutboxMessage(db.Model):
    """Something outside must hear about a change: written in the same transaction as the change,
    delivered after commit by `flask loyalty worker` (services/outbox.py, worker.py).

    A row names what changed (card, program, customer) and why, never what to send: the handler
    reads the current state when it delivers. While a row with the same (kind, coalesce_key) is
    pending, a new change folds into it (`changes` counts them), so a burst of stamps on one card
    is one delivery of the final state.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # The coalescing target of INSERT ... ON CONFLICT: one pending row per kind and subject.
        Index(
            "uq_outbox_messages_pending_kind_coalesce_key",
            "kind",
            "coalesce_key",
            unique=True,
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        ),
        # What the worker claims: pending rows in due order (small, whatever the history).
        Index(
            "ix_outbox_messages_pending_due_at",
            "due_at",
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        ),
        # Dead ones for the admin, delivered ones for pruning. Partial: a stamp's new pending
        # row is not written into it.
        Index(
            "ix_outbox_messages_done_status_delivered_at",
            "status",
            "delivered_at",
            sqlite_where=_DONE,
            postgresql_where=_DONE,
        ),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    # An announcement (card.changed, program.changed, customer.erased) or a delivery kind that
    # names its handler (e.g. apple.pass_update).
    kind: Mapped[str] = mapped_column(String(64))
    card_id: Mapped[int | None]
    program_id: Mapped[int | None]
    customer_id: Mapped[int | None]
    reason: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Messages with the same kind and key fold together while pending; None never folds.
    coalesce_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(
            OutboxStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=OutboxStatus.PENDING,
    )
    changes: Mapped[int] = mapped_column(default=1)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_change_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When a worker may next take it; a claim pushes it forward by the lease, so a worker that
    # dies mid-delivery leaves a message that becomes due again by itself.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    # Set by an admin's retry: the maximum age counts from here then.
    retried_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    @property
    def is_failing(self) -> bool:
        return self.status == OutboxStatus.PENDING and self.attempts > 0
