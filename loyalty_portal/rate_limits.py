"""Rate limits shared by the screens and the API (Flask-Limiter, per client address)."""

from flask import current_app

from .extensions import limiter

# Statuses of a refused PIN: wrong (403) or locked (423).
_PIN_REFUSALS = (403, 423)


def limit_failed_pin_attempts():
    """Only refused PINs count towards PIN_RATE_LIMIT: a busy counter, or a till server that
    speaks for many terminals from one address, may stamp as often as it sells; someone trying
    PIN after PIN across the staff list is stopped."""
    return limiter.limit(
        lambda: current_app.config["PIN_RATE_LIMIT"],
        deduct_when=lambda response: response.status_code in _PIN_REFUSALS,
    )
