"""Rate limits per purpose, shared by every route that serves it (screens and API alike).

Each purpose is counted twice, per client address and per target, and a request is refused
(RateLimited, 429) when either count is used up, before any password or PIN is checked, so a
limited client is refused even with the right secret:

- sign-in: failed sign-ins; LOGIN_RATE_LIMIT per address, LOGIN_ACCOUNT_RATE_LIMIT per e-mail;
- refused PIN: wrong PINs that were checked; PIN_RATE_LIMIT per address, PIN_STAFF_RATE_LIMIT
  per staff PIN;
- enrolment: enrolments tried; ENROL_RATE_LIMIT per address, ENROL_CONTACT_RATE_LIMIT per e-mail
  (or phone) at a vendor;
- password reset and card link (the forms that e-mail a link): every request, known address or
  not, so the limit tells nothing either; PASSWORD_RESET_CLIENT_RATE_LIMIT and
  CARD_LINK_CLIENT_RATE_LIMIT per address, PASSWORD_RESET_RATE_LIMIT and CARD_LINK_RATE_LIMIT per
  e-mail address typed, so neither one machine nor one mailbox can be flooded.

The services take an `attempt()` before checking a secret and say whether it `failed()`
(vendor_service.authenticate, pin_service.check_pin), or `count()` every try
(card_service.enrol_by_vendor_slug, account_service.request_password_reset,
card_link_service.request_card_link), so no route can forget them or count them apart. An attempt
holds its place from the start, so concurrent attempts on any number of workers never get past
the limit; a successful one gives its place back.

Counters live in the `limits` storage named by RATELIMIT_STORAGE_URI: Redis in production, an
SQLite file that every worker of one host shares otherwise (rate_limit_storage.py), `memory://`
only for a single process. Targets are stored as hashes, never as typed.

PINs refused because they are locked, unchecked, do not count: they cost nothing and tell
nothing, and one terminal's guesser must not use up the allowance of a staff member's PIN for the
other terminals (the PIN locks of pin_service already stop a guesser there).
"""

import hashlib
import time
from dataclasses import dataclass

from flask import Flask, current_app
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from . import rate_limit_storage  # also registers the sqlite:// storage with limits
from .errors import RateLimited

EXTENSION = "loyalty_rate_limits"


@dataclass(frozen=True)
class Purpose:
    name: str
    address_setting: str
    target_setting: str


SIGN_IN = Purpose("sign_in", "LOGIN_RATE_LIMIT", "LOGIN_ACCOUNT_RATE_LIMIT")
REFUSED_PIN = Purpose("refused_pin", "PIN_RATE_LIMIT", "PIN_STAFF_RATE_LIMIT")
ENROLMENT = Purpose("enrolment", "ENROL_RATE_LIMIT", "ENROL_CONTACT_RATE_LIMIT")
PASSWORD_RESET = Purpose("password_reset", "PASSWORD_RESET_CLIENT_RATE_LIMIT",
                         "PASSWORD_RESET_RATE_LIMIT")
CARD_LINK = Purpose("card_link", "CARD_LINK_CLIENT_RATE_LIMIT", "CARD_LINK_RATE_LIMIT")
PURPOSES = (SIGN_IN, REFUSED_PIN, ENROLMENT, PASSWORD_RESET, CARD_LINK)


def storage_is_per_process(uri: str) -> bool:
    """True for a storage that each worker process keeps for itself."""
    return uri.split("://", 1)[0] in ("memory", "async+memory")


