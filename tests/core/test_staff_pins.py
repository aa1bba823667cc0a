"""Staff PINs: lockout at its boundaries, one bcrypt check per request, the pepper."""

from datetime import timedelta

import bcrypt
import pytest
from sqlalchemy import select

from loyalty_portal.errors import (
    InvalidStaffPin,
    StaffPinLocked,
    StaffPinNotFound,
    StaffPinRequired,
    TrivialStaffPin,
    ValidationError,
)
from loyalty_portal.models import LoyaltyTransaction, PinThrottle
from loyalty_portal.services import pin_policy, pin_service, stamp_service
from loyalty_portal.services.ledger import Actor
from tests.factories import make_pin


def stamp_with(card, staff, pin):
    return stamp_service.add_stamp(
        card.program.vendor_id, card.id, actor=Actor(staff_pin_id=staff.id, pin=pin)
    )


def test_missing_pin_is_required(card, staff):
    with pytest.raises(StaffPinRequired):
        stamp_with(card, staff, None)


def test_wrong_pin_counts_down_remaining_attempts(card, staff, db):
    for remaining in (4, 3, 2, 1):
        with pytest.raises(InvalidStaffPin) as refused:
            stamp_with(card, staff, "9999")
        assert refused.value.details == {"remaining_attempts": remaining}
    db.session.refresh(staff)
    assert staff.failed_attempts == 4
    assert db.session.query(LoyaltyTransaction).count() == 0


def test_fifth_failure_locks_for_30_minutes_then_the_lock_expires(card, staff, clock):
    for _ in range(4):
        with pytest.raises(InvalidStaffPin):
            stamp_with(card, staff, "0000")
    with pytest.raises(StaffPinLocked) as locked:
        stamp_with(card, staff, "0000")
    locked_at = clock.now
    assert locked.value.locked_until == locked_at + timedelta(minutes=30)
    assert locked.value.details == {
        "locked_until": "2026-11-24T09:30:00Z",
        "lock_scope": "pin_at_terminal",
    }

    clock.set(locked_at + timedelta(minutes=29, seconds=59))
    with pytest.raises(StaffPinLocked):
        stamp_with(card, staff, "4827")  # even the right PIN waits for the lock

    clock.set(locked_at + timedelta(minutes=30))
    assert stamp_with(card, staff, "4827").stamp_count == 1


def test_expired_lock_starts_a_fresh_count(card, staff, clock):
    for _ in range(5):
        with pytest.raises((InvalidStaffPin, StaffPinLocked)):
            stamp_with(card, staff, "0000")
    clock.advance(minutes=31)
    with pytest.raises(InvalidStaffPin) as refused:
        stamp_with(card, staff, "0000")
    assert refused.value.details == {"remaining_attempts": 4}


def test_correct_pin_resets_the_counter_of_the_pin_not_of_the_terminal(card, staff, db, clock):
    for _ in range(3):
        with pytest.raises(InvalidStaffPin):
            stamp_with(card, staff, "1111")
    stamp_with(card, staff, "4827")
    db.session.refresh(staff)
    assert (staff.failed_attempts, staff.locked_until) == (0, None)
    assert staff.last_used_at == clock.now
    counters = select(PinThrottle.staff_pin_id, PinThrottle.failures)
    failures = dict(db.session.execute(counters).all())
    # The terminal keeps counting: someone else's right PIN must not refill a guesser's allowance.
    assert failures == {staff.id: 0, None: 3}


def test_lockout_settings_come_from_the_program(vendor, card, staff, clock):
    from loyalty_portal.services import program_service

    program_service.update_program(vendor.id, pin_max_failed_attempts=2, pin_lockout_minutes=5)
    with pytest.raises(InvalidStaffPin):
        stamp_with(card, staff, "1111")
    with pytest.raises(StaffPinLocked) as locked:
        stamp_with(card, staff, "1111")
    assert locked.value.locked_until == clock.now + timedelta(minutes=5)


