"""Stopping a balance change on PostgreSQL between its write and its COMMIT.

The hot path sends the COMMIT in its write's round trip (hot_path_sql.each, `commit=True`), so
no Python hook runs in between. A test that needs a change written but not yet committed holds,
from a connection of its own, the row of the staff PIN the change records: the ledger row's
foreign key check waits for it inside the write, after the card's lock has given the change its
transaction id."""

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine


@contextmanager
def staff_pin_row_held(engine: Engine, staff_pin_id: int) -> Iterator[Connection]:
    """Hold the staff PIN's row until the block ends (the holder then rolls back)."""
    with engine.connect() as holder:
        holder.execute(
            text("SELECT id FROM staff_pins WHERE id = :id FOR UPDATE"), {"id": staff_pin_id}
        )
        try:
            yield holder
        finally:
            holder.rollback()


def wait_for_a_write_waiting_on_a_lock(engine: Engine, timeout: float = 30) -> int:
    """The backend process id of a ledger write that waits for a row lock. Asked on a connection
    of its own, a transaction per look: PostgreSQL shows a transaction one snapshot of its
    activity view."""
    deadline = time.monotonic() + timeout
    with engine.connect() as watcher:
        while time.monotonic() < deadline:
            pid = watcher.scalar(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE '%INSERT INTO loyalty_transactions%'"
                )
            )
            watcher.rollback()
            if pid is not None:
                return pid
            time.sleep(0.01)
    raise AssertionError("no ledger write waited for the held row")
