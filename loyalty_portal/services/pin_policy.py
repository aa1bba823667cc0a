"""The staff-PIN guessing policy as pure rules: which PINs are too simple, how wrong guesses are
counted and locked, and what the policy means for a guesser (docs/security.md).

Nothing here touches the database or the clock: pin_service reads the counters under their row
locks, asks `reserve()`, `record_right()` or `record_wrong()` what an attempt does to them, and
writes the answer back. Tests replay the same functions with simulated time.

The counters ("throttles") a PIN attempt goes through, all keyed by the terminal it comes from
(a signed-in login, or an API key):
- the PIN at that terminal: the program's `pin_max_failed_attempts` (default 5) wrong PINs in a
  row lock this PIN at this terminal only;
- the terminal as a whole: `PIN_TERMINAL_MAX_FAILURES` (default 10) wrong PINs, whichever staff
  member they were for, lock PIN entry at this terminal;
- each lock of a counter lasts longer than its previous one (`pin_lockout_minutes` times 4 per
  level: 30 min, 2 h, 8 h, then the cap of 24 h), and a counter's level steps down once per
  day without a lock or a wrong PIN.
A wrong PIN is forgotten after `PIN_FAILURE_DECAY_MINUTES` (one per period); a right PIN clears
the PIN-at-terminal count (never the terminal's: an accomplice's successes must not refill a
guesser's allowance). The per-PIN lock everywhere (staff_pins.locked_until) is the backstop for
guessing spread over several terminals: pin_service sets it when the PIN got locked at
`PIN_GLOBAL_LOCK_TERMINALS` different terminals within a day, so no single terminal can trigger
it.
"""

import math
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

PIN_PATTERN = re.compile(r"^[0-9]{4,8}$")  # ASCII digits; always fullmatch ("4321\n" is not)

# The most used PINs that the rules below (one block repeated, a run up or down) do not already
# refuse: from DataGenetics' analysis of 3.4 million four-digit PINs ("PIN analysis", 2012) and
# the usual keypad patterns (a column, a diagonal, a corner-to-corner line).
COMMON_PINS = frozenset(
    {
        "1122", "1004", "2000", "2001", "1100", "1998", "1999", "1985", "1990", "2580", "0852",
        "1470", "0741", "1369", "3690", "1397", "7913", "1793", "1590", "7410", "0258", "5683",
        "112233", "111222", "123321", "654456", "147258", "159753", "147852", "258369",
    }
)


