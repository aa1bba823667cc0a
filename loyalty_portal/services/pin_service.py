"""Staff PINs: creation and management, and verification with lockout.

A PIN is verified against exactly one hash: the caller says whose PIN it is (the staff member
picks their name on the terminal), so a check costs one bcrypt verification however many staff a
vendor has. The PIN is first mixed with a server-side pepper (HMAC-SHA256), so a leaked database
alone is not enough to brute-force four-digit PINs.
"""

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update

from .. import rate_limits
from ..clock import utcnow
from ..errors import (
    InvalidStaffPin,
    LockoutNotFound,
    RateLimited,
    StaffPinLocked,
    StaffPinNotFound,
    StaffPinRequired,
    TrivialStaffPin,
    ValidationError,
)
from ..extensions import db
from ..models import LoyaltyProgram, PinThrottle, StaffPin
from . import hot_path_sql, pin_policy
from .lookup import one_or_raise
from .pin_policy import PIN_PATTERN

# Where a PIN was typed when the caller names no terminal (scripts, the service layer's tests).
UNNAMED_TERMINAL = "unnamed"


@dataclass(frozen=True)
class LockoutPolicy:
    """The program's settings: wrong PINs in a row at one terminal before this PIN is locked
    there, and the length of a first lock (later ones escalate, see pin_policy)."""

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
    """4 to 8 digits, and not one a guesser tries first (pin_policy.trivial_reason). Raises
    ValidationError or TrivialStaffPin."""
    if not isinstance(pin, str) or not PIN_PATTERN.fullmatch(pin):
        raise ValidationError(_l("A PIN is 4 to 8 digits."), field="pin")
    reason = pin_policy.trivial_reason(pin)
    if reason is not None:
        raise TrivialStaffPin(reason)


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
    """Set a new PIN; this also lifts its locks and forgets its wrong PINs, at every terminal."""
    staff_pin = get_pin(vendor_id, staff_pin_id)
    staff_pin.pin_hash = hash_pin(new_pin)
    _forget_guesses(staff_pin)
    db.session.commit()
    return staff_pin


def deactivate_pin(vendor_id: int, staff_pin_id: int) -> StaffPin:
    staff_pin = get_pin(vendor_id, staff_pin_id)
    staff_pin.is_active = False
    db.session.commit()
    return staff_pin


def _forget_guesses(staff_pin: StaffPin) -> None:
    staff_pin.failed_attempts = 0
    staff_pin.locked_until = None
    staff_pin.lock_level = 0
    db.session.execute(delete(PinThrottle).where(PinThrottle.staff_pin_id == staff_pin.id))


def unlock_pin(vendor_id: int, staff_pin_id: int) -> StaffPin:
    """An owner lifts a PIN's locks before they expire: everywhere and at every terminal, and
    its locks start again from the shortest (the terminals' own locks stay; see
    unlock_terminal)."""
    staff_pin = get_pin(vendor_id, staff_pin_id)
    _forget_guesses(staff_pin)
    db.session.commit()
    return staff_pin


@dataclass(frozen=True)
class Lockout:
    """A lock the owner sees: a PIN everywhere (`scope` "pin", no `throttle_id`), a PIN at one
    terminal ("pin_at_terminal") or a whole terminal ("terminal")."""

    scope: str
    throttle_id: int | None
    staff_pin_id: int | None
    staff_name: str | None
    terminal: str | None
    terminal_name: str | None
    locked_until: datetime
    lock_level: int


def terminal_names(vendor_id: int, terminals: set[str]) -> dict[str, str]:
    """What the owner calls each terminal: the login's name or e-mail, or the API key's name."""
    from ..models import ApiKey, User

    user_ids = {int(t[5:]) for t in terminals if t.startswith("user:") and t[5:].isdigit()}
    key_ids = {int(t[4:]) for t in terminals if t.startswith("key:") and t[4:].isdigit()}
    names = {t: str(_l("Other (no terminal named)")) for t in terminals}
    if user_ids:
        for user in db.session.scalars(
            select(User).where(User.id.in_(user_ids), User.vendor_id == vendor_id)
        ):
            names[f"user:{user.id}"] = str(_l("Login %(name)s", name=user.email))
    if key_ids:
        for key in db.session.scalars(
            select(ApiKey).where(ApiKey.id.in_(key_ids), ApiKey.vendor_id == vendor_id)
        ):
            names[f"key:{key.id}"] = str(_l("API key %(name)s", name=key.name))
    return names


