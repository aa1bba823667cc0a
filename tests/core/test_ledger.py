"""The ledger: one immutable row per balance change, corrections as new rows, verifiable."""

import random

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DatabaseError

from loyalty_portal.errors import (
    IdempotencyKeyReused,
    LoyaltyCardNotFound,
    LoyaltyError,
    TransactionAlreadyVoided,
    TransactionNotFound,
    TransactionNotVoidable,
)
from loyalty_portal.models import LedgerIsImmutable, LoyaltyCard, LoyaltyTransaction
from loyalty_portal.services import (
    ledger_audit,
    points_service,
    program_service,
    stamp_service,
    transaction_service,
)
from loyalty_portal.services.ledger import Actor
from tests.factories import make_card, make_program, make_vendor

OWNER = Actor(user_id=None, client_ip="10.0.0.1", user_agent="owner browser")


def test_each_change_writes_one_row_with_its_context(card, actor, staff, db, clock):
    stamp_service.add_stamp(card.program.vendor_id, card.id, actor=actor)
    row = db.session.query(LoyaltyTransaction).one()
    assert row.transaction_type == "stamp_earned"
    assert (row.stamps_delta, row.points_delta, row.stamps_balance_after) == (1, 0, 1)
    assert (row.staff_pin_id, row.client_ip, row.user_agent) == (staff.id, "127.0.0.1", "pytest")
    assert row.created_at == clock.now


def test_orm_refuses_to_update_or_delete_ledger_rows(card, actor, db):
    stamp_service.add_stamp(card.program.vendor_id, card.id, actor=actor)
    row = db.session.query(LoyaltyTransaction).one()
    row.stamps_delta = 5
    with pytest.raises(LedgerIsImmutable):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.query(LoyaltyTransaction).one())
    with pytest.raises(LedgerIsImmutable):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(LedgerIsImmutable):
        db.session.execute(update(LoyaltyTransaction).values(stamps_delta=9))