def trivial_reason(pin: str) -> str | None:
    """Why a well-formed PIN is too easy to guess ("repeated", "sequence", "common"), or None.

    - repeated: one block of digits repeated ("1111", "1212", "123123", "12121212");
    - sequence: every digit one up or one down from the previous, wrapping at 9/0 ("1234",
      "4321", "7890", "9876543", "8901");
    - common: in COMMON_PINS.
    """
    for size in range(1, len(pin) // 2 + 1):
        if len(pin) % size == 0 and pin[:size] * (len(pin) // size) == pin:
            return "repeated"
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({1}, {9}):
        return "sequence"
    if pin in COMMON_PINS:
        return "common"
    return None


@dataclass(frozen=True)
class Escalation:
    """How long the locks of one counter last."""

    first_lock_minutes: int = 30  # the program's pin_lockout_minutes
    factor: int = 4
    max_lock_minutes: int = 24 * 60
    level_decay_minutes: int = 24 * 60  # a lock level steps down per quiet period after a lock

    def lock_minutes(self, level: int) -> int:
        """Length of a lock at `level` (0 for a counter's first lock)."""
        # Levels past 64 change nothing a cap could allow, and keep the integers small.
        return min(self.first_lock_minutes * self.factor ** min(level, 64), self.max_lock_minutes)


# An attempt whose outcome never came back (its worker died) stops holding its place after this.
IN_FLIGHT_EXPIRY = timedelta(seconds=30)


@dataclass(frozen=True)
class Counter:
    """One throttle's state, as stored in a pin_throttles row (or on staff_pins).

    `failures` are wrong PINs known; `in_flight` attempts are being checked right now (reserved,
    bcrypt running). Together they never exceed the allowance, which is what makes N concurrent
    guesses check at most the allowance."""

    failures: int = 0
    lock_level: int = 0
    locked_until: datetime | None = None
    last_failure_at: datetime | None = None
    locked_at: datetime | None = None
    in_flight: int = 0
    in_flight_since: datetime | None = None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


# What reserve() says instead of a new state.
LOCKED = "locked"
BUSY = "busy"  # the allowance is taken by attempts being checked: wait for their outcome


@dataclass(frozen=True)
class Outcome:
    """A counter after a checked attempt: its new state, whether this attempt locked it, and
    the wrong PINs it still allows."""

    counter: Counter
    locked: bool
    remaining: int


def decayed_failures(counter: Counter, now: datetime, decay_minutes: int) -> int:
    """The counter's failures after forgetting one per `decay_minutes` since the last one."""
    if counter.failures <= 0 or counter.last_failure_at is None:
        return max(counter.failures, 0)
    forgotten = int((now - counter.last_failure_at) / timedelta(minutes=decay_minutes))
    return max(counter.failures - forgotten, 0)


def decayed_level(counter: Counter, now: datetime, escalation: Escalation) -> int:
    """The lock level after stepping down once per quiet period: no lock and no wrong PIN since
    (so guessing slowly between locks does not bring the short locks back)."""
    if counter.lock_level <= 0 or counter.locked_until is None or counter.locked_until > now:
        return max(counter.lock_level, 0)
    quiet_since = max(counter.locked_until, counter.last_failure_at or counter.locked_until)
    quiet = int((now - quiet_since) / timedelta(minutes=escalation.level_decay_minutes))
    return max(counter.lock_level - quiet, 0)


def live_in_flight(counter: Counter, now: datetime) -> int:
    if counter.in_flight <= 0 or counter.in_flight_since is None:
        return 0
    return counter.in_flight if now - counter.in_flight_since < IN_FLIGHT_EXPIRY else 0


def reserve(counter: Counter, allowance: int, now: datetime, decay_minutes: int):
    """Hold a place for one attempt before it is checked: the new Counter, or LOCKED, or BUSY
    when the wrong PINs known plus the attempts being checked already make the allowance (the
    caller waits for those outcomes, so no more attempts are checked than could lock)."""
    if counter.is_locked(now):
        return LOCKED
    in_flight = live_in_flight(counter, now)
    if decayed_failures(counter, now, decay_minutes) + in_flight >= allowance:
        return BUSY
    return replace(counter, in_flight=in_flight + 1, in_flight_since=now)


def _done(counter: Counter, now: datetime) -> dict:
    return {"in_flight": max(live_in_flight(counter, now) - 1, 0)}


def record_right(counter: Counter, now: datetime, clears_failures: bool) -> Counter:
    """A reserved attempt was right: its place is given back, and `clears_failures` forgets the
    wrong PINs too (a right PIN at a terminal clears that PIN's count there, never the
    terminal's)."""
    changes = _done(counter, now)
    if clears_failures:
        changes["failures"] = 0
    return replace(counter, **changes)


def record_wrong(
    counter: Counter, allowance: int, now: datetime, escalation: Escalation, decay_minutes: int
) -> Outcome:
    """A reserved attempt was wrong: counted, and the `allowance`-th locks the counter for its
    escalated time (the level first steps down for the quiet days before this failure)."""
    level = decayed_level(counter, now, escalation)
    failures = decayed_failures(counter, now, decay_minutes) + 1
    done = _done(counter, now)
    if failures < allowance:
        after = replace(counter, failures=failures, lock_level=level, last_failure_at=now, **done)
        return Outcome(after, False, allowance - failures)
    after = replace(
        counter,
        failures=0,
        lock_level=level + 1,
        locked_until=now + timedelta(minutes=escalation.lock_minutes(level)),
        last_failure_at=now,
        locked_at=now,
        **done,
    )
    return Outcome(after, True, 0)


# What the policy means for a guesser (docs/security.md) ------------------------------------------


@dataclass(frozen=True)
class GuessingSettings:
    """The defaults that bound a guesser at one terminal (see config.py and the program)."""

    pin_max_failed_attempts: int = 5
    pin_lockout_minutes: int = 30
    terminal_max_failures: int = 10
    failure_decay_minutes: int = 180
    staff_count: int = 50
    pin_digits: int = 4


def allowed_pins(digits: int) -> int:
    """How many PINs of `digits` digits a staff member may choose (the rest are refused)."""
    return sum(1 for n in range(10**digits) if trivial_reason(f"{n:0{digits}d}") is None)


def expected_guesses(settings: GuessingSettings) -> float:
    """Wrong guesses a guesser needs on average before one is right.

    With `staff_count` PINs drawn independently and uniformly from the N allowed ones, the best
    strategy is to work through one staff member's PINs (each further guess at the same person is
    likelier to hit than a first guess at another): (N + 1) / 2 guesses on average. Spreading the
    guesses over the staff only needs more (about N * s / (s + 1) for s staff), so (N + 1) / 2
    is the least a guesser can expect to need, whatever the number of staff.
    """
    return (allowed_pins(settings.pin_digits) + 1) / 2


def terminal_escalation(settings: GuessingSettings) -> Escalation:
    return Escalation(first_lock_minutes=settings.pin_lockout_minutes)


def fastest_guessing_days(settings: GuessingSettings, guesses: float) -> float:
    """Days a guesser at one terminal needs for `guesses` wrong PINs, guessing as fast as the
    terminal counter lets them: a burst of the allowance, the escalated lock, again (the PIN-at-
    terminal locks never bind tighter than the terminal's, as the guesser can switch between staff
    members). Guessing slowly enough never to be locked gives one guess per decay period, which
    is slower at the defaults (see slowest_unlocked_rate_per_day)."""
    escalation = terminal_escalation(settings)
    allowance = settings.terminal_max_failures
    minutes, made, level = 0.0, 0, 0
    while made + allowance < guesses:
        made += allowance
        minutes += escalation.lock_minutes(level)
        level += 1
    return minutes / (24 * 60)


def unlocked_rate_per_day(settings: GuessingSettings) -> float:
    """Wrong PINs a day from a guesser who never lets the terminal lock: one per decay period."""
    return 24 * 60 / settings.failure_decay_minutes


def expected_guessing_days(settings: GuessingSettings) -> float:
    """The expected days to guess any one of the staff's PINs from one terminal or one API key,
    taking the faster of the two ways to guess (bursts and locks, or slow and never locked)."""
    guesses = expected_guesses(settings)
    burst_days = fastest_guessing_days(settings, guesses)
    slow_days = guesses / unlocked_rate_per_day(settings)
    return min(burst_days, slow_days)


def lock_cycle_guesses_per_day(settings: GuessingSettings) -> float:
    """Guesses a day once the terminal's locks reached their cap."""
    cap_days = terminal_escalation(settings).max_lock_minutes / (24 * 60)
    return settings.terminal_max_failures / cap_days


def describe(settings: GuessingSettings | None = None) -> dict:
    """The figures docs/security.md quotes, computed from the settings."""
    settings = settings or GuessingSettings()
    guesses = expected_guesses(settings)
    days = expected_guessing_days(settings)
    return {
        "allowed_pins": allowed_pins(settings.pin_digits),
        "expected_guesses": guesses,
        "burst_days": fastest_guessing_days(settings, guesses),
        "slow_days": guesses / unlocked_rate_per_day(settings),
        "expected_days": days,
        "expected_years": days / 365.25,
        "guesses_per_day_at_cap": lock_cycle_guesses_per_day(settings),
        "staff_count": settings.staff_count,
        "ceil_days": math.ceil(days),
    }
