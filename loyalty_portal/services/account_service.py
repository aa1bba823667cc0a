"""People who sign in: owners invited by e-mail, counter-terminal logins, password resets.

Invitation and reset links are signed (itsdangerous, with the app's SECRET_KEY and one salt per
purpose), expire (INVITATION_MAX_AGE, PASSWORD_RESET_MAX_AGE) and work once: each carries a
fingerprint of the user's password hash, which changes when the password is set, so a used link
(and every older one) stops working at once. Nothing about a link is stored.
"""

import hashlib

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import select

from .. import rate_limits
from ..clock import token_urlsafe, utcnow
from ..errors import (
    LinkAlreadyUsed,
    LinkExpired,
    LinkInvalid,
    UserAlreadyExists,
    UserNotFound,
    ValidationError,
)
from ..extensions import db
from ..i18n import normalise_locale
from ..models import Role, User, Vendor
from . import email_service, signed_links, vendor_service
from .contacts import email_lookup_key, normalise_email

INVITATION = "invitation"
PASSWORD_RESET = "password-reset"
_MAX_AGE_SETTING = {INVITATION: "INVITATION_MAX_AGE", PASSWORD_RESET: "PASSWORD_RESET_MAX_AGE"}
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 200


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def signed_link_token(user: User, purpose: str) -> str:
    """A token for `purpose` that works until the user's password changes or it expires."""
    return signed_links.serializer(purpose).dumps({"user": user.id, "hash": _fingerprint(user)})


def user_for_token(token: str, purpose: str) -> User:
    """The user a link was made for. Raises LinkInvalid (tampered, unknown, another purpose),
    LinkExpired, or LinkAlreadyUsed (the password changed since the link was made)."""
    max_age = current_app.config[_MAX_AGE_SETTING[purpose]]
    try:
        payload = signed_links.serializer(purpose).loads(token or "", max_age=max_age)
    except SignatureExpired:
        raise LinkExpired() from None
    except BadSignature:
        raise LinkInvalid() from None
    user = db.session.get(User, payload.get("user")) if isinstance(payload, dict) else None
    if user is None:
        raise LinkInvalid()
    if payload.get("hash") != _fingerprint(user):
        raise LinkAlreadyUsed()
    return user


def _check_password(password: str | None) -> str:
    password = password or ""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationError(
            _l("A password has %(low)s to %(high)s characters.", low=MIN_PASSWORD_LENGTH,
               high=MAX_PASSWORD_LENGTH),
            field="password",
        )
    return password


def _clean_email(email: str | None) -> str:
    """The address normalised by contacts.normalise_email; an empty one is refused too."""
    email = normalise_email(email)
    if email is None:
        raise ValidationError(_l("Enter a valid e-mail address."), field="email")
    return email


# Invitations --------------------------------------------------------------------------------------


def invite_owner(vendor_id: int, email: str, name: str = "", locale: str | None = None,
                 invited_by: User | None = None) -> User:
    """Create an owner login for the vendor without a password and e-mail them a link to choose
    one. Inviting an address whose invitation is still open sends a fresh link. Raises
    VendorNotFound, ValidationError, UserAlreadyExists (someone already signs in with it)."""
    vendor = vendor_service.get_vendor(vendor_id)
    user = _invited_user(vendor, email, name, locale)
    db.session.commit()
    return user


