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

    from . import models  # noqa: F401  (registers the tables and the ledger guards)
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

    csrf.init_app(app)
    from .wtforms_i18n import install as install_wtforms_messages

    install_wtforms_messages()
    limiter.init_app(app)
    mail.init_app(app)
    register_cli(app)
    register_error_handlers(app)
    _register_blueprints(app)
    if app.config["TRUSTED_PROXY_COUNT"]:
        hops = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


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
