"""Fixtures shared by every test: one schema per session, a fresh database per test.

The same tests run on SQLite and on PostgreSQL: `pytest --db=sqlite|postgres` (or TEST_DB=...;
default sqlite). `make test` runs both passes.

- SQLite: the Alembic migrations run once into a template file; each test gets its own copy.
- PostgreSQL: a throwaway server (scripts/pg_test_cluster.py) starts once per session, the
  migrations run once, and after each test every table is emptied with
  TRUNCATE ... RESTART IDENTITY CASCADE, with triggers skipped for that transaction (the
  ledger's triggers refuse TRUNCATE).

Fixtures: `app`, `db` (flask_sqlalchemy's db, with an app context pushed for the whole test),
`client`, `runner`, `db_url`, `db_kind`, `frozen_time`, `browser_type_launch_args`.

The test client runs each request in its own app context, as production does (Flask would
otherwise reuse the test's context, and with it `g`, the logged-in user, the locale and the
database session). Before each request it commits the test's session, so the request sees the
data the test set up and SQLite's write lock (every transaction starts with BEGIN IMMEDIATE) is
released; a session in a failed state is rolled back instead.

Markers: `postgres_only` tests are skipped in the SQLite pass; `browser` tests are left out of
the PostgreSQL pass by the Makefile; `screenshots` tests run only with
`--screenshots` (`make screenshots`).
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib.util
import logging
import os
import shutil
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import current_app, has_app_context
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
# Tests import helpers as `tests.factories`; make that work for a bare `pytest` too, not only for
# `python -m pytest` (which puts the working directory on sys.path).
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
DB_KINDS = ("sqlite", "postgres")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Keep Chromium from reaching for the network (updates, sync, QUIC probes).
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# A Monday morning in Luxembourg (10:00 UTC = 11:00 local).
DEFAULT_FROZEN_MOMENT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _load_pg_test_cluster():
    spec = importlib.util.spec_from_file_location(
        "pg_test_cluster", ROOT / "scripts" / "pg_test_cluster.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["pg_test_cluster"] = module
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- options & markers


def pytest_addoption(parser):
    group = parser.getgroup("loyalty", "Loyalty Portal")
    group.addoption(
        "--db",
        action="store",
        default=os.environ.get("TEST_DB", "sqlite"),
        help="database to test against: sqlite (default, or $TEST_DB) or postgres",
    )
    group.addoption(
        "--screenshots",
        action="store_true",
        default=False,
        help="run the tests marked `screenshots` (they write images; see make screenshots)",
    )


def pytest_configure(config):
    if config.getoption("--db") not in DB_KINDS:
        raise pytest.UsageError(
            f"--db / TEST_DB must be one of {', '.join(DB_KINDS)}, "
            f"not {config.getoption('--db')!r}"
        )
    config.addinivalue_line(
        "markers", "screenshots: captures screenshots; runs only with --screenshots"
    )
    config.addinivalue_line(
        "markers", "fuzz: schema-driven API fuzzing (schemathesis); runs on SQLite and PostgreSQL"
    )


def pytest_report_header(config):
    kind = config.getoption("--db")
    how = {
        "sqlite": "migrated once into a template file, copied per test",
        "postgres": "throwaway server, migrated once, tables truncated after each test",
    }[kind]
    return f"loyalty database: {kind} ({how})"


def pytest_collection_modifyitems(config, items):
    kind = config.getoption("--db")
    screenshots = config.getoption("--screenshots")
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: run with --db=postgres (make test does)")
    skip_shots = pytest.mark.skip(reason="screenshots: run with --screenshots (make screenshots)")
    skip_browser = pytest.mark.skip(
        reason=f"no Chromium at {CHROMIUM}: run scripts/install-system-deps.sh (make test does)"
    )
    have_chromium = os.path.exists(CHROMIUM)
    for item in items:
        if kind == "sqlite" and item.get_closest_marker("postgres_only"):
            item.add_marker(skip_pg)
        if item.get_closest_marker("screenshots") and not screenshots:
            item.add_marker(skip_shots)
        if item.get_closest_marker("browser") and not have_chromium:
            item.add_marker(skip_browser)


# --------------------------------------------------------------------------- the database


def _test_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "PIN_PEPPER": "test-pin-pepper",
        "WTF_CSRF_ENABLED": False,
        "PIN_BCRYPT_ROUNDS": 4,
        "PASSWORD_BCRYPT_ROUNDS": 4,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
    }


@contextlib.contextmanager
def _logging_kept():
    """Alembic's env.py calls logging.config.fileConfig(), which replaces the root handlers
    (pytest's capture among them), sets the root level and disables every logger that already
    exists. Put all of that back once the migrations have run."""
    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    loggers = {
        name: logger.disabled
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    try:
        yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
        for name, logger in logging.root.manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                logger.disabled = loggers.get(name, False)


def _migrate(database_url: str) -> None:
    """Build the schema the way production does: `flask db upgrade`."""
    from flask_migrate import upgrade

    from loyalty_portal import create_app
    from loyalty_portal.extensions import db as _db

    app = create_app(_test_config(database_url))
    with _logging_kept(), app.app_context():
        upgrade()
        _db.session.remove()
        for engine in _db.engines.values():
            engine.dispose()


class _SqliteSchema:
    def __init__(self, template: Path):
        self.template = template

    def fresh_url(self, directory: Path) -> str:
        path = directory / "loyalty-test.sqlite3"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"


class _PostgresSchema:
    def __init__(self, url: str):
        from sqlalchemy import create_engine, text

        self.url = url
        self.engine = create_engine(url, pool_size=1, max_overflow=0)
        with self.engine.connect() as conn:
            self.tables = conn.scalars(
                text(
                    "SELECT quote_ident(tablename) FROM pg_tables"
                    " WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
                    " ORDER BY tablename"
                )
            ).all()
            sequences = conn.scalars(
                text(
                    "SELECT quote_ident(sequencename) FROM pg_sequences"
                    " WHERE schemaname = current_schema()"
                )
            ).all()
        # TRUNCATE costs tens of milliseconds even on empty tables; skip it when no row exists
        # and no sequence has been used since the last one (a fresh sequence is not is_called).
        used = [f"EXISTS (SELECT 1 FROM {t})" for t in self.tables]
        used += [f"(SELECT is_called FROM {s})" for s in sequences]
        self._is_used = text("SELECT " + " OR ".join(used)) if used else None

    def empty_all_tables(self) -> None:
        """Make the database as the migrations left it. Connections a test leaked (threads,
        extra engines) are ended first, so they cannot hold locks that TRUNCATE waits for."""
        from sqlalchemy import text

        if self._is_used is None:
            return
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            conn.execute(text("SET LOCAL lock_timeout = '30s'"))
            if not conn.scalar(self._is_used):
                return
            # The ledger refuses TRUNCATE (a trigger); the test server's superuser lets this
            # session skip triggers for the transaction.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(
                text(f"TRUNCATE {', '.join(self.tables)} RESTART IDENTITY CASCADE")
            )

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture(scope="session")
def db_kind(pytestconfig) -> str:
    """"sqlite" or "postgres": the database this pass runs against."""
    return pytestconfig.getoption("--db")


@pytest.fixture(scope="session")
def _migrated_schema(db_kind, tmp_path_factory):
    if db_kind == "sqlite":
        template = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
        _migrate(f"sqlite:///{template}")
        # The app opens SQLite in WAL mode; fold the log back in so the template is one file.
        con = sqlite3.connect(template)
        con.execute("PRAGMA journal_mode = DELETE")
        con.close()
        yield _SqliteSchema(template)
        return

    pg = _load_pg_test_cluster()
    cluster = pg.PostgresCluster(database="loyalty_test", fast=True)
    try:
        cluster.start()
        _migrate(cluster.url)
        schema = _PostgresSchema(cluster.url)
        try:
            yield schema
        finally:
            schema.close()
    finally:
        cluster.stop()


@pytest.fixture
def db_url(_migrated_schema, db_kind, tmp_path) -> str:
    """SQLAlchemy URL of this test's database, already migrated and empty."""
    if db_kind == "sqlite":
        yield _migrated_schema.fresh_url(tmp_path)
    else:
        yield _migrated_schema.url
        _migrated_schema.empty_all_tables()


# --------------------------------------------------------------------------- app, db, client


class LoyaltyTestClient(FlaskClient):
    """Flask's test client, but each request gets its own app context (see module docstring)."""

    def open(self, *args, **kwargs):
        _end_test_transaction(self.application)
        if self.preserve_context:  # `with client:` wants the request's context kept for the test
            return super().open(*args, **kwargs)
        request = super().open
        return contextvars.Context().run(request, *args, **kwargs)


def _end_test_transaction(app) -> None:
    from loyalty_portal.extensions import db as _db

    if not has_app_context() or current_app._get_current_object() is not app:
        return
    if not _db.session.registry.has():
        return
    session = _db.session()
    if not (session.in_transaction() or session.new or session.dirty or session.deleted):
        return
    if session.is_active:
        session.commit()
    else:
        session.rollback()


@pytest.fixture
def app(db_url):
    """The application on this test's own database (TESTING, no CSRF, no rate limits, bcrypt
    at its cheapest cost)."""
    from loyalty_portal import create_app
    from loyalty_portal.extensions import db as _db

    application = create_app(_test_config(db_url))
    application.test_client_class = LoyaltyTestClient
    yield application
    with application.app_context():
        for engine in _db.engines.values():
            engine.dispose()


@pytest.fixture
def db(app):
    """flask_sqlalchemy's `db`, with an app context pushed for the whole test."""
    from loyalty_portal.extensions import db as _db

    with app.app_context():
        yield _db
        _db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --------------------------------------------------------------------------- time


class FrozenClock:
    """Controls loyalty_portal.clock.utcnow() for one test."""

    def __init__(self, moment: datetime):
        self.set(moment)

    @property
    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime | str) -> datetime:
        """Jump to `moment` (an aware datetime, or ISO 8601 text; naive means UTC)."""
        from loyalty_portal import clock

        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        self._now = moment
        clock.freeze(moment)
        return moment

    def advance(self, delta: timedelta | None = None, **kwargs) -> datetime:
        """Move forward: advance(timedelta(hours=1)) or advance(minutes=5)."""
        return self.set(self._now + (delta or timedelta()) + timedelta(**kwargs))


