"""Staff PINs: lockout at its boundaries, one bcrypt check per request, the pepper."""

from datetime import timedelta

import bcrypt
import pytest

from loyalty_portal.errors import (
    InvalidStaffPin,
    StaffPinLocked,
    StaffPinNotFound,
    StaffPinRequired,
    ValidationError,
)
from loyalty_portal.models import LoyaltyTransaction
from loyalty_portal.services import pin_service, stamp_service
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
    assert locked.value.details == {"locked_until": "2026-11-24T09:30:00Z"}

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


def test_correct_pin_resets_the_counter(card, staff, db, clock):
    for _ in range(3):
        with pytest.raises(InvalidStaffPin):
            stamp_with(card, staff, "1111")
    stamp_with(card, staff, "4827")
    db.session.refresh(staff)
    assert (staff.failed_attempts, staff.locked_until) == (0, None)
    assert staff.last_used_at == clock.now


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
    staff = [make_pin(vendor, f"Staff {n}", f"{1000 + n}") for n in range(12)]
    calls = []
    real_checkpw = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *a: calls.append(1) or real_checkpw(*a))
    stamp_with(card, staff[7], "1007")
    assert len(calls) == 1


def test_hash_is_peppered(app, vendor):
    staff = make_pin(vendor, "Pepper", "4321")
    assert "4321" not in staff.pin_hash
    # Without the server-side pepper, the database's hash does not verify the PIN.
    assert not bcrypt.checkpw(b"4321", staff.pin_hash.encode())
    assert pin_service.pin_matches("4321", staff.pin_hash)
    app.config["PIN_PEPPER"] = "another-pepper"
    assert not pin_service.pin_matches("4321", staff.pin_hash)


@pytest.mark.parametrize("bad_pin", ["123", "123456789", "12a4", "", " 4827"])
def test_pin_format(vendor, bad_pin):
    with pytest.raises(ValidationError):
        make_pin(vendor, "Bad", bad_pin)


def test_pin_management(vendor):
    staff = make_pin(vendor, "Anna", "4827")
    with pytest.raises(ValidationError):
        make_pin(vendor, "Anna", "5555")  # names are unique per vendor
    pin_service.rename_pin(vendor.id, staff.id, "Anna B.")
    pin_service.change_pin(vendor.id, staff.id, "2468")
    assert pin_service.verify_pin(vendor.id, staff.id, "2468") == staff.id
    assert [p.name for p in pin_service.list_pins(vendor.id)] == ["Anna B."]
    pin_service.deactivate_pin(vendor.id, staff.id)
    assert pin_service.list_pins(vendor.id) == []
