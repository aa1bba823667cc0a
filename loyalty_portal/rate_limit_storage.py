"""A `limits` storage in an SQLite file: rate-limit counters that every worker process on one
host shares, without a Redis server (`RATELIMIT_STORAGE_URI=sqlite:////var/lib/loyalty/rl.db`).

Counters live in their own small file, never in the application's database, so counting an
attempt never waits for (or holds) the application's locks. Each increment is one atomic
INSERT ... ON CONFLICT statement; SQLite serialises writers across processes with its file lock
(WAL mode, busy timeout). Several hosts need a storage they all reach: Redis.
Supports the fixed-window strategy (the one rate_limits.py uses).
"""

import os
import sqlite3
import threading
import time
from urllib.parse import unquote

from limits.storage import RedisClusterStorage, RedisStorage, Storage
from redis.exceptions import NoScriptError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_limit_counters (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at REAL NOT NULL
)
"""
_INCREMENT = """
INSERT INTO rate_limit_counters (key, count, expires_at) VALUES (:key, :amount, :expires_at)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN expires_at <= :now THEN excluded.count ELSE count + excluded.count END,
    expires_at = CASE WHEN expires_at <= :now THEN excluded.expires_at ELSE expires_at END
RETURNING count
"""
# Expired counters are removed now and then, so the file stays small.
_PURGE_EVERY = 500


class SqliteFileStorage(Storage):
    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        # As SQLAlchemy reads it: sqlite:///relative/path or sqlite:////absolute/path.
        if not uri.startswith("sqlite:///") or len(uri) == len("sqlite:///"):
            raise ValueError("the sqlite rate-limit storage needs a file: sqlite:////path/to/file")
        self.path = unquote(uri[len("sqlite:///") :])
        self.timeout = float(options.get("timeout", 10))
        self._local = threading.local()
        self._increments = 0
        super().__init__(uri, wrap_exceptions=wrap_exceptions)

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread and process (a connection must not cross a fork).
        connection = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            directory = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(directory, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute(_SCHEMA)
            self._local.connection = connection
            self._local.pid = os.getpid()
        return connection

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        connection = self._connection()
        count = self._increment(connection, key, expiry, amount, now)
        self._purge_now_and_then(connection, now, 1)
        return count

    def incr_many(self, increments: list[tuple[str, int, int]]) -> list[int]:
        """`incr` of several counters, (key, expiry, amount) each, in one transaction: one write
        of the file instead of one per counter (a PIN checked takes two counters' places and a
        right one gives both back)."""
        now = time.time()
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            counts = [
                self._increment(connection, key, expiry, amount, now)
                for key, expiry, amount in increments
            ]
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        self._purge_now_and_then(connection, now, len(increments))
        return counts

    @staticmethod
    def _increment(connection, key: str, expiry: int, amount: int, now: float) -> int:
        parameters = {"key": key, "amount": amount, "expires_at": now + expiry, "now": now}
        return connection.execute(_INCREMENT, parameters).fetchone()[0]

    def _purge_now_and_then(self, connection, now: float, increments: int) -> None:
        before, self._increments = self._increments, self._increments + increments
        if before // _PURGE_EVERY != self._increments // _PURGE_EVERY:
            connection.execute("DELETE FROM rate_limit_counters WHERE expires_at <= ?", (now,))

    def get(self, key: str) -> int:
        row = self._connection().execute(
            "SELECT count FROM rate_limit_counters WHERE key = ? AND expires_at > ?",
            (key, time.time()),
        ).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._connection().execute(
            "SELECT expires_at FROM rate_limit_counters WHERE key = ? AND expires_at > ?",
            (key, time.time()),
        ).fetchone()
        return row[0] if row else time.time()

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return self._connection().execute("DELETE FROM rate_limit_counters").rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM rate_limit_counters WHERE key = ?", (key,))


def incr_many(storage: Storage, increments: list[tuple[str, int, int]]) -> list[int]:
    """Add to several counters, (key, expiry, amount) each, and return their new counts, in as
    few trips to the storage as it allows: one transaction of the SQLite file, one pipeline to
    Redis, else one `incr` per counter. A PIN checked takes two counters' places and a right one
    gives both back, so on Redis this is two round trips per PIN instead of four."""
    if isinstance(storage, SqliteFileStorage):
        return storage.incr_many(increments)
    if isinstance(storage, RedisStorage) and not isinstance(storage, RedisClusterStorage):
        return _redis_incr_many(storage, increments)
    return _one_by_one(storage, increments)


def _redis_incr_many(storage: RedisStorage, increments: list[tuple[str, int, int]]) -> list[int]:
    # `limits`' own increment script (incrby, and the expiry on a new counter), by its digest:
    # redis-py's pipeline would first ask the server whether its scripts exist, a round trip.
    script = storage.lua_incr_expire
    pipeline = storage.get_connection().pipeline(transaction=False)
    for key, expiry, amount in increments:
        pipeline.evalsha(script.sha, 1, storage.prefixed_key(key), expiry, amount)
    try:
        return [int(count) for count in pipeline.execute()]
    except NoScriptError:
        # The server forgot its scripts (a restart, SCRIPT FLUSH). Every command of the pipeline
        # named the same script, so none ran; `incr` loads it again.
        return _one_by_one(storage, increments)


def _one_by_one(storage: Storage, increments: list[tuple[str, int, int]]) -> list[int]:
    return [storage.incr(key, expiry, amount=amount) for key, expiry, amount in increments]
