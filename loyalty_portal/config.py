"""Settings from the environment, with defaults that let `make run` work on a bare machine."""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


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

    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")

    # E-mail (Flask-Mailman). Without MAIL_SERVER, e-mails are printed on the console.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND") or ("smtp" if MAIL_SERVER else "console")
    MAIL_PORT = _int("MAIL_PORT", 587)
    MAIL_USE_TLS = _flag("MAIL_USE_TLS")  # STARTTLS
    MAIL_USE_SSL = _flag("MAIL_USE_SSL")  # TLS from the first byte (port 465)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Loyalty Portal <no-reply@loyalty-portal.invalid>"
    )
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 10)

    # How long the signed links sent by e-mail work (seconds).
    INVITATION_MAX_AGE = _int("INVITATION_MAX_AGE", 7 * 24 * 3600)
    PASSWORD_RESET_MAX_AGE = _int("PASSWORD_RESET_MAX_AGE", 3600)
    CARD_LINK_MAX_AGE = _int("CARD_LINK_MAX_AGE", 24 * 3600)
    # Requests for a reset or a card link: per e-mail address, and per client address.
    PASSWORD_RESET_RATE_LIMIT = os.environ.get("PASSWORD_RESET_RATE_LIMIT", "3 per hour")
    PASSWORD_RESET_CLIENT_RATE_LIMIT = os.environ.get(
        "PASSWORD_RESET_CLIENT_RATE_LIMIT", "10 per hour"
    )
    CARD_LINK_RATE_LIMIT = os.environ.get("CARD_LINK_RATE_LIMIT", "3 per hour")
    CARD_LINK_CLIENT_RATE_LIMIT = os.environ.get("CARD_LINK_CLIENT_RATE_LIMIT", "10 per hour")
    # The outbox worker (`flask loyalty worker`, docs/outbox.md). Times in seconds.
    OUTBOX_POLL_SECONDS = _float("OUTBOX_POLL_SECONDS", 0.2)  # idle wait between looks
    OUTBOX_BATCH_SIZE = _int("OUTBOX_BATCH_SIZE", 20)  # claimed at once (1 on SQLite)
    OUTBOX_LEASE_SECONDS = _float("OUTBOX_LEASE_SECONDS", 300)  # longer than any handler's timeout
    OUTBOX_BACKOFF_BASE_SECONDS = _float("OUTBOX_BACKOFF_BASE_SECONDS", 2)
    OUTBOX_BACKOFF_MAX_SECONDS = _float("OUTBOX_BACKOFF_MAX_SECONDS", 3600)
    OUTBOX_MAX_AGE_SECONDS = _float("OUTBOX_MAX_AGE_SECONDS", 24 * 3600)  # then dead
    OUTBOX_KEEP_DELIVERED_SECONDS = _float("OUTBOX_KEEP_DELIVERED_SECONDS", 24 * 3600)
