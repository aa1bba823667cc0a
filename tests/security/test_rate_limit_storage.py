"""The rate-limit storages (rate_limit_storage.py): the SQLite file's counts as `limits` expects
them, and several counters' increments in one transaction of the file or one pipeline to Redis."""

import sqlite3
import time

import pytest

from loyalty_portal.rate_limit_storage import SqliteFileStorage, incr_many


@pytest.fixture
def storage(tmp_path):
    return SqliteFileStorage(f"sqlite:///{tmp_path / 'rate-limits.sqlite3'}")


def test_increments_count_within_a_window_and_start_again_after_it(storage, monkeypatch):
    assert storage.incr("a", 60) == 1
    assert storage.incr_many([("a", 60, 1), ("b", 60, 1), ("a", 60, 1)]) == [2, 1, 3]
    assert storage.incr_many([("a", 60, -1), ("b", 60, -1)]) == [2, 0]
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert storage.get("a") == 0
    assert storage.incr_many([("a", 60, 1)]) == [1]  # a new window, not 3


def test_several_increments_are_one_transaction(storage):
    storage.incr_many([("a", 60, 1), ("b", 60, 1)])
    with pytest.raises(sqlite3.IntegrityError):
        storage.incr_many([("a", 60, 1), ("b", 60, None)])  # the second fails: count NOT NULL
    assert (storage.get("a"), storage.get("b")) == (1, 1)
    assert storage.incr_many([("a", 60, 1)]) == [2]  # and the connection is usable again


# Redis: limits' own storage, several increments in one pipeline ---------------------------------


@pytest.fixture
def redis_storage(redis_url):
    from limits.storage import storage_from_string

    storage = storage_from_string(redis_url)
    storage.get_connection().flushdb()
    return storage


def test_redis_increments_count_as_limits_counts_them(redis_storage):
    assert redis_storage.incr("a", 60) == 1
    assert incr_many(redis_storage, [("a", 60, 1), ("b", 30, 1), ("a", 60, 1)]) == [2, 1, 3]
    assert incr_many(redis_storage, [("a", 60, -1), ("b", 30, -1)]) == [2, 0]
    assert (redis_storage.get("a"), redis_storage.get("b")) == (2, 0)
    client = redis_storage.get_connection()
    # A new counter gets its window's expiry, as `limits`' own increment gives it.
    assert 0 < client.ttl(redis_storage.prefixed_key("b")) <= 30
    assert 0 < client.ttl(redis_storage.prefixed_key("a")) <= 60


def test_redis_increments_travel_in_one_round_trip(redis_storage):
    connection_class = redis_storage.get_connection().connection_pool.connection_class
    incr_many(redis_storage, [("warm", 60, 1)])  # a connection in the pool
    sent = []
    original = connection_class.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    connection_class.send_packed_command = counting
    try:
        incr_many(redis_storage, [("a", 60, 1), ("b", 60, 1)])
    finally:
        connection_class.send_packed_command = original
    assert len(sent) == 1


def test_redis_increments_survive_a_server_that_forgot_the_script(redis_storage):
    assert incr_many(redis_storage, [("a", 60, 1), ("b", 60, 1)]) == [1, 1]
    redis_storage.get_connection().script_flush()
    # Counted once each, not twice: the failed pipeline ran nothing.
    assert incr_many(redis_storage, [("a", 60, 1), ("b", 60, 1)]) == [2, 2]
    assert incr_many(redis_storage, [("a", 60, 1)]) == [3]
