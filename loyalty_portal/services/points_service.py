"""Points: earning them from a purchase amount, and redeeming catalogue rewards."""

from datetime import datetime

from flask_babel import lazy_gettext as _l

from ..errors import InsufficientPoints, InvalidReward, ValidationError, WrongProgramType
from ..models import ProgramType, TransactionType
from .ledger import Actor, BalanceChange, Change, LockedCard, ProgramRules, apply_change
from .lifetime_totals import totals_moved

# A single purchase above this is a typing mistake, not a sale at a café (100 000.00 in cents).
MAX_PURCHASE_AMOUNT_CENTS = 10_000_000


def _require_points_program(rules: ProgramRules) -> None:
    if rules.program_type != ProgramType.POINTS:
        raise WrongProgramType(rules.program_type)


def points_for_amount(purchase_amount_cents: int, points_per_currency_unit: int) -> int:
    """Points for a purchase: the amount times the rate, rounded down to a whole point.

    Integer arithmetic only: money never passes through a float."""
    return purchase_amount_cents * points_per_currency_unit // 100


def earn_points(
    vendor_id: int,
    card_id: int,
    purchase_amount_cents: int,
    *,
    actor: Actor,
    idempotency_key: str | None = None,
) -> BalanceChange:
    """Credit the points a purchase earns at the program's rate; the amount is kept on the row.

    Raises ValidationError when the amount is not a positive integer of cents, is implausibly
    large or earns no point, the PIN errors, LoyaltyCardInactive, LoyaltyProgramInactive,
    WrongProgramType.
    """
    if (
        not isinstance(purchase_amount_cents, int)
        or isinstance(purchase_amount_cents, bool)
        or not 1 <= purchase_amount_cents <= MAX_PURCHASE_AMOUNT_CENTS
    ):
        raise ValidationError(
            _l("The purchase amount must be a positive amount in cents."),
            field="purchase_amount_cents",
        )

    def decide(rules: ProgramRules, card: LockedCard, now: datetime) -> Change:
        points = points_for_amount(purchase_amount_cents, rules.points_per_currency_unit)
        if points <= 0:
            raise ValidationError(
                _l("This purchase is too small to earn a point."), field="purchase_amount_cents"
            )
        return Change(
            transaction_type=TransactionType.POINTS_EARNED,
            points_delta=points,
            totals=totals_moved(TransactionType.POINTS_EARNED, points_delta=points),
            purchase_amount_cents=purchase_amount_cents,
        )

    return apply_change(
        vendor_id,
        card_id,
        TransactionType.POINTS_EARNED,
        decide,
        actor=actor,
        idempotency_key=idempotency_key,
        request_fields={"purchase_amount_cents": purchase_amount_cents},
        check_program=_require_points_program,
    )


def redeem_reward(
    vendor_id: int,
    card_id: int,
    reward_id: str,
    *,
    actor: Actor,
    idempotency_key: str | None = None,
) -> BalanceChange:
    """Redeem a catalogue reward, paying its points cost from the card.

    Raises InvalidReward for an unknown or inactive reward, InsufficientPoints when the balance
    does not cover the cost, the PIN errors, LoyaltyCardInactive, LoyaltyProgramInactive,
    WrongProgramType.
    """

    def decide(rules: ProgramRules, card: LockedCard, now: datetime) -> Change:
        reward = rules.find_reward(reward_id)
        if reward is None:
            raise InvalidReward(reward_id)
        cost = int(reward["points_cost"])
        if card.points_balance < cost:
            raise InsufficientPoints(card.points_balance, cost)
        return Change(
            transaction_type=TransactionType.POINTS_REWARD_REDEEMED,
            points_delta=-cost,
            totals=totals_moved(TransactionType.POINTS_REWARD_REDEEMED, points_delta=-cost),
            reward_id=reward["id"],
            reward_name=reward["name"],
        )

    return apply_change(
        vendor_id,
        card_id,
        TransactionType.POINTS_REWARD_REDEEMED,
        decide,
        actor=actor,
        idempotency_key=idempotency_key,
        request_fields={"reward_id": reward_id},
        check_program=_require_points_program,
    )
