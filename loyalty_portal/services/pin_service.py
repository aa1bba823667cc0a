"""Staff PINs: creation and management, and verification with lockout.

A PIN is verified against exactly one hash: the caller says whose PIN it is (the staff member
picks their name on the terminal), so a check costs one bcrypt verification however many staff a
vendor has. The PIN is first mixed with a server-side pepper (HMAC-SHA256), so a leaked database
alone is not enough to brute-force four-digit PINs.
"""

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select, update

from ..clock import utcnow
from ..errors import (
    InvalidStaffPin,
    StaffPinLocked,
    StaffPinNotFound,
    StaffPinRequired,
    ValidationError,
)
from ..extensions import db
from ..models import StaffPin
from .lookup import one_or_raise

PIN_PATTERN = re.compile(r"^[0-9]{4,8}$")


@dataclass(frozen=True)
class LockoutPolicy:
    max_failed_attempts: int = 5
    lockout_minutes: int = 30


def _peppered(pin: str) -> bytes:
    pepper = current_app.config["PIN_PEPPER"].encode()
    digest = hmac.new(pepper, pin.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest)  # bcrypt stops at NUL bytes; base64 has none


def hash_pin(pin: str) -> str:
    _validate_pin_format(pin)
    rounds = current_app.config["PIN_BCRYPT_ROUNDS"]
    return bcrypt.hashpw(_peppered(pin), bcrypt.gensalt(rounds)).decode()


def pin_matches(pin: str, pin_hash: str) -> bool:
    return bcrypt.checkpw(_peppered(pin), pin_hash.encode())


def _validate_pin_format(pin: str) -> None:
    if not isinstance(pin, str) or not PIN_PATTERN.fullmatch(pin):
        raise ValidationError(_l("A PIN is 4 to 8 digits."), field="pin")


def _validate_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise ValidationError(_l("A staff name is 1 to 100 characters."), field="name")
    return name


# Management ---------------------------------------------------------------------------------------


def list_pins(vendor_id: int, include_inactive: bool = False) -> list[StaffPin]:
    query = select(StaffPin).where(StaffPin.vendor_id == vendor_id).order_by(StaffPin.name)
    if not include_inactive:
        query = query.where(StaffPin.is_active.is_(True))
    return list(db.session.scalars(query))


def get_pin(vendor_id: int, staff_pin_id: int) -> StaffPin:
    """The vendor's PIN with that id; another vendor's id is simply not found."""
    return one_or_raise(
        select(StaffPin).where(StaffPin.id == staff_pin_id, StaffPin.vendor_id == vendor_id),
        StaffPinNotFound(staff_pin_id),
    )


def _refuse_duplicate_name(vendor_id: int, name: str, except_id: int | None = None) -> None:
    query = select(StaffPin.id).where(StaffPin.vendor_id == vendor_id, StaffPin.name == name)
    if except_id is not None:
        query = query.where(StaffPin.id != except_id)
    if db.session.scalar(query) is not None:
        raise ValidationError(_l("Another staff member already has this name."), field="name")


def create_pin(vendor_id: int, name: str, pin: str) -> StaffPin:
    """Create an active PIN for a staff member. Raises ValidationError on a bad name or PIN."""
    name = _validate_name(name)
    _refuse_duplicate_name(vendor_id, name)
    staff_pin = StaffPin(vendor_id=vendor_id, name=name, pin_hash=hash_pin(pin))
    db.session.add(staff_pin)
    db.session.commit()
    return staff_pin


def rename_pin(vendor_id: int, staff_pin_id: int, name: str) -> StaffPin:
    staff_pin = get_pin(vendor_id, staff_pin_id)
    name = _validate_name(name)
    _refuse_duplicate_name(vendor_id, name, except_id=staff_pin.id)
    staff_pin.name = name
    db.session.commit()
    return staff_pin


def change_pin(vendor_id: int, staff_pin_id: int, new_pin: str) -> StaffPin:
    """Set a new PIN; this also clears failed attempts and any lock."""
    staff_pin = get_pin(vendor_id, staff_pin_id)
    staff_pin.pin_hash = hash_pin(new_pin)
    staff_pin.failed_attempts = 0
    staff_pin.locked_until = None
    db.session.commit()
    return staff_pin


