"""verify-ledger you can trust, and ledger guards that the application cannot switch off."""

import subprocess
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DatabaseError

from loyalty_portal.services import ledger_audit, program_service, stamp_service
from loyalty_portal.services.ledger import Actor
from tests.factories import make_card

ROOT = Path(__file__).resolve().parents[2]
OWNER = Actor()
APP_ROLE = "loyalty_app_test"


def _plant_row(db, card, *, stamps_delta, stamps_after, kind="stamp_earned", voids=None):
    """A ledger row written behind the services' back (the ledger refuses edits, not inserts)."""
    return db.session.scalar(
        text(
            "INSERT INTO loyalty_transactions (program_id, card_id, transaction_type,"
            " stamps_delta, points_delta, stamps_balance_after, points_balance_after,"
            " voids_transaction_id, created_at)"
            " VALUES (:program, :card, :kind, :delta, 0, :after, 0, :voids, CURRENT_TIMESTAMP)"
            " RETURNING id"
        ),
        {"program": card.program_id, "card": card.id, "kind": kind, "delta": stamps_delta,
         "after": stamps_after, "voids": voids},
    )


@pytest.fixture
def cards(vendor, stamp_program, clock):
    program_service.update_program(vendor.id, require_staff_pin=False, cooldown_minutes=0)
    first, second = make_card(stamp_program), make_card(stamp_program)
    for card in (first, second):
        stamp_service.add_stamp(vendor.id, card.id, actor=OWNER, stamps=2)
    return first, second


def test_every_broken_chain_is_reported_with_both_balances(db, cards):
    first, second = cards
    bad_first = _plant_row(db, first, stamps_delta=1, stamps_after=7)  # 2 + 1 is 3, not 7
    bad_second = _plant_row(db, second, stamps_delta=1, stamps_after=0)
    db.session.commit()

    problems = ledger_audit.verify_ledger()
    chains = [p for p in problems if p.kind == "balance_chain"]
    assert [(p.card_id, p.transaction_id, p.column, p.recorded, p.expected) for p in chains] == [
        (first.id, bad_first, "stamp_count", 7, 3),
        (second.id, bad_second, "stamp_count", 0, 3),
    ]
    # Both cards also disagree with their ledgers: the planted rows changed no card.
    values = {(p.card_id, p.column): (p.recorded, p.expected) for p in problems
              if p.kind == "card_value"}
    assert values[(first.id, "stamp_count")] == (2, 3)
    assert values[(first.id, "total_stamps_earned")] == (2, 3)
    assert "previous balance plus delta says 3" in chains[0].describe()


def test_a_void_whose_original_is_not_on_the_card_is_flagged(db, cards):
    first, second = cards
    other_row = db.session.scalar(
        text("SELECT id FROM loyalty_transactions WHERE card_id = :id"), {"id": second.id}
    )
    void = _plant_row(db, first, stamps_delta=-2, stamps_after=0, kind="void", voids=other_row)
    db.session.commit()
    problems = ledger_audit.verify_ledger()
    flagged = [p for p in problems if p.kind == "void_without_original"]
    assert [(p.card_id, p.transaction_id, p.expected) for p in flagged] == [
        (first.id, void, other_row)
    ]


def test_a_healthy_ledger_is_read_in_one_streamed_query(db, cards):
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert ledger_audit.verify_ledger(batch_size=1) == []
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1  # cards and rows together, whatever the number of cards


@pytest.mark.postgres_only
def test_it_reads_one_snapshot_while_stamps_land(db, cards, monkeypatch, db_url):
    """A stamp committed on the second card while the first is being checked is not half seen."""
    first, second = cards
    seen = {}
    audit_card = ledger_audit._audit_card

    def audit_and_stamp_meanwhile(card_id, values, rows):
        if not seen:
            seen["isolation"] = db.session.scalar(text("SHOW transaction_isolation"))
            seen["read_only"] = db.session.scalar(text("SHOW transaction_read_only"))
            with psycopg.connect(db_url.replace("+psycopg", "")) as other:
                other.execute(
                    "INSERT INTO loyalty_transactions (program_id, card_id, transaction_type,"
                    " stamps_delta, points_delta, stamps_balance_after, points_balance_after,"
                    " created_at) VALUES (%s, %s, 'stamp_earned', 1, 0, 3, 0, now())",
                    (second.program_id, second.id),
                )
                other.execute(
                    "UPDATE loyalty_cards SET stamp_count = 3, total_stamps_earned = 3"
                    " WHERE id = %s", (second.id,)
                )
        return audit_card(card_id, values, rows)

    monkeypatch.setattr(ledger_audit, "_audit_card", audit_and_stamp_meanwhile)
    assert ledger_audit.verify_ledger(batch_size=1) == []
    assert seen == {"isolation": "repeatable read", "read_only": "on"}
    monkeypatch.undo()
    assert ledger_audit.verify_ledger() == []  # and the stamp is there afterwards


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "statement",
    ["TRUNCATE loyalty_transactions", "TRUNCATE loyalty_cards CASCADE"],
)
def test_the_ledger_refuses_truncate(db, cards, statement):
    with pytest.raises(DatabaseError, match="immutable"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.scalar(text("SELECT count(*) FROM loyalty_transactions")) == 2


@pytest.fixture
def app_role(db, db_url):
    """The production role of docs/operations.md, granted by scripts/app_role.sql."""
    dsn = db_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
        if not exists:
            conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
    subprocess.run(
        ["psql", dsn, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"app_role={APP_ROLE}",
         "-f", str(ROOT / "scripts" / "app_role.sql")],
        check=True, capture_output=True, text=True,
    )
    return dsn.replace("postgres@", f"{APP_ROLE}@")


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE loyalty_transactions DISABLE TRIGGER ALL",
        "ALTER TABLE loyalty_transactions DISABLE TRIGGER loyalty_transactions_no_truncate",
        "DROP TRIGGER loyalty_transactions_immutable ON loyalty_transactions",
        "TRUNCATE loyalty_transactions",
        "UPDATE loyalty_transactions SET stamps_delta = 5",
        "DELETE FROM loyalty_transactions",
        "SET session_replication_role = replica",
    ],
)
def test_the_app_role_cannot_switch_the_guards_off(cards, app_role, statement):
    with psycopg.connect(app_role) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


@pytest.mark.postgres_only
def test_the_app_role_runs_the_counter(app, db, vendor, cards, app_role, clock):
    from loyalty_portal import create_app
    from loyalty_portal.extensions import db as flask_db

    keys = ("TESTING", "SECRET_KEY", "PIN_PEPPER", "PIN_BCRYPT_ROUNDS", "RATELIMIT_ENABLED")
    config = {key: app.config[key] for key in keys}
    as_app_role = create_app({**config, "SQLALCHEMY_DATABASE_URI": app_role})
    first, _ = cards
    with as_app_role.app_context():
        result = stamp_service.add_stamp(vendor.id, first.id, actor=OWNER)
        assert result.stamp_count == 3
        assert ledger_audit.verify_ledger() == []
        flask_db.session.remove()
        flask_db.engine.dispose()
