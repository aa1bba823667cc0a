"""Guessing staff PINs: per-terminal and per-PIN-at-terminal counters, escalating locks, the
backstop for guessing spread over terminals, the owner's view and unlock, and the policy replayed
in simulated time (docs/security.md)."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loyalty_portal.errors import InvalidStaffPin, StaffPinLocked
from loyalty_portal.services import pin_policy, pin_service, stamp_service
from loyalty_portal.services.ledger import Actor
from tests.factories import make_card, make_pin, make_program, make_vendor

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def shop(db, frozen_time):
    frozen_time.set(START)
    vendor = make_vendor()
    program = make_program(vendor, "stamps", cooldown_minutes=0, max_daily_stamps=50)
    return vendor, make_card(program)


def attempt(shop, staff, pin, terminal="user:1"):
    """One PIN-confirmed stamp at `terminal`; returns "ok", "wrong" or the lock's (scope, until)."""
    vendor, card = shop
    try:
        stamp_service.add_stamp(
            vendor.id, card.id, actor=Actor(staff_pin_id=staff.id, pin=pin, terminal=terminal)
        )
    except InvalidStaffPin:
        return "wrong"
    except StaffPinLocked as locked:
        return locked.lock_scope, locked.locked_until
    return "ok"


def guess_until_locked(shop, staff, terminal="user:1"):
    for n in range(100):
        outcome = attempt(shop, staff, f"{9000 + n}", terminal)
        if outcome != "wrong":
            return outcome
    raise AssertionError("never locked")


def test_the_nth_wrong_pin_locks_the_pin_at_this_terminal_only(shop, frozen_time):
    anna = make_pin(shop[0], "Anna", "4827")
    for _ in range(4):
        assert attempt(shop, anna, "0000", "user:1") == "wrong"
    assert attempt(shop, anna, "0000", "user:1") == (
        "pin_at_terminal", frozen_time.now + timedelta(minutes=30))
    # Locked at terminal 1, even for the right PIN; terminal 2 takes it.
    assert attempt(shop, anna, "4827", "user:1")[0] == "pin_at_terminal"
    assert attempt(shop, anna, "4827", "user:2") == "ok"
    assert attempt(shop, anna, "4827", "key:7") == "ok"


def test_locks_escalate_30_minutes_2_hours_8_hours_then_a_day(shop, frozen_time):
    anna = make_pin(shop[0], "Anna", "4827")
    lengths = []
    for _ in range(6):
        scope, until = guess_until_locked(shop, anna)
        lengths.append(until - frozen_time.now)
        frozen_time.set(until)
    hours = [length / timedelta(hours=1) for length in lengths]
    assert hours == [0.5, 2, 8, 24, 24, 24]


def test_a_lock_level_steps_down_per_quiet_day(shop, frozen_time):
    anna = make_pin(shop[0], "Anna", "4827")
    for _ in range(3):  # locks of 30 min, 2 h, 8 h: the next would be 24 h
        frozen_time.set(guess_until_locked(shop, anna)[1])
    frozen_time.advance(days=1)  # one quiet day: one step down, the next lock is 8 h
    scope, until = guess_until_locked(shop, anna)
    assert until - frozen_time.now == timedelta(hours=8)
    frozen_time.set(until + timedelta(days=5))  # long quiet: back to the first length
    scope, until = guess_until_locked(shop, anna)
    assert until - frozen_time.now == timedelta(minutes=30)


def test_a_right_pin_keeps_the_escalation(shop, frozen_time):
    anna = make_pin(shop[0], "Anna", "4827")
    frozen_time.set(guess_until_locked(shop, anna)[1])
    assert attempt(shop, anna, "4827") == "ok"
    scope, until = guess_until_locked(shop, anna)
    assert until - frozen_time.now == timedelta(hours=2)


