"""Vendors and the people who sign in for them."""

import functools
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import bcrypt
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import rate_limits
from ..clock import utcnow
from ..errors import ConflictError, ValidationError, VendorNotFound
from ..extensions import db
from ..models import Role, User, Vendor
from .contacts import normalise_email
from .lookup import get_or_raise

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")


def create_vendor(
    slug: str,
    name: str,
    timezone: str = "Europe/Luxembourg",
    currency: str = "EUR",
    default_locale: str = "en",
) -> Vendor:
    """Raises ValidationError for a bad slug, name, time zone or currency; ConflictError for a
    slug already taken."""
    slug = (slug or "").strip().lower()
    if not SLUG_PATTERN.fullmatch(slug):
        raise ValidationError(_l("Use lower-case letters, digits and dashes."), field="slug")
    name = (name or "").strip()
    if not 1 <= len(name) <= 200:
        raise ValidationError(_l("Enter a name."), field="name")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_l("Unknown time zone."), field="timezone") from None
    if not re.fullmatch(r"[A-Z]{3}", currency or ""):
        raise ValidationError(_l("Use a three-letter currency code."), field="currency")
    if db.session.scalar(select(Vendor.id).where(Vendor.slug == slug)):
        raise ConflictError({"slug": slug})
    vendor = Vendor(
        slug=slug, name=name, timezone=timezone, currency=currency, default_locale=default_locale
    )
    db.session.add(vendor)
    db.session.commit()
    return vendor


def get_vendor(vendor_id: int) -> Vendor:
    return get_or_raise(Vendor, vendor_id, VendorNotFound(vendor_id))


def hash_password(password: str) -> str:
    rounds = current_app.config["PASSWORD_BCRYPT_ROUNDS"]
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def create_user(
    email: str,
    name: str,
    password: str,
    role: Role | str,
    vendor_id: int | None = None,
    locale: str | None = None,
) -> User:
    """Raises ValidationError for a bad e-mail, a short password or a role/vendor mismatch;
    ConflictError for an e-mail already registered."""
    email = normalise_email(email)
    if email is None:
        raise ValidationError(_l("Enter a valid e-mail address."), field="email")
    if len(password or "") < 8:
        raise ValidationError(_l("A password has at least 8 characters."), field="password")
    role = Role(role)
    if (role == Role.ADMIN) != (vendor_id is None):
        raise ValidationError(_l("Admins have no vendor; owners and staff have one."), field="role")
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise ConflictError({"email": email})
    user = User(
        email=email,
        name=name.strip() or email,
        password_hash=hash_password(password),
        role=role,
        vendor_id=vendor_id,
        locale=locale,
    )
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str, client_address: str | None = None) -> User | None:
    """The active user with these credentials, or None.

    Refused with RateLimited (before the password is checked, so even the right one) once the
    client address or the e-mail has used up the sign-in limit; each failure counts against both,
    a success not at all.
    Known and unknown e-mails cost the same: one bcrypt check at the configured cost (an unknown
    e-mail is checked against a dummy hash of that cost), one count on failure.
    """
    email = (email or "").strip().lower()
    with rate_limits.attempt(rate_limits.SIGN_IN, client_address, email) as attempt:
        user = db.session.scalar(select(User).where(User.email == email))
        rounds = current_app.config["PASSWORD_BCRYPT_ROUNDS"]
        stored = user.password_hash if user is not None else dummy_password_hash(rounds)
        matches = bcrypt.checkpw((password or "").encode(), stored.encode())
        if user is None or not matches or not user.is_active:
            attempt.failed()
            return None
        user.last_login_at = utcnow()
        db.session.commit()
        return user


@functools.cache
def dummy_password_hash(rounds: int) -> str:
    """A hash of nothing at `rounds`, checked for unknown e-mails so they cost as much as known
    ones (create_app computes it once at start-up)."""
    return bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds)).decode()


def count_vendors() -> int:
    return db.session.scalar(select(func.count(Vendor.id)))