@pytest.fixture
def frozen_time():
    """Time stands still at DEFAULT_FROZEN_MOMENT (Monday 2026-03-02 10:00 UTC) until the test
    calls frozen_time.set(...) or frozen_time.advance(...)."""
    from loyalty_portal import clock

    frozen = FrozenClock(DEFAULT_FROZEN_MOMENT)
    yield frozen
    clock.freeze(None)


@pytest.fixture(autouse=True)
def _time_runs_again_after_each_test():
    """A test that froze the clock by hand must not freeze the next one."""
    yield
    from loyalty_portal import clock

    clock.freeze(None)


# --------------------------------------------------------------------------- Apple Wallet


@pytest.fixture(scope="session")
def apple_certificates(tmp_path_factory):
    """A test chain made with cryptography: root CA -> "WWDR" -> Pass Type ID certificate, written
    to files (the key encrypted). Valid from 2020 to 2040, so frozen test clocks accept it.
    `.settings` are the app settings naming the files; `.ca_file` is the root for openssl."""
    from loyalty_portal.services.apple_certificates import make_dev_certificates

    chain = make_dev_certificates(
        "pass.test.loyalty-portal",
        "TESTTEAM01",
        not_before=datetime(2020, 1, 1, tzinfo=UTC),
        valid_days=365 * 20,
    )
    directory = tmp_path_factory.mktemp("apple-certificates")
    settings = chain.write(directory, key_password="test-key-password")
    return AppleTestCertificates(chain, directory, settings)


