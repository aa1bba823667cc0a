"""The one source of "now" and of random tokens, so tests can control both."""

import secrets
from datetime import UTC, datetime

_frozen_now: datetime | None = None


def utcnow() -> datetime:
    """Timezone-aware current time in UTC (or the time a test has frozen)."""
    return _frozen_now if _frozen_now is not None else datetime.now(UTC)


def freeze(moment: datetime | None) -> None:
    """Pin utcnow() to `moment` (aware); None lets time run again. For tests and demo data."""
    global _frozen_now
    if moment is not None and moment.tzinfo is None:
        raise ValueError("freeze() needs a timezone-aware datetime")
    _frozen_now = moment


def token_urlsafe(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)


def random_digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))
