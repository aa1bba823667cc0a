"""Stamps: adding them under the anti-fraud rules, and redeeming the stamp reward."""

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from ..errors import (
    DailyStampLimit,
    InsufficientStamps,
    StampCooldown,
    ValidationError,
    WrongProgramType,
)
from ..models import ProgramType, TransactionType
from .ledger import Actor, BalanceChange, Change, LockedCard, ProgramRules, apply_change
from .lifetime_totals import totals_moved
from .local_days import local_day_bounds

MAX_STAMPS_PER_OPERATION = 10


def _require_stamps_program(rules: ProgramRules) -> None:
    if rules.program_type != ProgramType.STAMPS:
        raise WrongProgramType(rules.program_type)


def check_stamps(rules: ProgramRules, card: LockedCard, now: datetime, stamps: int = 1) -> None:
    """The rules a purchase of `stamps` stamps must pass on this card (see add_stamp). The
    cashier's screen runs them on an unlocked read to offer only what will be accepted."""
    if stamps > rules.max_stamps_per_purchase:
        raise ValidationError(
            _l(
                "At most %(max)s stamps for one purchase.",
                max=rules.max_stamps_per_purchase,
            ),
            field="stamps",
        )
    if rules.cooldown_minutes and card.last_stamp_at is not None:
        cooldown_ends = card.last_stamp_at + timedelta(minutes=rules.cooldown_minutes)
        if now < cooldown_ends:
            raise StampCooldown(cooldown_ends, rules.cooldown_minutes, now)
    if card.stamps_today + stamps > rules.max_daily_stamps:
        resets_at = local_day_bounds(now, rules.timezone)[1]
        raise DailyStampLimit(rules.max_daily_stamps, card.stamps_today, resets_at, now)


def add_stamp(
    vendor_id: int,
    card_id: int,
    *,
    actor: Actor,
    stamps: int = 1,
    idempotency_key: str | None = None,
) -> BalanceChange:
    """Add `stamps` stamps (one purchase) to a card of the vendor's stamp program.

    Guarantees, checked under the card's row lock so two tablets cannot both pass them:
    - the staff PIN is verified when the program requires one;
    - `stamps` is at most the program's `max_stamps_per_purchase`; they are one ledger row;
    - at least `cooldown_minutes` have passed since the card's last purchase (exactly the
      cooldown is allowed): the cooldown is between purchases, not stamps;
    - the card gets at most `max_daily_stamps` stamps per calendar day in the vendor's time zone
      (a purchase of 3 counts 3).

    Raises StampCooldown (with when it ends), DailyStampLimit, the PIN errors, LoyaltyCardInactive,
    LoyaltyProgramInactive, WrongProgramType, ValidationError for a bad stamp count.
    """
    if not isinstance(stamps, int) or not 1 <= stamps <= MAX_STAMPS_PER_OPERATION:
        raise ValidationError(
            _l("Stamps per purchase must be between 1 and %(max)s.", max=MAX_STAMPS_PER_OPERATION),
            field="stamps",
        )

    def decide(rules: ProgramRules, card: LockedCard, now: datetime) -> Change:
        check_stamps(rules, card, now, stamps)
        return Change(
            transaction_type=TransactionType.STAMP_EARNED,
            stamps_delta=stamps,
            totals=totals_moved(TransactionType.STAMP_EARNED, stamps_delta=stamps),
            is_stamp=True,
        )

    return apply_change(
        vendor_id,
        card_id,
        TransactionType.STAMP_EARNED,
        decide,
        actor=actor,
        idempotency_key=idempotency_key,
        request_fields={"stamps_delta": stamps},
        counts_today=True,
        check_program=_require_stamps_program,
    )


def redeem_reward(
    vendor_id: int, card_id: int, *, actor: Actor, idempotency_key: str | None = None
) -> BalanceChange:
    """Redeem the stamp reward: take `stamps_target` stamps off the card and record the reward.

    Stamps beyond the target stay on the card. Raises InsufficientStamps when the card has fewer
    than the target, the PIN errors, LoyaltyCardInactive, LoyaltyProgramInactive, WrongProgramType.
    """

    def decide(rules: ProgramRules, card: LockedCard, now: datetime) -> Change:
        if card.stamp_count < rules.stamps_target:
            raise InsufficientStamps(card.stamp_count, rules.stamps_target)
        return Change(
            transaction_type=TransactionType.STAMP_REWARD_REDEEMED,
            stamps_delta=-rules.stamps_target,
            totals=totals_moved(
                TransactionType.STAMP_REWARD_REDEEMED, stamps_delta=-rules.stamps_target
            ),
            reward_name=rules.stamps_reward_description or None,
        )

    return apply_change(
        vendor_id,
        card_id,
        TransactionType.STAMP_REWARD_REDEEMED,
        decide,
        actor=actor,
        idempotency_key=idempotency_key,
        check_program=_require_stamps_program,
    )
