"""The SQLite-file rate-limit storage (rate_limit_storage.py): the counts `limits` expects, and
several counters' increments in one transaction."""

import sqlite3
import time

import pytest

from loyalty_portal.rate_limit_storage import SqliteFileStorage


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