def list_lockouts(vendor_id: int, now: datetime | None = None) -> list[Lockout]:
    """The vendor's locks in force now, the longest first."""
    now = now or utcnow()
    pins = {
        p.id: p
        for p in db.session.scalars(select(StaffPin).where(StaffPin.vendor_id == vendor_id))
    }
    lockouts = [
        Lockout("pin", None, p.id, p.name, None, None, p.locked_until, p.lock_level)
        for p in pins.values()
        if p.locked_until is not None and p.locked_until > now
    ]
    throttles = list(
        db.session.scalars(
            select(PinThrottle).where(
                PinThrottle.vendor_id == vendor_id, PinThrottle.locked_until > now
            )
        )
    )
    names = terminal_names(vendor_id, {t.terminal for t in throttles})
    for throttle in throttles:
        staff_pin = pins.get(throttle.staff_pin_id)
        lockouts.append(
            Lockout(
                "pin_at_terminal" if staff_pin is not None else "terminal",
                throttle.id,
                throttle.staff_pin_id,
                staff_pin.name if staff_pin is not None else None,
                throttle.terminal,
                names[throttle.terminal],
                throttle.locked_until,
                throttle.lock_level,
            )
        )
    return sorted(lockouts, key=lambda lockout: lockout.locked_until, reverse=True)


def unlock_terminal(vendor_id: int, throttle_id: int) -> None:
    """An owner lifts a lock at one terminal (of one PIN there, or of the whole terminal) and
    forgets that counter's wrong PINs and lock level. Another vendor's id is not found."""
    deleted = db.session.execute(
        delete(PinThrottle).where(PinThrottle.id == throttle_id, PinThrottle.vendor_id == vendor_id)
    ).rowcount
    db.session.commit()
    if not deleted:
        raise LockoutNotFound(throttle_id)


# Verification -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PinRecord:
    """The columns verification needs, read in the caller's first query."""

    id: int
    pin_hash: str
    failed_attempts: int
    locked_until: datetime | None
    is_active: bool
    vendor_id: int


@dataclass(frozen=True)
class _Attempt:
    """Where an attempt is counted: its PIN-at-terminal and terminal counters."""

    record: PinRecord
    terminal: str
    policy: LockoutPolicy

    @property
    def keys(self) -> tuple[str, str]:
        return throttle_keys(self.record.vendor_id, self.terminal, self.record.id)


def _settings():
    return current_app.config


def _escalation(policy: LockoutPolicy) -> pin_policy.Escalation:
    return pin_policy.Escalation(
        first_lock_minutes=policy.lockout_minutes,
        max_lock_minutes=max(_settings()["PIN_LOCKOUT_MAX_MINUTES"], policy.lockout_minutes),
    )


def throttle_keys(vendor_id: int, terminal: str, staff_pin_id: int) -> tuple[str, str]:
    """The keys of the PIN-at-terminal and the terminal counters."""
    return f"{vendor_id}/{terminal}/{staff_pin_id}", f"{vendor_id}/{terminal}"


_COUNTER_FIELDS = (
    "failures", "lock_level", "locked_until", "last_failure_at", "locked_at", "in_flight",
    "in_flight_since",
)


def _counter(row) -> pin_policy.Counter:
    values = {name: getattr(row, name) for name in _COUNTER_FIELDS}
    for name in ("locked_until", "last_failure_at", "locked_at", "in_flight_since"):
        values[name] = hot_path_sql.as_utc(values[name])
    return pin_policy.Counter(**values)


def _counter_writes(
    attempt: _Attempt, pin_counter: pin_policy.Counter, terminal_counter: pin_policy.Counter
) -> list:
    """The statements that store both counters' new state."""
    return [
        (
            hot_path_sql.WRITE_PIN_COUNTER,
            {"key": key, **{name: getattr(counter, name) for name in _COUNTER_FIELDS}},
        )
        for key, counter in zip(attempt.keys, (pin_counter, terminal_counter), strict=True)
    ]