def test_another_vendors_pin_and_inactive_pins_are_not_found(card, staff, vendor, db):
    from tests.factories import make_vendor

    outsider = make_pin(make_vendor(), "Mallory", "4827")
    with pytest.raises(StaffPinNotFound):
        stamp_with(card, outsider, "4827")
    pin_service.deactivate_pin(vendor.id, staff.id)
    with pytest.raises(StaffPinNotFound):
        stamp_with(card, staff, "4827")


def test_one_bcrypt_check_per_request_however_many_staff(card, vendor, monkeypatch):
    pins = [f"{n}" for n in range(3000, 3100) if pin_policy.trivial_reason(f"{n}") is None][:12]
    staff = [make_pin(vendor, f"Staff {n}", pin) for n, pin in enumerate(pins)]
    calls = []
    real_checkpw = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *a: calls.append(1) or real_checkpw(*a))
    stamp_with(card, staff[7], pins[7])
    assert len(calls) == 1


def test_hash_is_peppered(app, vendor):
    staff = make_pin(vendor, "Pepper", "5831")
    assert "5831" not in staff.pin_hash
    # Without the server-side pepper, the database's hash does not verify the PIN.
    assert not bcrypt.checkpw(b"5831", staff.pin_hash.encode())
    assert pin_service.pin_matches("5831", staff.pin_hash)
    app.config["PIN_PEPPER"] = "another-pepper"
    assert not pin_service.pin_matches("5831", staff.pin_hash)


@pytest.mark.parametrize(
    "bad_pin",
    ["123", "482715930", "12a4", "", " 4827", "4827\n", "4827 ", "\u0664\u0668\u0662\u0667"],
)
def test_pin_format_is_4_to_8_ascii_digits_the_whole_string(vendor, bad_pin):
    with pytest.raises(ValidationError) as refused:
        make_pin(vendor, "Bad", bad_pin)
    assert refused.value.error_code == "LOYALTY_VALIDATION_FAILED"


@pytest.mark.parametrize("good_pin", ["4827", "48271", "482715", "4827159", "48271593"])
def test_four_to_eight_digits_are_accepted(vendor, good_pin):
    assert pin_service.pin_matches(good_pin, make_pin(vendor, pin=good_pin).pin_hash)


@pytest.mark.parametrize(
    ("trivial_pin", "reason"),
    [
        ("0000", "repeated"), ("7777", "repeated"), ("1212", "repeated"), ("123123", "repeated"),
        ("12121212", "repeated"), ("1234", "sequence"), ("4321", "sequence"),
        ("7890", "sequence"), ("0987", "sequence"), ("12345678", "sequence"),
        ("98765", "sequence"), ("2580", "common"), ("1122", "common"), ("2000", "common"),
        ("159753", "common"),
    ],
)
def test_trivial_pins_are_refused_with_their_reason(vendor, trivial_pin, reason):
    with pytest.raises(TrivialStaffPin) as refused:
        make_pin(vendor, "Easy", trivial_pin)
    assert refused.value.error_code == "STAFF_PIN_TOO_SIMPLE"
    assert refused.value.status == 422
    assert refused.value.details == {"field": "pin", "reason": reason}
    staff = make_pin(vendor, "Careful", "4827")
    with pytest.raises(TrivialStaffPin):
        pin_service.change_pin(vendor.id, staff.id, trivial_pin)


def test_a_right_pin_followed_by_a_newline_is_a_wrong_pin(card, staff):
    with pytest.raises(InvalidStaffPin):
        stamp_with(card, staff, "4827\n")


def test_pin_management(vendor):
    staff = make_pin(vendor, "Anna", "4827")
    with pytest.raises(ValidationError):
        make_pin(vendor, "Anna", "6203")  # names are unique per vendor
    pin_service.rename_pin(vendor.id, staff.id, "Anna B.")
    pin_service.change_pin(vendor.id, staff.id, "2468")
    assert pin_service.verify_pin(vendor.id, staff.id, "2468") == staff.id
    assert [p.name for p in pin_service.list_pins(vendor.id)] == ["Anna B."]
    pin_service.deactivate_pin(vendor.id, staff.id)
    assert pin_service.list_pins(vendor.id) == []
