"""Loyalty Portal: stamp-card and points loyalty programs for small vendors."""

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Config
from .extensions import babel, csrf, db, limiter, login_manager, mail, migrate


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: settings, extensions, blueprints, error handlers and CLI commands."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(
        __name__,
        instance_path=os.path.join(root, "instance"),
        template_folder=os.path.join(root, "templates"),
        static_folder=os.path.join(root, "static"),
    )
    app.config.from_object(Config)
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "loyalty.sqlite3"
        )
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        # Shared by every worker process on this host (see rate_limit_storage.py).
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["RATELIMIT_STORAGE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "rate-limits.sqlite3"
        )
    _refuse_insecure_settings(app)

    from . import models  # noqa: F401  (registers the tables and the ledger guards)
    from .services.apple_certificates import load_credentials

    # Refuses to start with Apple Wallet settings that cannot work (AppleWalletConfigurationError).
    apple_credentials = load_credentials(app.config)
    if apple_credentials is not None:
        app.extensions["apple_wallet"] = apple_credentials
    from .database import configure_engine_events, render_migration_item
    from .i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(root, "migrations"),
        render_as_batch=True,
        render_item=render_migration_item,
    )
    # The catalogues live at the repository root (translations/), not beside the package.
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", os.path.join(root, "translations"))
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)
    with app.app_context():
        configure_engine_events(db.engine)

    from . import auth  # noqa: F401  (registers the user loader)
    from .cli import register_cli
    from .http_errors import register_error_handlers
    from .input_guard import register_input_guard
    from .rate_limits import init_app as init_rate_limits
    from .services.vendor_service import dummy_password_hash

    csrf.init_app(app)
    from .wtforms_i18n import install as install_wtforms_messages

    install_wtforms_messages()
    init_rate_limits(app)  # registers the sqlite:// storage before Flask-Limiter reads it
    limiter.init_app(app)
    mail.init_app(app)
    dummy_password_hash(app.config["PASSWORD_BCRYPT_ROUNDS"])  # hashed now, not at a sign-in
    register_cli(app)
    from .services import google_wallet_service

    google_wallet_service.init_app(app)
    register_error_handlers(app)
    register_input_guard(app)
    _register_blueprints(app)
    if app.config["TRUSTED_PROXY_COUNT"]:
        hops = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


def _refuse_insecure_settings(app: Flask) -> None:
    """Outside debug and testing, refuse to start with settings only fit for a laptop."""
    if app.debug or app.testing:
        return
    from .config import InsecureConfiguration, insecure_settings

    problems = insecure_settings(app.config)
    if problems:
        raise InsecureConfiguration(
            "Refusing to start with insecure production settings (README.md, Configuration):\n- "
            + "\n- ".join(problems)
            + "\nFor development, run with FLASK_DEBUG=1 (make run does)."
        )


def _normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// spellings and always use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _register_blueprints(app: Flask) -> None:
    from .api import register_api
    from .web import register_web

    register_web(app)
    register_api(app)