def _write_counters(
    attempt: _Attempt, pin_counter: pin_policy.Counter, terminal_counter: pin_policy.Counter
) -> None:
    """Both counters' new state, in one round trip on PostgreSQL."""
    hot_path_sql.each(*_counter_writes(attempt, pin_counter, terminal_counter))


def _counter_params(attempt: _Attempt) -> dict:
    pin_key, terminal_key = attempt.keys
    return {
        "pin_key": pin_key,
        "terminal_key": terminal_key,
        "vendor_id": attempt.record.vendor_id,
        "terminal": attempt.terminal,
        "staff_pin_id": attempt.record.id,
    }


def _lock_statement(durable: bool):
    if not durable and db.session.get_bind().dialect.name == "postgresql":
        return hot_path_sql.LOCK_PIN_COUNTERS_NO_FLUSH_WAIT
    return hot_path_sql.LOCK_PIN_COUNTERS


def counters_lock_step(vendor_id: int, staff_pin_id: int, terminal: str | None) -> tuple:
    """The statement that locks a PIN's two counters at a terminal for its reservation (no
    flush wait for the transaction's commit, see _locked_counters), for a caller that runs it
    beside its own first statement: a balance change does, with the program's read, when the
    request brings a PIN, and hands the rows to check_pin_for_change. A caller that then checks
    no PIN must end that transaction before it writes anything that must be durable."""
    pin_key, terminal_key = throttle_keys(vendor_id, terminal or UNNAMED_TERMINAL, staff_pin_id)
    return _lock_statement(durable=False), {"pin_key": pin_key, "terminal_key": terminal_key}


def _counters_in(attempt: _Attempt, rows) -> tuple[pin_policy.Counter, pin_policy.Counter] | None:
    """The attempt's two counters among locked rows, or None if either is missing."""
    by_key = {row.key: _counter(row) for row in rows}
    pin_key, terminal_key = attempt.keys
    if pin_key not in by_key or terminal_key not in by_key:
        return None
    return by_key[pin_key], by_key[terminal_key]


def _locked_counters(
    attempt: _Attempt, *, durable: bool = True
) -> tuple[pin_policy.Counter, pin_policy.Counter]:
    """The attempt's two counters under their row locks (taken in key order, so concurrent
    attempts never deadlock): one statement, three the first time (the counters are created).
    On SQLite, BEGIN IMMEDIATE holds the database's write lock instead.

    Not `durable`: on PostgreSQL the transaction's commit does not wait for the WAL flush
    (synchronous_commit off). It is visible to every other attempt at once all the same, which
    is what counting needs; a crash can lose only the last fraction of a second of such
    bookkeeping (reservations and right PINs, never a lock), and a PIN check then costs its
    bcrypt and a few statements, not two more disk flushes (docs/performance.md)."""
    params = _counter_params(attempt)
    lock = _lock_statement(durable)
    rows = hot_path_sql.execute(lock, params).fetchall()
    if len(rows) < 2:  # the first attempt at this terminal, or with this PIN there
        hot_path_sql.execute(hot_path_sql.CREATE_PIN_COUNTERS, params)
        rows = hot_path_sql.execute(lock, params).fetchall()
    return _counters_in(attempt, rows)


# On equal ends, the broader lock is the one to tell.
_SCOPE_BREADTH = {"pin_at_terminal": 0, "terminal": 1, "pin": 2}


def _raise_longest(locks: list[tuple[datetime, str]], now: datetime):
    locked_until, scope = max(locks, key=lambda lock: (lock[0], _SCOPE_BREADTH[lock[1]]))
    raise StaffPinLocked(locked_until, now, scope)


def _in_one_transaction(work):
    """Run `work` and commit (or roll back if it raises)."""
    try:
        result = work()
        db.session.commit()
        return result
    except BaseException:
        db.session.rollback()
        raise


