"""Real concurrency on PostgreSQL: threads with their own connections race on one card."""

import threading

import pytest

from loyalty_portal.errors import LoyaltyError
from loyalty_portal.extensions import db as flask_db
from loyalty_portal.models import LoyaltyCard, LoyaltyTransaction, PinThrottle, StaffPin
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


def test_one_key_on_twenty_cards_at_once_gives_one_stamp_and_refuses_the_rest(
    app, db, vendor, stamp_program, clock
):
    """The key is unique per program: the losers wait on the unique index inside their write, not
    on a card lock, and must come back as IdempotencyKeyReused (another card), never as a 500."""
    from loyalty_portal.services import program_service
    from tests.factories import make_card

    program_service.update_program(vendor.id, require_staff_pin=False)
    cards = iter([make_card(stamp_program).id for _ in range(RACERS)])
    picked = threading.Lock()

    def stamp_own_card():
        with picked:
            card_id = next(cards)
        return stamp_service.add_stamp(vendor.id, card_id, actor=Actor(), idempotency_key="same")

    outcomes = race(app, stamp_own_card)
    successes = [o for o in outcomes if not isinstance(o, str)]
    assert len(successes) == 1 and not successes[0].replayed
    assert outcomes.count("IDEMPOTENCY_KEY_REUSED") == RACERS - 1
    db.session.expire_all()
    assert db.session.query(LoyaltyTransaction).count() == 1
    assert sum(c.stamp_count for c in db.session.query(LoyaltyCard)) == 1


def test_twenty_simultaneous_wrong_pins_check_only_the_allowance(
    app, db, vendor, card, staff, clock, monkeypatch
):
    """Each attempt is reserved before bcrypt runs: of 20 wrong PINs racing at one terminal, the
    5 the lockout allows are checked, the fifth locks, and the other 15 are refused unchecked."""
    import bcrypt

    checked = []
    real_checkpw = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *a: checked.append(1) or real_checkpw(*a))
    actor = Actor(staff_pin_id=staff.id, pin="0000", terminal="key:1")
    outcomes = race(app, lambda: stamp_service.add_stamp(vendor.id, card.id, actor=actor))
    assert len(checked) == 5
    assert outcomes.count("INVALID_STAFF_PIN") == 4
    assert outcomes.count("STAFF_PIN_LOCKED") == RACERS - 4
    db.session.expire_all()
    assert db.session.get(StaffPin, staff.id).failed_attempts == 5
    counters = {t.staff_pin_id: (t.failures, t.locked_until is not None)
                for t in db.session.query(PinThrottle)}
    assert counters == {staff.id: (0, True), None: (5, False)}


def test_twenty_simultaneous_wrong_pins_for_twenty_staff_check_only_the_terminals_allowance(
    app, db, vendor, card, clock, monkeypatch
):
    import bcrypt

    from loyalty_portal.services import pin_policy
    from tests.factories import make_pin

    pins = [f"{n}" for n in range(5000, 5200) if pin_policy.trivial_reason(f"{n}") is None]
    staff = [make_pin(vendor, f"Staff {n}", pin) for n, pin in enumerate(pins[:RACERS])]
    checked = []
    real_checkpw = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *a: checked.append(1) or real_checkpw(*a))
    queue = iter(staff)
    lock = threading.Lock()

    def guess():
        with lock:
            member = next(queue)
        actor = Actor(staff_pin_id=member.id, pin="0000", terminal="key:1")
        return stamp_service.add_stamp(vendor.id, card.id, actor=actor)

    outcomes = race(app, guess)
    assert len(checked) == 10  # PIN_TERMINAL_MAX_FAILURES
    assert outcomes.count("INVALID_STAFF_PIN") == 9
    assert outcomes.count("STAFF_PIN_LOCKED") == RACERS - 9


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