@pytest.mark.parametrize(
    "statement",
    ["UPDATE loyalty_transactions SET stamps_delta = 7", "DELETE FROM loyalty_transactions"],
)
def test_database_trigger_refuses_raw_sql_edits(card, actor, db, statement):
    stamp_service.add_stamp(card.program.vendor_id, card.id, actor=actor)
    with pytest.raises(DatabaseError, match="immutable"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.query(LoyaltyTransaction).one().stamps_delta == 1


def test_void_reverses_a_stamp_and_its_lifetime_total(vendor, card, actor, db):
    earned = stamp_service.add_stamp(vendor.id, card.id, actor=actor)
    void = transaction_service.void_transaction(
        vendor.id, earned.transaction_id, "wrong card", actor=OWNER
    )
    assert (void.transaction_type, void.stamps_delta, void.stamp_count) == ("void", -1, 0)
    assert void.voids_transaction_id == earned.transaction_id
    db.session.refresh(card)
    assert (card.stamp_count, card.total_stamps_earned) == (0, 0)
    with pytest.raises(TransactionAlreadyVoided):
        transaction_service.void_transaction(vendor.id, earned.transaction_id, "again", actor=OWNER)
    with pytest.raises(TransactionNotVoidable):
        transaction_service.void_transaction(
            vendor.id, void.transaction_id, "void a void", actor=OWNER
        )
    assert ledger_audit.verify_ledger() == []


def test_void_refused_when_the_balance_no_longer_covers_it(vendor, card, actor, clock):
    program_service.update_program(vendor.id, cooldown_minutes=0)
    earned = stamp_service.add_stamp(vendor.id, card.id, actor=actor, stamps=3)
    stamp_service.redeem_reward(vendor.id, card.id, actor=actor)
    with pytest.raises(TransactionNotVoidable) as refused:
        transaction_service.void_transaction(vendor.id, earned.transaction_id, "late", actor=OWNER)
    assert refused.value.details["reason"] == "balance_too_low"


def test_void_of_a_redemption_gives_the_points_back(points_program, clock, db):
    vendor_id = points_program.vendor_id
    program_service.update_program(vendor_id, require_staff_pin=False)
    card = make_card(points_program)
    points_service.earn_points(vendor_id, card.id, 3000, actor=OWNER)
    redeemed = points_service.redeem_reward(vendor_id, card.id, "cake", actor=OWNER)
    transaction_service.void_transaction(
        vendor_id, redeemed.transaction_id, "customer changed mind", actor=OWNER
    )
    db.session.refresh(card)
    assert (card.points_balance, card.total_points_redeemed, card.total_rewards_redeemed) == (
        60,
        0,
        0,
    )
    assert ledger_audit.verify_ledger() == []


def test_other_vendors_cannot_void_or_stamp(vendor, card, actor):
    outsider = make_vendor()
    make_program(outsider, require_staff_pin=False)
    earned = stamp_service.add_stamp(vendor.id, card.id, actor=actor)
    with pytest.raises(TransactionNotFound):
        transaction_service.void_transaction(outsider.id, earned.transaction_id, "x", actor=OWNER)
    with pytest.raises(LoyaltyCardNotFound):
        stamp_service.add_stamp(outsider.id, card.id, actor=Actor())


def test_adjustment_moves_balance_but_not_lifetime_totals(vendor, card, db):
    transaction_service.adjust_balance(
        vendor.id, card.id, stamps_delta=2, reason="paper card", actor=OWNER
    )
    db.session.refresh(card)
    assert (card.stamp_count, card.total_stamps_earned) == (2, 0)
    assert ledger_audit.verify_ledger() == []


def test_idempotency_key_gives_one_effect_and_the_same_result(vendor, card, actor, db, clock):
    first = stamp_service.add_stamp(
        vendor.id, card.id, actor=actor, idempotency_key="tablet-1-0001"
    )
    clock.advance(seconds=5)  # a retry after a timeout, well inside the cooldown
    again = stamp_service.add_stamp(
        vendor.id, card.id, actor=actor, idempotency_key="tablet-1-0001"
    )
    assert again.replayed and not first.replayed
    assert again.transaction_id == first.transaction_id
    assert (again.stamp_count, again.created_at) == (first.stamp_count, first.created_at)
    assert db.session.query(LoyaltyTransaction).count() == 1


def test_idempotency_key_reused_for_another_request_is_refused(vendor, stamp_program, card, actor):
    other_card = make_card(stamp_program)
    stamp_service.add_stamp(vendor.id, card.id, actor=actor, idempotency_key="k-1")
    with pytest.raises(IdempotencyKeyReused):
        stamp_service.add_stamp(vendor.id, other_card.id, actor=actor, idempotency_key="k-1")
    with pytest.raises(IdempotencyKeyReused):
        stamp_service.redeem_reward(vendor.id, card.id, actor=actor, idempotency_key="k-1")


def test_verify_ledger_cli_finds_a_planted_mismatch(runner, vendor, card, actor, db):
    stamp_service.add_stamp(vendor.id, card.id, actor=actor)
    ok = runner.invoke(args=["loyalty", "verify-ledger"])
    assert ok.exit_code == 0, ok.output
    db.session.execute(text("UPDATE loyalty_cards SET stamp_count = stamp_count + 2"))
    db.session.commit()
    result = runner.invoke(args=["loyalty", "verify-ledger"])
    assert result.exit_code == 1
    assert f"card {card.id}: stamp_count is 3, ledger says 1" in result.output
    assert "1 problem(s) found." in result.output


def test_verify_ledger_finds_nothing_after_a_random_workload(db, clock):
    rng = random.Random(2026)
    stamps = make_program(
        make_vendor(),
        "stamps",
        stamps_target=4,
        require_staff_pin=False,
        cooldown_minutes=10,
        max_daily_stamps=3,
    )
    points = make_program(make_vendor(), "points", require_staff_pin=False)
    cards = [make_card(stamps) for _ in range(4)] + [make_card(points) for _ in range(4)]
    done = []

    def random_operation(card):
        vendor_id = card.program.vendor_id
        if rng.random() < 0.15:
            if not done:
                return None
            return transaction_service.void_transaction(
                vendor_id, rng.choice(done), "test", actor=OWNER
            )
        if card.program_id == stamps.id:
            if rng.random() < 0.7:
                return stamp_service.add_stamp(
                    vendor_id, card.id, actor=OWNER, stamps=rng.randint(1, 2)
                )
            return stamp_service.redeem_reward(vendor_id, card.id, actor=OWNER)
        if rng.random() < 0.7:
            return points_service.earn_points(
                vendor_id, card.id, rng.randint(100, 4000), actor=OWNER
            )
        reward = rng.choice(["coffee", "cake"])
        return points_service.redeem_reward(vendor_id, card.id, reward, actor=OWNER)

    for _ in range(250):
        clock.advance(minutes=rng.choice([1, 5, 11, 90, 600]))
        try:
            result = random_operation(rng.choice(cards))
            if result is not None:
                done.append(result.transaction_id)
        except LoyaltyError:
            pass
    assert len(done) > 80
    assert ledger_audit.verify_ledger() == []
    balances = db.session.query(LoyaltyCard.stamp_count, LoyaltyCard.points_balance).all()
    assert all(s >= 0 and p >= 0 for s, p in balances)


def test_idempotency_key_with_another_amount_or_reward_is_refused(points_program, clock):
    vendor_id = points_program.vendor_id
    program_service.update_program(vendor_id, require_staff_pin=False)
    card = make_card(points_program)
    points_service.earn_points(vendor_id, card.id, 3000, actor=OWNER, idempotency_key="till-7")
    assert points_service.earn_points(
        vendor_id, card.id, 3000, actor=OWNER, idempotency_key="till-7"
    ).replayed
    with pytest.raises(IdempotencyKeyReused):
        points_service.earn_points(vendor_id, card.id, 4000, actor=OWNER, idempotency_key="till-7")
    points_service.redeem_reward(vendor_id, card.id, "coffee", actor=OWNER, idempotency_key="r-1")
    with pytest.raises(IdempotencyKeyReused):
        points_service.redeem_reward(vendor_id, card.id, "cake", actor=OWNER, idempotency_key="r-1")
