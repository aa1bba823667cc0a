"""The test plumbing itself: migrated schema, one clean database per test, request isolation,
frozen time. These run on both databases, so a broken fixture shows up in both passes."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import g
from sqlalchemy import func, inspect, select, text

from loyalty_portal import clock
from loyalty_portal.extensions import db as _db

ROOT = Path(__file__).resolve().parent.parent


def _row_counts(db) -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def test_schema_is_migrated_to_the_latest_revision(db):
    head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()

    current = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    tables = set(inspect(db.session.connection()).get_table_names())

    assert current == head
    assert {table.name for table in db.metadata.sorted_tables} <= tables


@pytest.mark.parametrize("round_", [1, 2])
def test_every_test_starts_with_empty_tables(round_, db, runner):
    # Whichever round runs second proves that the first one's demo data (ledger rows included,
    # which the database refuses to DELETE) did not leak.
    assert set(_row_counts(db).values()) == {0}

    result = runner.invoke(args=["loyalty", "demo"])

    assert result.exit_code == 0, result.output
    assert _row_counts(db)["vendors"] > 0


def test_db_kind_matches_the_engine(db, db_kind):
    assert db.engine.dialect.name == {"sqlite": "sqlite", "postgres": "postgresql"}[db_kind]


def test_requests_do_not_share_g_or_the_session_with_the_test(app, db, client, runner):
    @app.get("/_probe")
    def probe():
        seen_before = getattr(g, "probe", None)
        g.probe = "set by the request"
        _db.session.execute(text("UPDATE vendors SET name = name || '!'"))
        _db.session.commit()
        return {"seen_before": seen_before}

    runner.invoke(args=["loyalty", "demo"])
    g.probe = "set by the test"
    # A read leaves the test's transaction open (on SQLite it holds the write lock): the client
    # must end it before the request, or the request's UPDATE would wait for it.
    names_before = db.session.scalars(text("SELECT name FROM vendors ORDER BY id")).all()

    first = client.get("/_probe").get_json()
    second = client.get("/_probe").get_json()

    assert first == second == {"seen_before": None}
    assert g.probe == "set by the test"
    names_after = db.session.scalars(text("SELECT name FROM vendors ORDER BY id")).all()
    assert names_after == [name + "!!" for name in names_before]


def test_frozen_time_stands_still_and_moves_on_request(frozen_time):
    start = clock.utcnow()

    assert start == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert clock.utcnow() == start
    assert frozen_time.advance(minutes=5) == start + timedelta(minutes=5)
    assert clock.utcnow() == start + timedelta(minutes=5)
    frozen_time.set("2026-12-31T23:59:00+01:00")
    assert clock.utcnow() == datetime(2026, 12, 31, 22, 59, tzinfo=UTC)


def test_time_runs_again_after_a_frozen_test():
    assert abs(clock.utcnow() - datetime.now(UTC)) < timedelta(minutes=1)
