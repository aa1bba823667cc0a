"""What the cashier's screen may offer on a card, decided by the same rules the operations run.

The card view must never offer an action that will be refused after four PIN digits: it runs
stamp_service.check_stamps, points_service.check_purchase and transaction_service.check_undo on an
unlocked read of the card. The operations decide again under the card's lock, so a screen that is
a few seconds old can still be refused, but only by what changed meanwhile.
"""

from dataclasses import dataclass
from datetime import datetime

from ..clock import utcnow
from ..errors import DailyPointsLimit, DailyStampLimit, LoyaltyError, StampCooldown
from ..models import LoyaltyCard, LoyaltyProgram, LoyaltyTransaction
from . import card_service, points_service, stamp_service, transaction_service
from .ledger import Actor, LockedCard, ProgramRules, card_state, rules_of


@dataclass(frozen=True)
class CounterCard:
    """A card as the counter sees it now."""

    card: LoyaltyCard
    program: LoyaltyProgram
    state: LockedCard
    # Stamp cards: why no stamp can be added now (StampCooldown or DailyStampLimit), else None,
    # and the largest number of stamps one purchase may add now.
    stamp_refusal: LoyaltyError | None
    max_stamps_now: int
    # Points cards: the daily cap is used up.
    points_refusal: LoyaltyError | None
    # The action this cashier may still undo (their own last one, inside the window), or None.
    undoable: LoyaltyTransaction | None

    @property
    def reward_ready(self) -> bool:
        return self.program.is_stamps and self.card.stamp_count >= self.program.stamps_target

    @property
    def next_stamp_at(self) -> datetime | None:
        return getattr(self.stamp_refusal, "cooldown_ends", None)

    @property
    def daily_limit_reached(self) -> bool:
        return isinstance(self.stamp_refusal, DailyStampLimit)


def _stamp_refusal(rules: ProgramRules, state: LockedCard, now: datetime):
    try:
        stamp_service.check_stamps(rules, state, now, 1)
    except (StampCooldown, DailyStampLimit) as refusal:
        return refusal, 0
    left_today = rules.max_daily_stamps - state.stamps_today
    return None, max(1, min(rules.max_stamps_per_purchase, left_today))


def card_at_counter(vendor_id: int, card_id: int, actor: Actor) -> CounterCard:
    """The vendor's card with what the counter may do on it now. Raises LoyaltyCardNotFound."""
    now = utcnow()
    card = card_service.get_card(vendor_id, card_id)
    program = card.program
    rules = rules_of(program)
    state = card_state(rules, card.id, now)
    stamp_refusal, max_stamps = None, 0
    points_refusal = None
    if program.is_stamps:
        stamp_refusal, max_stamps = _stamp_refusal(rules, state, now)
    elif rules.max_daily_points is not None and state.points_today >= rules.max_daily_points:
        points_refusal = _daily_points_refusal(rules, state, now)
    undoable = None
    if rules.counter_undo_minutes:
        undoable = transaction_service.undoable_action(vendor_id, card.id, actor, now)
    return CounterCard(card, program, state, stamp_refusal, max_stamps, points_refusal, undoable)


def _daily_points_refusal(rules: ProgramRules, state: LockedCard, now: datetime):
    try:
        # The smallest amount that earns a point meets the cap that is used up.
        points_service.check_purchase(rules, state, now, smallest_earning_amount(rules))
    except DailyPointsLimit as refusal:
        return refusal
    except LoyaltyError:
        return None
    return None


def smallest_earning_amount(rules: ProgramRules) -> int:
    """The smallest amount (minor units) that earns one point at the program's rate."""
    rate = max(1, rules.points_per_currency_unit)
    return -(-100 // rate)


def check_amount(vendor_id: int, card_id: int, purchase_amount_cents: int,
                 *, large_amount_confirmed: bool = False) -> int:
    """The points a typed amount would earn on this card now, or the refusal it would meet
    (points_service.check_purchase), before any PIN is asked."""
    now = utcnow()
    card = card_service.get_card(vendor_id, card_id)
    rules = rules_of(card.program)
    return points_service.check_purchase(
        rules, card_state(rules, card.id, now), now, purchase_amount_cents,
        large_amount_confirmed=large_amount_confirmed,
    )


def check_stamp_quantity(vendor_id: int, card_id: int, stamps: int) -> None:
    """Refuse, before the PIN, a purchase of `stamps` stamps the card cannot take now."""
    now = utcnow()
    card = card_service.get_card(vendor_id, card_id)
    rules = rules_of(card.program)
    stamp_service.check_stamps(rules, card_state(rules, card.id, now), now, stamps)
