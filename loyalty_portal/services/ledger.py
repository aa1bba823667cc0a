"""The mechanics every balance change shares: read the program, verify the PIN, lock the card,
write one ledger row and the card's new balances in the same transaction, and replay retries.

The rules themselves (cooldown, limits, costs) live in stamp_service and points_service, which
decide a `Change` and hand it to `apply_change`. The hot path runs the fixed statements of
hot_path_sql in four round trips on PostgreSQL: the BEGIN (psycopg sends it on its own); one
read of program + PIN + earlier retry + the caller's cached API key still unrevoked; the card's
row lock with, in a statement of its own but the same round trip (pipeline mode), today's stamps
and a concurrent retry; one statement that inserts the ledger row, updates the card (with its
change tag) and the PIN's last use, announces the change in the outbox and counts it in the
day's statistics, with the COMMIT behind it. A PIN adds one bcrypt check with no transaction open
and one round trip (tests/core/test_round_trips.py): its two counters are locked in the program
read's round trip; its reservation is written, committed with that read, and the change's
transaction begun, together, before bcrypt; a right PIN's give-back rides in the card lock's and
the write's round trips.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..errors import (
    IdempotencyKeyReused,
    InvalidApiKey,
    LoyaltyCardInactive,
    LoyaltyCardNotFound,
    LoyaltyProgramInactive,
    LoyaltyProgramNotFound,
    ValidationError,
    VendorSuspended,
)
from ..extensions import db
from ..models import LoyaltyTransaction
from ..models.daily_activity import ACTIVITY_SLOTS
from ..models.program import find_active_reward
from ..models.transaction import TransactionType
from . import hot_path_sql, outbox, pin_service
from .hot_path_sql import HotRow, as_utc
from .lifetime_totals import totals_moved
from .local_days import local_date, local_day_bounds

T = LoyaltyTransaction

MAX_IDEMPOTENCY_KEY_LENGTH = 128


@dataclass(frozen=True)
class Actor:
    """Who asks for a balance change, and from where: recorded on the ledger row."""

    staff_pin_id: int | None = None
    pin: str | None = None
    user_id: int | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    # Where the PIN was typed, for its wrong-PIN counters: "user:<id>" or "key:<api key id>".
    terminal: str | None = None
    # An API key taken from the web process's cache (api_key_service.authenticate): the
    # operation's first statement checks that it still exists unrevoked.
    unconfirmed_api_key_id: int | None = None


@dataclass(frozen=True)
class ProgramRules:
    """The program settings a balance change needs, read in the operation's first query."""

    id: int
    vendor_id: int
    program_type: str
    is_active: bool
    stamps_target: int
    stamps_reward_description: str
    points_per_currency_unit: int
    points_rewards: list[dict[str, Any]]
    require_staff_pin: bool
    cooldown_minutes: int
    max_daily_stamps: int
    pin_policy: pin_service.LockoutPolicy
    timezone: str
    currency: str
    max_stamps_per_purchase: int = 10
    max_purchase_amount_cents: int = 10_000_000
    max_daily_points: int | None = None
    confirm_purchase_above_cents: int | None = None
    counter_undo_minutes: int = 0

    def find_reward(self, reward_id: str) -> dict[str, Any] | None:
        return find_active_reward(self.points_rewards, reward_id)


@dataclass(frozen=True)
class LockedCard:
    """The card row as read under its lock."""

    id: int
    stamp_count: int
    points_balance: int
    last_stamp_at: datetime | None
    is_active: bool
    stamps_today: int
    points_today: int = 0


@dataclass(frozen=True)
class Change:
    """What a rule decided: the ledger row to write and the card totals it moves."""

    transaction_type: TransactionType
    stamps_delta: int = 0
    points_delta: int = 0
    totals: dict[str, int] = field(default_factory=dict)  # card column -> delta
    purchase_amount_cents: int | None = None
    reward_id: str | None = None
    reward_name: str | None = None
    voids_transaction_id: int | None = None
    reason: str | None = None
    is_stamp: bool = False


