"""Corrections and history: voids and adjustments are new ledger rows, never edits."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..errors import (
    TransactionAlreadyVoided,
    TransactionNotFound,
    TransactionNotVoidable,
    UndoNotAllowed,
    ValidationError,
)
from ..extensions import db
from ..models import LoyaltyCard, LoyaltyProgram, LoyaltyTransaction, TransactionType
from .card_service import get_card
from .ledger import (
    Actor,
    BalanceChange,
    Change,
    LockedCard,
    ProgramRules,
    apply_change,
    rules_of,
)
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
    return apply_change(
        vendor_id,
        original.card_id,
        TransactionType.VOID,
        _void_of(original, reason),
        actor=actor,
        idempotency_key=idempotency_key,
        request_fields={"voids_transaction_id": transaction_id},
        requires_staff_pin=False,
        requires_active=False,
    )


def _void_of(original: LoyaltyTransaction, reason: str, extra_check=None):
    """The decide() of a void: the one rule for cancelling a row, shared by the owner's void and
    the cashier's undo (`extra_check(rules, card, now)` adds the undo's own conditions)."""
    if TransactionType(original.transaction_type) == TransactionType.VOID:
        raise TransactionNotVoidable(original.id, "is_a_void")
    totals = reversed_totals(original)

    def decide(rules: ProgramRules, card: LockedCard, now: datetime) -> Change:
        already = db.session.scalar(select(T.id).where(T.voids_transaction_id == original.id))
        if already is not None:
            raise TransactionAlreadyVoided(original.id)
        if extra_check is not None:
            extra_check(rules, card, now)
        if (
            card.stamp_count - original.stamps_delta < 0
            or card.points_balance - original.points_delta < 0
        ):
            raise TransactionNotVoidable(original.id, "balance_too_low")
        return Change(
            transaction_type=TransactionType.VOID,
            stamps_delta=-original.stamps_delta,
            points_delta=-original.points_delta,
            totals=totals,
            voids_transaction_id=original.id,
            reason=reason,
            reward_id=original.reward_id,
            reward_name=original.reward_name,
        )

    return decide


# Undo at the counter ------------------------------------------------------------------------------

_UNDOABLE = (
    TransactionType.STAMP_EARNED,
    TransactionType.STAMP_REWARD_REDEEMED,
    TransactionType.POINTS_EARNED,
    TransactionType.POINTS_REWARD_REDEEMED,
)


def _last_row(card_id: int) -> LoyaltyTransaction | None:
    return db.session.scalar(select(T).where(T.card_id == card_id).order_by(T.id.desc()).limit(1))


def check_undo(
    rules: ProgramRules, original: LoyaltyTransaction | None, last_id: int | None,
    actor: Actor, now: datetime,
) -> None:
    """Whether `actor` may undo `original` at the counter: it is the card's last row, a counter
    action (stamp, points, reward), recorded by the same staff member (or, when the program asks
    for no PIN, the same login), at most `counter_undo_minutes` ago. Raises UndoNotAllowed."""
    if original is None or TransactionType(original.transaction_type) not in _UNDOABLE:
        raise UndoNotAllowed(original.card_id if original else 0, "nothing")
    if original.id != last_id:
        raise UndoNotAllowed(original.card_id, "not_last", original.id)
    if rules.require_staff_pin:
        own = original.staff_pin_id is not None and original.staff_pin_id == actor.staff_pin_id
    else:
        own = original.user_id is not None and original.user_id == actor.user_id
    if not own:
        raise UndoNotAllowed(original.card_id, "not_yours", original.id)
    if now > original.created_at + timedelta(minutes=rules.counter_undo_minutes):
        raise UndoNotAllowed(original.card_id, "window_passed", original.id)


def undoable_action(vendor_id: int, card_id: int, actor: Actor, now: datetime):
    """The card's last row if `actor` may undo it now (check_undo), else None: the cashier's
    screen offers Undo only then."""
    card = get_card(vendor_id, card_id)
    last = _last_row(card.id)
    try:
        check_undo(rules_of(card.program), last, last.id if last else None, actor, now)
    except UndoNotAllowed:
        return None
    return last


def undo_at_counter(
    vendor_id: int,
    transaction_id: int,
    *,
    actor: Actor,
    reason: str,
    idempotency_key: str | None = None,
) -> BalanceChange:
    """A cashier cancels their own last action on a card, confirmed by their PIN: the same
    `void` row as the owner's void (void_transaction), allowed only while check_undo holds
    (checked again under the card's lock, after the PIN).

    Raises UndoNotAllowed, TransactionNotFound, TransactionAlreadyVoided, TransactionNotVoidable,
    the PIN errors, IdempotencyKeyReused.
    """
    original = get_transaction(vendor_id, transaction_id)

    def still_allowed(rules: ProgramRules, card: LockedCard, now: datetime) -> None:
        last = _last_row(card.id)
        check_undo(rules, original, last.id if last else None, actor, now)

    return apply_change(
        vendor_id,
        original.card_id,
        TransactionType.VOID,
        _void_of(original, _clean_reason(reason), still_allowed),
        actor=actor,
        idempotency_key=idempotency_key,
        request_fields={"voids_transaction_id": transaction_id},
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
