"""Settings from the environment, with defaults that let `make run` work on a bare machine."""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# Development defaults: create_app() refuses them outside debug and testing.
DEV_SECRET_KEY = "dev-only-secret-change-me"
DEV_PIN_PEPPER = "dev-only-pin-pepper-change-me"


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

    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")


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
