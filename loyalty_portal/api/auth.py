"""Who calls the API, and what they may do.

Two ways in:
- a vendor's API key, `Authorization: Bearer lpk_...` (point-of-sale integrations). Requests
  authenticated this way carry no ambient credential, so they skip CSRF;
- the portal's browser session (Flask-Login). Unsafe methods then need the `X-CSRFToken` header,
  as the htmx screens send it, because a browser attaches the cookie to forged requests too.

What each caller may do (`Access`):
- POS: look up and read cards, read the program and the staff list, stamp, earn, redeem —
  owners, staff terminals and API keys;
- READ: statistics and the transactions CSV — owners and API keys;
- MANAGE: settings, PINs, voids, customers' data, API keys — owners signed in, never a key;
- ADMIN: the platform admin's routes — admins signed in;
- SESSION: anyone signed in (who am I, sign out).
Vendor routes always work on `principal().vendor_id`; nothing else names the vendor.
"""

import enum
from dataclasses import dataclass
from functools import wraps

from flask import current_app, g, request
from flask_login import current_user

from ..errors import AuthenticationRequired, InvalidApiKey, PermissionDenied, VendorSuspended
from ..extensions import csrf
from ..models import Role
from ..services import api_key_service
from ..services.ledger import Actor


class Access(enum.Enum):
    POS = "pos"
    READ = "read"
    MANAGE = "manage"
    ADMIN = "admin"
    SESSION = "session"


API_KEY = "api_key"
ALLOWED = {
    Access.POS: {Role.OWNER, Role.STAFF, API_KEY},
    Access.READ: {Role.OWNER, API_KEY},
    Access.MANAGE: {Role.OWNER},
    Access.ADMIN: {Role.ADMIN},
    Access.SESSION: {Role.ADMIN, Role.OWNER, Role.STAFF},
}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "A vendor's API key."},
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "The portal's session (unsafe methods need X-CSRFToken).",
    },
}


@dataclass(frozen=True)
class Principal:
    role: str  # a Role, or API_KEY
    vendor_id: int | None
    user_id: int | None = None
    api_key_id: int | None = None
    # False for a key from this process's cache, not yet checked against the database.
    api_key_confirmed: bool = True


def _authenticate(key_confirmed_later: bool) -> Principal:
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        scheme, _, secret = authorization.partition(" ")
        api_key = (
            api_key_service.authenticate(secret.strip(), confirmed_later=key_confirmed_later)
            if scheme.lower() == "bearer"
            else None
        )
        if api_key is None:
            raise InvalidApiKey()
        return Principal(
            API_KEY, api_key.vendor_id, api_key_id=api_key.id, api_key_confirmed=api_key.confirmed
        )
    if not current_user.is_authenticated:
        raise AuthenticationRequired()
    if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    return Principal(current_user.role, current_user.vendor_id, user_id=current_user.id)


def _suspended(caller: Principal) -> bool:
    """A suspended shop's counter is closed to its owners too (keys and terminals are refused
    when they authenticate)."""
    return current_user.vendor is not None and current_user.vendor.is_suspended


def principal() -> Principal:
    return g.api_principal


def actor(staff_pin_id: int | None = None, pin: str | None = None) -> Actor:
    """The caller as the ledger records it; the staff PIN comes from the request body."""
    caller = principal()
    terminal = f"key:{caller.api_key_id}" if caller.api_key_id else f"user:{caller.user_id}"
    return Actor(
        unconfirmed_api_key_id=None if caller.api_key_confirmed else caller.api_key_id,
        staff_pin_id=staff_pin_id,
        pin=pin,
        user_id=caller.user_id,
        terminal=terminal,
        client_ip=request.remote_addr,
        user_agent=request.user_agent.string or None,
    )


def requires(access: Access, *, key_confirmed_by_service: bool = False):
    """Authenticate the request before its input is parsed, then check the caller's role.
    Raises AuthenticationRequired/InvalidApiKey (401) or PermissionDenied (403).

    `key_confirmed_by_service`: the view's service checks an API key taken from this process's
    cache inside its own first statement (the balance changes: ledger.apply_change), which saves
    the key's read. Should the view fail before that check, the key is read here instead, so a
    revoked key always gets 401, never another error."""
    security = (
        [{"sessionCookie": []}]
        if API_KEY not in ALLOWED[access]
        else [{"bearerAuth": []}, {"sessionCookie": []}]
    )

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            caller = _authenticate(key_confirmed_by_service)
            if caller.role not in ALLOWED[access]:
                raise PermissionDenied()
            if access == Access.POS and caller.role == Role.OWNER and _suspended(caller):
                raise VendorSuspended(caller.vendor_id)
            g.api_principal = caller
            if caller.api_key_confirmed:
                return view(*args, **kwargs)
            try:
                return view(*args, **kwargs)
            except InvalidApiKey:
                api_key_service.forget(caller.api_key_id)
                raise
            except Exception:
                if not api_key_service.is_live(caller.api_key_id):
                    api_key_service.forget(caller.api_key_id)
                    raise InvalidApiKey() from None
                raise

        doc = dict(getattr(view, "_apidoc", {}))
        manual = dict(doc.get("manual_doc", {}))
        manual["security"] = security
        manual["responses"] = {**manual.get("responses", {}), 401: "ERROR", 403: "ERROR"}
        doc["manual_doc"] = manual
        wrapped._apidoc = doc
        return wrapped

    return decorator