def _reserve(attempt: _Attempt, now: datetime, locked_rows=None) -> None:
    """Hold the attempt's place on both counters before bcrypt runs, in a short transaction, so
    N concurrent guesses never check more PINs than the counters allow. While the allowance is
    taken by attempts being checked, wait for their outcome (a fraction of a second; a right PIN
    gives its place back). Raises StaffPinLocked (pin_at_terminal or terminal), or RateLimited
    if the places stay taken for PIN_BUSY_WAIT_SECONDS. `locked_rows`: the counters as
    counters_lock_step locked them in the caller's transaction, used by the first try.

    The reservation's COMMIT travels with its writes and the next transaction's BEGIN
    (hot_path_sql.each, `begin_next`): what follows bcrypt starts with its first statement."""
    decay = _settings()["PIN_FAILURE_DECAY_MINUTES"]
    allowances = (attempt.policy.max_failed_attempts, _settings()["PIN_TERMINAL_MAX_FAILURES"])
    deadline = time.monotonic() + _settings()["PIN_BUSY_WAIT_SECONDS"]

    def try_once() -> bool:
        nonlocal locked_rows
        counters = _counters_in(attempt, locked_rows or ()) or _locked_counters(
            attempt, durable=False
        )
        locked_rows = None  # a later try locks them again
        locks = [
            (counter.locked_until, scope)
            for counter, scope in zip(counters, ("pin_at_terminal", "terminal"), strict=True)
            if counter.is_locked(now)
        ]
        if locks:
            _raise_longest(locks, now)
        reserved = [
            pin_policy.reserve(counter, allowance, now, decay)
            for counter, allowance in zip(counters, allowances, strict=True)
        ]
        if pin_policy.BUSY in reserved:
            db.session.rollback()  # nothing written: free the counters' locks
            return False
        hot_path_sql.each(*_counter_writes(attempt, *reserved), commit=True, begin_next=True)
        return True

    while True:
        try:
            if try_once():
                return
        except BaseException:
            db.session.rollback()
            raise
        if time.monotonic() > deadline:
            raise RateLimited(rate_limits.REFUSED_PIN.name, 1)
        time.sleep(0.02)


def _right_counters(
    attempt: _Attempt, now: datetime, pin_counter: pin_policy.Counter,
    terminal_counter: pin_policy.Counter,
) -> list:
    """A right PIN gives its places back; it clears this PIN's count at this terminal and its
    count of wrong PINs in a row everywhere (never the terminal's count): the counters' writes,
    and the PIN's own count cleared at once if it had one."""
    if attempt.record.failed_attempts:
        db.session.execute(
            update(StaffPin).where(StaffPin.id == attempt.record.id).values(failed_attempts=0)
        )
    return _counter_writes(
        attempt,
        pin_policy.record_right(pin_counter, now, clears_failures=True),
        pin_policy.record_right(terminal_counter, now, clears_failures=False),
    )


def _record_right(attempt: _Attempt, now: datetime, *, durable: bool) -> None:
    """_right_counters on counters it locks, in the caller's transaction, not committed."""
    counters = _locked_counters(attempt, durable=durable)
    hot_path_sql.each(*_right_counters(attempt, now, *counters))


@dataclass(frozen=True)
class RightPin:
    """A right PIN (check_pin_for_change) whose places on the counters are still taken: the
    balance change gives them back in its own transaction, committed with the ledger row (no
    transaction of its own: `lock_step` rides with the card's lock, `give_back_steps` with the
    ledger write), or, when that transaction fails or ends without writing, in one of their own
    (`give_back_alone`)."""

    staff_pin_id: int
    attempt: _Attempt
    checked_at: datetime

    def lock_step(self) -> tuple:
        """The statement that locks both counters (run after the card's lock)."""
        return hot_path_sql.LOCK_PIN_COUNTERS, _counter_params(self.attempt)

    def give_back_steps(self, locked_rows) -> list:
        """The give-back's writes for the counters `lock_step` returned. Counters deleted since
        the reservation (their lockouts lifted) are created and locked again here."""
        counters = _counters_in(self.attempt, locked_rows) or _locked_counters(self.attempt)
        return _right_counters(self.attempt, self.checked_at, *counters)

    def give_back_alone(self) -> None:
        _in_one_transaction(lambda: _record_right(self.attempt, self.checked_at, durable=False))


