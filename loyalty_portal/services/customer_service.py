"""Customers' data rights (GDPR): an export of everything held about a customer, and erasure.

Erasure anonymises the person, not the bookkeeping: name, e-mail, phone and locale go, the card,
its balances and its ledger stay, so `verify_ledger()` still proves every balance. Ledger rows hold
no customer data (only the counter's IP and user agent), which is why they can stay immutable.
"""

from dataclasses import dataclass

from sqlalchemy import select

from ..clock import utcnow
from ..errors import CustomerNotFound
from ..extensions import db
from ..models import (
    AppleDeviceRegistration,
    Customer,
    LoyaltyCard,
    LoyaltyProgram,
    LoyaltyTransaction,
)
from . import apple_wallet_service, change_tags, outbox
from .lookup import one_or_raise

# Stored in place of the name; not translated, it is data, not a message.
ERASED_NAME = "[erased]"


@dataclass(frozen=True)
class CardRecord:
    card: LoyaltyCard
    transactions: list[LoyaltyTransaction]
    apple_devices: list[AppleDeviceRegistration]


@dataclass(frozen=True)
class CustomerExport:
    customer: Customer
    cards: list[CardRecord]


def get_customer(vendor_id: int, customer_id: int) -> Customer:
    """The vendor's customer with that id; another vendor's customer is simply not found."""
    return one_or_raise(
        select(Customer).where(Customer.id == customer_id, Customer.vendor_id == vendor_id),
        CustomerNotFound(customer_id),
    )


def export_customer(vendor_id: int, customer_id: int) -> CustomerExport:
    """Everything held about one customer: personal fields and consent, each card with its whole
    ledger and the Apple devices that hold its pass. Raises CustomerNotFound."""
    customer = get_customer(vendor_id, customer_id)
    cards = db.session.scalars(
        select(LoyaltyCard)
        .join(LoyaltyProgram, LoyaltyProgram.id == LoyaltyCard.program_id)
        .where(LoyaltyCard.customer_id == customer.id, LoyaltyProgram.vendor_id == vendor_id)
        .order_by(LoyaltyCard.id)
    ).all()
    card_ids = [card.id for card in cards]
    transactions = db.session.scalars(
        select(LoyaltyTransaction)
        .where(LoyaltyTransaction.card_id.in_(card_ids))
        .order_by(LoyaltyTransaction.id)
    ).all()
    devices = db.session.scalars(
        select(AppleDeviceRegistration)
        .where(AppleDeviceRegistration.card_id.in_(card_ids))
        .order_by(AppleDeviceRegistration.id)
    ).all()
    return CustomerExport(
        customer=customer,
        cards=[
            CardRecord(
                card=card,
                transactions=[tx for tx in transactions if tx.card_id == card.id],
                apple_devices=[device for device in devices if device.card_id == card.id],
            )
            for card in cards
        ],
    )


def erase_customer(vendor_id: int, customer_id: int) -> Customer:
    """Replace the customer's personal data with an anonymous marker and forget the devices that
    hold their passes; cards, balances and ledger stay intact. Erasing again changes nothing.
    Raises CustomerNotFound."""
    customer = get_customer(vendor_id, customer_id)
    if customer.erased_at is not None:
        return customer
    customer.name = ERASED_NAME
    customer.email = None
    customer.phone = None
    customer.locale = None
    customer.erased_at = utcnow()
    card_ids = select(LoyaltyCard.id).where(LoyaltyCard.customer_id == customer.id)
    for registration in db.session.scalars(
        select(AppleDeviceRegistration).where(AppleDeviceRegistration.card_id.in_(card_ids))
    ):
        db.session.delete(registration)
    db.session.flush()
    apple_wallet_service.delete_devices_without_passes()
    # Passes and wallet objects may show the name: each card changes, and the erasure itself is
    # announced for whoever keeps personal data elsewhere (in the same transaction).
    change_tags.bump_cards("customer_id = :customer_id", {"customer_id": customer.id})
    for card_id, program_id in db.session.execute(
        select(LoyaltyCard.id, LoyaltyCard.program_id).where(
            LoyaltyCard.customer_id == customer.id
        )
    ):
        outbox.announce_card_change(card_id, program_id, "customer_erased")
    outbox.announce_customer_erasure(customer.id)
    db.session.commit()
    return customer