def _invited_user(vendor: Vendor, email: str, name: str, locale: str | None,
                  inviter_name: str | None = None) -> User:
    """The pending owner, with the invitation e-mail queued on the session (not committed)."""
    email = _clean_email(email)
    name = (name or "").strip()[:200]
    locale = normalise_locale(locale) or vendor.default_locale
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None and not (user.is_invitation_pending and user.vendor_id == vendor.id):
        raise UserAlreadyExists(email)
    now = utcnow()
    if user is None:
        # Nobody knows this password: the invitation link is the only way in.
        user = User(email=email, name=name or email, role=Role.OWNER, vendor_id=vendor.id,
                    password_hash=vendor_service.hash_password(token_urlsafe(24)), locale=locale)
        db.session.add(user)
        db.session.flush()
    user.invited_at = now
    email_service.enqueue(email_service.Email(
        "invitation", user.email, user.locale or locale,
        {"shop": vendor.name, "name": user.name,
         "link": email_service.public_url(f"/invitation/{signed_link_token(user, INVITATION)}"),
         "days": str(max(1, current_app.config["INVITATION_MAX_AGE"] // 86400))},
    ))
    return user


def invitation(token: str) -> User:
    """The invited user behind a link (to greet them). Raises LinkInvalid, LinkExpired,
    LinkAlreadyUsed (the invitation was accepted already)."""
    user = user_for_token(token, INVITATION)
    if not user.is_invitation_pending:
        raise LinkAlreadyUsed()
    return user


def accept_invitation(token: str, password: str) -> User:
    """Set the invited user's password; they can sign in from now on and the link is used up.
    Raises the link errors of `invitation` and ValidationError for a bad password."""
    user = invitation(token)
    _set_password(user, _check_password(password))
    db.session.commit()
    return user


def _set_password(user: User, password: str) -> None:
    user.password_hash = vendor_service.hash_password(password)
    user.password_set_at = utcnow()


# Password reset -----------------------------------------------------------------------------------


def request_password_reset(email: str, locale: str | None = None,
                           client_address: str | None = None) -> None:
    """E-mail a reset link if an active login has this address; otherwise do nothing. The caller
    answers the same either way, so nobody learns which addresses have a login. Every request
    counts towards the password-reset limits, per client address and per address typed
    (RateLimited once either is used up; rate_limits.py)."""
    address = email_lookup_key(email)
    rate_limits.count(rate_limits.PASSWORD_RESET, client_address, address)
    user = db.session.scalar(select(User).where(User.email == address)) if address else None
    if user is not None and user.is_active_user and not user.is_invitation_pending:
        email_service.enqueue(email_service.Email(
            "password_reset", user.email, normalise_locale(user.locale or locale) or "en",
            {"name": user.name,
             "link": email_service.public_url(
                 f"/password/reset/{signed_link_token(user, PASSWORD_RESET)}"),
             "minutes": str(max(1, current_app.config["PASSWORD_RESET_MAX_AGE"] // 60))},
        ))
    db.session.commit()


def check_reset_link(token: str) -> User:
    """Raises LinkInvalid, LinkExpired, LinkAlreadyUsed."""
    return user_for_token(token, PASSWORD_RESET)


def reset_password(token: str, password: str) -> User:
    """Set a new password through a reset link (which is then used up). Raises the link errors
    and ValidationError."""
    user = check_reset_link(token)
    _set_password(user, _check_password(password))
    db.session.commit()
    return user


# A vendor's logins --------------------------------------------------------------------------------


def create_terminal_login(vendor_id: int, email: str, name: str, password: str) -> User:
    """A counter terminal's login (role staff): it stamps and redeems, never changes settings.
    Raises VendorNotFound, ValidationError, UserAlreadyExists."""
    vendor = vendor_service.get_vendor(vendor_id)
    problems = []
    name = (name or "").strip()
    if not 1 <= len(name) <= 200:
        problems.append(ValidationError(_l("Enter a name, e.g. Counter 1."), field="name"))
    for check, value in ((_clean_email, email), (_check_password, password)):
        try:
            value = check(value)
        except ValidationError as problem:
            problems.append(problem)
        else:
            if check is _clean_email:
                email = value
    if problems:
        raise ValidationError.all_of(problems)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise UserAlreadyExists(email)
    return vendor_service.create_user(email, name, password, Role.STAFF, vendor.id,
                                      vendor.default_locale)


def list_logins(vendor_id: int) -> list[User]:
    """The vendor's owners and terminals, owners first."""
    return list(db.session.scalars(
        select(User).where(User.vendor_id == vendor_id).order_by(User.role, User.name, User.id)
    ))


def get_login(vendor_id: int, user_id: int) -> User:
    user = db.session.scalar(select(User).where(User.id == user_id, User.vendor_id == vendor_id))
    if user is None:
        raise UserNotFound(user_id)
    return user


def set_login_active(vendor_id: int, user_id: int, active: bool,
                     acting_user_id: int | None = None) -> User:
    """Switch a login off (it is signed out at its next request) or on again. An owner cannot
    switch off their own login. Raises UserNotFound, ValidationError."""
    user = get_login(vendor_id, user_id)
    if not active and user.id == acting_user_id:
        raise ValidationError(_l("You cannot switch off your own login."), field="user")
    user.is_active_user = active
    db.session.commit()
    return user
