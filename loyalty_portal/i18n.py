"""Which language, region and time zone a request is served in.

The locale handed to flask-babel is a language and a region ("fr_LU", "en_GB"): the language
picks the catalogue (gettext falls back from "fr_LU" to "fr"), the region how dates, times and
numbers are written. The region is the one the browser asks for with that language
("Accept-Language: en-US"), else the platform's (LOCALE_REGION, Luxembourg by default). English
has no Luxembourg data in CLDR, so English in a European region without its own data is written
the British way (day first, 24-hour clock), never the American one.
"""

from functools import cache

from babel import localedata
from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
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
    """The language (see select_language) with its region: "en_GB", "fr_LU", "en_US"."""
    if not has_request_context():
        return "en"  # CLI commands and tests outside a request
    return regional_locale(select_language(), _browser_region, _default_region())


def regional_locale(language: str, browser_region, default_region: str) -> str:
    """`language` written as in the region the browser asks for with it, else in
    `default_region`; English in a region CLDR has no English data for is en_GB."""
    region = browser_region(language)
    if region and _known(f"{language}_{region}"):
        return f"{language}_{region}"
    if _known(f"{language}_{default_region}"):
        return f"{language}_{default_region}"
    if language == "en":
        return "en_GB"
    return language


def _browser_region(language: str) -> str | None:
    """The region of the browser's most preferred tag in `language` ("en-US" -> "US")."""
    for tag, _quality in request.accept_languages:
        code, _, region = tag.replace("_", "-").partition("-")
        if LOCALE_ALIASES.get(code.lower(), code.lower()) == language and region:
            return region.split("-")[-1].upper()
    return None


def _default_region() -> str:
    return (current_app.config.get("LOCALE_REGION") or "LU").upper()


@cache
def _known(identifier: str) -> bool:
    return localedata.exists(identifier)


def current_language() -> str:
    """The request's language code ("en", "fr", "de", "lb"), without its region."""
    return normalise_locale(str(get_locale() or "en")) or "en"


def select_language() -> str:
    """The user's explicit choice first (query, session, profile), then Accept-Language."""
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