def _give_back(attempt: _Attempt, now: datetime) -> None:
    """The check itself failed (not the PIN): free the attempt's places, count nothing."""

    def work():
        counters = _locked_counters(attempt, durable=False)
        _write_counters(
            attempt,
            *(pin_policy.record_right(counter, now, clears_failures=False) for counter in counters),
        )

    _in_one_transaction(work)


def _lock_everywhere_if_spread(attempt: _Attempt, now: datetime) -> datetime | None:
    """The backstop against guessing spread over terminals: once this PIN got locked at
    PIN_GLOBAL_LOCK_TERMINALS different terminals within a day, lock it at every terminal, for
    longer each time (staff_pins.lock_level). One terminal alone can never cause this."""
    staff_pin_id = attempt.record.id
    terminals = db.session.scalar(
        select(func.count(PinThrottle.id)).where(
            PinThrottle.staff_pin_id == staff_pin_id,
            PinThrottle.locked_at >= now - timedelta(days=1),
        )
    )
    if terminals < _settings()["PIN_GLOBAL_LOCK_TERMINALS"]:
        return None
    staff_pin = db.session.execute(
        select(StaffPin.lock_level, StaffPin.locked_until)
        .where(StaffPin.id == staff_pin_id)
        .with_for_update()
    ).one()
    if staff_pin.locked_until is not None and staff_pin.locked_until > now:
        return staff_pin.locked_until
    escalation = _escalation(attempt.policy)
    level = pin_policy.decayed_level(
        pin_policy.Counter(lock_level=staff_pin.lock_level, locked_until=staff_pin.locked_until),
        now,
        escalation,
    )
    locked_until = now + timedelta(minutes=escalation.lock_minutes(level))
    db.session.execute(
        update(StaffPin)
        .where(StaffPin.id == staff_pin_id)
        .values(lock_level=level + 1, locked_until=locked_until)
    )
    return locked_until


def _record_wrong(attempt: _Attempt, now: datetime):
    """A wrong PIN: counted on both counters (a counter reaching its allowance locks, for longer
    each time), in a row for the owner's screen, and checked against the backstop. Raises
    StaffPinLocked if it locked anything, InvalidStaffPin otherwise."""
    escalation = _escalation(attempt.policy)
    decay = _settings()["PIN_FAILURE_DECAY_MINUTES"]

    def work():
        pin_counter, terminal_counter = _locked_counters(attempt)
        pin_outcome = pin_policy.record_wrong(
            pin_counter, attempt.policy.max_failed_attempts, now, escalation, decay
        )
        terminal_outcome = pin_policy.record_wrong(
            terminal_counter, _settings()["PIN_TERMINAL_MAX_FAILURES"], now, escalation, decay
        )
        _write_counters(attempt, pin_outcome.counter, terminal_outcome.counter)
        db.session.execute(
            update(StaffPin)
            .where(StaffPin.id == attempt.record.id)
            .values(failed_attempts=StaffPin.failed_attempts + 1)
        )
        everywhere = _lock_everywhere_if_spread(attempt, now) if pin_outcome.locked else None
        return pin_outcome, terminal_outcome, everywhere

    pin_outcome, terminal_outcome, everywhere = _in_one_transaction(work)
    locks = [
        (outcome.counter.locked_until, scope)
        for outcome, scope in ((pin_outcome, "pin_at_terminal"), (terminal_outcome, "terminal"))
        if outcome.locked
    ]
    if everywhere is not None:
        locks.append((everywhere, "pin"))
    if locks:
        _raise_longest(locks, now)
    raise InvalidStaffPin(remaining_attempts=min(pin_outcome.remaining, terminal_outcome.remaining))


