"""Settings from the environment, with defaults that let `make run` work on a bare machine."""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


# Development defaults: create_app() refuses them outside debug and testing.
DEV_SECRET_KEY = "dev-only-secret-change-me"
DEV_PIN_PEPPER = "dev-only-pin-pepper-change-me"


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    # Mixed into every staff PIN before bcrypt, so a leaked database alone cannot be brute-forced.
    PIN_PEPPER = os.environ.get("PIN_PEPPER", DEV_PIN_PEPPER)
    PIN_BCRYPT_ROUNDS = _int("PIN_BCRYPT_ROUNDS", 10)
    PASSWORD_BCRYPT_ROUNDS = _int("PASSWORD_BCRYPT_ROUNDS", 12)

    # None means "the embedded SQLite file under instance/", resolved in create_app().
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": False}

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("en", "fr", "de", "lb")
    # Where dates and numbers are written as at home, unless the browser asks for another region
    # with its language (i18n.py): fr_LU, de_LU, lb_LU, and en_GB style for English.
    LOCALE_REGION = os.environ.get("LOCALE_REGION", "LU")

    # Shared by every worker: redis://host:6379/0 in production (several hosts), or an SQLite
    # file on one host (sqlite:////var/lib/loyalty/rate-limits.sqlite3). None means the file
    # instance/rate-limits.sqlite3, resolved in create_app(). memory:// is per process.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or None
    RATELIMIT_HEADERS_ENABLED = True
    # One limit per purpose, counted per client address and per target (see rate_limits.py).
    ENROL_RATE_LIMIT = os.environ.get("ENROL_RATE_LIMIT", "10 per minute;100 per hour")
    ENROL_CONTACT_RATE_LIMIT = os.environ.get("ENROL_CONTACT_RATE_LIMIT", "5 per hour")
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    LOGIN_ACCOUNT_RATE_LIMIT = os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "10 per minute")
    # Count wrong PINs that were checked (a busy counter stamps as often as it sells).
    PIN_RATE_LIMIT = os.environ.get("PIN_RATE_LIMIT", "20 per minute")
    PIN_STAFF_RATE_LIMIT = os.environ.get("PIN_STAFF_RATE_LIMIT", "30 per hour")

    # Staff-PIN guessing (services/pin_policy.py, docs/security.md); the lock after wrong PINs at
    # one terminal and its first length are the program's settings.
    PIN_TERMINAL_MAX_FAILURES = _int("PIN_TERMINAL_MAX_FAILURES", 10)
    PIN_FAILURE_DECAY_MINUTES = _int("PIN_FAILURE_DECAY_MINUTES", 180)
    PIN_LOCKOUT_MAX_MINUTES = _int("PIN_LOCKOUT_MAX_MINUTES", 24 * 60)
    PIN_GLOBAL_LOCK_TERMINALS = _int("PIN_GLOBAL_LOCK_TERMINALS", 3)
    # How long an attempt waits while the allowance is held by attempts being checked.
    PIN_BUSY_WAIT_SECONDS = _int("PIN_BUSY_WAIT_SECONDS", 5)

    # Worker processes serving the app (gunicorn reads the same variable for its default).
    WEB_CONCURRENCY = _int("WEB_CONCURRENCY", 1)

    # How many reverse proxies (nginx, a load balancer) stand in front of the app: their
    # X-Forwarded-For then gives the client address that rate limits and the ledger record.
    TRUSTED_PROXY_COUNT = _int("TRUSTED_PROXY_COUNT", 0)

    # Country of phone numbers typed without a country code, for vendors whose time zone names
    # no country (e.g. UTC); otherwise the vendor's time zone gives it (services/contacts.py).
    PHONE_DEFAULT_REGION = os.environ.get("PHONE_DEFAULT_REGION", "")
    # Request bodies above this are refused with 413 before anything parses them.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)

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
    # Google Wallet (docs/wallets.md): the issuer id and the service account's JSON key file, both
    # or neither (then the Google button is hidden and the API answers
    # GOOGLE_WALLET_NOT_CONFIGURED). The access token comes from the key file's token_uri.
    GOOGLE_WALLET_ISSUER_ID = os.environ.get("GOOGLE_WALLET_ISSUER_ID", "")
    GOOGLE_WALLET_SERVICE_ACCOUNT_FILE = os.environ.get("GOOGLE_WALLET_SERVICE_ACCOUNT_FILE", "")
    GOOGLE_WALLET_API_BASE_URL = os.environ.get(
        "GOOGLE_WALLET_API_BASE_URL", "https://walletobjects.googleapis.com/walletobjects/v1"
    )
    # Starts every class and object id after the issuer id: one value per environment that
    # shares an issuer account (ids can never be deleted at Google).
    GOOGLE_WALLET_ID_PREFIX = os.environ.get("GOOGLE_WALLET_ID_PREFIX", "loyalty")
    GOOGLE_WALLET_TIMEOUT_SECONDS = _float("GOOGLE_WALLET_TIMEOUT_SECONDS", 10)
    # Apple Wallet (docs/wallets.md): all five of the first settings, or none (then the Apple
    # button is hidden and the API answers APPLE_WALLET_NOT_CONFIGURED). Checked at start-up.
    APPLE_PASS_TYPE_IDENTIFIER = os.environ.get("APPLE_PASS_TYPE_IDENTIFIER", "")
    APPLE_TEAM_IDENTIFIER = os.environ.get("APPLE_TEAM_IDENTIFIER", "")
    APPLE_PASS_CERTIFICATE = os.environ.get("APPLE_PASS_CERTIFICATE", "")  # file, PEM or DER
    APPLE_PASS_KEY = os.environ.get("APPLE_PASS_KEY", "")  # file, PEM
    APPLE_PASS_KEY_PASSWORD = os.environ.get("APPLE_PASS_KEY_PASSWORD", "")
    APPLE_WWDR_CERTIFICATE = os.environ.get("APPLE_WWDR_CERTIFICATE", "")  # file: WWDR G4
    APPLE_APNS_URL = os.environ.get("APPLE_APNS_URL", "https://api.push.apple.com")
    # Trust these CAs for the APNs server instead of the system's (tests, private gateways).
    APPLE_APNS_CA_FILE = os.environ.get("APPLE_APNS_CA_FILE", "")
    APPLE_APNS_TIMEOUT_SECONDS = float(os.environ.get("APPLE_APNS_TIMEOUT_SECONDS", "10"))
    # Apple's log endpoint takes no credential: a limit per client address keeps the log sane.
    APPLE_LOG_RATE_LIMIT = os.environ.get("APPLE_LOG_RATE_LIMIT", "60 per minute")
    # Allow an http PUBLIC_BASE_URL for the pass web service (iPhone developer settings only).
    APPLE_WALLET_ALLOW_HTTP = os.environ.get("APPLE_WALLET_ALLOW_HTTP", "") in ("1", "true", "yes")

    # The outbox worker (`flask loyalty worker`, docs/outbox.md). Times in seconds.
    # The outbox worker e-mails each shop's daily activity alert (yesterday's) after this hour of
    # the shop's day (services/activity_alerts.py).
    ACTIVITY_ALERT_HOUR = _int("ACTIVITY_ALERT_HOUR", 7)
    OUTBOX_POLL_SECONDS = _float("OUTBOX_POLL_SECONDS", 0.2)  # idle wait between looks
    OUTBOX_BATCH_SIZE = _int("OUTBOX_BATCH_SIZE", 20)  # claimed at once (1 on SQLite)
    OUTBOX_LEASE_SECONDS = _float("OUTBOX_LEASE_SECONDS", 300)  # longer than any handler's timeout
    OUTBOX_BACKOFF_BASE_SECONDS = _float("OUTBOX_BACKOFF_BASE_SECONDS", 2)
    OUTBOX_BACKOFF_MAX_SECONDS = _float("OUTBOX_BACKOFF_MAX_SECONDS", 3600)
    OUTBOX_MAX_AGE_SECONDS = _float("OUTBOX_MAX_AGE_SECONDS", 24 * 3600)  # then dead
    OUTBOX_KEEP_DELIVERED_SECONDS = _float("OUTBOX_KEEP_DELIVERED_SECONDS", 24 * 3600)


# Refusing insecure production settings ------------------------------------------------------------

MIN_SECRET_LENGTH = 32


class InsecureConfiguration(RuntimeError):
    """Start-up refused: a setting that is fine on a laptop is unsafe in production."""


def insecure_settings(config) -> list[str]:
    """What is unsafe about these settings for production (empty when nothing is)."""
    problems = []
    for name, dev_value in (("SECRET_KEY", DEV_SECRET_KEY), ("PIN_PEPPER", DEV_PIN_PEPPER)):
        value = config.get(name) or ""
        if value == dev_value:
            problems.append(f"{name} is the development default; set a random secret")
        elif len(value) < MIN_SECRET_LENGTH:
            problems.append(f"{name} is shorter than {MIN_SECRET_LENGTH} characters")
    storage = config.get("RATELIMIT_STORAGE_URI") or ""
    workers = config.get("WEB_CONCURRENCY") or 1
    if storage.split("://", 1)[0] in ("memory", "async+memory") and workers > 1:
        problems.append(
            f"RATELIMIT_STORAGE_URI={storage} keeps each worker's counts apart, and "
            f"WEB_CONCURRENCY={workers}: use redis://... or an sqlite:////... file"
        )
    return problems
