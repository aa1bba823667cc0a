"""The counter's rules of issue 15, each at its boundary: stamps per purchase, the points
protection (largest amount, daily cap, second confirmation), the cashier's undo, and what the card
view offers before any PIN (counter_service)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from loyalty_portal.errors import (
    DailyPointsLimit,
    DailyStampLimit,
    LargePurchaseNotConfirmed,
    PurchaseAmountTooLarge,
    StampCooldown,
    TransactionAlreadyVoided,
    UndoNotAllowed,
    ValidationError,
)
from loyalty_portal.extensions import db as _db
from loyalty_portal.models import LoyaltyTransaction
from loyalty_portal.services import (
    counter_service,
    ledger_audit,
    points_service,
    program_service,
    stamp_service,
    transaction_service,
)
from loyalty_portal.services.ledger import Actor
from tests.factories import make_card, make_pin

NO_PIN = Actor()


def stamp(card, actor, **kwargs):
    return stamp_service.add_stamp(card.program.vendor_id, card.id, actor=actor, **kwargs)


def ledger(card_id):
    return list(_db.session.scalars(
        select(LoyaltyTransaction).where(LoyaltyTransaction.card_id == card_id)
        .order_by(LoyaltyTransaction.id)
    ))


# Several stamps for one purchase ------------------------------------------------------------------


def test_three_stamps_are_one_row_and_count_three_toward_the_day(vendor, card, actor, clock):
    program_service.update_program(vendor.id, stamps_target=20, max_daily_stamps=4)
    result = stamp(card, actor, stamps=3)
    assert (result.stamps_delta, result.stamp_count) == (3, 3)
    rows = ledger(card.id)
    assert [(r.transaction_type, r.stamps_delta) for r in rows] == [("stamp_earned", 3)]
    clock.advance(minutes=15)
    with pytest.raises(DailyStampLimit) as refused:
        stamp(card, actor, stamps=2)
    assert refused.value.details["stamps_today"] == 3
    assert stamp(card, actor, stamps=1).stamp_count == 4  # exactly the limit


def test_the_cooldown_is_between_purchases_not_stamps(vendor, card, actor, clock):
    program_service.update_program(vendor.id, stamps_target=20)
    stamp(card, actor, stamps=3)
    clock.advance(minutes=14)
    with pytest.raises(StampCooldown):
        stamp(card, actor)
    clock.advance(minutes=1)
    assert stamp(card, actor, stamps=2).stamp_count == 5


def test_stamps_per_purchase_stop_at_the_programs_maximum(vendor, card, actor):
    program_service.update_program(vendor.id, max_stamps_per_purchase=2, stamps_target=20)
    with pytest.raises(ValidationError) as refused:
        stamp(card, actor, stamps=3)
    assert refused.value.details["field"] == "stamps"
    assert ledger(card.id) == []
    assert stamp(card, actor, stamps=2).stamp_count == 2


@pytest.mark.parametrize(
    ("setting", "value"),
    [("max_stamps_per_purchase", 0), ("max_stamps_per_purchase", 11),
     ("max_purchase_amount_cents", 0), ("max_purchase_amount_cents", 10_000_001),
     ("max_daily_points", 0), ("confirm_purchase_above_cents", 0),
     ("counter_undo_minutes", -1), ("counter_undo_minutes", 61),
     ("max_daily_points", "10"), ("counter_undo_minutes", None)],
)
def test_counter_settings_are_validated(vendor, stamp_program, setting, value):
    with pytest.raises(ValidationError) as refused:
        program_service.update_program(vendor.id, **{setting: value})
    assert refused.value.details["field"] == setting


def test_optional_counter_settings_switch_off_with_none(vendor, stamp_program):
    program = program_service.update_program(
        vendor.id, max_daily_points=500, confirm_purchase_above_cents=5000,
        max_stamps_per_purchase=10, max_purchase_amount_cents=10_000_000, counter_undo_minutes=0,
    )
    assert (program.max_daily_points, program.confirm_purchase_above_cents) == (500, 5000)
    program = program_service.update_program(
        vendor.id, max_daily_points=None, confirm_purchase_above_cents=None
    )
    assert (program.max_daily_points, program.confirm_purchase_above_cents) == (None, None)


def test_defaults_of_a_new_program(stamp_program):
    assert stamp_program.max_stamps_per_purchase == 5
    assert stamp_program.max_purchase_amount_cents == 100_000
    assert stamp_program.max_daily_points is None
    assert stamp_program.confirm_purchase_above_cents is None
    assert stamp_program.counter_undo_minutes == 5


# Points protection --------------------------------------------------------------------------------


@pytest.fixture
def points_card(points_program, clock):
    program_service.update_program(points_program.vendor_id, require_staff_pin=False,
                                   max_purchase_amount_cents=20_000)
    return make_card(points_program)


def earn(card, cents, **kwargs):
    return points_service.earn_points(card.program.vendor_id, card.id, cents, actor=NO_PIN,
                                      **kwargs)


def test_the_largest_amount_passes_and_one_cent_more_is_refused(points_card):
    with pytest.raises(PurchaseAmountTooLarge) as refused:
        earn(points_card, 20_001)
    assert refused.value.details["max_purchase_amount_cents"] == 20_000
    assert refused.value.status == 422
    assert earn(points_card, 20_000).points_delta == 400  # 2 points per unit


def test_zero_is_refused_with_no_mention_of_cents(points_card):
    with pytest.raises(ValidationError) as refused:
        earn(points_card, 0)
    assert "cent" not in refused.value.message


def test_the_daily_points_cap_allows_exactly_the_cap(points_card, clock):
    program_service.update_program(points_card.program.vendor_id, max_daily_points=50)
    earn(points_card, 2000)  # 40 points
    with pytest.raises(DailyPointsLimit) as refused:
        earn(points_card, 600)  # 12 more: 52
    assert refused.value.details["points_today"] == 40
    assert refused.value.details["resets_at"] == "2026-11-24T23:00:00Z"
    assert earn(points_card, 500).points_balance == 50
    clock.advance(days=1)
    assert earn(points_card, 500).points_balance == 60  # a new day


def test_redeemed_points_do_not_count_toward_the_cap(points_card):
    program_service.update_program(points_card.program.vendor_id, max_daily_points=40)
    earn(points_card, 2000)
    points_service.redeem_reward(points_card.program.vendor_id, points_card.id, "coffee",
                                 actor=NO_PIN)
    with pytest.raises(DailyPointsLimit):
        earn(points_card, 50)


def test_above_the_threshold_the_points_need_a_second_confirmation(points_card):
    program_service.update_program(points_card.program.vendor_id,
                                   confirm_purchase_above_cents=5000)
    assert earn(points_card, 5000).points_delta == 100  # exactly the threshold: no question
    with pytest.raises(LargePurchaseNotConfirmed) as refused:
        earn(points_card, 5001)
    assert refused.value.details == {"purchase_amount_cents": 5001, "points": 100,
                                     "confirm_purchase_above_cents": 5000}
    assert earn(points_card, 5001, large_amount_confirmed=True).points_delta == 100


# Undo at the counter ------------------------------------------------------------------------------


def test_the_cashier_undoes_their_last_stamp_with_the_owners_void(card, actor, clock):
    earned = stamp(card, actor)
    clock.advance(minutes=5)  # exactly the window
    undone = transaction_service.undo_at_counter(
        card.program.vendor_id, earned.transaction_id, actor=actor, reason="Wrong card"
    )
    assert (undone.transaction_type, undone.stamps_delta, undone.stamp_count) == ("void", -1, 0)
    assert undone.voids_transaction_id == earned.transaction_id
    void = ledger(card.id)[-1]
    assert (void.reason, void.staff_pin_id) == ("Wrong card", actor.staff_pin_id)
    _db.session.refresh(card)
    assert card.total_stamps_earned == 0  # lifetime totals move back, as with the owner's void
    assert ledger_audit.verify_ledger() == []
    with pytest.raises(TransactionAlreadyVoided):
        transaction_service.undo_at_counter(
            card.program.vendor_id, earned.transaction_id, actor=actor, reason="again"
        )


def test_one_second_after_the_window_only_the_owner_voids(card, actor, clock):
    earned = stamp(card, actor)
    clock.advance(minutes=5, seconds=1)
    with pytest.raises(UndoNotAllowed) as refused:
        transaction_service.undo_at_counter(
            card.program.vendor_id, earned.transaction_id, actor=actor, reason="late"
        )
    assert refused.value.details["reason"] == "window_passed"
    assert refused.value.status == 409
    # The owner's void still works.
    transaction_service.void_transaction(card.program.vendor_id, earned.transaction_id, "late",
                                         actor=Actor(user_id=None))


def test_only_ones_own_last_action_is_undone(vendor, card, actor, clock):
    program_service.update_program(vendor.id, cooldown_minutes=0)
    marc = make_pin(vendor, "Marc", "5139")
    marcs = Actor(staff_pin_id=marc.id, pin="5139")
    first = stamp(card, actor)
    with pytest.raises(UndoNotAllowed) as refused:
        transaction_service.undo_at_counter(vendor.id, first.transaction_id, actor=marcs,
                                            reason="x")
    assert refused.value.details["reason"] == "not_yours"
    stamp(card, marcs)
    with pytest.raises(UndoNotAllowed) as refused:
        transaction_service.undo_at_counter(vendor.id, first.transaction_id, actor=actor,
                                            reason="x")
    assert refused.value.details["reason"] == "not_last"


def test_undo_needs_the_right_pin(card, actor):
    from loyalty_portal.errors import InvalidStaffPin

    earned = stamp(card, actor)
    wrong = Actor(staff_pin_id=actor.staff_pin_id, pin="0000")
    with pytest.raises(InvalidStaffPin):
        transaction_service.undo_at_counter(card.program.vendor_id, earned.transaction_id,
                                            actor=wrong, reason="x")
    assert len(ledger(card.id)) == 1


def test_a_window_of_zero_means_no_undo_at_the_counter(vendor, card, actor, clock):
    program_service.update_program(vendor.id, counter_undo_minutes=0)
    earned = stamp(card, actor)
    clock.advance(seconds=1)
    with pytest.raises(UndoNotAllowed):
        transaction_service.undo_at_counter(vendor.id, earned.transaction_id, actor=actor,
                                            reason="x")


# What the card view offers before the PIN ---------------------------------------------------------


def test_the_card_view_knows_the_cooldown_the_daily_limit_and_the_quantity(
    vendor, card, actor, clock
):
    program_service.update_program(vendor.id, stamps_target=20, max_daily_stamps=5,
                                   max_stamps_per_purchase=4)
    view = counter_service.card_at_counter(vendor.id, card.id, actor)
    assert (view.stamp_refusal, view.max_stamps_now) == (None, 4)
    stamp(card, actor, stamps=3)
    view = counter_service.card_at_counter(vendor.id, card.id, actor)
    assert view.next_stamp_at == clock.now + timedelta(minutes=15)
    assert view.undoable is not None
    clock.advance(minutes=15)
    view = counter_service.card_at_counter(vendor.id, card.id, actor)
    assert (view.stamp_refusal, view.max_stamps_now) == (None, 2)  # 2 left today
    assert view.undoable is None  # the window has passed
    stamp(card, actor, stamps=2)
    clock.advance(minutes=15)
    view = counter_service.card_at_counter(vendor.id, card.id, actor)
    assert view.daily_limit_reached and view.max_stamps_now == 0


def test_the_card_view_of_a_full_card_offers_the_reward(vendor, card, actor):
    program_service.update_program(vendor.id, cooldown_minutes=0)
    stamp(card, actor, stamps=3)
    assert counter_service.card_at_counter(vendor.id, card.id, actor).reward_ready


def test_the_card_view_of_a_points_card_at_its_cap(points_card):
    program_service.update_program(points_card.program.vendor_id, max_daily_points=40)
    vendor_id = points_card.program.vendor_id
    assert counter_service.card_at_counter(vendor_id, points_card.id, NO_PIN).points_refusal is None
    earn(points_card, 2000)
    refusal = counter_service.card_at_counter(vendor_id, points_card.id, NO_PIN).points_refusal
    assert isinstance(refusal, DailyPointsLimit)


def test_a_typed_amount_is_checked_like_the_operation(points_card):
    vendor_id = points_card.program.vendor_id
    assert counter_service.check_amount(vendor_id, points_card.id, 1250) == 25
    with pytest.raises(PurchaseAmountTooLarge):
        counter_service.check_amount(vendor_id, points_card.id, 999_900)
    with pytest.raises(ValidationError):
        counter_service.check_amount(vendor_id, points_card.id, 49)  # half a point
