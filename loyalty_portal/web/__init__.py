"""HTML blueprints (server-rendered, htmx)."""

from flask import Flask, flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from ..errors import AuthenticationRequired
from ..extensions import login_manager

# No inline script or style anywhere: htmx is told not to inject its indicator styles
# (see the htmx-config meta tag in base.html), colours of a program come from /theme/<slug>.css.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


def register_web(app: Flask) -> None:
    """Register the screens' blueprints (their errors are rendered by http_errors.py)."""
    from . import (
        accounts,
        admin,
        admin_vendors,
        auth,
        card_links,
        cashier,
        customer_data,
        owner_reports,
        owner_setup,
        public,
        vendor,
    )
    from .formatting import register_formatting
    from .navigation import register_navigation

    for module in (auth, accounts, cashier, public, card_links, vendor, owner_setup,
                   owner_reports, customer_data, admin, admin_vendors):
        app.register_blueprint(module.bp)
    register_formatting(app)
    register_navigation(app)

    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.unauthorized_handler(_unauthorized)

    @app.after_request
    def set_security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.headers.get("HX-Request"):
            response.vary.add("HX-Request")
        return response


def _unauthorized():
    """Not signed in: the API answers 401; a screen goes to the login page (htmx: a full redirect,
    so the login form never lands inside a fragment)."""
    if request.path.startswith("/api/"):
        raise AuthenticationRequired()
    login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
    if request.headers.get("HX-Request"):
        return "", 401, {"HX-Redirect": login_url}
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url)
