"""Points: earning at the program's rate and redeeming catalogue rewards."""

import pytest

from loyalty_portal.errors import (
    InsufficientPoints,
    InvalidReward,
    ValidationError,
    WrongProgramType,
)
from loyalty_portal.services import money, points_service, program_service
from loyalty_portal.services.ledger import Actor
from tests.factories import make_card, make_pin

NO_PIN = Actor()


@pytest.fixture
def points_card(points_program, clock):
    program_service.update_program(points_program.vendor_id, require_staff_pin=False)
    return make_card(points_program)


def earn(card, cents):
    return points_service.earn_points(card.program.vendor_id, card.id, cents, actor=NO_PIN)


@pytest.mark.parametrize(
    ("cents", "rate", "points"), [(100, 1, 1), (1999, 1, 19), (1999, 2, 39), (250, 10, 25)]
)
def test_points_for_amount_rounds_down_whole_units(cents, rate, points):
    assert money.points_for_amount(cents, rate, "EUR") == points


def test_earn_records_amount_and_points(points_card):
    result = earn(points_card, 1250)  # 12.50 at 2 points per unit
    assert (result.points_delta, result.points_balance, result.purchase_amount_cents) == (
        25,
        25,
        1250,
    )


@pytest.mark.parametrize("cents", [0, -100, 10_000_001, 12.5, "1000", True])
def test_bad_amounts_are_refused(points_card, cents):
    with pytest.raises(ValidationError) as refused:
        earn(points_card, cents)
    assert refused.value.details == {"field": "purchase_amount_cents"}


def test_amount_too_small_for_a_point(points_card):
    with pytest.raises(ValidationError):
        earn(points_card, 49)


def test_redeem_pays_the_cost(points_card):
    earn(points_card, 3000)  # 60 points
    result = points_service.redeem_reward(
        points_card.program.vendor_id, points_card.id, "cake", actor=NO_PIN
    )
    assert (result.points_delta, result.points_balance, result.reward_id, result.reward_name) == (
        -50,
        10,
        "cake",
        "Cake",
    )


def test_redeem_refuses_unknown_inactive_and_unaffordable_rewards(points_card, points_program):
    vendor_id = points_program.vendor_id
    earn(points_card, 1000)  # 20 points
    with pytest.raises(InvalidReward):
        points_service.redeem_reward(vendor_id, points_card.id, "yacht", actor=NO_PIN)
    with pytest.raises(InsufficientPoints) as refused:
        points_service.redeem_reward(vendor_id, points_card.id, "cake", actor=NO_PIN)
    assert refused.value.details == {"current_points": 20, "required_points": 50}
    program_service.update_program(
        vendor_id,
        points_rewards=[
            {"id": "coffee", "name": "Coffee", "points_cost": 10, "active": False},
        ],
    )
    with pytest.raises(InvalidReward):
        points_service.redeem_reward(vendor_id, points_card.id, "coffee", actor=NO_PIN)


def test_points_need_a_pin_when_the_program_says_so(points_program, clock):
    from loyalty_portal.errors import StaffPinRequired

    card = make_card(points_program)
    with pytest.raises(StaffPinRequired):
        earn(card, 1000)
    staff = make_pin(points_program.vendor, "Cashier", "2591")
    result = points_service.earn_points(
        points_program.vendor_id, card.id, 1000, actor=Actor(staff_pin_id=staff.id, pin="2591")
    )
    assert result.points_balance == 20


def test_stamp_program_refuses_points(card):
    with pytest.raises(WrongProgramType):
        points_service.earn_points(card.program.vendor_id, card.id, 1000, actor=NO_PIN)
    with pytest.raises(WrongProgramType):
        points_service.redeem_reward(card.program.vendor_id, card.id, "cake", actor=NO_PIN)
