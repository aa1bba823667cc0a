"""Corrections and history: voids and adjustments are new ledger rows, never edits."""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..errors import (
    TransactionAlreadyVoided,
    TransactionNotFound,
    TransactionNotVoidable,
    ValidationError,
)
from ..extensions import db
from ..models import LoyaltyCard, LoyaltyProgram, LoyaltyTransaction, TransactionType
from .card_service import get_card
from .ledger import Actor, BalanceChange, Change, LockedCard, ProgramRules, apply_change
from .lifetime_totals import reversed_totals
from .lookup import one_or_raise

T = LoyaltyTransaction
MAX_ADJUSTMENT_DELTA = 1000  # stamps or points one adjustment may add or remove

def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 500:
        raise ValidationError(_l("Give a reason of 1 to 500 characters."), field="reason")
    return reason


def get_transaction(vendor_id: int, transaction_id: int) -> LoyaltyTransaction:
    """The vendor's ledger row with that id; another vendor's id is simply not found."""
    return one_or_raise(
        select(T)
        .join(LoyaltyProgram, LoyaltyProgram.id == T.program_id)
        .where(T.id == transaction_id, LoyaltyProgram.vendor_id == vendor_id),
        TransactionNotFound(transaction_id),
    )


def void_transaction(
    vendor_id: int,
    transaction_id: int,
    reason: str,
    *,
    actor: Actor,
    idempotency_key: str | None = None,
) -> BalanceChange:
    """Cancel a ledger row with a new `void` row that reverses its deltas and lifetime totals.

    Raises TransactionNotFound, TransactionNotVoidable (a void itself, or the balance no longer
    covers the reversal, e.g. earned stamps already redeemed), TransactionAlreadyVoided,
    ValidationError for a missing reason.
    """
    reason = _clean_reason(reason)
    original = get_transaction(vendor_id, transaction_id)
    original_type = TransactionType(original.transaction_type)
    if original_type == TransactionType.VOID:
        raise TransactionNotVoidable(transaction_id, "is_a_void")
    totals = reversed_totals(original)

    def decide(rules: ProgramRules, card: LockedCard, now: datetime) -> Change:
        already = db.session.scalar(select(T.id).where(T.voids_transaction_id == transaction_id))
        if already is not None:
            raise TransactionAlreadyVoided(transaction_id)
        if (
            card.stamp_count - original.stamps_delta < 0
            or card.points_balance - original.points_delta < 0
        ):
            raise TransactionNotVoidable(transaction_id, "balance_too_low")
        return Change(
            transaction_type=TransactionType.VOID,
            stamps_delta=-original.stamps_delta,
            points_delta=-original.points_delta,
            totals=totals,
            voids_transaction_id=transaction_id,
            reason=reason,
            reward_id=original.reward_id,
            reward_name=original.reward_name,
        )

    return apply_change(
        vendor_id,
        original.card_id,
        TransactionType.VOID,
        decide,
        actor=actor,
        idempotency_key=idempotency_key,
        request_fields={"voids_transaction_id": transaction_id},
        requires_staff_pin=False,
        requires_active=False,
    )


def adjust_balance(
    vendor_id: int,
    card_id: int,
    *,
    stamps_delta: int = 0,
    points_delta: int = 0,
    reason: str,
    actor: Actor,
    idempotency_key: str | None = None,
) -> BalanceChange:
    """An owner's manual correction of a card's balances, with a reason; lifetime totals stay.
    It works on a blocked card and in a paused program, like a void.

    Raises ValidationError when a delta is not a whole number from -MAX_ADJUSTMENT_DELTA to
    MAX_ADJUSTMENT_DELTA, nothing changes or a balance would go below zero; LoyaltyCardNotFound
    (also for another vendor's card), IdempotencyKeyReused.
    """
    for field, delta in (("stamps_delta", stamps_delta), ("points_delta", points_delta)):
        if (
            isinstance(delta, bool)
            or not isinstance(delta, int)
            or abs(delta) > MAX_ADJUSTMENT_DELTA
        ):
            raise ValidationError(
                _l(
                    "Must be a whole number from %(low)s to %(high)s.",
                    low=-MAX_ADJUSTMENT_DELTA,
                    high=MAX_ADJUSTMENT_DELTA,
                ),
                field=field,
            )
    reason = _clean_reason(reason)
    if stamps_delta == 0 and points_delta == 0:
        raise ValidationError(_l("An adjustment must change a balance."), field="stamps_delta")

    def decide(rules: ProgramRules, card: LockedCard, now: datetime) -> Change:
        if card.stamp_count + stamps_delta < 0 or card.points_balance + points_delta < 0:
            raise ValidationError(_l("A balance cannot go below zero."), field="stamps_delta")
        return Change(
            transaction_type=TransactionType.ADJUSTMENT,
            stamps_delta=stamps_delta,
            points_delta=points_delta,
            reason=reason,
        )

    return apply_change(
        vendor_id,
        card_id,
        TransactionType.ADJUSTMENT,
        decide,
        actor=actor,
        idempotency_key=idempotency_key,
        request_fields={"stamps_delta": stamps_delta, "points_delta": points_delta},
        requires_staff_pin=False,
        requires_active=False,
    )


def card_history(
    card_id: int, limit: int = 50, before_id: int | None = None
) -> list[LoyaltyTransaction]:
    """A card's ledger, newest first, in pages of `limit` rows (keyset on the id)."""
    query = select(T).where(T.card_id == card_id).order_by(T.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(T.id < before_id)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class CardHistory:
    card: LoyaltyCard
    transactions: list[LoyaltyTransaction]


def card_with_history(
    vendor_id: int, card_id: int, limit: int = 50, before_id: int | None = None
) -> CardHistory:
    """The vendor's card and a page of its ledger, newest first. Raises LoyaltyCardNotFound
    (also for another vendor's card)."""
    card = get_card(vendor_id, card_id)
    return CardHistory(card, card_history(card.id, limit, before_id))


@dataclass(frozen=True)
class CardPage:
    """What the owner's card page shows: the card, one page of its ledger, which of those rows
    were voided already, and where the next page starts (None: this is the last)."""

    card: LoyaltyCard
    transactions: list[LoyaltyTransaction]
    voided_ids: set[int]
    next_before_id: int | None


def card_page(
    vendor_id: int, card_id: int, limit: int = 50, before_id: int | None = None
) -> CardPage:
    """The vendor's card with a page of its history, in three queries. Raises
    LoyaltyCardNotFound (also for another vendor's card)."""
    history = card_with_history(vendor_id, card_id, limit + 1, before_id)
    rows = history.transactions[:limit]
    ids = [row.id for row in rows]
    voided = (
        set(
            db.session.scalars(
                select(T.voids_transaction_id).where(T.voids_transaction_id.in_(ids))
            )
        )
        if ids
        else set()
    )
    next_before = rows[-1].id if len(history.transactions) > limit else None
    return CardPage(history.card, rows, voided, next_before)