@dataclass(frozen=True)
class BalanceChange:
    """The result of a balance change, built from its ledger row so a replay is identical."""

    transaction_id: int
    card_id: int
    program_id: int
    transaction_type: str
    stamps_delta: int
    points_delta: int
    stamp_count: int
    points_balance: int
    stamps_target: int
    purchase_amount_cents: int | None
    reward_id: str | None
    reward_name: str | None
    voids_transaction_id: int | None
    created_at: datetime
    replayed: bool = False

    @property
    def reward_available(self) -> bool:
        return self.stamp_count >= self.stamps_target


def _check_idempotency_key(key: str | None) -> None:
    if key is not None and not (1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH):
        raise ValidationError(field="idempotency_key", max_length=MAX_IDEMPOTENCY_KEY_LENGTH)


def _read_program(
    vendor_id: int, actor: Actor, idempotency_key: str | None, *, lock_pin_counters: bool
) -> tuple[HotRow, list | None]:
    """The program's row (with the PIN, an earlier use of the key and the cached API key), and
    with `lock_pin_counters` the actor's PIN counters at their terminal, locked in the same
    round trip (pin_service.counters_lock_step)."""
    params = {
        "vendor_id": vendor_id,
        "staff_pin_id": actor.staff_pin_id,
        "idempotency_key": idempotency_key,
        "api_key_id": actor.unconfirmed_api_key_id,
    }
    steps = [(hot_path_sql.READ_PROGRAM, params)]
    if lock_pin_counters:
        steps.append(
            pin_service.counters_lock_step(vendor_id, actor.staff_pin_id, actor.terminal)
        )
    results = hot_path_sql.each(*steps)
    row = results[0].fetchone()
    pin_counters = results[1].fetchall() if lock_pin_counters else None
    if row is None:
        raise LoyaltyProgramNotFound(vendor_id)
    if actor.unconfirmed_api_key_id is not None:
        # Checked here for a key this process cached: revoked or suspended since.
        if row.live_api_key_id is None:
            raise InvalidApiKey()
        if row.suspended_at is not None:
            raise VendorSuspended(vendor_id)
    return row, pin_counters


def _rules_from(row: HotRow) -> ProgramRules:
    return ProgramRules(
        id=row.id,
        vendor_id=row.vendor_id,
        program_type=str(row.program_type),
        is_active=row.is_active,
        stamps_target=row.stamps_target,
        stamps_reward_description=row.stamps_reward_description,
        points_per_currency_unit=row.points_per_currency_unit,
        points_rewards=row.points_rewards or [],
        require_staff_pin=row.require_staff_pin,
        cooldown_minutes=row.cooldown_minutes,
        max_daily_stamps=row.max_daily_stamps,
        pin_policy=pin_service.LockoutPolicy(row.pin_max_failed_attempts, row.pin_lockout_minutes),
        timezone=row.timezone,
        currency=row.currency,
        max_stamps_per_purchase=row.max_stamps_per_purchase,
        max_purchase_amount_cents=row.max_purchase_amount_cents,
        max_daily_points=row.max_daily_points,
        confirm_purchase_above_cents=row.confirm_purchase_above_cents,
        counter_undo_minutes=row.counter_undo_minutes,
    )


def rules_of(program) -> ProgramRules:
    """The same rules read from a loaded program (screens that check before they ask a PIN)."""
    return ProgramRules(
        id=program.id,
        vendor_id=program.vendor_id,
        program_type=str(program.program_type),
        is_active=program.is_active,
        stamps_target=program.stamps_target,
        stamps_reward_description=program.stamps_reward_description,
        points_per_currency_unit=program.points_per_currency_unit,
        points_rewards=program.points_rewards or [],
        require_staff_pin=program.require_staff_pin,
        cooldown_minutes=program.cooldown_minutes,
        max_daily_stamps=program.max_daily_stamps,
        pin_policy=pin_service.LockoutPolicy(
            program.pin_max_failed_attempts, program.pin_lockout_minutes
        ),
        timezone=program.vendor.timezone,
        currency=program.vendor.currency,
        max_stamps_per_purchase=program.max_stamps_per_purchase,
        max_purchase_amount_cents=program.max_purchase_amount_cents,
        max_daily_points=program.max_daily_points,
        confirm_purchase_above_cents=program.confirm_purchase_above_cents,
        counter_undo_minutes=program.counter_undo_minutes,
    )


