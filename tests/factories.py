"""Small builders for test data. Each commits, like the services it goes through."""

import itertools

from loyalty_portal.models import LoyaltyCard, LoyaltyProgram, Role, StaffPin, User, Vendor
from loyalty_portal.services import card_service, pin_service, program_service, vendor_service

_sequence = itertools.count(1)

DEFAULT_PASSWORD = "correct-horse-battery"


def make_vendor(slug: str | None = None, timezone: str = "Europe/Luxembourg", **fields) -> Vendor:
    n = next(_sequence)
    return vendor_service.create_vendor(
        slug or f"vendor-{n}", fields.pop("name", f"Vendor {n}"), timezone=timezone, **fields
    )


def make_program(
    vendor: Vendor | None = None, program_type: str = "stamps", **settings
) -> LoyaltyProgram:
    vendor = vendor or make_vendor()
    if program_type == "points":
        settings.setdefault(
            "points_rewards",
            [
                {"id": "coffee", "name": "Coffee", "points_cost": 10, "active": True},
                {"id": "cake", "name": "Cake", "points_cost": 50, "active": True},
            ],
        )
    else:
        settings.setdefault("stamps_reward_description", "A free coffee")
    return program_service.create_program(
        vendor.id, program_type, settings.pop("name", f"{vendor.name} card"), **settings
    )


def make_card(program: LoyaltyProgram | None = None, **customer) -> LoyaltyCard:
    program = program or make_program()
    n = next(_sequence)
    customer.setdefault("name", f"Customer {n}")
    if "phone" not in customer:
        customer.setdefault("email", f"customer{n}@example.com")
    customer.setdefault("consent", True)
    return card_service.enrol_customer(program, **customer).card


def make_pin(vendor: Vendor, name: str | None = None, pin: str = "4827") -> StaffPin:
    return pin_service.create_pin(vendor.id, name or f"Staff {next(_sequence)}", pin)


def make_user(
    role: Role | str = Role.OWNER,
    vendor: Vendor | None = None,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
) -> User:
    role = Role(role)
    if role != Role.ADMIN and vendor is None:
        vendor = make_vendor()
    return vendor_service.create_user(
        email or f"user{next(_sequence)}@example.com",
        f"{role.value} user",
        password,
        role,
        vendor.id if role != Role.ADMIN else None,
    )
