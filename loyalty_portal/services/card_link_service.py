"""Getting a card back: a one-time link by e-mail, and re-issuing a card's link and QR code.

A customer who joined with an e-mail address asks for their card again; the link goes only to
that address, and the caller answers the same whether or not the address is enrolled. The link is
signed (itsdangerous), expires after CARD_LINK_MAX_AGE, and works once: opening it records the
moment on the card, and any link made before that moment is refused.

Re-issuing gives the card a new secret (link and QR code) at once: the old ones are simply not
found any more. Balance, history, card number and wallet serial stay.
"""

import hashlib
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import select

from .. import rate_limits
from ..clock import token_urlsafe, utcnow
from ..errors import LinkAlreadyUsed, LinkExpired, LinkInvalid
from ..extensions import db
from ..i18n import normalise_locale
from ..models import Customer, LoyaltyCard, LoyaltyProgram
from . import card_service, change_tags, email_service, outbox, signed_links, vendor_service
from .contacts import email_lookup_key, normalise_email

CARD_LINK = "card-link"


def _fingerprint(card: LoyaltyCard) -> str:
    return hashlib.sha256(card.public_token.encode()).hexdigest()[:20]


def request_card_link(vendor_slug: str, email: str, locale: str | None = None,
                      client_address: str | None = None) -> None:
    """E-mail a one-time card link if someone joined this vendor's program with this address;
    otherwise do nothing. Raises VendorNotFound (the shop is public), ValidationError for an
    address that is not one, RateLimited once the card-link limits, per client address and per
    address typed, are used up (every request counts; rate_limits.py)."""
    vendor = vendor_service.get_vendor_by_slug(vendor_slug)
    rate_limits.count(rate_limits.CARD_LINK, client_address, email_lookup_key(email))
    address = normalise_email(email)
    found = db.session.execute(
        select(LoyaltyCard, Customer)
        .join(Customer, Customer.id == LoyaltyCard.customer_id)
        .join(LoyaltyProgram, LoyaltyProgram.id == LoyaltyCard.program_id)
        .where(LoyaltyProgram.vendor_id == vendor.id, Customer.email == address,
               Customer.erased_at.is_(None))
    ).first()
    if found is not None:
        card, customer = found
        token = signed_links.serializer(CARD_LINK).dumps(
            {"card": card.id, "token": _fingerprint(card), "issued": utcnow().isoformat()}
        )
        email_service.enqueue(email_service.Email(
            "card_link", customer.email,
            normalise_locale(customer.locale or locale) or vendor.default_locale,
            {"name": customer.name, "shop": vendor.name,
             "link": email_service.public_url(f"/card-link/{token}"),
             "hours": str(max(1, current_app.config["CARD_LINK_MAX_AGE"] // 3600))},
        ))
    db.session.commit()


def open_card_link(token: str) -> LoyaltyCard:
    """The card a recovery link was sent for; the link (and every older one) is used up.
    Raises LinkInvalid (tampered, or the card was re-issued since), LinkExpired, LinkAlreadyUsed."""
    try:
        payload = signed_links.serializer(CARD_LINK).loads(
            token or "", max_age=current_app.config["CARD_LINK_MAX_AGE"]
        )
    except SignatureExpired:
        raise LinkExpired() from None
    except BadSignature:
        raise LinkInvalid() from None
    card = db.session.get(LoyaltyCard, payload.get("card")) if isinstance(payload, dict) else None
    if card is None or payload.get("token") != _fingerprint(card):
        raise LinkInvalid()
    issued = datetime.fromisoformat(payload["issued"])
    if card.link_recovered_at is not None and issued <= card.link_recovered_at:
        raise LinkAlreadyUsed()
    card.link_recovered_at = utcnow()
    db.session.commit()
    return card


def reissue_card(vendor_id: int, card_id: int) -> LoyaltyCard:
    """A new secret link and QR code for the vendor's card; the old ones stop working at once,
    and so do recovery links sent before; the wallet passes are updated through the outbox.
    Raises LoyaltyCardNotFound."""
    card = card_service.get_card(vendor_id, card_id)
    now = utcnow()
    card.public_token = token_urlsafe(24)
    card.link_recovered_at = now
    card.updated_at = now
    db.session.flush()
    # The wallet passes show the new QR code: the card's change tag moves (Apple's "what changed
    # since") and the outbox hears of it, in the same transaction.
    change_tags.bump_card(card.id)
    outbox.announce_card_change(card.id, card.program_id, "card_reissued")
    db.session.commit()
    return card