class AppleTestCertificates:
    def __init__(self, chain, directory: Path, settings: dict):
        self.chain, self.directory, self.settings = chain, directory, settings
        self.ca_file = str(directory / "ca.pem")


@pytest.fixture
def apple_wallet(app, apple_certificates):
    """The app with Apple Wallet configured from the test certificates, loaded and checked the
    way create_app() does at start-up."""
    from loyalty_portal.services.apple_certificates import load_credentials

    app.config.update(apple_certificates.settings, APPLE_APNS_CA_FILE=apple_certificates.ca_file)
    app.extensions["apple_wallet"] = load_credentials(app.config)
    return app.extensions["apple_wallet"]


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Launch arguments for Playwright's Chromium: Debian's /usr/bin/chromium (Playwright's own
    download does not work here), kept off the network. Same name as pytest-playwright's
    fixture, so it also overrides that one if it is ever installed."""
    if not os.path.exists(CHROMIUM):
        # make test installs it (make system-deps); a browser test that skips would not exist.
        pytest.fail(f"no Chromium at {CHROMIUM}: run make system-deps")
    return {"executable_path": CHROMIUM, "args": list(CHROMIUM_ARGS)}


@pytest.fixture
def app_with(app, db):
    """Another app on the same database with some settings changed (e.g. rate limits on)."""

    from loyalty_portal import create_app
    from loyalty_portal.extensions import db as _db

    def build(**overrides):
        keys = (
            "TESTING",
            "SQLALCHEMY_DATABASE_URI",
            "SECRET_KEY",
            "PIN_PEPPER",
            "WTF_CSRF_ENABLED",
            "PIN_BCRYPT_ROUNDS",
            "PASSWORD_BCRYPT_ROUNDS",
            "RATELIMIT_ENABLED",
            "RATELIMIT_STORAGE_URI",
        )
        other = create_app({**{key: app.config[key] for key in keys}, **overrides})

        class Client(app.test_client_class):
            def open(self, *args, **kwargs):
                _db.session.commit()  # the test's session: release SQLite's write lock
                return super().open(*args, **kwargs)

        other.test_client_class = Client
        return other

    return build
