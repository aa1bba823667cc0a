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

    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")

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
    GOOGLE_WALLET_TIMEOUT_SECONDS = float(os.environ.get("GOOGLE_WALLET_TIMEOUT_SECONDS", "10"))
