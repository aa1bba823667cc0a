"""The fixed SQL of the stamp hot path, and the one function that runs it.

A stamp at a busy counter is a handful of small statements, and the Python around each one costs
more than the database spends running it. So the hot path uses fixed SQL, parsed once here, and
on PostgreSQL hands it straight to psycopg on the session's own connection (same transaction),
which costs about half of going through `Session.execute`. Other databases (the embedded SQLite)
run the same SQL as SQLAlchemy `text()` with declared column types, so timestamps and JSON come
back alike on both.

In SQL, `col = NULL` is never true: a NULL PIN id or idempotency key simply matches nothing.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg.rows import namedtuple_row
from sqlalchemy import JSON, Boolean, Date, Integer, bindparam, text
from sqlalchemy.sql.elements import TextClause

from ..extensions import db
from ..models.types import UTCDateTime
from . import change_tags

CARD_TOTALS = (
    "total_stamps_earned",
    "total_stamps_redeemed",
    "total_points_earned",
    "total_points_redeemed",
    "total_rewards_redeemed",
)

_NAMED_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


@dataclass(frozen=True)
class HotStatement:
    portable: TextClause | None  # any database, through SQLAlchemy
    postgres: str  # psycopg's %(name)s style; may differ (row locks, data-modifying CTEs)


def _statement(sql: str, *, postgres: str | None = None, portable: bool = True, types=None):
    postgres_sql = _NAMED_PARAMETER.sub(r"%(\1)s", postgres if postgres is not None else sql)
    clause = None
    if portable:
        clause = text(sql)
        binds = [name for name, kind in (types or {}).items() if name.startswith(":")]
        if binds:
            clause = clause.bindparams(*(bindparam(name[1:], type_=types[name]) for name in binds))
        columns = {name: kind for name, kind in (types or {}).items() if not name.startswith(":")}
        if columns:
            clause = clause.columns(**columns)
    return HotStatement(clause, postgres_sql)


def execute(statement: HotStatement, params: dict):
    """Run a hot-path statement in the session's transaction; rows have attribute access."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        return driver.cursor(row_factory=namedtuple_row).execute(statement.postgres, params)
    return db.session.execute(statement.portable, params)


# A psycopg named tuple or a SQLAlchemy Row: both give columns as attributes.
HotRow = Any


def first(statement: HotStatement, params: dict) -> HotRow | None:
    return execute(statement, params).fetchone()



def each(
    *steps: tuple[HotStatement, dict], commit: bool = False, begin_next: bool = False
) -> list:
    """Run the statements one after the other in the session's transaction and return each
    one's result (rows with attribute access; fetch only from statements that return rows).

    On PostgreSQL, the statements travel in one round trip (psycopg's pipeline mode): each
    still runs as its own statement, with its own snapshot, in order. If one fails, the ones
    after it do not run and the error is raised here (the transaction is then aborted: roll
    back). When they open the transaction, psycopg first sends its BEGIN in a round trip of its
    own (it syncs the pipeline after it): two round trips, where running the first statement
    alone and pipelining the rest takes three (measured: docs/performance.md). A single
    statement runs without a pipeline.

    `commit`: commit the transaction after the statements, in their round trip on PostgreSQL
    (a COMMIT behind the last statement), then end the session's transaction, which has nothing
    left to send. `begin_next` (PostgreSQL, with `commit`): open the next transaction in that
    round trip too and leave the session's transaction open: the session goes on in the new
    database transaction, whose BEGIN then costs no round trip of its own (a PIN's reservation
    does this before bcrypt; a transaction holds no snapshot and no lock until its first
    statement). On other databases `commit` goes through the session and `begin_next` changes
    nothing. Session commit events fire after the database has committed: a test that needs a
    transaction stopped between its write and its COMMIT stops it inside the database
    (tests/core/held_writes.py), not in an event."""
    if not steps and not commit:
        return []
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        results = [execute(statement, params) for statement, params in steps]
        if commit:
            db.session.commit()
        return results
    driver = connection.connection.driver_connection
    if len(steps) == 1 and not commit:
        statement, params = steps[0]
        return [driver.cursor(row_factory=namedtuple_row).execute(statement.postgres, params)]
    with driver.pipeline():
        results = [
            driver.cursor(row_factory=namedtuple_row).execute(statement.postgres, params)
            for statement, params in steps
        ]
        if commit:
            # Not driver.commit(): in a pipeline it syncs at once, a round trip of its own.
            # Never prepared: psycopg would prepare these on their fifth use.
            driver.cursor().execute("COMMIT", prepare=False)
            if begin_next:
                driver.cursor().execute("BEGIN", prepare=False)
    if commit and not begin_next:
        db.session.commit()
    return results


def as_utc(moment: datetime | None) -> datetime | None:
    """psycopg gives timestamps in the server's time zone; the application speaks UTC."""
    return moment.astimezone(UTC) if moment is not None else None


