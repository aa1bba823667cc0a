"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from loyalty_portal.database import render_migration_item  # noqa: F401  (same config as flask db)


def test_models_and_migrations_do_not_drift(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_upgrade_created_every_table(db):
    tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables
    assert {
        "loyalty_programs",
        "loyalty_cards",
        "loyalty_transactions",
        "staff_pins",
        "apple_device_registrations",
    } <= tables


def test_the_hardening_migration_stores_phone_numbers_in_e164(app, db):
    """0006_hardening rewrites stored numbers to E.164 in the vendor's country, and leaves alone
    a number that does not parse or whose E.164 form another customer of the vendor holds."""
    import importlib.util
    from pathlib import Path

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.conftest import _logging_kept

    path = Path(__file__).resolve().parents[2] / "migrations/versions/0006_hardening.py"
    spec = importlib.util.spec_from_file_location("hardening", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    db.session.commit()
    with _logging_kept():
        downgrade(revision=migration.down_revision)
    db.session.execute(
        text(
            "INSERT INTO vendors (id, slug, name, timezone, currency, default_locale, created_at)"
            " VALUES (1, 'cafe', 'Cafe', 'Europe/Luxembourg', 'EUR', 'en', CURRENT_TIMESTAMP)"
        )
    )
    typed = ["621 123 456", "+352621123457", "00352 621 123 458", "+352621123456", "12"]
    for customer_id, phone in enumerate(typed, start=1):
        db.session.execute(
            text(
                "INSERT INTO customers (id, vendor_id, name, phone, created_at)"
                " VALUES (:id, 1, 'x', :phone, CURRENT_TIMESTAMP)"
            ),
            {"id": customer_id, "phone": phone},
        )
    db.session.commit()
    with _logging_kept():
        upgrade()
    assert dict(db.session.execute(text("SELECT id, phone FROM customers")).all()) == {
        1: "621 123 456",  # its E.164 form is customer 4's: never merged by a migration
        2: "+352621123457",
        3: "+352621123458",
        4: "+352621123456",
        5: "12",  # not a number: left as typed
    }
