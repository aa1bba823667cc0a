"""Anti-fraud rules of stamping, each at its boundary."""

from datetime import UTC, datetime, timedelta

import pytest

from loyalty_portal.errors import (
    DailyStampLimit,
    InsufficientStamps,
    LoyaltyCardInactive,
    LoyaltyProgramInactive,
    StampCooldown,
    WrongProgramType,
)
from loyalty_portal.services import card_service, program_service, stamp_service
from tests.factories import make_card


def stamp(card, actor, **kwargs):
    return stamp_service.add_stamp(card.program.vendor_id, card.id, actor=actor, **kwargs)


def test_stamp_adds_one_and_records_it(card, actor, staff):
    result = stamp(card, actor)
    assert (result.stamps_delta, result.stamp_count, result.stamps_target) == (1, 1, 3)
    assert not result.reward_available


def test_cooldown_refuses_at_14_59_and_allows_at_15_00(card, actor, clock):
    first = clock.now
    stamp(card, actor)
    clock.set(first + timedelta(minutes=14, seconds=59))
    with pytest.raises(StampCooldown) as refused:
        stamp(card, actor)
    assert refused.value.cooldown_ends == first + timedelta(minutes=15)
    assert refused.value.details["cooldown_minutes"] == 15
    assert refused.value.details["minutes_left"] == 1
    assert refused.value.retry_after_seconds == 1
    clock.set(first + timedelta(minutes=15))
    assert stamp(card, actor).stamp_count == 2


def test_cooldown_is_per_program_setting(vendor, card, actor, clock):
    program_service.update_program(vendor.id, cooldown_minutes=0)
    stamp(card, actor)
    assert stamp(card, actor).stamp_count == 2


def test_fifth_stamp_of_the_day_passes_and_sixth_is_refused(vendor, card, actor, clock):
    program_service.update_program(vendor.id, stamps_target=20)
    for _ in range(5):
        stamp(card, actor)
        clock.advance(minutes=15)
    with pytest.raises(DailyStampLimit) as refused:
        stamp(card, actor)
    assert refused.value.details == {
        "max_daily_stamps": 5,
        "stamps_today": 5,
        "resets_at": "2026-11-24T23:00:00Z",  # midnight in Luxembourg (UTC+1 in November)
    }


def test_daily_limit_resets_at_the_vendors_local_midnight(vendor, card, actor, clock):
    program_service.update_program(vendor.id, stamps_target=20, cooldown_minutes=0)
    clock.set(datetime(2026, 11, 24, 21, 0, tzinfo=UTC))  # 22:00 in Luxembourg
    for _ in range(5):
        stamp(card, actor)
    clock.set(datetime(2026, 11, 24, 22, 59, 59, tzinfo=UTC))  # 23:59:59 local
    with pytest.raises(DailyStampLimit):
        stamp(card, actor)
    clock.set(datetime(2026, 11, 24, 23, 0, 0, tzinfo=UTC))  # 00:00:00 local, a new day
    assert stamp(card, actor).stamp_count == 6


def test_daily_limit_counts_multi_stamp_purchases(vendor, card, actor):
    program_service.update_program(vendor.id, stamps_target=20, cooldown_minutes=0)
    stamp(card, actor, stamps=4)
    with pytest.raises(DailyStampLimit):
        stamp(card, actor, stamps=2)
    assert stamp(card, actor, stamps=1).stamp_count == 5


def test_redeem_needs_the_target_and_keeps_extra_stamps(vendor, card, actor, clock):
    program_service.update_program(vendor.id, cooldown_minutes=0)
    stamp(card, actor, stamps=2)
    with pytest.raises(InsufficientStamps) as refused:
        stamp_service.redeem_reward(vendor.id, card.id, actor=actor)
    assert refused.value.details == {"current_stamps": 2, "required_stamps": 3}
    stamp(card, actor, stamps=2)
    result = stamp_service.redeem_reward(vendor.id, card.id, actor=actor)
    assert (result.stamp_count, result.stamps_delta, result.reward_name) == (1, -3, "A free coffee")


def test_inactive_card_and_program_are_refused(vendor, card, actor):
    card_service.set_card_active(vendor.id, card.id, False)
    with pytest.raises(LoyaltyCardInactive):
        stamp(card, actor)
    card_service.set_card_active(vendor.id, card.id, True)
    program_service.deactivate_program(vendor.id)
    with pytest.raises(LoyaltyProgramInactive):
        stamp(card, actor)


def test_points_program_refuses_stamps(points_program, clock):
    card = make_card(points_program)
    from loyalty_portal.services.ledger import Actor

    with pytest.raises(WrongProgramType):
        stamp_service.add_stamp(points_program.vendor_id, card.id, actor=Actor())


def test_refused_stamp_writes_nothing(vendor, card, actor, clock, db):
    from loyalty_portal.models import LoyaltyTransaction

    stamp(card, actor)
    with pytest.raises(StampCooldown):
        stamp(card, actor)
    assert db.session.query(LoyaltyTransaction).count() == 1
    db.session.refresh(card)
    assert card.stamp_count == 1