READ_API_KEY = _statement(
    "SELECT k.id, k.vendor_id, k.revoked_at, k.last_used_at, v.suspended_at"
    " FROM api_keys k JOIN vendors v ON v.id = k.vendor_id WHERE k.key_hash = :key_hash",
    types={"revoked_at": UTCDateTime, "last_used_at": UTCDateTime, "suspended_at": UTCDateTime},
)

READ_PROGRAM = _statement(
    """
    SELECT p.id, p.vendor_id, p.program_type, p.is_active, p.stamps_target,
           p.stamps_reward_description, p.points_per_currency_unit, p.points_rewards,
           p.require_staff_pin, p.cooldown_minutes, p.max_daily_stamps,
           p.pin_max_failed_attempts, p.pin_lockout_minutes, p.max_stamps_per_purchase,
           p.max_purchase_amount_cents, p.max_daily_points, p.confirm_purchase_above_cents,
           p.counter_undo_minutes, v.timezone, v.currency,
           s.id AS pin_id, s.pin_hash, s.failed_attempts, s.locked_until,
           s.is_active AS pin_is_active, t.id AS replay_transaction_id,
           k.id AS live_api_key_id, v.suspended_at
    FROM loyalty_programs p
    JOIN vendors v ON v.id = p.vendor_id
    LEFT JOIN staff_pins s ON s.vendor_id = p.vendor_id AND s.id = :staff_pin_id
    LEFT JOIN api_keys k
           ON k.vendor_id = p.vendor_id AND k.id = :api_key_id AND k.revoked_at IS NULL
    LEFT JOIN loyalty_transactions t
           ON t.program_id = p.id AND t.idempotency_key = :idempotency_key
    WHERE p.vendor_id = :vendor_id
    """,
    types={
        "is_active": Boolean,
        "require_staff_pin": Boolean,
        "pin_is_active": Boolean,
        "points_rewards": JSON,
        "locked_until": UTCDateTime,
        "suspended_at": UTCDateTime,
    },
)

_LOCK_CARD = """
    SELECT c.id, c.stamp_count, c.points_balance, c.last_stamp_at, c.is_active
    FROM loyalty_cards c
    WHERE c.id = :card_id AND c.program_id = :program_id
"""
# PostgreSQL locks the card row; SQLite's BEGIN IMMEDIATE already holds the write lock.
LOCK_CARD = _statement(
    _LOCK_CARD,
    postgres=_LOCK_CARD + " FOR UPDATE",
    types={"last_stamp_at": UTCDateTime, "is_active": Boolean},
)
# The same read without a lock: what the cashier's screen shows before a PIN is asked.
READ_CARD = _statement(_LOCK_CARD, types={"last_stamp_at": UTCDateTime, "is_active": Boolean})

