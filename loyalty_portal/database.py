"""Engine settings that differ between the embedded SQLite and PostgreSQL."""

from sqlalchemy import event
from sqlalchemy.engine import Engine


def configure_engine_events(engine: Engine) -> None:
    """On SQLite: enforce foreign keys, wait for locks, and open every transaction with
    BEGIN IMMEDIATE so a transaction that reads a card holds the write lock it later needs
    (SQLite's stand-in for PostgreSQL's SELECT ... FOR UPDATE)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below take over
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()
        # SQLite has no time zones: the vendor's calendar day comes from Python's zoneinfo.
        from .services.local_days import sqlite_local_date

        dbapi_connection.create_function(
            "loyalty_local_date", 2, sqlite_local_date, deterministic=True
        )

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def render_migration_item(type_, obj, autogen_context):
    """Autogenerate writes our UTCDateTime as a plain timezone-aware DateTime, so migrations do
    not import application code."""
    from .models.types import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