def deactivate_pin(vendor_id: int, staff_pin_id: int) -> StaffPin:
    staff_pin = get_pin(vendor_id, staff_pin_id)
    staff_pin.is_active = False
    db.session.commit()
    return staff_pin


def unlock_pin(vendor_id: int, staff_pin_id: int) -> StaffPin:
    """An owner lifts a lockout before it expires."""
    staff_pin = get_pin(vendor_id, staff_pin_id)
    staff_pin.failed_attempts = 0
    staff_pin.locked_until = None
    db.session.commit()
    return staff_pin


# Verification -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PinRecord:
    """The columns verification needs, read in the caller's first query."""

    id: int
    pin_hash: str
    failed_attempts: int
    locked_until: datetime | None
    is_active: bool


def check_pin(
    record: PinRecord | None, pin: str | None, policy: LockoutPolicy, now: datetime | None = None
) -> int:
    """Verify `pin` against one staff member's record and return the staff PIN id.

    Runs one bcrypt verification, outside any row lock. A failure is counted and committed at
    once (it must survive the refused operation); the `policy.max_failed_attempts`-th consecutive
    failure locks the PIN for `policy.lockout_minutes`; a lock that has expired starts a fresh
    count; a success resets the count.

    Raises StaffPinRequired, StaffPinNotFound (unknown or inactive), StaffPinLocked,
    InvalidStaffPin.
    """
    now = now or utcnow()
    if not pin:
        raise StaffPinRequired()
    if record is None or not record.is_active:
        raise StaffPinNotFound()
    lock_active = record.locked_until is not None and record.locked_until > now
    if lock_active:
        raise StaffPinLocked(record.locked_until, now)
    if PIN_PATTERN.fullmatch(pin) and pin_matches(pin, record.pin_hash):
        if record.failed_attempts or record.locked_until is not None:
            db.session.execute(
                update(StaffPin)
                .where(StaffPin.id == record.id)
                .values(failed_attempts=0, locked_until=None)
            )
            db.session.commit()
        return record.id
    _count_failure(record.id, policy, now)


def _count_failure(staff_pin_id: int, policy: LockoutPolicy, now: datetime):
    lock_expired = StaffPin.locked_until.is_not(None) & (StaffPin.locked_until <= now)
    new_count = case((lock_expired, 1), else_=StaffPin.failed_attempts + 1)
    locked_until = now + timedelta(minutes=policy.lockout_minutes)
    # One atomic statement, so two failures racing on two tablets are both counted.
    row = db.session.execute(
        update(StaffPin)
        .where(StaffPin.id == staff_pin_id)
        .values(
            failed_attempts=new_count,
            locked_until=case((new_count >= policy.max_failed_attempts, locked_until), else_=None),
        )
        .returning(StaffPin.failed_attempts, StaffPin.locked_until)
    ).one()
    db.session.commit()
    if row.locked_until is not None:
        raise StaffPinLocked(row.locked_until, now)
    raise InvalidStaffPin(remaining_attempts=policy.max_failed_attempts - row.failed_attempts)


def verify_pin(
    vendor_id: int, staff_pin_id: int | None, pin: str | None, policy: LockoutPolicy | None = None
) -> int:
    """Verify a staff member's PIN outside of a balance change (e.g. to unlock a screen)."""
    if staff_pin_id is None:
        raise StaffPinRequired()
    record = None
    staff_pin = db.session.scalar(
        select(StaffPin).where(StaffPin.id == staff_pin_id, StaffPin.vendor_id == vendor_id)
    )
    if staff_pin is not None:
        record = PinRecord(
            staff_pin.id,
            staff_pin.pin_hash,
            staff_pin.failed_attempts,
            staff_pin.locked_until,
            staff_pin.is_active,
        )
    db.session.commit()  # end the read before the slow hash
    return check_pin(record, pin, policy or LockoutPolicy())