def test_the_terminal_locks_after_its_allowance_whoever_was_guessed(shop, frozen_time):
    staff = [make_pin(shop[0], name, pin) for name, pin in
             (("Anna", "4827"), ("Luc", "5139"), ("Mia", "6203"))]
    outcomes = [attempt(shop, staff[0], "0000") for _ in range(4)]
    outcomes += [attempt(shop, staff[1], "0000") for _ in range(4)]
    outcomes += [attempt(shop, staff[2], "0000") for _ in range(2)]
    assert outcomes[:9] == ["wrong"] * 9
    assert outcomes[9] == ("terminal", frozen_time.now + timedelta(minutes=30))
    # Every PIN waits at this terminal, the right ones too; other terminals are not affected.
    assert attempt(shop, staff[2], "6203")[0] == "terminal"
    assert attempt(shop, staff[2], "6203", "user:2") == "ok"
    assert attempt(shop, staff[0], "4827", "key:3") == "ok"


def test_remaining_attempts_count_the_tighter_counter(shop):
    anna, luc = make_pin(shop[0], "Anna", "4827"), make_pin(shop[0], "Luc", "5139")
    for _ in range(4):
        attempt(shop, anna, "0000")
    attempt(shop, anna, "4827")  # Anna's count is cleared, the terminal's is not (4 of 10)
    with pytest.raises(InvalidStaffPin) as refused:
        stamp_service.add_stamp(shop[0].id, shop[1].id,
                                actor=Actor(staff_pin_id=luc.id, pin="0000", terminal="user:1"))
    assert refused.value.details == {"remaining_attempts": 4}  # Luc: 4 of 5; terminal: 5 of 10
    for _ in range(4):
        attempt(shop, luc, "4827")  # wrong for Luc: ends his allowance (and locks him there)
    with pytest.raises((InvalidStaffPin, StaffPinLocked)):
        stamp_service.add_stamp(shop[0].id, shop[1].id,
                                actor=Actor(staff_pin_id=anna.id, pin="0000", terminal="user:1"))


def test_one_terminal_can_never_lock_a_pin_everywhere(shop, frozen_time):
    anna = make_pin(shop[0], "Anna", "4827")
    for _ in range(8):  # a week of guessing at one terminal
        frozen_time.set(guess_until_locked(shop, anna, "key:1")[1])
    assert attempt(shop, anna, "4827", "user:2") == "ok"


def test_locks_at_three_terminals_within_a_day_lock_the_pin_everywhere(shop, frozen_time):
    anna = make_pin(shop[0], "Anna", "4827")
    guess_until_locked(shop, anna, "key:1")
    frozen_time.advance(hours=2)
    assert guess_until_locked(shop, anna, "key:2")[0] == "pin_at_terminal"
    frozen_time.advance(hours=2)
    scope, until = guess_until_locked(shop, anna, "key:3")
    assert (scope, until) == ("pin", frozen_time.now + timedelta(minutes=30))
    assert attempt(shop, anna, "4827", "user:9") == ("pin", until)
    frozen_time.set(until)
    assert attempt(shop, anna, "4827", "user:9") == "ok"


def test_locks_spread_over_more_than_a_day_do_not_lock_everywhere(shop, frozen_time):
    anna = make_pin(shop[0], "Anna", "4827")
    for terminal in ("key:1", "key:2", "key:3"):
        assert guess_until_locked(shop, anna, terminal)[0] == "pin_at_terminal"
        frozen_time.advance(hours=13)
    assert attempt(shop, anna, "4827", "user:9") == "ok"


