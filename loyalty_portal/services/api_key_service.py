"""API keys: a vendor's credentials for point-of-sale integrations.

A key is shown once, when it is created; only its SHA-256 is stored (keys are long random strings,
so a fast hash is enough and keeps every API call cheap). A key acts for its vendor with the
permissions of a counter terminal plus reading; it can never manage keys, PINs or settings.

The balance changes (the point-of-sale hot path) skip the key's own read: each web process keeps
the keys it has verified in the last minute (`KeyCache`), and the balance change's first
statement checks, in the same transaction as its write, that the key still exists unrevoked
(ledger.apply_change). A key revoked by any process therefore stops changing balances at once,
on every process; see `authenticate(..., confirmed_later=True)`.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..clock import token_urlsafe, utcnow
from ..errors import ApiKeyNotFound, ValidationError, VendorSuspended
from ..extensions import db
from ..models import ApiKey
from . import hot_path_sql
from .lookup import one_or_raise

KEY_PREFIX = "lpk_"
# Recording every use would turn each API read into a write; a minute's precision is enough.
LAST_USED_PRECISION = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    secret: str  # shown to the owner once, never stored


def create_key(vendor_id: int, name: str, created_by_user_id: int | None = None) -> CreatedApiKey:
    """Create a key for the vendor and return it with its secret. Raises ValidationError for a
    name that is empty or longer than 100 characters."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise ValidationError(_l("A key name is 1 to 100 characters."), field="name")
    secret = KEY_PREFIX + token_urlsafe(32)
    api_key = ApiKey(
        vendor_id=vendor_id,
        name=name,
        key_prefix=secret[:12],
        key_hash=_digest(secret),
        created_by_user_id=created_by_user_id,
        created_at=utcnow(),
    )
    db.session.add(api_key)
    db.session.commit()
    return CreatedApiKey(api_key, secret)


def list_keys(vendor_id: int) -> list[ApiKey]:
    """The vendor's keys, revoked ones included (they show when and that they were revoked)."""
    return list(
        db.session.scalars(select(ApiKey).where(ApiKey.vendor_id == vendor_id).order_by(ApiKey.id))
    )


def revoke_key(vendor_id: int, api_key_id: int) -> ApiKey:
    """Revoke the vendor's key at once; revoking twice keeps the first time. Raises ApiKeyNotFound
    (also for another vendor's key)."""
    api_key = one_or_raise(
        select(ApiKey).where(ApiKey.id == api_key_id, ApiKey.vendor_id == vendor_id),
        ApiKeyNotFound(api_key_id),
    )
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        db.session.commit()
    _cache().forget(api_key.id)  # this process; the others find out in their next statement
    return api_key


@dataclass(frozen=True)
class AuthenticatedKey:
    id: int
    vendor_id: int
    # False when taken from this process's cache: the caller must have the key confirmed in the
    # statement that changes data (ledger.apply_change does), or call `confirm`.
    confirmed: bool = True


class KeyCache:
    """The keys this process verified (and recorded as used) within LAST_USED_PRECISION, by the
    SHA-256 of their secret. Bounded: emptied when full."""

    MAX_KEYS = 4096

    def __init__(self):
        self._keys: dict[str, tuple[AuthenticatedKey, datetime]] = {}

    def get(self, digest: str, now: datetime) -> AuthenticatedKey | None:
        entry = self._keys.get(digest)
        if entry is None or now - entry[1] >= LAST_USED_PRECISION:
            return None
        return entry[0]

    def put(self, digest: str, key: AuthenticatedKey, now: datetime) -> None:
        if len(self._keys) >= self.MAX_KEYS:
            self._keys.clear()
        self._keys[digest] = (key, now)

    def forget(self, api_key_id: int) -> None:
        for digest, (key, _) in list(self._keys.items()):
            if key.id == api_key_id:
                del self._keys[digest]


def _cache() -> KeyCache:
    return current_app.extensions.setdefault("loyalty_api_key_cache", KeyCache())


def authenticate(secret: str, *, confirmed_later: bool = False) -> AuthenticatedKey | None:
    """The unrevoked key with this secret, or None; records its last use (to the minute).
    Raises VendorSuspended for a key of a suspended vendor.

    With `confirmed_later`, a key this process verified within the last minute is returned
    without a database read, as `confirmed=False`: only for callers whose own statement checks
    the key (the balance changes, see ledger.apply_change)."""
    if not secret or not secret.startswith(KEY_PREFIX):
        return None
    digest = _digest(secret)
    now = utcnow()
    if confirmed_later:
        cached = _cache().get(digest, now)
        if cached is not None:
            return AuthenticatedKey(cached.id, cached.vendor_id, confirmed=False)
    row = hot_path_sql.first(hot_path_sql.READ_API_KEY, {"key_hash": digest})
    if row is None or row.revoked_at is not None:
        return None
    if row.suspended_at is not None:
        raise VendorSuspended(row.vendor_id)
    last_used_at = hot_path_sql.as_utc(row.last_used_at)
    if last_used_at is None or now - last_used_at >= LAST_USED_PRECISION:
        db.session.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
        db.session.commit()
    key = AuthenticatedKey(row.id, row.vendor_id)
    _cache().put(digest, key, now)
    return key


def is_live(api_key_id: int) -> bool:
    """Whether the key still exists unrevoked (for a cached key whose request failed before its
    statement could confirm it)."""
    row = db.session.execute(select(ApiKey.revoked_at).where(ApiKey.id == api_key_id)).first()
    db.session.commit()
    return row is not None and row.revoked_at is None


def forget(api_key_id: int) -> None:
    _cache().forget(api_key_id)
