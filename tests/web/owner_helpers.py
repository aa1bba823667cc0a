"""Helpers for the owner and admin screen tests: a shop with some history, requests."""

from dataclasses import dataclass

from loyalty_portal.models import Role
from loyalty_portal.services import stamp_service
from loyalty_portal.services.ledger import Actor
from tests.factories import make_card, make_pin, make_program, make_user, make_vendor


@dataclass
class OwnerShop:
    vendor: object
    program: object
    card: object
    pin: object
    owner: object
    staff: object
    transaction_id: int


def make_owner_shop(program_type: str = "stamps", **settings) -> OwnerShop:
    """A vendor with a program, an owner, a staff login, a PIN and a card with one stamp."""
    vendor = make_vendor()
    program = make_program(vendor, program_type, **settings)
    card = make_card(program, name="Marie Weber", email=f"marie@{vendor.slug}.test")
    pin = make_pin(vendor, "Anna", "4827")
    transaction_id = 0
    if program_type == "stamps":
        change = stamp_service.add_stamp(
            vendor.id, card.id, actor=Actor(staff_pin_id=pin.id, pin="4827")
        )
        transaction_id = change.transaction_id
    return OwnerShop(vendor, program, card, pin, make_user(Role.OWNER, vendor),
                     make_user(Role.STAFF, vendor), transaction_id)


def get(client, url: str, language: str = "en", htmx: bool = False):
    headers = {"Accept-Language": language}
    if htmx:
        headers["HX-Request"] = "true"
    return client.get(url, headers=headers)


def post(client, url: str, data: dict | None = None, language: str = "en", htmx: bool = False):
    headers = {"Accept-Language": language}
    if htmx:
        headers["HX-Request"] = "true"
    return client.post(url, data=data or {}, headers=headers)