def card_state(rules: ProgramRules, card_id: int, now: datetime) -> LockedCard:
    """A card as the rules see it, read without a lock: what the cashier's screen shows before
    anyone types a PIN. The operation itself decides again under the lock."""
    params = _card_params(rules, card_id, local_day_bounds(now, rules.timezone)[0], None)
    row = hot_path_sql.first(hot_path_sql.READ_CARD, params)
    if row is None:
        raise LoyaltyCardNotFound(card_id)
    return _locked_card(row, hot_path_sql.first(hot_path_sql.CARD_CONTEXT, params))


def _card_params(
    rules: ProgramRules, card_id: int, day_start: datetime, idempotency_key: str | None
) -> dict[str, Any]:
    return {
        "card_id": card_id,
        "program_id": rules.id,
        "day_start": day_start,
        "stamp_earned": TransactionType.STAMP_EARNED.value,
        "points_earned": TransactionType.POINTS_EARNED.value,
        "idempotency_key": idempotency_key,
    }


def _locked_card(row: HotRow, context: HotRow) -> LockedCard:
    return LockedCard(
        id=row.id,
        stamp_count=row.stamp_count,
        points_balance=row.points_balance,
        last_stamp_at=as_utc(row.last_stamp_at),
        is_active=row.is_active,
        stamps_today=context.stamps_today,
        points_today=context.points_today,
    )


def _pin_record_from(row: HotRow) -> pin_service.PinRecord | None:
    if row.pin_id is None:
        return None
    return pin_service.PinRecord(
        row.pin_id,
        row.pin_hash,
        row.failed_attempts,
        as_utc(row.locked_until),
        row.pin_is_active,
        row.vendor_id,
    )


def _lock_card(
    rules: ProgramRules,
    card_id: int,
    day_start: datetime,
    idempotency_key: str | None,
    right_pin: pin_service.RightPin | None = None,
) -> tuple[LockedCard, int | None, list]:
    """The card under its row lock, with today's stamps and points, an earlier use of the key,
    and a right PIN's counters locked after the card (their rows; empty without a PIN)."""
    params = _card_params(rules, card_id, day_start, idempotency_key)
    steps = [(hot_path_sql.LOCK_CARD, params), (hot_path_sql.CARD_CONTEXT, params)]
    if right_pin is not None:
        steps.append(right_pin.lock_step())
    # One round trip; the context is still read by a statement of its own, after the lock.
    results = hot_path_sql.each(*steps)
    row, context = results[0].fetchone(), results[1].fetchone()
    if row is None:
        raise LoyaltyCardNotFound(card_id)
    counters = results[2].fetchall() if right_pin is not None else []
    return _locked_card(row, context), context.replay_transaction_id, counters