def test_the_owner_sees_the_lockouts_and_unlocks_them(shop, frozen_time, db):
    from loyalty_portal.services import api_key_service
    from tests.factories import make_user

    vendor = shop[0]
    anna, luc = make_pin(vendor, "Anna", "4827"), make_pin(vendor, "Luc", "5139")
    key = api_key_service.create_key(vendor.id, "Till 1")
    counter = make_user("staff", vendor, email="counter@example.com")
    guess_until_locked(shop, anna, f"key:{key.api_key.id}")
    for _ in range(5):
        attempt(shop, anna, "0000", f"user:{counter.id}")
    for _ in range(5):
        attempt(shop, luc, "0000", f"user:{counter.id}")
    lockouts = pin_service.list_lockouts(vendor.id)
    seen = {(lo.scope, lo.staff_name, lo.terminal_name) for lo in lockouts}
    assert seen == {
        ("pin_at_terminal", "Anna", "API key Till 1"),
        ("pin_at_terminal", "Anna", "Login counter@example.com"),
        ("pin_at_terminal", "Luc", "Login counter@example.com"),
        ("terminal", None, "Login counter@example.com"),
    }
    terminal_lock = next(lo for lo in lockouts if lo.scope == "terminal")
    pin_service.unlock_terminal(vendor.id, terminal_lock.throttle_id)
    pin_service.unlock_pin(vendor.id, anna.id)
    assert {(lo.scope, lo.staff_name) for lo in pin_service.list_lockouts(vendor.id)} == {
        ("pin_at_terminal", "Luc")
    }
    assert attempt(shop, anna, "4827", f"user:{counter.id}") == "ok"
    assert attempt(shop, luc, "5139", f"user:{counter.id}")[0] == "pin_at_terminal"
    other_vendor = make_vendor()
    luc_lock = pin_service.list_lockouts(vendor.id)[0]
    with pytest.raises(Exception) as not_found:
        pin_service.unlock_terminal(other_vendor.id, luc_lock.throttle_id)
    assert not_found.value.error_code == "LOCKOUT_NOT_FOUND"


def test_a_new_pin_forgets_the_guesses(shop, frozen_time):
    anna = make_pin(shop[0], "Anna", "4827")
    for _ in range(3):
        frozen_time.set(guess_until_locked(shop, anna)[1] - timedelta(minutes=1))
    pin_service.change_pin(shop[0].id, anna.id, "6203")
    assert attempt(shop, anna, "6203") == "ok"
    scope, until = guess_until_locked(shop, anna, "user:2")
    assert until - frozen_time.now == timedelta(minutes=30)


# The policy in simulated time ---------------------------------------------------------------------


def replay_fastest_guesser(settings, guesses_needed, staff_count, escalation=None,
                           terminal_allowance=None):
    """A guesser at one terminal makes wrong guesses as fast as the counters allow, switching to
    whichever staff member's PIN is not locked there, and waits when nothing is open. Replays
    pin_policy.reserve() on the two counters with simulated time; returns the days taken."""
    escalation = escalation or pin_policy.Escalation(
        first_lock_minutes=settings.pin_lockout_minutes
    )
    terminal_allowance = terminal_allowance or settings.terminal_max_failures
    decay = settings.failure_decay_minutes
    now = START
    terminal = pin_policy.Counter()
    pins = [pin_policy.Counter() for _ in range(staff_count)]
    made = 0
    while made < guesses_needed:
        waits = [c.locked_until for c in [terminal, *pins] if c.is_locked(now)]
        if terminal.is_locked(now) or all(p.is_locked(now) for p in pins):
            now = terminal.locked_until if terminal.is_locked(now) else min(waits)
            continue
        index = next(i for i, p in enumerate(pins) if not p.is_locked(now))
        allowances = (settings.pin_max_failed_attempts, terminal_allowance)
        reserved = [pin_policy.reserve(counter, allowance, now, decay)
                    for counter, allowance in zip((pins[index], terminal), allowances, strict=True)]
        assert all(isinstance(counter, pin_policy.Counter) for counter in reserved)
        pins[index], terminal = (
            pin_policy.record_wrong(counter, allowance, now, escalation, decay).counter
            for counter, allowance in zip(reserved, allowances, strict=True)
        )
        made += 1
        now += timedelta(seconds=1)  # a guess takes at least a second at a till
    return (now - START) / timedelta(days=1)


def test_guessing_one_of_50_staff_pins_from_one_terminal_takes_more_than_a_year():
    settings = pin_policy.GuessingSettings()
    figures = pin_policy.describe(settings)
    days = replay_fastest_guesser(settings, figures["expected_guesses"], settings.staff_count)
    assert days > 365
    assert days == pytest.approx(figures["expected_days"], rel=0.01)
    # docs/security.md states the same figure.
    text = (ROOT / "docs" / "security.md").read_text()
    stated = re.search(r"expected time: \*\*(\d+) days", text)
    assert stated, "docs/security.md states the expected time as '**N days'"
    assert int(stated.group(1)) == round(figures["expected_days"])


