"""Cards: enrolling customers and finding their cards."""

import contextlib
import hashlib
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from .. import rate_limits
from ..clock import random_digits, token_urlsafe, utcnow
from ..errors import (
    LoyaltyCardAlreadyExists,
    LoyaltyCardNotFound,
    LoyaltyProgramInactive,
    ValidationError,
)
from ..extensions import db
from ..i18n import normalise_locale
from ..models import Customer, LoyaltyCard, LoyaltyProgram, Vendor
from . import change_tags, outbox, program_service
from .contacts import normalise_email, normalise_phone, phone_region
from .lookup import one_or_raise

CARD_NUMBER_LENGTH = 12
CONSENT_TEXT_VERSION = "2026-11"


def luhn_check_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_card_number(number: str) -> bool:
    return (
        len(number) == CARD_NUMBER_LENGTH
        and number.isascii()
        and number.isdigit()
        and luhn_check_digit(number[:-1]) == number[-1]
    )


def new_card_number() -> str:
    body = random_digits(CARD_NUMBER_LENGTH - 1)
    return body + luhn_check_digit(body)


def normalise_card_number(value: str) -> str:
    """What cashiers type or scanners send: spaces and dashes are ignored."""
    return re.sub(r"[\s-]", "", value or "")


def format_card_number(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


@dataclass(frozen=True)
class Enrolment:
    card: LoyaltyCard
    customer: Customer


def enrol_customer(
    program: LoyaltyProgram,
    *,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    locale: str | None = None,
    consent: bool = False,
) -> Enrolment:
    """Create a customer of the program's vendor and their card, recording consent and its time.

    A customer is known by e-mail or phone within one vendor; enrolling again with either raises
    LoyaltyCardAlreadyExists (naming the existing card, so a screen can offer recovery).
    Raises ValidationError for a missing name, no contact, bad e-mail or phone, or no consent,
    and LoyaltyProgramInactive.
    """
    if not program.is_active:
        raise LoyaltyProgramInactive(program.id)
    name = (name or "").strip()
    if not 1 <= len(name) <= 200:
        raise ValidationError(_l("Enter your name."), field="name")
    email = normalise_email(email)
    phone = normalise_phone(phone, phone_region(program.vendor.timezone))
    if email is None and phone is None:
        raise ValidationError(_l("Enter an e-mail address or a phone number."), field="email")
    if not consent:
        raise ValidationError(_l("Please accept the privacy notice to join."), field="consent")

    contact_matches = []
    if email:
        contact_matches.append(Customer.email == email)
    if phone:
        contact_matches.append(Customer.phone == phone)
    existing = db.session.execute(
        select(Customer.id, LoyaltyCard.id)
        .outerjoin(
            LoyaltyCard,
            (LoyaltyCard.customer_id == Customer.id) & (LoyaltyCard.program_id == program.id),
        )
        .where(Customer.vendor_id == program.vendor_id, or_(*contact_matches))
    ).first()
    if existing is not None:
        raise LoyaltyCardAlreadyExists(existing[0], program.id, existing[1])

    now = utcnow()
    customer = Customer(
        vendor_id=program.vendor_id,
        name=name,
        email=email,
        phone=phone,
        locale=normalise_locale(locale),
        consent_at=now,
        consent_text_version=CONSENT_TEXT_VERSION,
        created_at=now,
    )
    card = LoyaltyCard(
        program=program,
        customer=customer,
        card_number=_unused_card_number(),
        public_token=token_urlsafe(24),
        apple_serial_number=token_urlsafe(16),
        apple_auth_token=token_urlsafe(24),
        created_at=now,
        updated_at=now,
    )
    db.session.add_all([customer, card])
    try:
        db.session.commit()
    except IntegrityError:
        # Two enrolments with the same contact raced; the other one won.
        db.session.rollback()
        raise LoyaltyCardAlreadyExists(0, program.id) from None
    return Enrolment(card=card, customer=customer)


def _unused_card_number() -> str:
    while True:
        number = new_card_number()
        if (
            db.session.scalar(select(LoyaltyCard.id).where(LoyaltyCard.card_number == number))
            is None
        ):
            return number


def enrol_by_vendor_slug(
    vendor_slug: str, client_address: str | None = None, **customer_fields
) -> Enrolment:
    """Enrolment from the public join page or API: the program is found by the vendor's slug.

    Every try counts against the enrolment limit of the client address and of the e-mail (or
    phone) at this vendor, and is refused with RateLimited once either is used up (so the pages
    cannot be used to create cards in bulk, or to probe who is enrolled).
    """
    contact = (customer_fields.get("email") or customer_fields.get("phone") or "").strip().lower()
    target = f"{vendor_slug}/{contact}" if contact else None
    rate_limits.count(rate_limits.ENROLMENT, client_address, target)
    return enrol_customer(program_service.get_public_program(vendor_slug), **customer_fields)


def _vendor_cards():
    return select(LoyaltyCard).join(LoyaltyProgram, LoyaltyProgram.id == LoyaltyCard.program_id)


def get_card(vendor_id: int, card_id: int) -> LoyaltyCard:
    """The vendor's card with that id; another vendor's card is simply not found."""
    return one_or_raise(
        _vendor_cards().where(LoyaltyCard.id == card_id, LoyaltyProgram.vendor_id == vendor_id),
        LoyaltyCardNotFound(card_id),
    )


def get_card_by_public_token(public_token: str) -> LoyaltyCard:
    """The card behind a customer's secret link or QR code (public pages and API)."""
    return one_or_raise(
        select(LoyaltyCard).where(LoyaltyCard.public_token == public_token),
        LoyaltyCardNotFound(),
    )


def card_change_tag(card: LoyaltyCard) -> str:
    """A tag that changes whenever what the customer's card page shows changes (balances, a new
    ledger row, the card blocked): the ETag of the live card page. Every balance change bumps
    `updated_at` in the same statement as the ledger row."""
    # Built from what the card row has today; the outbox's per-card change_tag column (issue 11)
    # replaces it here, in this one function, once it exists.
    state = (
        f"{card.id}:{card.updated_at.isoformat()}:{card.stamp_count}:{card.points_balance}:"
        f"{card.is_active}:{card.program.updated_at.isoformat()}"
    )
    return hashlib.sha256(state.encode()).hexdigest()[:32]


def lookup_card(vendor_id: int, query: str) -> LoyaltyCard:
    """Find exactly one of the vendor's cards from what a cashier typed or scanned:
    a card number (spaces and dashes allowed), a QR token (or a card link containing it),
    an e-mail address or a phone number. Raises LoyaltyCardNotFound."""
    query = (query or "").strip()
    if not query:
        raise LoyaltyCardNotFound(query)
    scoped = _vendor_cards().where(LoyaltyProgram.vendor_id == vendor_id)
    number = normalise_card_number(query)
    token = query.rstrip("/").rsplit("/", 1)[-1]
    conditions = [LoyaltyCard.card_number == number, LoyaltyCard.public_token == token]
    if "@" in query:
        with contextlib.suppress(ValidationError):
            conditions.append(Customer.email == normalise_email(query))
    else:
        timezone = db.session.scalar(select(Vendor.timezone).where(Vendor.id == vendor_id))
        with contextlib.suppress(ValidationError):
            conditions.append(Customer.phone == normalise_phone(query, phone_region(timezone)))
    return one_or_raise(
        scoped.join(Customer, Customer.id == LoyaltyCard.customer_id)
        .where(or_(*conditions))
        .limit(1),
        LoyaltyCardNotFound(query),
    )


def find_cards(vendor_id: int, query: str, *, limit: int = 10) -> list[LoyaltyCard]:
    """What the cashier's one search box finds: the exact card for a scanned or typed card
    number, QR token, e-mail or phone (lookup_card), else the cards whose number, name, e-mail or
    phone contain the text (search_cards). An empty list when nothing matches."""
    try:
        return [lookup_card(vendor_id, query)]
    except LoyaltyCardNotFound:
        if not (query or "").strip():
            return []
        return search_cards(vendor_id, query, limit=limit)[0]


def search_cards(
    vendor_id: int, text: str = "", *, limit: int = 50, offset: int = 0
) -> tuple[list[LoyaltyCard], int]:
    """The vendor's cards whose number, customer name, e-mail or phone contains `text`,
    newest first, with the total count for pagination."""
    base = (
        select(LoyaltyCard)
        .join(LoyaltyProgram, LoyaltyProgram.id == LoyaltyCard.program_id)
        .join(Customer, Customer.id == LoyaltyCard.customer_id)
        .where(LoyaltyProgram.vendor_id == vendor_id)
    )
    text = (text or "").strip()
    if text:
        pattern = f"%{text.lower()}%"
        base = base.where(
            or_(
                LoyaltyCard.card_number.contains(normalise_card_number(text) or text),
                func.lower(Customer.name).like(pattern),
                Customer.email.like(pattern),
                Customer.phone.contains(text.replace(" ", "")),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    cards = db.session.scalars(
        base.options(contains_eager(LoyaltyCard.customer))
        .order_by(LoyaltyCard.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(cards), total


def set_card_active(vendor_id: int, card_id: int, active: bool) -> LoyaltyCard:
    """Block or unblock a card (a lost phone, a suspected abuse); balances are untouched.
    The pass shows the new state: the card's change tag moves and the outbox hears of it, in the
    same transaction. Setting the state it already has changes nothing."""
    card = get_card(vendor_id, card_id)
    if card.is_active == active:
        db.session.commit()
        return card
    card.is_active = active
    card.updated_at = utcnow()
    db.session.flush()
    change_tags.bump_card(card.id)
    outbox.announce_card_change(
        card.id, card.program_id, "card_unblocked" if active else "card_blocked"
    )
    db.session.commit()
    return card