def _write_and_commit(
    rules: ProgramRules,
    card: LockedCard,
    change: Change,
    actor: Actor,
    staff_pin_id: int | None,
    idempotency_key: str | None,
    now: datetime,
    with_writes: list = (),
) -> int:
    """Insert the ledger row, move the card's balances and totals, give the card a new change tag,
    announce the change in the outbox (folded into the card's pending announcement) and count it
    in its day's statistics, all in the caller's transaction, and commit it; return the new row's
    id. `with_writes`: statements to run first, in the same round trip on PostgreSQL."""
    totals = dict.fromkeys(hot_path_sql.CARD_TOTALS, 0) | change.totals
    # The day's statistics count the row by the rule of lifetime_totals.ledger_sum: what happened
    # at the counter (a void takes back the card's totals, not the day's).
    counted = totals_moved(change.transaction_type, change.stamps_delta, change.points_delta)
    params = {
        "program_id": rules.id,
        "card_id": card.id,
        "transaction_type": change.transaction_type.value,
        "stamps_delta": change.stamps_delta,
        "points_delta": change.points_delta,
        "stamps_balance_after": card.stamp_count + change.stamps_delta,
        "points_balance_after": card.points_balance + change.points_delta,
        "staff_pin_id": staff_pin_id,
        "user_id": actor.user_id,
        "purchase_amount_cents": change.purchase_amount_cents,
        "reward_id": change.reward_id,
        "reward_name": change.reward_name,
        "voids_transaction_id": change.voids_transaction_id,
        "reason": change.reason,
        "idempotency_key": idempotency_key,
        "client_ip": (actor.client_ip or None) and actor.client_ip[:45],
        "user_agent": (actor.user_agent or None) and actor.user_agent[:300],
        "now": now,
        "last_stamp_at": now if change.is_stamp else None,
        "outbox_kind": outbox.CARD_CHANGED,
        "outbox_coalesce_key": outbox.card_key(card.id),
        **{f"delta_{column}": delta for column, delta in totals.items()},
        "local_day": local_date(now, rules.timezone),
        "utc_day": local_date(now, "UTC"),
        "activity_slot": card.id % ACTIVITY_SLOTS,
        **{f"day_{column}": counted.get(column, 0) for column in hot_path_sql.CARD_TOTALS},
    }
    if db.session.get_bind().dialect.name == "postgresql":
        # One round trip with the COMMIT: data-modifying CTEs run in the same statement and
        # snapshot.
        written = hot_path_sql.each(
            *with_writes, (hot_path_sql.WRITE_CHANGE, params), commit=True
        )
        return written[-1].fetchone()[0]
    hot_path_sql.each(*with_writes)
    transaction_id = hot_path_sql.first(hot_path_sql.INSERT_LEDGER_ROW, params)[0]
    if staff_pin_id is not None:
        hot_path_sql.execute(hot_path_sql.TOUCH_PIN, params)
    hot_path_sql.execute(hot_path_sql.ANNOUNCE_CARD_CHANGE, params)
    hot_path_sql.execute(hot_path_sql.COUNT_IN_DAY, params)
    hot_path_sql.execute(hot_path_sql.UPDATE_CARD, params)
    db.session.commit()
    return transaction_id


def _result_from_ledger(transaction_id: int, stamps_target: int, replayed: bool) -> BalanceChange:
    tx = db.session.execute(select(T).where(T.id == transaction_id)).scalar_one()
    return BalanceChange(
        transaction_id=tx.id,
        card_id=tx.card_id,
        program_id=tx.program_id,
        transaction_type=str(tx.transaction_type),
        stamps_delta=tx.stamps_delta,
        points_delta=tx.points_delta,
        stamp_count=tx.stamps_balance_after,
        points_balance=tx.points_balance_after,
        stamps_target=stamps_target,
        purchase_amount_cents=tx.purchase_amount_cents,
        reward_id=tx.reward_id,
        reward_name=tx.reward_name,
        voids_transaction_id=tx.voids_transaction_id,
        created_at=tx.created_at,
        replayed=replayed,
    )


def _replay(
    transaction_id: int, expected: dict[str, Any], idempotency_key: str, stamps_target: int
) -> BalanceChange:
    """The first result of a retried request, or IdempotencyKeyReused if the key was used for a
    different request (another card, operation, amount, reward, ...)."""
    result = _result_from_ledger(transaction_id, stamps_target, replayed=True)
    db.session.commit()
    if any(getattr(result, field) != value for field, value in expected.items()):
        raise IdempotencyKeyReused(idempotency_key)
    return result


