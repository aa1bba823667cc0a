"""The fixed SQL of the stamp hot path, parsed once at import.

Built statements cost more Python per call than the database spends running them, so the hot
path uses these `text()` statements. Column and parameter types are declared so timestamps and
JSON come back the same on SQLite and PostgreSQL. In SQL, `col = NULL` is never true: a NULL
PIN id or idempotency key simply matches nothing.
"""

from functools import cache

from sqlalchemy import JSON, Boolean, Integer, bindparam, text

from ..models.types import UTCDateTime

CARD_TOTALS = (
    "total_stamps_earned",
    "total_stamps_redeemed",
    "total_points_earned",
    "total_points_redeemed",
    "total_rewards_redeemed",
)

READ_PROGRAM = text(
    """
    SELECT p.id, p.vendor_id, p.program_type, p.is_active, p.stamps_target,
           p.stamps_reward_description, p.points_per_currency_unit, p.points_rewards,
           p.require_staff_pin, p.cooldown_minutes, p.max_daily_stamps,
           p.pin_max_failed_attempts, p.pin_lockout_minutes, v.timezone,
           s.id AS pin_id, s.pin_hash, s.failed_attempts, s.locked_until,
           s.is_active AS pin_is_active, t.id AS replay_transaction_id
    FROM loyalty_programs p
    JOIN vendors v ON v.id = p.vendor_id
    LEFT JOIN staff_pins s ON s.vendor_id = p.vendor_id AND s.id = :staff_pin_id
    LEFT JOIN loyalty_transactions t
           ON t.program_id = p.id AND t.idempotency_key = :idempotency_key
    WHERE p.vendor_id = :vendor_id
    """
).columns(
    is_active=Boolean,
    require_staff_pin=Boolean,
    pin_is_active=Boolean,
    points_rewards=JSON,
    locked_until=UTCDateTime,
)

_LOCK_CARD = """
    SELECT c.id, c.stamp_count, c.points_balance, c.last_stamp_at, c.is_active
    FROM loyalty_cards c
    WHERE c.id = :card_id AND c.program_id = :program_id
"""


@cache
def lock_card(dialect: str):
    """PostgreSQL locks the card row; SQLite's BEGIN IMMEDIATE already holds the write lock."""
    suffix = " FOR UPDATE" if dialect == "postgresql" else ""
    return text(_LOCK_CARD + suffix).columns(last_stamp_at=UTCDateTime, is_active=Boolean)


# Read in a statement of its own, after the lock is held: PostgreSQL re-reads a row it waited for,
# but the subqueries of that same statement would still see the snapshot from before the wait
# (and miss the stamp or the retry that the lock holder just committed).
CARD_CONTEXT = (
    text(
        """
    SELECT (SELECT COALESCE(SUM(t.stamps_delta), 0) FROM loyalty_transactions t
             WHERE t.card_id = :card_id AND t.transaction_type = :stamp_earned
               AND t.created_at >= :day_start) AS stamps_today,
           (SELECT r.id FROM loyalty_transactions r
             WHERE r.program_id = :program_id AND r.idempotency_key = :idempotency_key
           ) AS replay_transaction_id
    """
    )
    .bindparams(bindparam("day_start", type_=UTCDateTime))
    .columns(stamps_today=Integer)
)


_LEDGER_COLUMNS = (
    "program_id, card_id, transaction_type, stamps_delta, points_delta, stamps_balance_after,"
    " points_balance_after, staff_pin_id, user_id, purchase_amount_cents, reward_id, reward_name,"
    " voids_transaction_id, reason, idempotency_key, client_ip, user_agent, created_at"
)
_LEDGER_VALUES = (
    ":program_id, :card_id, :transaction_type, :stamps_delta, :points_delta,"
    " :stamps_balance_after, :points_balance_after, :staff_pin_id, :user_id,"
    " :purchase_amount_cents, :reward_id, :reward_name, :voids_transaction_id, :reason,"
    " :idempotency_key, :client_ip, :user_agent, :now"
)
_CARD_SET = (
    "stamp_count = :stamps_balance_after, points_balance = :points_balance_after,"
    " last_activity_at = :now, updated_at = :now,"
    " last_stamp_at = COALESCE(:last_stamp_at, last_stamp_at), "
    + ", ".join(f"{column} = {column} + :delta_{column}" for column in CARD_TOTALS)
)
_TIMESTAMPS = (bindparam("now", type_=UTCDateTime), bindparam("last_stamp_at", type_=UTCDateTime))

INSERT_LEDGER_ROW = text(
    f"INSERT INTO loyalty_transactions ({_LEDGER_COLUMNS}) VALUES ({_LEDGER_VALUES}) RETURNING id"
).bindparams(_TIMESTAMPS[0])
UPDATE_CARD = text(f"UPDATE loyalty_cards SET {_CARD_SET} WHERE id = :card_id").bindparams(
    *_TIMESTAMPS
)
TOUCH_PIN = text("UPDATE staff_pins SET last_used_at = :now WHERE id = :staff_pin_id").bindparams(
    _TIMESTAMPS[0]
)
WRITE_CHANGE_POSTGRES = text(
    f"""
    WITH new_row AS (
        INSERT INTO loyalty_transactions ({_LEDGER_COLUMNS}) VALUES ({_LEDGER_VALUES})
        RETURNING id
    ), pin_used AS (
        UPDATE staff_pins SET last_used_at = :now WHERE id = :staff_pin_id
    )
    UPDATE loyalty_cards SET {_CARD_SET} WHERE id = :card_id
    RETURNING (SELECT id FROM new_row)
    """
).bindparams(*_TIMESTAMPS)
