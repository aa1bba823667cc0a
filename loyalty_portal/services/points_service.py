"""Points: earning them from a purchase amount, and redeeming catalogue rewards."""

from datetime import datetime

from flask_babel import lazy_gettext as _l

from ..errors import (
    DailyPointsLimit,
    InsufficientPoints,
    InvalidReward,
    LargePurchaseNotConfirmed,
    PurchaseAmountTooLarge,
    ValidationError,
    WrongProgramType,
)
from ..models import ProgramType, TransactionType
from . import money
from .ledger import Actor, BalanceChange, Change, LockedCard, ProgramRules, apply_change
from .lifetime_totals import totals_moved
from .local_days import local_day_bounds

# In the currency's minor units (the API's field keeps its historical name, _cents).
MAX_PURCHASE_AMOUNT_CENTS = money.MAX_AMOUNT_MINOR_UNITS


def _require_points_program(rules: ProgramRules) -> None:
    if rules.program_type != ProgramType.POINTS:
        raise WrongProgramType(rules.program_type)


def check_purchase(
    rules: ProgramRules,
    card: LockedCard,
    now: datetime,
    purchase_amount_cents: int,
    *,
    large_amount_confirmed: bool = False,
) -> int:
    """The points a purchase earns on this card, or the refusal (see earn_points). The cashier's
    screen runs it as the amount is typed, before anyone is asked for a PIN."""
    if purchase_amount_cents < 1:
        raise ValidationError(
            _l("The purchase amount must be above zero."), field="purchase_amount_cents"
        )
    if purchase_amount_cents > rules.max_purchase_amount_cents:
        raise PurchaseAmountTooLarge(purchase_amount_cents, rules.max_purchase_amount_cents)
    points = money.points_for_amount(
        purchase_amount_cents, rules.points_per_currency_unit, rules.currency
    )
    if points <= 0:
        raise ValidationError(
            _l("This purchase is too small to earn a point."), field="purchase_amount_cents"
        )
    if rules.max_daily_points is not None and card.points_today + points > rules.max_daily_points:
        resets_at = local_day_bounds(now, rules.timezone)[1]
        raise DailyPointsLimit(rules.max_daily_points, card.points_today, resets_at, now)
    threshold = rules.confirm_purchase_above_cents
    if threshold is not None and purchase_amount_cents > threshold and not large_amount_confirmed:
        raise LargePurchaseNotConfirmed(purchase_amount_cents, points, threshold)
    return points


def earn_points(
    vendor_id: int,
    card_id: int,
    purchase_amount_cents: int,
    *,
    actor: Actor,
    large_amount_confirmed: bool = False,
    idempotency_key: str | None = None,
) -> BalanceChange:
    """Credit the points a purchase earns at the program's rate; the amount is kept on the row.

    The program protects points as it protects stamps: an amount above
    `max_purchase_amount_cents` is refused (the owner adjusts such a balance), a card earns at
    most `max_daily_points` a day in the vendor's time zone when that cap is set, and an amount
    above `confirm_purchase_above_cents` needs `large_amount_confirmed` (the cashier saw the
    points a second time).

    `purchase_amount_cents` is in the vendor's currency's minor units (cents, yen, fils).
    Raises ValidationError when the amount is not a positive whole number or earns no point,
    PurchaseAmountTooLarge, DailyPointsLimit, LargePurchaseNotConfirmed, the PIN errors,
    LoyaltyCardInactive, LoyaltyProgramInactive, WrongProgramType.
    """
    if (
        not isinstance(purchase_amount_cents, int)
        or isinstance(purchase_amount_cents, bool)
        or not 1 <= purchase_amount_cents <= MAX_PURCHASE_AMOUNT_CENTS
    ):
        raise ValidationError(
            _l("The purchase amount must be above zero."), field="purchase_amount_cents"
        )

    def decide(rules: ProgramRules, card: LockedCard, now: datetime) -> Change:
        points = check_purchase(
            rules, card, now, purchase_amount_cents, large_amount_confirmed=large_amount_confirmed
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
        counts_today=True,
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