def test_guessing_slowly_never_locks_but_is_slower_still():
    settings = pin_policy.GuessingSettings()
    escalation = pin_policy.Escalation(first_lock_minutes=settings.pin_lockout_minutes)
    counter, now = pin_policy.Counter(), START
    for _ in range(1000):  # one guess per decay period: the counter never reaches its allowance
        allowance, decay = settings.terminal_max_failures, settings.failure_decay_minutes
        counter = pin_policy.reserve(counter, allowance, now, decay)
        outcome = pin_policy.record_wrong(counter, allowance, now, escalation, decay)
        assert not outcome.locked
        counter = outcome.counter
        now += timedelta(minutes=settings.failure_decay_minutes)
    figures = pin_policy.describe(settings)
    assert figures["slow_days"] > figures["burst_days"] > 365


def test_the_replay_fails_a_weaker_policy():
    """The replay can fail: without the terminal counter and the escalation (the policy this
    replaced: 5 wrong PINs per staff member, then 30 minutes), one of 50 PINs falls within a
    day; with locks capped at 2 hours, within a year."""
    settings = pin_policy.GuessingSettings()
    guesses = pin_policy.expected_guesses(settings)
    old = pin_policy.Escalation(first_lock_minutes=30, factor=1)
    assert replay_fastest_guesser(settings, guesses, 50, old, terminal_allowance=10**6) < 1
    capped = pin_policy.Escalation(first_lock_minutes=30, max_lock_minutes=120)
    assert replay_fastest_guesser(settings, guesses, 50, capped) < 365


