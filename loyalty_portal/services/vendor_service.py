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
from ..errors import (
    LoyaltyError,
    UserAlreadyExists,
    ValidationError,
    VendorAlreadyExists,
    VendorNotFound,
)
from ..extensions import db
from ..i18n import SUPPORTED_LOCALES
from ..models import LoyaltyProgram, Role, User, Vendor
from .contacts import email_lookup_key, normalise_email
from .lookup import get_or_raise

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")


def create_vendor(
    slug: str,
    name: str,
    timezone: str = "Europe/Luxembourg",
    currency: str = "EUR",
    default_locale: str = "en",
) -> Vendor:
    """Raises ValidationError for a bad slug, name, time zone, currency or language;
    VendorAlreadyExists for a slug already taken."""
    vendor = _new_vendor(slug, name, timezone, currency, default_locale)
    db.session.commit()
    return vendor


def _new_vendor(slug, name, timezone, currency, default_locale) -> Vendor:
    """Every refused field at once (ValidationError.all_of)."""
    problems = []
    slug = (slug or "").strip().lower()
    if not SLUG_PATTERN.fullmatch(slug):
        problems.append(ValidationError(_l("Use lower-case letters, digits and dashes."),
                                        field="slug"))
    name = (name or "").strip()
    if not 1 <= len(name) <= 200:
        problems.append(ValidationError(_l("Enter a name."), field="name"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        problems.append(ValidationError(_l("Unknown time zone."), field="timezone"))
    currency = (currency or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        problems.append(ValidationError(_l("Use a three-letter currency code."), field="currency"))
    if default_locale not in SUPPORTED_LOCALES:
        problems.append(ValidationError(_l("Choose one of the offered languages."),
                                        field="default_locale"))
    if problems:
        raise ValidationError.all_of(problems)
    if db.session.scalar(select(Vendor.id).where(Vendor.slug == slug)):
        raise VendorAlreadyExists(slug)
    vendor = Vendor(
        slug=slug, name=name, timezone=timezone, currency=currency, default_locale=default_locale
    )
    db.session.add(vendor)
    db.session.flush()
    return vendor


def open_shop(slug: str, name: str, timezone: str, currency: str, default_locale: str,
              owner_email: str, owner_name: str = "") -> tuple[Vendor, User]:
    """A new vendor and its first owner, invited by e-mail (one transaction: a refused owner
    address creates no shop). Raises what create_vendor and account_service.invite_owner raise."""
    from .account_service import _clean_email, _invited_user

    try:
        try:
            vendor = _new_vendor(slug, name, timezone, currency, default_locale)
        except ValidationError as refused:
            # The owner's address too, so the admin sees every mistake at once.
            problems = list(refused.problems)
            try:
                _clean_email(owner_email)
            except ValidationError as bad_email:
                problems.append(bad_email)
            raise ValidationError.all_of(problems) from None
        owner = _invited_user(vendor, owner_email, owner_name, default_locale)
    except LoyaltyError:
        db.session.rollback()
        raise
    db.session.commit()
    return vendor, owner


def get_vendor_by_slug(slug: str) -> Vendor:
    vendor = db.session.scalar(select(Vendor).where(Vendor.slug == (slug or "").strip().lower()))
    if vendor is None:
        raise VendorNotFound(slug)
    return vendor


def list_vendors() -> list[tuple[Vendor, LoyaltyProgram | None, int]]:
    """Every vendor with its program (or None) and its number of logins, by name."""
    logins = (
        select(User.vendor_id, func.count(User.id).label("logins"))
        .group_by(User.vendor_id).subquery()
    )
    rows = db.session.execute(
        select(Vendor, LoyaltyProgram, func.coalesce(logins.c.logins, 0))
        .outerjoin(LoyaltyProgram, LoyaltyProgram.vendor_id == Vendor.id)
        .outerjoin(logins, logins.c.vendor_id == Vendor.id)
        .order_by(func.lower(Vendor.name), Vendor.id)
    ).all()
    return [tuple(row) for row in rows]


def set_vendor_suspended(vendor_id: int, suspended: bool) -> Vendor:
    """Suspend a vendor (its terminal logins, API keys, counter and enrolment stop at once;
    nothing is deleted and its owners can still sign in) or lift the suspension. Suspending
    twice keeps the first time. Raises VendorNotFound."""
    vendor = get_vendor(vendor_id)
    if suspended and vendor.suspended_at is None:
        vendor.suspended_at = utcnow()
    elif not suspended:
        vendor.suspended_at = None
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
    UserAlreadyExists for an e-mail already registered."""
    email = normalise_email(email)
    if email is None:
        raise ValidationError(_l("Enter a valid e-mail address."), field="email")
    if len(password or "") < 8:
        raise ValidationError(_l("A password has at least 8 characters."), field="password")
    role = Role(role)
    if (role == Role.ADMIN) != (vendor_id is None):
        raise ValidationError(_l("Admins have no vendor; owners and staff have one."), field="role")
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise UserAlreadyExists(email)
    user = User(
        email=email,
        name=name.strip() or email,
        password_hash=hash_password(password),
        role=role,
        vendor_id=vendor_id,
        locale=locale,
        password_set_at=utcnow(),
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
    email = email_lookup_key(email)
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
