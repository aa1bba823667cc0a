"""Rate limits shared by the screens and the API (Flask-Limiter, per client address)."""

from flask import current_app, request

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


def limit_link_requests(client_limit_setting: str, address_limit_setting: str,
                        field: str = "email"):
    """Forms that e-mail a link (password reset, card link): counted per client address and per
    e-mail address typed, so neither one machine nor one mailbox can be flooded. Both limits
    count every request, whether or not the address is known, so they tell nothing either."""

    def typed_address() -> str:
        return "address:" + (request.form.get(field) or "").strip().lower()[:254]

    per_client = limiter.limit(lambda: current_app.config[client_limit_setting], methods=["POST"])
    per_address = limiter.limit(lambda: current_app.config[address_limit_setting],
                                key_func=typed_address, methods=["POST"])

    def decorator(view):
        return per_client(per_address(view))

    return decorator