def durable_by_default(dbapi_connection, *_):
    """A "checkout" listener: the tests' server commits asynchronously everywhere; production's
    does not."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = on")
    dbapi_connection.commit()


@pytest.mark.postgres_only
def test_only_the_locks_wait_for_the_disk(shop, monkeypatch, db):
    """A PIN check's bookkeeping commits without waiting for the WAL flush: its reservation, and
    a right PIN giving its places back when checked on its own (verify_pin). A balance change
    gives them back in its own transaction, committed (durably) with the ledger row: no
    transaction of its own. A wrong PIN, which may lock, commits durably."""
    from sqlalchemy import event, text

    from loyalty_portal.models import LoyaltyTransaction

    seen = []

    def spying(real):
        def wrapper(*args, **kwargs):
            seen.append(
                (
                    real.__name__,
                    db.session.scalar(text("SHOW synchronous_commit")),
                    db.session.scalar(text("SELECT txid_current()")),
                )
            )
            return real(*args, **kwargs)
        return wrapper

    for name in ("reserve", "record_right", "record_wrong"):
        monkeypatch.setattr(pin_policy, name, spying(getattr(pin_policy, name)))
    vendor, card = shop
    staff = make_pin(vendor, "Ana", "4827")
    db.session.commit()  # the next statement checks a connection out again
    event.listen(db.engine, "checkout", durable_by_default)
    try:
        assert attempt(shop, staff, "4827") == "ok"
        stamped_in = db.session.scalar(
            text("SELECT xmin::text::bigint FROM loyalty_transactions WHERE card_id = :card"),
            {"card": card.id},
        )
        db.session.commit()
        assert attempt(shop, staff, "9051") == "wrong"
        seen_alone = len(seen)
        pin_service.verify_pin(vendor.id, staff.id, "4827", terminal="user:2")
    finally:
        event.remove(db.engine, "checkout", durable_by_default)
    assert LoyaltyTransaction.query.count() == 1
    by_name = {}
    for name, setting, txid in seen[:seen_alone]:
        by_name.setdefault(name, set()).add((setting, txid))
    assert {setting for setting, _ in by_name["reserve"]} == {"off"}
    # The stamp's right PIN: given back in the ledger row's own (durable) transaction.
    assert {setting for setting, _ in by_name["record_right"]} == {"on"}
    assert {txid % 2**32 for _, txid in by_name["record_right"]} == {stamped_in}
    assert {setting for setting, _ in by_name["record_wrong"]} == {"on"}
    alone = {(name, setting) for name, setting, _ in seen[seen_alone:]}
    assert alone == {("reserve", "off"), ("record_right", "off")}


@pytest.mark.postgres_only
def test_a_pin_the_program_does_not_ask_for_leaves_the_change_durable(db, monkeypatch):
    """A request that brings a PIN has its counters locked with the program's read, in a
    transaction that would commit without waiting for the disk; when the program asks for no
    PIN, that transaction ends before the change writes its ledger row."""
    from sqlalchemy import event, text

    from loyalty_portal.services import ledger

    vendor = make_vendor()
    program = make_program(vendor, "stamps", require_staff_pin=False)
    card, staff = make_card(program), make_pin(vendor, "Ana", "4827")
    db.session.commit()
    seen = []
    write = ledger._write_and_commit

    def noting_the_setting(*args, **kwargs):
        seen.append(db.session.scalar(text("SHOW synchronous_commit")))
        return write(*args, **kwargs)

    monkeypatch.setattr(ledger, "_write_and_commit", noting_the_setting)
    event.listen(db.engine, "checkout", durable_by_default)
    try:
        actor = Actor(staff_pin_id=staff.id, pin="4827", terminal="user:1")
        change = stamp_service.add_stamp(vendor.id, card.id, actor=actor)
    finally:
        event.remove(db.engine, "checkout", durable_by_default)
    assert change.stamp_count == 1
    assert seen == ["on"]


@pytest.mark.parametrize("outcome", ["stamped", "cooldown", "retried"])
def test_a_right_pin_gives_its_places_back_however_the_change_ends(shop, db, outcome):
    """A right PIN's places on its counters are given back by the change's own commit, or on
    their own when the change writes nothing (a rule refuses it, a retry replays the first
    result): nothing stays reserved, whatever happens after the PIN."""
    from loyalty_portal.errors import StampCooldown
    from loyalty_portal.models import LoyaltyProgram, PinThrottle

    vendor, card = shop
    staff = make_pin(vendor, "Ana", "4827")
    actor = Actor(staff_pin_id=staff.id, pin="4827", terminal="user:1")
    if outcome == "cooldown":
        db.session.query(LoyaltyProgram).update({"cooldown_minutes": 15})
    db.session.commit()
    stamp_service.add_stamp(vendor.id, card.id, actor=actor, idempotency_key="k1")
    if outcome == "cooldown":
        with pytest.raises(StampCooldown):
            stamp_service.add_stamp(vendor.id, card.id, actor=actor)
    elif outcome == "retried":
        replayed = stamp_service.add_stamp(vendor.id, card.id, actor=actor, idempotency_key="k1")
        assert replayed.replayed
    counters = db.session.query(PinThrottle).all()
    assert len(counters) == 2
    assert [(c.in_flight, c.failures) for c in counters] == [(0, 0), (0, 0)]


def test_a_lockout_lifted_during_the_check_does_not_lose_the_stamp(shop, db, monkeypatch):
    """The owner lifts a lockout (deleting its counters) while a right PIN is being checked: the
    change recreates the counters it gives the places back to, and the stamp goes through."""
    from loyalty_portal.models import PinThrottle

    vendor, card = shop
    staff = make_pin(vendor, "Ana", "4827")
    db.session.commit()
    real = pin_service.pin_matches

    def lifted_meanwhile(pin, pin_hash):
        db.session.query(PinThrottle).delete()
        db.session.commit()
        return real(pin, pin_hash)

    monkeypatch.setattr(pin_service, "pin_matches", lifted_meanwhile)
    assert attempt(shop, staff, "4827") == "ok"
    counters = db.session.query(PinThrottle).all()
    assert sorted((c.staff_pin_id is None, c.in_flight, c.failures) for c in counters) == [
        (False, 0, 0),
        (True, 0, 0),
    ]