class RateLimits:
    """The app's counters: one storage, fixed windows."""

    def __init__(self, app: Flask):
        config = app.config
        self.enabled = config.get("RATELIMIT_ENABLED", True)
        self.storage_uri = config["RATELIMIT_STORAGE_URI"]
        self.storage = storage_from_string(
            self.storage_uri, **config.get("RATELIMIT_STORAGE_OPTIONS", {})
        )
        self.limiter = FixedWindowRateLimiter(self.storage)
        # Parsed once, so a bad setting fails at start-up rather than at the first attempt.
        self.limits = {
            (purpose.name, dimension): parse_many(config[setting])
            for purpose in PURPOSES
            for dimension, setting in (
                ("address", purpose.address_setting),
                ("target", purpose.target_setting),
            )
        }

    def _keys(self, purpose: Purpose, client_address: str | None, target: str | None):
        if client_address:
            yield "address", ("loyalty", purpose.name, "address", client_address)
        if target:
            digest = hashlib.sha256(target.encode("utf-8", "surrogatepass")).hexdigest()[:40]
            yield "target", ("loyalty", purpose.name, "target", digest)

    def take(self, purpose, client_address, target) -> list:
        """Count one attempt against every limit of the purpose, atomically per counter, and
        return what was taken; if any limit is exceeded, give it all back and raise RateLimited.
        Taking first (rather than testing, then counting) is what keeps concurrent attempts,
        on any number of workers, within the limit. A count within its limit is one the fixed
        window allows, as `limits`' FixedWindowRateLimiter.hit counts it (after the increment,
        at most the limit's amount)."""
        if not self.enabled:
            return []
        taken = [
            (item, identifiers)
            for dimension, identifiers in self._keys(purpose, client_address, target)
            for item in self.limits[(purpose.name, dimension)]
        ]
        counts = self._add(
            [(item.key_for(*identifiers), item.get_expiry(), 1) for item, identifiers in taken]
        )
        exceeded = [
            (item, identifiers)
            for (item, identifiers), count in zip(taken, counts, strict=True)
            if count > item.amount
        ]
        if exceeded:
            self.give_back(taken)
            item, identifiers = exceeded[0]
            reset_at = self.limiter.get_window_stats(item, *identifiers).reset_time
            raise RateLimited(purpose.name, int(reset_at - time.time() + 0.999))
        return taken

    def give_back(self, taken: list) -> None:
        keys = [(item.key_for(*identifiers), item.get_expiry()) for item, identifiers in taken]
        counts = self._add([(key, expiry, -1) for key, expiry in keys])
        # A window that ended meanwhile starts again at 0, not below.
        below_zero = [
            (key, expiry, 1) for (key, expiry), count in zip(keys, counts, strict=True) if count < 0
        ]
        if below_zero:
            self._add(below_zero)

    def _add(self, increments: list[tuple[str, int, int]]) -> list[int]:
        """Add to several counters, (key, expiry, amount) each, and return their new counts."""
        if not increments:
            return []
        return rate_limit_storage.incr_many(self.storage, increments)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = RateLimits(app)


def _limits() -> RateLimits:
    return current_app.extensions[EXTENSION]


class Attempt:
    """One attempt's place in its purpose's limits: `failed()` keeps it counted, `succeeded()`
    gives it back (only failures count), and the context manager gives it back if neither was
    said (the attempt was refused for another reason, or raised)."""

    def __init__(self, limits: RateLimits, taken: list):
        self._limits, self._taken, self._settled = limits, taken, False

    def failed(self) -> None:
        self._settled = True

    def succeeded(self) -> None:
        if not self._settled:
            self._limits.give_back(self._taken)
        self._settled = True

    def __enter__(self) -> "Attempt":
        return self

    def __exit__(self, *exc_info) -> None:
        self.succeeded()


def attempt(purpose: Purpose, client_address: str | None, target: str | None) -> Attempt:
    """Take one attempt's place in the purpose's limits, per client address and per target, or
    raise RateLimited (before any secret is checked, so even the right one is refused)."""
    limits = _limits()
    return Attempt(limits, limits.take(purpose, client_address, target))


def count(purpose: Purpose, client_address: str | None, target: str | None) -> None:
    """Count an attempt that always counts (an enrolment, a link asked for), or raise
    RateLimited."""
    attempt(purpose, client_address, target).failed()