def apply_change(
    vendor_id: int,
    card_id: int,
    transaction_type: TransactionType,
    decide: Callable[[ProgramRules, LockedCard, datetime], Change],
    *,
    actor: Actor,
    idempotency_key: str | None = None,
    requires_staff_pin: bool = True,
    requires_active: bool = True,
    counts_today: bool = False,
    check_program: Callable[[ProgramRules], None] | None = None,
    request_fields: dict[str, Any] | None = None,
) -> BalanceChange:
    """Run one balance change as one transaction and return its result.

    `decide(rules, card, now)` applies the operation's rules to the locked card and returns the
    Change, or raises a LoyaltyError (nothing is written then). The card row stays locked from the
    read to the commit, so concurrent operations on one card run one after the other and each sees
    the previous one's result. A retry with the same `idempotency_key` returns the first result and
    changes nothing.

    `request_fields` are the BalanceChange fields a retry must repeat to count as the same
    request (the stamps, the amount, the reward). Corrections by an owner pass
    `requires_staff_pin=False, requires_active=False`.

    Raises LoyaltyProgramNotFound, LoyaltyProgramInactive, LoyaltyCardNotFound, LoyaltyCardInactive,
    the PIN errors of pin_service.check_pin, IdempotencyKeyReused, and whatever `decide` raises.
    """
    _check_idempotency_key(idempotency_key)
    expected = {"card_id": card_id, "transaction_type": transaction_type, **(request_fields or {})}
    # A right staff PIN's places on its wrong-PIN counters: given back by the change's own
    # commit, or on their own if the change ends any other way (a rule, a retry, an error).
    right_pin = None
    try:
        brings_pin = bool(actor.pin) and actor.staff_pin_id is not None
        row, pin_counters = _read_program(
            vendor_id, actor, idempotency_key, lock_pin_counters=requires_staff_pin and brings_pin
        )
        rules = _rules_from(row)
        if row.replay_transaction_id is not None:
            return _replay(
                row.replay_transaction_id, expected, idempotency_key, rules.stamps_target
            )
        if requires_active and not rules.is_active:
            raise LoyaltyProgramInactive(rules.id)
        if check_program is not None:
            check_program(rules)
        staff_pin_id = actor.staff_pin_id
        if requires_staff_pin and rules.require_staff_pin:
            # The PIN's reservation commits the program's read with it: no transaction (and, on
            # SQLite, no lock) is held during bcrypt.
            right_pin = pin_service.check_pin_for_change(
                _pin_record_from(row),
                actor.pin,
                rules.pin_policy,
                terminal=actor.terminal,
                client_address=actor.client_ip,
                locked_counters=pin_counters,
            )
            staff_pin_id = right_pin.staff_pin_id
        else:
            if pin_counters is not None:
                # A PIN the program does not ask for: the read's transaction, which locked its
                # counters and would commit without waiting for the disk, ends here.
                db.session.commit()
            if staff_pin_id is not None and row.pin_id is None:
                staff_pin_id = None  # an unknown PIN id is not recorded when no PIN is required

        now = utcnow()
        # Operations that do not count today's stamps or points sum an empty range (the index
        # makes it free).
        day_start = local_day_bounds(now, rules.timezone)[0] if counts_today else now
        card, earlier, pin_counters = _lock_card(
            rules, card_id, day_start, idempotency_key, right_pin
        )
        if earlier is not None:  # the same retry won the lock first
            return _replay(earlier, expected, idempotency_key, rules.stamps_target)
        if requires_active and not card.is_active:
            raise LoyaltyCardInactive(card.id)
        change = decide(rules, card, now)
        give_back = right_pin.give_back_steps(pin_counters) if right_pin is not None else []
        transaction_id = _write_and_commit(
            rules, card, change, actor, staff_pin_id, idempotency_key, now, give_back
        )
        right_pin = None
        return BalanceChange(
            transaction_id=transaction_id,
            card_id=card.id,
            program_id=rules.id,
            transaction_type=str(change.transaction_type),
            stamps_delta=change.stamps_delta,
            points_delta=change.points_delta,
            stamp_count=card.stamp_count + change.stamps_delta,
            points_balance=card.points_balance + change.points_delta,
            stamps_target=rules.stamps_target,
            purchase_amount_cents=change.purchase_amount_cents,
            reward_id=change.reward_id,
            reward_name=change.reward_name,
            voids_transaction_id=change.voids_transaction_id,
            created_at=now,
        )
    # SQLAlchemy's on SQLite; psycopg's own on PostgreSQL, where the hot path runs its statements
    # on the driver's cursor (hot_path_sql.execute).
    except (IntegrityError, psycopg.IntegrityError):
        db.session.rollback()
        if idempotency_key is None:
            raise
        # A concurrent request with the same key on another card committed first.
        earlier = db.session.scalar(
            select(T.id).where(T.program_id == rules.id, T.idempotency_key == idempotency_key)
        )
        if earlier is None:
            raise
        return _replay(earlier, expected, idempotency_key, rules.stamps_target)
    except BaseException:
        db.session.rollback()
        raise
    finally:
        if right_pin is not None:
            right_pin.give_back_alone()