# Read in a statement of its own, after the lock is held: PostgreSQL re-reads a row it waited for,
# but the subqueries of that same statement would still see the snapshot from before the wait
# (and miss the stamp or the retry that the lock holder just committed).
CARD_CONTEXT = _statement(
    """
    SELECT (SELECT COALESCE(SUM(t.stamps_delta), 0) FROM loyalty_transactions t
             WHERE t.card_id = :card_id AND t.transaction_type = :stamp_earned
               AND t.created_at >= :day_start) AS stamps_today,
           (SELECT COALESCE(SUM(t.points_delta), 0) FROM loyalty_transactions t
             WHERE t.card_id = :card_id AND t.transaction_type = :points_earned
               AND t.created_at >= :day_start) AS points_today,
           (SELECT r.id FROM loyalty_transactions r
             WHERE r.program_id = :program_id AND r.idempotency_key = :idempotency_key
           ) AS replay_transaction_id
    """,
    types={":day_start": UTCDateTime, "stamps_today": Integer, "points_today": Integer},
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


def _card_set(dialect: str) -> str:
    return (
        "stamp_count = :stamps_balance_after, points_balance = :points_balance_after,"
        " last_activity_at = :now, updated_at = :now,"
        " last_stamp_at = COALESCE(:last_stamp_at, last_stamp_at),"
        f" change_tag = {change_tags.next_tag_sql(dialect)}, "
        + ", ".join(f"{column} = {column} + :delta_{column}" for column in CARD_TOTALS)
    )


_TIMESTAMPS = {":now": UTCDateTime, ":last_stamp_at": UTCDateTime}

# The balance change's announcement (services/outbox.py), folded into the card's pending one.
_ANNOUNCE_CARD_CHANGE = """
    INSERT INTO outbox_messages (kind, card_id, program_id, reason, coalesce_key, status,
                                 changes, attempts, created_at, last_change_at, due_at)
    VALUES (:outbox_kind, :card_id, :program_id, :transaction_type, :outbox_coalesce_key,
            'pending', 1, 0, :now, :now, :now)
    ON CONFLICT (kind, coalesce_key) WHERE status = 'pending'
    DO UPDATE SET changes = outbox_messages.changes + 1, reason = excluded.reason,
                  last_change_at = excluded.last_change_at
"""

# The change's share of its day in the statistics' summary (models/daily_activity.py).
_COUNT_IN_DAY = f"""
    INSERT INTO program_daily_activity (program_id, local_day, utc_day, slot,
                                        {", ".join(CARD_TOTALS)})
    VALUES (:program_id, :local_day, :utc_day, :activity_slot,
            {", ".join(f":day_{column}" for column in CARD_TOTALS)})
    ON CONFLICT (program_id, local_day, utc_day, slot) DO UPDATE SET
    {", ".join(f"{c} = program_daily_activity.{c} + excluded.{c}" for c in CARD_TOTALS)}
"""

INSERT_LEDGER_ROW = _statement(
    f"INSERT INTO loyalty_transactions ({_LEDGER_COLUMNS}) VALUES ({_LEDGER_VALUES}) RETURNING id",
    types={":now": UTCDateTime},
)
UPDATE_CARD = _statement(
    f"UPDATE loyalty_cards SET {_card_set('sqlite')} WHERE id = :card_id", types=_TIMESTAMPS
)
ANNOUNCE_CARD_CHANGE = _statement(_ANNOUNCE_CARD_CHANGE, types={":now": UTCDateTime})
COUNT_IN_DAY = _statement(_COUNT_IN_DAY, types={":local_day": Date, ":utc_day": Date})
TOUCH_PIN = _statement(
    "UPDATE staff_pins SET last_used_at = :now WHERE id = :staff_pin_id",
    types={":now": UTCDateTime},
)
# PostgreSQL only: one round trip, the data-modifying CTEs run in the same statement (the ledger
# row, the PIN's last use, the outbox announcement, the day's statistics; the card with its new
# change tag).
WRITE_CHANGE = _statement(
    f"""
    WITH new_row AS (
        INSERT INTO loyalty_transactions ({_LEDGER_COLUMNS}) VALUES ({_LEDGER_VALUES})
        RETURNING id
    ), pin_used AS (
        UPDATE staff_pins SET last_used_at = :now WHERE id = :staff_pin_id
    ), announced AS ({_ANNOUNCE_CARD_CHANGE}
    ), counted AS ({_COUNT_IN_DAY})
    UPDATE loyalty_cards SET {_card_set('postgresql')} WHERE id = :card_id
    RETURNING (SELECT id FROM new_row)
    """,
    portable=False,
)


# A staff PIN's wrong-PIN counters (services/pin_service.py): created once per terminal and PIN,
# then locked and updated in place. The terminal's key is a prefix of the PIN-at-terminal key, so
# rows are always created and locked terminal first: concurrent attempts never deadlock.
CREATE_PIN_COUNTERS = _statement(
    """
    INSERT INTO pin_throttles (key, vendor_id, terminal, staff_pin_id, failures, lock_level,
                               in_flight)
    VALUES (:terminal_key, :vendor_id, :terminal, NULL, 0, 0, 0),
           (:pin_key, :vendor_id, :terminal, :staff_pin_id, 0, 0, 0)
    ON CONFLICT (key) DO NOTHING
    """
)
_PIN_COUNTER_TIMES = ("locked_until", "last_failure_at", "locked_at", "in_flight_since")
_PIN_COUNTER_COLUMNS = (
    "key, failures, lock_level, locked_until, last_failure_at, locked_at, in_flight,"
    " in_flight_since"
)
# SQLite's BEGIN IMMEDIATE already holds the write lock.
LOCK_PIN_COUNTERS = _statement(
    f"SELECT {_PIN_COUNTER_COLUMNS} FROM pin_throttles WHERE key IN (:terminal_key, :pin_key)"
    " ORDER BY key",
    postgres=f"SELECT {_PIN_COUNTER_COLUMNS} FROM pin_throttles"
    " WHERE key IN (:terminal_key, :pin_key) ORDER BY key FOR UPDATE",
    types=dict.fromkeys(_PIN_COUNTER_TIMES, UTCDateTime),
)
# PostgreSQL only, the same for bookkeeping that need not wait for the disk: the transaction's
# COMMIT will not wait for the WAL flush (`SET LOCAL synchronous_commit = off`, set by the
# statement itself to save a round trip).
LOCK_PIN_COUNTERS_NO_FLUSH_WAIT = _statement(
    f"""
    WITH no_flush_wait AS (SELECT set_config('synchronous_commit', 'off', true))
    SELECT {_PIN_COUNTER_COLUMNS} FROM pin_throttles, no_flush_wait
    WHERE key IN (:terminal_key, :pin_key) ORDER BY key FOR UPDATE OF pin_throttles
    """,
    portable=False,
)
WRITE_PIN_COUNTER = _statement(
    """
    UPDATE pin_throttles SET failures = :failures, lock_level = :lock_level,
           locked_until = :locked_until, last_failure_at = :last_failure_at,
           locked_at = :locked_at, in_flight = :in_flight, in_flight_since = :in_flight_since
    WHERE key = :key
    """,
    types={f":{name}": UTCDateTime for name in _PIN_COUNTER_TIMES},
)