def check_pin(
    record: PinRecord | None,
    pin: str | None,
    policy: LockoutPolicy,
    now: datetime | None = None,
    *,
    terminal: str | None = None,
    client_address: str | None = None,
) -> int:
    """Verify `pin` against one staff member's record and return the staff PIN id.

    `terminal` names where the PIN was typed: a login ("user:12") or an API key ("key:3").
    The attempt is first refused if the PIN is locked everywhere, or if the client address or
    the staff PIN has used up the refused-PIN rate limit. It is then reserved as a wrong PIN on
    the PIN-at-terminal and terminal counters (committed at once, with whatever the caller's
    transaction read before; see pin_policy), checked with one bcrypt verification outside any
    transaction, and given back if right. A wrong PIN stays counted, also against the rate
    limits, and may lock: this PIN at this terminal (`policy.max_failed_attempts` in a row), this
    terminal (PIN_TERMINAL_MAX_FAILURES), or the PIN everywhere (locked at
    PIN_GLOBAL_LOCK_TERMINALS terminals within a day); each lock of a counter lasts longer than
    its last (pin_policy.Escalation).

    Raises StaffPinRequired, StaffPinNotFound (unknown or inactive), StaffPinLocked (details
    `locked_until`, `lock_scope`), RateLimited, InvalidStaffPin (details `remaining_attempts`).
    """
    right = check_pin_for_change(
        record, pin, policy, now, terminal=terminal, client_address=client_address
    )
    right.give_back_alone()
    return right.staff_pin_id


def check_pin_for_change(
    record: PinRecord | None,
    pin: str | None,
    policy: LockoutPolicy,
    now: datetime | None = None,
    *,
    terminal: str | None = None,
    client_address: str | None = None,
    locked_counters=None,
) -> RightPin:
    """check_pin for a balance change: a right PIN keeps its places until the change gives them
    back in its own transaction (RightPin), which saves the PIN a transaction of its own.
    `locked_counters`: the rows of counters_lock_step, run in the caller's open transaction
    (which the reservation then commits)."""
    now = now or utcnow()
    if not pin:
        raise StaffPinRequired()
    if record is None or not record.is_active:
        raise StaffPinNotFound()
    if record.locked_until is not None and record.locked_until > now:
        raise StaffPinLocked(record.locked_until, now, "pin")
    target = f"staff-pin/{record.id}"
    with rate_limits.attempt(rate_limits.REFUSED_PIN, client_address, target) as limited:
        attempt = _Attempt(record, terminal or UNNAMED_TERMINAL, policy)
        # A lock refuses it unchecked: the rate limits are given back.
        _reserve(attempt, now, locked_counters)
        try:
            right = PIN_PATTERN.fullmatch(pin) is not None and pin_matches(pin, record.pin_hash)
        except BaseException:
            _give_back(attempt, now)
            raise
        if right:
            return RightPin(record.id, attempt, now)
        limited.failed()
        _record_wrong(attempt, now)


def verify_pin(
    vendor_id: int,
    staff_pin_id: int | None,
    pin: str | None,
    policy: LockoutPolicy | None = None,
    *,
    terminal: str | None = None,
    client_address: str | None = None,
) -> int:
    """Verify a staff member's PIN outside of a balance change (e.g. to unlock a screen), under
    the same counters and limits as check_pin."""
    if staff_pin_id is None:
        raise StaffPinRequired()
    record = None
    row = db.session.execute(
        select(StaffPin, LoyaltyProgram.pin_max_failed_attempts, LoyaltyProgram.pin_lockout_minutes)
        .outerjoin(LoyaltyProgram, LoyaltyProgram.vendor_id == StaffPin.vendor_id)
        .where(StaffPin.id == staff_pin_id, StaffPin.vendor_id == vendor_id)
    ).first()
    if row is not None:
        staff_pin = row[0]
        record = PinRecord(
            staff_pin.id,
            staff_pin.pin_hash,
            staff_pin.failed_attempts,
            staff_pin.locked_until,
            staff_pin.is_active,
            staff_pin.vendor_id,
        )
        if policy is None and row.pin_max_failed_attempts is not None:
            policy = LockoutPolicy(row.pin_max_failed_attempts, row.pin_lockout_minutes)
    db.session.commit()  # end the read before the slow hash
    return check_pin(
        record, pin, policy or LockoutPolicy(), terminal=terminal, client_address=client_address
    )
