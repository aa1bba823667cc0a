"""Real concurrency on PostgreSQL: threads with their own connections race on one card."""

import threading

import pytest

from loyalty_portal.errors import LoyaltyError
from loyalty_portal.extensions import db as flask_db
from loyalty_portal.models import LoyaltyCard, LoyaltyTransaction, StaffPin
from loyalty_portal.services import points_service, stamp_service
from loyalty_portal.services.ledger import Actor

pytestmark = pytest.mark.postgres_only

RACERS = 20


def race(app, operation):
    """Run `operation()` in RACERS threads released at the same instant; return outcomes."""
    barrier = threading.Barrier(RACERS)
    outcomes = []
    lock = threading.Lock()

    def run():
        with app.app_context():
            barrier.wait()
            try:
                outcome = operation()
            except LoyaltyError as error:
                outcome = error.error_code
            finally:
                flask_db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == RACERS
    return outcomes


def test_twenty_simultaneous_stamps_give_exactly_one(app, db, vendor, card, staff, clock):
    actor = Actor(staff_pin_id=staff.id, pin="4827")
    outcomes = race(app, lambda: stamp_service.add_stamp(vendor.id, card.id, actor=actor))
    successes = [o for o in outcomes if not isinstance(o, str)]
    assert len(successes) == 1
    assert sorted(set(o for o in outcomes if isinstance(o, str))) == ["STAMP_COOLDOWN"]
    db.session.expire_all()
    assert db.session.get(LoyaltyCard, card.id).stamp_count == 1
    assert db.session.query(LoyaltyTransaction).count() == 1


def test_twenty_simultaneous_redemptions_on_a_balance_for_three_give_three(
    app, db, points_program, clock
):
    from loyalty_portal.services import program_service
    from tests.factories import make_card

    vendor_id = points_program.vendor_id
    program_service.update_program(vendor_id, require_staff_pin=False)
    card = make_card(points_program)
    points_service.earn_points(
        vendor_id, card.id, 1500, actor=Actor()
    )  # 30 points, coffee costs 10
    outcomes = race(
        app, lambda: points_service.redeem_reward(vendor_id, card.id, "coffee", actor=Actor())
    )
    successes = [o for o in outcomes if not isinstance(o, str)]
    assert len(successes) == 3
    assert outcomes.count("INSUFFICIENT_POINTS") == RACERS - 3
    assert sorted(s.points_balance for s in successes) == [0, 10, 20]
    db.session.expire_all()
    assert db.session.get(LoyaltyCard, card.id).points_balance == 0


def test_simultaneous_retries_with_one_key_give_one_effect(app, db, vendor, card, staff, clock):
    actor = Actor(staff_pin_id=staff.id, pin="4827")
    outcomes = race(
        app,
        lambda: stamp_service.add_stamp(vendor.id, card.id, actor=actor, idempotency_key="same"),
    )
    assert all(not isinstance(o, str) for o in outcomes)
    assert len({o.transaction_id for o in outcomes}) == 1
    assert sum(not o.replayed for o in outcomes) == 1
    assert db.session.query(LoyaltyTransaction).count() == 1


def test_simultaneous_wrong_pins_are_all_counted(app, db, vendor, card, staff, clock):
    from loyalty_portal.services import program_service

    program_service.update_program(vendor.id, pin_max_failed_attempts=RACERS)
    actor = Actor(staff_pin_id=staff.id, pin="0000")
    outcomes = race(app, lambda: stamp_service.add_stamp(vendor.id, card.id, actor=actor))
    # Every failure is counted, and exactly the last one locks the PIN.
    assert sorted(outcomes) == ["INVALID_STAFF_PIN"] * (RACERS - 1) + ["STAFF_PIN_LOCKED"]
    db.session.expire_all()
    locked = db.session.get(StaffPin, staff.id)
    assert locked.failed_attempts == RACERS and locked.locked_until is not None


def test_twenty_simultaneous_stamps_without_cooldown_stop_at_the_daily_limit(
    app, db, vendor, card, staff, clock
):
    from loyalty_portal.services import program_service

    program_service.update_program(vendor.id, cooldown_minutes=0, stamps_target=50)
    actor = Actor(staff_pin_id=staff.id, pin="4827")
    outcomes = race(app, lambda: stamp_service.add_stamp(vendor.id, card.id, actor=actor))
    assert sum(not isinstance(o, str) for o in outcomes) == 5
    assert outcomes.count("DAILY_STAMP_LIMIT") == RACERS - 5
    db.session.expire_all()
    assert db.session.get(LoyaltyCard, card.id).stamp_count == 5
