"""Which language and time zone a request is served in."""

from flask import has_request_context, request, session
from flask_login import current_user

SUPPORTED_LOCALES = ("en", "fr", "de", "lb")
# Luxembourgish is "lb" (ISO 639-1); "lu" is Luba-Katanga but is often used for Luxembourg.
LOCALE_ALIASES = {"lu": "lb"}


def normalise_locale(value: str | None) -> str | None:
    if not value:
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    code = LOCALE_ALIASES.get(code, code)
    return code if code in SUPPORTED_LOCALES else None


def select_locale() -> str:
    """The user's explicit choice first (query, session, profile), then Accept-Language."""
    if not has_request_context():
        return "en"  # CLI commands and tests outside a request
    chosen = normalise_locale(request.args.get("lang")) or normalise_locale(session.get("locale"))
    if chosen:
        return chosen
    if current_user and current_user.is_authenticated:
        chosen = normalise_locale(getattr(current_user, "locale", None))
        if chosen:
            return chosen
    for code, _quality in request.accept_languages:
        chosen = normalise_locale(code)
        if chosen:
            return chosen
    return "en"


def select_timezone() -> str:
    if not has_request_context():
        return "UTC"
    if current_user and current_user.is_authenticated and current_user.vendor is not None:
        return current_user.vendor.timezone
    return "UTC"
