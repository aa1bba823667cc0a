"""Settings from the environment, with defaults that let `make run` work on a bare machine."""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-secret-change-me")
    # Mixed into every staff PIN before bcrypt, so a leaked database alone cannot be brute-forced.
    PIN_PEPPER = os.environ.get("PIN_PEPPER", "dev-only-pin-pepper-change-me")
    PIN_BCRYPT_ROUNDS = _int("PIN_BCRYPT_ROUNDS", 10)
    PASSWORD_BCRYPT_ROUNDS = _int("PASSWORD_BCRYPT_ROUNDS", 12)

    # None means "the embedded SQLite file under instance/", resolved in create_app().
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": False}

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("en", "fr", "de", "lb")

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Per client address. Enrolment is public; login and PIN attempts guess secrets.
    ENROL_RATE_LIMIT = os.environ.get("ENROL_RATE_LIMIT", "10 per minute;100 per hour")
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    # Counts refused PINs only (see rate_limits.py).
    PIN_RATE_LIMIT = os.environ.get("PIN_RATE_LIMIT", "20 per minute")

    # How many reverse proxies (nginx, a load balancer) stand in front of the app: their
    # X-Forwarded-For then gives the client address that rate limits and the ledger record.
    TRUSTED_PROXY_COUNT = _int("TRUSTED_PROXY_COUNT", 0)

    # Country of phone numbers typed without a country code, for vendors whose time zone names
    # no country (e.g. UTC); otherwise the vendor's time zone gives it (services/contacts.py).
    PHONE_DEFAULT_REGION = os.environ.get("PHONE_DEFAULT_REGION", "")
    # Request bodies above this are refused with 413 before anything parses them.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)

    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
